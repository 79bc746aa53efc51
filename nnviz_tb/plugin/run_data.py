"""Reads nnviz summaries through TensorBoard's data provider, checking each one.

A summary that breaks the format (see `nnviz_tb.metadata`) is skipped and
reported in its run's `problems`; it never hides the other runs or records.

The index of the runs is kept between requests: a listing of the log dir
is reused for `REUSE_FACTOR` times as long as it took (at most
`MAX_REUSE_S`), concurrent requests share one listing, and a new listing
re-parses only the runs whose tags changed, and in them only new metadata;
requests that come while one lists get the last index meanwhile. So what a
request sees is at most `MAX_REUSE_S` plus one listing older than what
TensorBoard has loaded (itself up to its `--reload_interval`, 5 s by
default, behind the event files).
"""

import dataclasses
import os
import threading
import time

import numpy as np
from tensorboard import errors
from tensorboard.data import provider

from nnviz_tb import metadata, metadata_checks
from nnviz_tb.plugin import lru
from nnviz_tb.plugin.corrupt import CorruptDataError

REUSE_FACTOR = 10  # A listing serves this many times as long as it took (listing <= ~1/10 of the time) ...
MAX_REUSE_S = 2.0  # ... but at most this long.
_PREDICTION_ENTRIES = 1024  # Decoded predictions kept (N int32 each: 20 MB at 5,000 points).


def caches_enabled():
    """False when `NNVIZ_TB_SERVER_CACHES=0`: every request then lists and parses the
    whole log dir and recomputes its answer, as the server did before (for benchmarks)."""
    return os.environ.get("NNVIZ_TB_SERVER_CACHES", "1") != "0"


@dataclasses.dataclass
class Record:
    """One blob-sequence summary: its tag and the wall time that identifies it."""

    tag: str
    wall_time: float


@dataclasses.dataclass
class RunIndex:
    """What one run holds.

    `probe` (None if the run has no activations), `activations`
    `{layer: {epoch: Record}}`, `predictions` `{epoch: Record}`, for the
    other loggers' summaries `others` `{kind: [(content dict, Record)]}`,
    `problems`: one sentence per summary that was skipped, and `generation`:
    a number that changes whenever the run's summaries do. Shared by
    requests: read only.
    """

    probe: Record = None
    activations: dict = dataclasses.field(default_factory=dict)
    predictions: dict = dataclasses.field(default_factory=dict)
    others: dict = dataclasses.field(default_factory=dict)
    problems: list = dataclasses.field(default_factory=list)
    generation: int = 0

    def epochs(self):
        return sorted({e for by_epoch in self.activations.values() for e in by_epoch})


@dataclasses.dataclass
class Probe:
    """A run's decoded probe summary.

    Attributes:
      info: The callback's description (`layers`, ...), checked.
      labels: int32 `[N]` class of each probe point, in `0 .. len(class_names) - 1`.
      class_names: One name per class.
      thumbnails: uint8 `[N, h, w(, 3)]`, or None.
      problems: Sentences about what was dropped or changed while reading.
      class_ids: `[C]` recorded id of each class when sparse ids were
        compacted (predictions are mapped the same way), else None.
    """

    info: dict
    labels: np.ndarray
    class_names: list
    thumbnails: np.ndarray = None
    problems: list = dataclasses.field(default_factory=list)
    class_ids: np.ndarray = None


@dataclasses.dataclass
class _RunState:
    """What the index keeps of one run between listings.

    `tags` `{tag: (max_step, max_wall_time, plugin content)}` as last listed,
    `parsed` `{plugin content: read_plugin_content(...)}`, and `entry`: its
    `RunIndex`, or None when the run has nothing to show.
    """

    tags: dict
    parsed: dict
    entry: RunIndex


