"""Reads nnviz summaries through TensorBoard's data provider."""

import collections
import dataclasses
import threading

from tensorboard import errors
from tensorboard.data import provider

from nnviz_tb import metadata


@dataclasses.dataclass
class Record:
    """One blob-sequence summary: its tag and the wall time that identifies it."""

    tag: str
    wall_time: float


@dataclasses.dataclass
class RunIndex:
    """What one run holds.

    `probe` (None if the run has no activations), `activations`
    `{layer: {epoch: Record}}`, `predictions` `{epoch: Record}`, and for the
    other loggers' summaries `others` `{kind: [(content dict, Record)]}`.
    """

    probe: Record = None
    activations: dict = dataclasses.field(default_factory=dict)
    predictions: dict = dataclasses.field(default_factory=dict)
    shapes: dict = dataclasses.field(default_factory=dict)
    others: dict = dataclasses.field(default_factory=dict)

    def epochs(self):
        return sorted({e for by_epoch in self.activations.values() for e in by_epoch})


class RunData:
    """Lists nnviz runs and reads their arrays, caching the small ones.

    Args:
      data_provider: TensorBoard's `DataProvider`.
      cache_entries: How many decoded probe records to keep in memory.
    """

    def __init__(self, data_provider, cache_entries=64):
        self._provider = data_provider
        self._cache = collections.OrderedDict()
        self._cache_entries = cache_entries
        self._lock = threading.Lock()

    def index(self, ctx, experiment_id):
        """Returns `{run: RunIndex}` for every run with nnviz summaries.

        Activations without their probe summary are left out: there is
        nothing to show of them until the probe is written.
        """
        listing = self._provider.list_blob_sequences(
            ctx, experiment_id=experiment_id, plugin_name=metadata.PLUGIN_NAME
        )
        runs = {}
        for run, tags in listing.items():
            probe = tags.get(metadata.PROBE_TAG)
            entry = RunIndex(probe and Record(metadata.PROBE_TAG, probe.max_wall_time))
            for tag, series in tags.items():
                content = metadata.parse_plugin_content(series.plugin_content)
                if content is None or content["kind"] == metadata.KIND_PROBE:
                    continue
                record = Record(tag, series.max_wall_time)
                if content["kind"] == metadata.KIND_ACTIVATIONS:
                    if probe is not None:
                        entry.activations.setdefault(content["layer"], {})[content["epoch"]] = record
                        entry.shapes[content["layer"]] = content.get("shape")
                elif content["kind"] == metadata.KIND_PREDICTIONS:
                    if probe is not None:
                        entry.predictions[content["epoch"]] = record
                else:
                    entry.others.setdefault(content["kind"], []).append((content, record))
            if probe is not None or entry.others:
                runs[run] = entry
        return runs

    def run(self, ctx, experiment_id, run):
        """Returns the `RunIndex` of one run, or raises `NotFoundError`."""
        entry = self.index(ctx, experiment_id).get(run)
        if entry is None:
            raise errors.NotFoundError("Unknown run: %r" % (run,))
        return entry

    def probe(self, ctx, experiment_id, run, entry):
        """Returns `(info dict, labels [N], thumbnails or None)` of a run (cached).

        Raises `NotFoundError` for a run without activations.
        """
        if entry.probe is None:
            raise errors.NotFoundError("Run %r has no activations." % (run,))
        key = (experiment_id, run, entry.probe.wall_time)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        blobs = self.read_blobs(ctx, experiment_id, run, entry.probe)
        try:
            info = metadata.decode_json(blobs[metadata.PROBE_INFO])
            labels = metadata.decode_array(blobs[metadata.PROBE_LABELS])
            raw_thumbs = blobs[metadata.PROBE_THUMBNAILS] if len(blobs) > 2 else b""
            thumbs = metadata.decode_array(raw_thumbs) if raw_thumbs else None
        except (ValueError, IndexError) as e:
            raise errors.FailedPreconditionError(
                "The probe summary of run %r is corrupt: %s" % (run, e)
            )
        value = (info, labels, thumbs)
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > self._cache_entries:
                self._cache.popitem(last=False)
        return value

    def read_array(self, ctx, experiment_id, run, record):
        """Reads the single array of an activations or predictions summary."""
        blobs = self.read_blobs(ctx, experiment_id, run, record)
        try:
            return metadata.decode_array(blobs[0])
        except (ValueError, IndexError) as e:
            raise errors.FailedPreconditionError(
                "The summary %r of run %r is corrupt: %s" % (record.tag, run, e)
            )

    def read_blobs(self, ctx, experiment_id, run, record):
        """Reads all blobs of the latest step of a summary, as bytes."""
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
        return [
            self._provider.read_blob(ctx, blob_key=ref.blob_key) for ref in data[-1].values
        ]
