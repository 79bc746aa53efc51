"""The analysis scheduler follows the user: newest first, abandoned work stops, nothing twice,
quick work never waits behind slow work, background work gives way, frames start from their parents."""

import threading
import time

import numpy as np
import pytest

from nnviz_tb.plugin import analyses, job_types, jobs

LABELS = np.arange(30) % 3
DATA = (np.random.default_rng(0).normal(size=(30, 4)) + LABELS[:, None]).astype(np.float32)


class Recorder:
    """Fake analyses that record what ran, in which order, and can be held back."""

    def __init__(self):
        self.started, self.finished, self.stopped = [], [], []
        self.release = threading.Event()
        self.release.set()

    def analysis(self, seconds=0.0, slow=True, stoppable=True, key="fake"):
        def compute(data, labels, context):
            name = data.tolist()[0][0]
            self.started.append(name)
            deadline = time.time() + seconds
            while time.time() < deadline or not self.release.is_set():
                if stoppable and context.should_stop():
                    self.stopped.append(name)
                    raise job_types.Stopped()
                context.progress(0.5)
                context.preview({"value": np.array([name, -1.0])})
                time.sleep(0.01)
            self.finished.append(name)
            start = 0.0 if context.init is None else float(context.init["value"][0])
            return {"value": np.array([name, start])}

        return job_types.Analysis(key, "fake", compute, lambda n, d: {"value": (2,)}, slow=slow)


def request(name, analysis, init=None):
    return job_types.Request(identity=("r", name, analysis.key) + (() if init is None else (init.identity,)),
                        load=lambda: np.full((3, 2), float(name), np.float32), analysis=analysis,
                        labels=np.zeros(3, np.int32), description="frame %s" % name, init=init)


def wait_for(condition, timeout=20.0):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def recorder():
    return Recorder()


def test_the_same_job_is_never_queued_twice(recorder):
    pool = jobs.Jobs(wait_seconds=0.05)
    analysis = recorder.analysis(seconds=0.3)
    for _ in range(5):
        pool.poll([request(1, analysis), request(1, analysis)])
    pool.run([request(1, analysis)])
    assert recorder.finished == [1.0]


def test_frames_start_from_their_parent_which_runs_first(recorder):
    pool = jobs.Jobs(wait_seconds=0.05)
    analysis = recorder.analysis()
    first = request(1, analysis)
    second = request(2, analysis, init=first)
    third = request(3, analysis, init=second)
    results = pool.run([third])  # Asking for the last frame computes the chain.
    assert recorder.finished == [1.0, 2.0, 3.0]
    assert results[0]["value"].tolist() == [3.0, 2.0]  # Started from frame 2's result.
    # A new epoch adds one frame: only it is computed.
    pool.run([request(4, analysis, init=third)])
    assert recorder.finished == [1.0, 2.0, 3.0, 4.0]


def test_a_failed_frame_fails_the_frames_that_start_from_it():
    def compute(data, labels, context):
        raise ValueError("damaged record")

    broken = job_types.Analysis("broken", "broken", compute, lambda n, d: {}, slow=True)
    pool = jobs.Jobs(wait_seconds=2.0)
    first = request(1, broken)
    with pytest.raises(ValueError, match="damaged record"):
        pool.poll([request(2, broken, init=first)])
        pool.poll([request(2, broken, init=first)])


def test_an_abandoned_job_stops_and_quick_work_never_waits(recorder):
    pool = jobs.Jobs(wait_seconds=0.05, linger_seconds=0.5)
    slow = recorder.analysis(seconds=60)
    pool.poll([request(1, slow)])
    wait_for(lambda: recorder.started == [1.0])
    # PCA runs in the quick lane at once, while the t-SNE-like job runs.
    start = time.perf_counter()
    pca = job_types.Request(("pca",), lambda: DATA, analyses.point_projection("pca"), LABELS, "pca")
    (result,) = pool.run([pca], interval=0.01)
    assert time.perf_counter() - start < 2.0 and result["points"].shape == (30, 2)
    # Nobody polls the slow job any more: it stops within the linger time and a check.
    wait_for(lambda: recorder.stopped == [1.0], timeout=5.0)
    assert recorder.finished == []
    # Asking again starts it afresh.
    recorder_fast = recorder.analysis(seconds=0.0)
    assert pool.run([request(1, recorder_fast)])[0]["value"].tolist() == [1.0, 0.0]


