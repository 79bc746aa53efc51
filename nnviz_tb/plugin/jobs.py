"""Background computation of analyses: a scheduler that follows the user, and a two-level cache.

An analysis (a projection of the probe points, of the neurons, ...) of one
record runs as a *job* off the request thread. Results are kept in a bounded
memory map (by the record's identity) and on disk (`cache_files`, by a digest
of the data), so a repeated request is cheap and a restarted server finds its
work again.

How jobs are scheduled:

- Two lanes: quick analyses (PCA, one thread) never wait behind slow ones
  (t-SNE, neuron maps: two threads, so two chains of frames advance at once).
- In a lane, the jobs of the newest request come first, in the order it lists
  them; a job whose layout starts from another frame's (`Request.init`) runs
  after that frame, which is queued with it.
- A job nobody has asked for in `linger_seconds` is dropped, and a running one
  stops at its next check (t-SNE checks every few iterations). So a view the
  user left stops costing time; asking again starts it afresh.
- Background jobs (`background=True`, precomputation) run only when no asked-for
  job waits in their lane, give way to one that arrives, and are never dropped.
- The same job is never queued twice. `poll` reports the results finished so
  far, previews of running ones, the fraction done and an estimate of the time
  left, learned from the durations of finished jobs.
"""

import collections
import concurrent.futures
import dataclasses
import itertools
import os
import sys
import threading
import time

import numpy as np

from nnviz_tb.plugin import cache_files
from nnviz_tb.plugin.job_types import Context, FrameSet, Progress, Request, Stopped


_IDLE_SECONDS = 30.0  # A worker with nothing to do for this long ends (another starts with new work).


@dataclasses.dataclass(eq=False)
class _Job:
    request: Request
    priority: tuple
    wanted_at: float
    background: bool
    future: concurrent.futures.Future = dataclasses.field(default_factory=concurrent.futures.Future)
    progress: float = 0.0
    preview: object = None
    running: bool = False
    started: float = 0.0

    @property
    def slow(self):
        return self.request.analysis.slow