class RunData:
    """Lists nnviz runs and reads their arrays, caching the small ones.

    Args:
      data_provider: TensorBoard's `DataProvider`.
      cache_entries: How many decoded probe records to keep in memory.
      clock: Seconds of a monotonic clock (tests pass a fake one).
    """

    def __init__(self, data_provider, cache_entries=64, clock=time.monotonic):
        self._provider = data_provider
        self._probes = lru.Lru(cache_entries)
        self._predictions = lru.Lru(_PREDICTION_ENTRIES)  # Decoded predictions, by record.
        self._clock = clock
        self._reuse = caches_enabled()
        self._index_lock = threading.Lock()
        self._states = {}  # {experiment_id: {run: _RunState}}
        self._indices = {}  # {experiment_id: (expiry, {run: RunIndex}, generation)}
        self._generation = 0

    def index(self, ctx, experiment_id):
        """Returns `{run: RunIndex}` for every run with nnviz summaries (read only).

        Activations without their probe summary are left out: there is
        nothing to show of them until the probe is written. A run whose
        summaries are all malformed is listed with its `problems`.
        """
        return self._current(ctx, experiment_id)[1]

    def generation(self, ctx, experiment_id, run=None):
        """A number that changes whenever the index of `run` does (of any run if `run`
        is None or unknown), for caching answers computed from it."""
        _, runs, generation = self._current(ctx, experiment_id)
        entry = runs.get(run)
        return generation if entry is None else entry.generation

    def _current(self, ctx, experiment_id):
        """`(expiry, {run: RunIndex}, generation)`, listing the log dir again once expired.

        One request lists; the others meanwhile get the last index (they wait only for the first).
        """
        current = self._indices.get(experiment_id)
        if current is not None and self._clock() < current[0]:
            return current
        if not self._index_lock.acquire(blocking=current is None or not self._reuse):
            return current
        try:
            current = self._indices.get(experiment_id)
            if current is None or self._clock() >= current[0]:
                start = self._clock()
                runs = self._reindex(ctx, experiment_id)
                reuse = min(MAX_REUSE_S, REUSE_FACTOR * (self._clock() - start)) if self._reuse else 0
                current = self._indices[experiment_id] = (self._clock() + reuse, runs, self._generation)
            return current
        finally:
            self._index_lock.release()

    def _reindex(self, ctx, experiment_id):
        """Lists the log dir; re-indexes the runs whose tags changed since the last listing."""
        listing = self._provider.list_blob_sequences(
            ctx, experiment_id=experiment_id, plugin_name=metadata.PLUGIN_NAME
        )
        known = self._states.get(experiment_id, {})
        states = {}
        for run, series in listing.items():
            tags = {tag: (s.max_step, s.max_wall_time, s.plugin_content) for tag, s in series.items()}
            state = known.get(run)
            if state is None or state.tags != tags or not self._reuse:
                self._generation += 1
                state = _index_run(tags, state.parsed if state and self._reuse else {}, self._generation)
            states[run] = state
        if known.keys() - states.keys():  # Runs gone.
            self._generation += 1
        self._states[experiment_id] = states
        return {run: state.entry for run, state in states.items() if state.entry is not None}

    def run(self, ctx, experiment_id, run):
        """Returns the `RunIndex` of one run, or raises `NotFoundError`."""
        entry = self.index(ctx, experiment_id).get(run)
        if entry is None:
            raise errors.NotFoundError("Unknown run: %r" % (run,))
        return entry

    def probe(self, ctx, experiment_id, run, entry):
        """Returns the run's `Probe` (cached).

        Raises:
          NotFoundError: for a run without activations.
          CorruptDataError: if the probe summary cannot be read.
        """
        if entry.probe is None:
            raise errors.NotFoundError("Run %r has no activations." % (run,))
        return self._probes.get((experiment_id, run, entry.probe.wall_time),
                                lambda: _decode_probe(run, self.read_blobs(ctx, experiment_id, run, entry.probe)))

    def read_activations(self, ctx, experiment_id, run, record, probe):
        """The float32 `[N, D]` activations of one summary; raises `CorruptDataError`."""
        return self.read_checked(ctx, experiment_id, run, record, metadata_checks.check_activations, len(probe.labels))

    def read_predictions(self, ctx, experiment_id, run, record, probe):
        """int32 `[N]` predicted classes in `probe`'s class ids (-1: another class); cached."""
        return self._predictions.get((experiment_id, run, record.tag, record.wall_time),
                                     lambda: self._decode_predictions(ctx, experiment_id, run, record, probe))

    def _decode_predictions(self, ctx, experiment_id, run, record, probe):
        predictions = self.read_checked(ctx, experiment_id, run, record, metadata_checks.check_predictions,
                                        len(probe.labels))
        if probe.class_ids is None:
            return predictions
        found = np.searchsorted(probe.class_ids, predictions).clip(0, len(probe.class_ids) - 1)
        return np.where(probe.class_ids[found] == predictions, found, -1).astype(np.int32)

    def read_checked(self, ctx, experiment_id, run, record, check, size):
        """`check(array, size)` of the one array of a summary; raises `CorruptDataError`."""
        blobs = self.read_blobs(ctx, experiment_id, run, record)
        try:
            if len(blobs) != 1:
                raise metadata.FormatError("it holds %d blobs instead of 1" % len(blobs))
            return check(metadata.decode_array(blobs[0], copy=False), size)
        except metadata.FormatError as e:
            raise CorruptDataError(run, record.tag, e)

    def read_blobs(self, ctx, experiment_id, run, record, indices=None):
        """Reads the blobs of the latest step of a summary, as bytes: all, or those at `indices`
        that it has."""
        result = self._provider.read_blob_sequences(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PLUGIN_NAME,
            downsample=1,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=[record.tag]),
        )
        data = result.get(run, {}).get(record.tag)
        if not data:
            raise errors.NotFoundError("No data for %r in run %r" % (record.tag, run))
        refs = data[-1].values
        if indices is not None:
            refs = [refs[i] for i in indices if i < len(refs)]
        return [self._provider.read_blob(ctx, blob_key=ref.blob_key) for ref in refs]