def test_the_newest_request_runs_first(recorder):
    pool = jobs.Jobs(wait_seconds=0.0, linger_seconds=30, slow_workers=1)
    recorder.release.clear()
    analysis = recorder.analysis()
    pool.poll([request(0, analysis)])  # Occupies the worker until released.
    wait_for(lambda: recorder.started == [0.0])
    pool.poll([request(1, analysis), request(2, analysis)])
    pool.poll([request(3, analysis), request(4, analysis)])
    recorder.release.set()
    wait_for(lambda: len(recorder.finished) == 5)
    assert recorder.finished == [0.0, 3.0, 4.0, 1.0, 2.0]


def test_background_work_gives_way_and_resumes(recorder):
    pool = jobs.Jobs(wait_seconds=0.0, linger_seconds=30, slow_workers=1)
    analysis = recorder.analysis(seconds=30)
    pool.poll([request(1, analysis)], background=True)
    wait_for(lambda: recorder.started == [1.0])
    quick = recorder.analysis(seconds=0.0, key="quick-fake")
    results = pool.run([request(2, quick)], interval=0.01)
    assert results[0]["value"].tolist() == [2.0, 0.0]
    assert recorder.stopped == [1.0]  # Gave way to the asked-for job...
    wait_for(lambda: recorder.started.count(1.0) == 2)  # ...and was taken up again.


def test_progress_reports_previews_and_an_estimate_of_the_time_left(recorder):
    pool = jobs.Jobs(wait_seconds=0.0, linger_seconds=30)
    analysis = recorder.analysis(seconds=0.4)
    pool.run([request(1, analysis)])  # Timed: the estimate learns from it.
    progress = pool.poll([request(2, analysis), request(3, analysis)])
    assert not progress.ready and progress.eta_seconds is not None and 0 < progress.eta_seconds <= 2.0
    wait_for(lambda: pool.poll([request(2, analysis), request(3, analysis)]).previews[0] is not None)
    progress = pool.poll([request(2, analysis), request(3, analysis)])
    assert progress.previews[0]["value"].tolist() == [2.0, -1.0] and 0 < progress.fraction < 1
    progress = pool.poll([request(1, analysis), request(2, analysis)])
    assert progress.results[0] is not None  # Finished frames come before the whole.


def test_two_slow_threads_advance_two_chains_and_background_takes_one(recorder):
    pool = jobs.Jobs(wait_seconds=0.0, linger_seconds=30, slow_workers=2)
    recorder.release.clear()
    analysis = recorder.analysis()
    pool.poll([request(1, analysis), request(2, analysis)])
    wait_for(lambda: sorted(recorder.started) == [1.0, 2.0])  # Both at once.
    recorder.release.set()
    pool.run([request(1, analysis), request(2, analysis)])
    recorder.release.clear()
    pool.poll([request(3, analysis), request(4, analysis)], background=True)
    wait_for(lambda: len(recorder.started) == 3)
    time.sleep(0.3)
    assert len(recorder.started) == 3  # The second background job waits for the first.
    recorder.release.set()
    wait_for(lambda: len(recorder.finished) == 4)


def test_a_frame_set_is_read_one_frame_at_a_time():
    import weakref

    live, peak = set(), [0]

    def loader(i):
        def load():
            frame = np.full((30, 4), float(i), np.float32)
            live.add(id(frame))
            peak[0] = max(peak[0], len(live))
            weakref.finalize(frame, live.discard, id(frame))
            return frame
        return load

    def compute(frames, labels, context):
        return {"value": np.array([sum(float(load()[0, 0]) for load in frames)])}

    analysis = job_types.Analysis("sum", "sum", compute, lambda n, d: {"value": (1,)})
    frames = job_types.FrameSet(loader(i) for i in range(6))
    request = job_types.Request(("frames",), lambda: frames, analysis, np.zeros(30, np.int32), "frame set")
    (result,) = jobs.Jobs(wait_seconds=0.05).run([request])
    assert result["value"][0] == 15.0 and frames.shape == (30, 4)
    assert peak[0] <= 2  # The one being hashed, and the next being read: never all six.