class Jobs:
    """Runs analyses off the request thread, following the user, and caches their results.

    Args:
      cache_dir: Directory of the disk cache, or None for memory only.
      memory_entries: Number of results kept in memory.
      wait_seconds: How long `poll` waits for new results before answering
        (quick jobs and disk hits then answer at once).
      linger_seconds: How long a job nobody asks for again is kept.
      slow_workers: Threads of the slow lane (default: 2, or 1 on a 1-core
        machine); background jobs use only the first.
    """

    def __init__(self, cache_dir=None, memory_entries=4096, wait_seconds=0.3, linger_seconds=4.0,
                 slow_workers=None):
        self._files = cache_files.CacheFiles(cache_dir)
        self._memory = collections.OrderedDict()  # identity -> (result, digest)
        self._memory_entries = memory_entries
        self._wait = wait_seconds
        self._linger = linger_seconds
        self._jobs = {}  # identity -> queued or running _Job
        self._groups = {}  # requested identities -> (group number, last asked)
        self._counter = itertools.count(1)
        self._durations = {}  # (analysis key, warm, N) -> seconds, smoothed
        self._changed = threading.Condition()
        slow_workers = slow_workers or min(2, os.cpu_count() or 1)
        # (slow, index) -> thread; started when there is work, they end when idle.
        self._workers = dict.fromkeys([(False, 0)] + [(True, i) for i in range(slow_workers)])

    # Asking for results.

    def poll(self, requests, background=False):
        """Queues what is missing of `requests` (and the frames they start from); returns a `Progress`.

        Waits up to `wait_seconds` for results (not for `background` ones);
        raises whatever a job of `requests` raised (e.g. a corrupt record).
        """
        now = time.time()
        with self._changed:
            group = self._group(requests, now) if not background else 0
            futures, wanted = [], []
            for index, request in enumerate(requests):
                for depth, needed in enumerate(_chain(request)):
                    if needed.identity in self._memory:
                        break
                    job = self._want(needed, (1 if background else 0, -group, index, -depth), now, background)
                    wanted.append(job)
                    if depth == 0:
                        futures.append(job.future)
            self._start_workers()
            self._changed.notify_all()
        concurrent.futures.wait(futures, timeout=0 if background else self._wait)
        with self._changed:
            results = [self._result(r) for r in requests]
            previews = [None if res is not None or r.identity not in self._jobs else self._jobs[r.identity].preview
                        for r, res in zip(requests, results)]
            fraction, eta = self._estimate([j for j in dict.fromkeys(wanted) if not j.future.done()], len(requests),
                                           sum(r is not None for r in results))
        return Progress(results, previews, fraction, eta)

    def latest(self, request):
        """`(ancestor, points)`: the nearest frame `request` starts from (directly or not) that has a
        result or a preview, and its `[N, 2]` points; `(None, None)` if none has yet."""
        with self._changed:
            for ancestor in list(_chain(request))[1:]:
                if ancestor.identity in self._memory:
                    return ancestor, self._memory[ancestor.identity][0]["points"]
                job = self._jobs.get(ancestor.identity)
                if job is not None and job.preview is not None:
                    return ancestor, job.preview["points"]
        return None, None

    def get(self, requests):
        """`(results, 1.0)` when all of `requests` are ready, else `(None, fraction done)`."""
        progress = self.poll(requests)
        return (progress.results, 1.0) if progress.ready else (None, progress.fraction)

    def run(self, requests, report=None, interval=0.5):
        """Waits until all `requests` are ready (no lingering); `report(Progress)` meanwhile. Returns the results."""
        while True:
            progress = self.poll(requests)
            if progress.ready:
                return progress.results
            if report is not None:
                report(progress)
            time.sleep(interval)

    def _group(self, requests, now):
        """The number of this list of requests: a new, higher one unless it was asked for recently."""
        key = tuple(r.identity for r in requests)
        group = self._groups.get(key)
        number = next(self._counter) if group is None or now - group[1] > self._linger else group[0]
        self._groups[key] = (number, now)
        if len(self._groups) > 4096:
            self._groups = {k: g for k, g in self._groups.items() if now - g[1] <= self._linger}
        return number

    def _want(self, request, priority, now, background):
        """The job of `request`, queued if it was not, marked as asked for now."""
        job = self._jobs.get(request.identity)
        if job is None:
            job = self._jobs[request.identity] = _Job(request, priority, now, background)
        elif not background:
            job.background = False
            job.priority = min(job.priority, priority)
            job.wanted_at = now
        return job

    def _result(self, request):
        """The finished result of `request`, or None; raises what its job raised."""
        if request.identity in self._memory:
            self._memory.move_to_end(request.identity)
            return self._memory[request.identity][0]
        job = self._jobs.get(request.identity)
        if job is not None and job.future.done() and not job.future.cancelled():
            del self._jobs[request.identity]
            job.future.result()  # Raises the job's error.
        return None

    def _estimate(self, pending, total, done):
        """`(fraction done, seconds left or None)` of `total` requests, `done` of them finished,
        whose unfinished jobs (with the frames they start from) are `pending`."""
        if not pending:
            return 1.0, 0.0
        expected = [self._expected(job) for job in pending]
        left = None if None in expected else float(sum(e * (1.0 - j.progress) for e, j in zip(expected, pending)))
        fraction = (done + sum(j.progress for j in pending)) / (done + len(pending))
        return float(np.clip(fraction, 0.0, 1.0)), left

    def _expected(self, job):
        """Seconds `job` takes in all: learned from finished ones, or from its own pace."""
        known = self._durations.get(_kind(job.request))
        if known is not None:
            return known
        if job.running and job.progress > 0.05:
            return (time.time() - job.started) / job.progress
        return None

    # The workers.

    def _start_workers(self):
        for (slow, index), worker in self._workers.items():
            if worker is None and any(j.slow == slow for j in self._jobs.values()):
                worker = self._workers[(slow, index)] = threading.Thread(
                    target=self._work, args=(slow, index), daemon=True,
                    name="nnviz-analysis-%s-%d" % ("slow" if slow else "quick", index))
                worker.start()

    def _work(self, slow, index):
        background = index == 0  # Background work takes one thread at most.
        while True:
            with self._changed:
                job, idle_since = self._next(slow, background), time.time()
                while job is None:
                    if time.time() - idle_since > _IDLE_SECONDS:
                        self._workers[(slow, index)] = None
                        return
                    self._changed.wait(timeout=self._linger)
                    job = self._next(slow, background)
                job.running, job.started = True, time.time()
            try:
                result, digest = self._compute(job)
            except Stopped:
                self._stopped(job)
                continue
            except BaseException as e:  # Reported to whoever asks (e.g. a corrupt record: 422).
                with self._changed:
                    job.running = False
                    job.future.set_exception(e)
                    self._fail_dependents(job, e)
                    self._changed.notify_all()
                continue
            with self._changed:
                self._memory[job.request.identity] = (result, digest)
                while len(self._memory) > self._memory_entries:
                    self._memory.popitem(last=False)
                self._jobs.pop(job.request.identity, None)
                job.future.set_result(result)
                self._changed.notify_all()

    def _next(self, slow, background=True):
        """The job a worker of the `slow` (or quick) lane runs next (a `background` one only if
        allowed), or None; drops abandoned ones."""
        now = time.time()
        for job in sorted((j for j in self._jobs.values() if j.slow == slow and not j.running
                           and (background or not j.background)), key=lambda j: j.priority):
            if self._abandoned(job, now):  # Also a failure nobody came back for.
                del self._jobs[job.request.identity]
                job.future.cancel()
                continue
            if job.future.done():  # Failed: kept until asked for, to raise its error.
                continue
            if self._runnable(job):
                return job
            init = job.request.init
            if init.identity not in self._jobs:  # Its start was dropped or evicted: queue it again.
                self._want(init, job.priority[:-1] + (job.priority[-1] - 1,), job.wanted_at, job.background)
        return None

    def _runnable(self, job):
        return job.request.init is None or job.request.init.identity in self._memory

    def _abandoned(self, job, now):
        return not job.background and now - job.wanted_at > self._linger

    def _should_stop(self, job):
        """Whether a running job should stop: abandoned, or background work in the way of asked-for work."""
        with self._changed:
            if self._abandoned(job, time.time()):
                return True
            return job.background and any(not j.background and j.slow == job.slow and not j.running
                                          and not j.future.done() and self._runnable(j)
                                          for j in self._jobs.values())

    def _stopped(self, job):
        """After a job stopped: an abandoned one is dropped, a background one waits its turn again."""
        with self._changed:
            job.running, job.progress, job.preview = False, 0.0, None
            if not job.background:
                self._jobs.pop(job.request.identity, None)
                job.future.cancel()
            self._changed.notify_all()
        _report("%s: stopped (%s)" % (job.request.description,
                                      "nobody waits for it" if not job.background else "asked-for work first"))

    def _fail_dependents(self, job, error):
        """Fails the queued jobs that would start from a failed one's result."""
        for other in list(self._jobs.values()):
            init = other.request.init
            if init is not None and init.identity == job.request.identity and not other.future.done():
                other.future.set_exception(error)
                self._fail_dependents(other, error)

    def _compute(self, job):
        """`(result, digest)` of a job: from the disk cache, else computed and stored."""
        request = job.request
        init, parent_digest = (None, None)
        if request.init is not None:
            with self._changed:
                init, parent_digest = self._memory[request.init.identity]
        data = request.load()
        if isinstance(data, FrameSet):  # Read once to hash, one at a time; the analysis reads them again.
            shapes = []
            key = cache_files.digest(_read_each(data, shapes), request.labels, request.analysis.key, parent_digest)
            data.shape = shapes[0]
        else:
            data = np.ascontiguousarray(data)
            key = cache_files.digest([data], request.labels, request.analysis.key, parent_digest)
        result = self._files.read(key, request.analysis.shapes(*data.shape))
        if result is None:
            result = self._run(job, data, init)
            self._files.write(key, result)
        return result, key

    def _run(self, job, data, init):
        request = job.request
        start = time.time()
        reported = [0.0]

        def progress(fraction):
            job.progress = fraction
            if fraction - reported[0] >= 0.25 and fraction < 1.0:
                reported[0] = fraction
                _report("%s: %d%%" % (request.description, 100 * fraction))

        def preview(arrays):
            job.preview = {name: np.asarray(value) for name, value in arrays.items()}

        _report("%s: started%s" % (request.description, " (in the background)" if job.background else ""))
        parent_data = (lambda: None) if request.init is None else request.init.load
        context = Context(init, progress, lambda: self._should_stop(job), preview, parent_data)
        result = request.analysis.compute(data, request.labels, context)
        seconds = time.time() - start
        _report("%s: done in %.1f s" % (request.description, seconds))
        with self._changed:
            kind = _kind(request)
            self._durations[kind] = seconds if kind not in self._durations else 0.5 * (self._durations[kind] + seconds)
        return {name: np.asarray(value) for name, value in result.items()}


def _chain(request):
    """`request`, then the request its result starts from, and so on."""
    while request is not None:
        yield request
        request = request.init


def _read_each(loaders, shapes):
    """Yields each loader's array in turn (only one held at a time), appending its shape to `shapes`."""
    for load in loaders:
        frame = np.ascontiguousarray(load())
        shapes.append(frame.shape)
        yield frame


def _kind(request):
    """What makes jobs take comparable time: the analysis, whether it starts from a layout, the points."""
    return request.analysis.key, request.init is not None, len(request.labels)


def _report(message):
    """Progress on the command line that runs TensorBoard."""
    sys.stderr.write("nnviz: %s\n" % message)
    sys.stderr.flush()