def _index_run(tags, parsed, generation):
    """The `_RunState` of a run's listed `tags`, parsing metadata not in `parsed` (a previous memo)."""
    memo = {}
    for _, _, content in tags.values():
        memo[content] = parsed.get(content) or metadata_checks.read_plugin_content(content)
    entry = RunIndex(generation=generation)
    contents = {}
    for tag, (_, wall_time, raw) in sorted(tags.items()):
        content, problem = memo[raw]
        if problem:
            entry.problems.append("Summary %r skipped: %s." % (tag, problem))
        elif tag == metadata.PROBE_TAG or content["kind"] != metadata.KIND_PROBE:
            contents[tag] = (content, Record(tag, wall_time))
    if metadata.PROBE_TAG in contents:
        entry.probe = contents[metadata.PROBE_TAG][1]
    for content, record in contents.values():
        _add(entry, content, record)
    keep = entry.probe is not None or entry.others or entry.problems
    return _RunState(tags, memo, entry if keep else None)


def _add(entry, content, record):
    """Files one checked summary of a run in its `RunIndex`."""
    kind = content["kind"]
    if kind == metadata.KIND_PROBE:
        return
    if kind == metadata.KIND_ACTIVATIONS:
        if entry.probe is not None:
            entry.activations.setdefault(content["layer"], {})[content["epoch"]] = record
    elif kind == metadata.KIND_PREDICTIONS:
        if entry.probe is not None:
            entry.predictions[content["epoch"]] = record
    else:
        entry.others.setdefault(kind, []).append((content, record))


def _decode_probe(run, blobs):
    """The `Probe` of the probe summary's blobs; raises `CorruptDataError`."""
    try:
        if len(blobs) < 2:
            raise metadata.FormatError("it holds %d blobs instead of 3" % len(blobs))
        info, problems = metadata_checks.read_probe_info(blobs[metadata.PROBE_INFO])
        labels = metadata_checks.check_labels(metadata.decode_array(blobs[metadata.PROBE_LABELS]))
    except metadata.FormatError as e:
        raise CorruptDataError(run, metadata.PROBE_TAG, e)
    if info.get("num_points", len(labels)) != len(labels):
        problems.append("The probe description says %s points but %d labels were recorded; %d are shown."
                        % (info["num_points"], len(labels), len(labels)))
    thumbnails = None
    if len(blobs) > 2 and len(blobs[metadata.PROBE_THUMBNAILS]):
        try:
            thumbnails = metadata_checks.check_thumbnails(metadata.decode_array(blobs[metadata.PROBE_THUMBNAILS]),
                                                   len(labels))
        except metadata.FormatError as e:
            problems.append("Thumbnails not shown: %s." % e)
    labels, names, class_ids = _classes(info.get("class_names", []), labels)
    if class_ids is not None:
        problems.append("Class ids are sparse (%d of up to %d used): shown as %d classes in order of id."
                        % (len(class_ids), max(len(info.get("class_names", [])), class_ids[-1] + 1), len(class_ids)))
    return Probe(info, labels, names, thumbnails, problems, class_ids)


def _classes(names, labels):
    """`(labels, one name per class, class_ids or None)`, compacting sparse class ids."""
    count = max(len(names), int(labels.max()) + 1)
    if count <= metadata.MAX_CLASSES:  # Else compacted to the ids the probe uses (0, 100000, ...).
        return labels, list(names) + [str(c) for c in range(len(names), count)], None
    used = np.unique(labels)
    compact = [names[c] if c < len(names) else str(c) for c in used]
    return np.searchsorted(used, labels).astype(np.int32), compact, used
