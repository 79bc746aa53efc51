"""Projection frames of a run's probe points: which jobs compute them, and what of them is ready.

A frame is the 2-D layout of one (layer, epoch). Whichever view asks for it
(one projection, "Across layers", "Across epochs", Compare), a frame is the
same job with the same result:

- `pca`: its own PCA.
- `tsne`: t-SNE started from the layout of the frame `sequence.parent` names
  (the same layer's previous epoch; the first epoch from the layer before),
  so trails through consecutive frames follow the data, and a new epoch adds
  one frame per layer.
- `joint_pca`: one PCA fitted on every recorded epoch of the layer (shared
  axes, centre and scale), so motion between epochs is the data's alone.
  Layers differ in width, so across layers each frame gets its own PCA.
"""

import dataclasses
import functools

from tensorboard import errors

from nnviz_tb.analysis import sequence
from nnviz_tb.plugin import analyses, job_types

METHODS = ("pca", "joint_pca", "tsne")
MIN_PERPLEXITY, MAX_PERPLEXITY = 2.0, 100.0
MAX_SEED = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class Params:
    """How frames are projected: `method` (one of `METHODS`) and t-SNE's perplexity and seed."""

    method: str = "pca"
    perplexity: float = sequence.DEFAULT_PERPLEXITY
    seed: int = 0

    @property
    def defaults(self):
        return self.method != "tsne" or (self.perplexity, self.seed) == (sequence.DEFAULT_PERPLEXITY, 0)


@dataclasses.dataclass
class Frame:
    """One (layer, epoch) layout: `points` `[N, 2]`, its neighbourhood hit, non-finite count,
    whether it is `partial` (a t-SNE still being optimised), and `stand_in`: the epoch of the
    same layer whose layout is shown until this frame's own exists (its chain computes it first)."""

    layer: str
    epoch: int
    points: object
    neighborhood_hit: float = None
    non_finite: int = 0
    partial: bool = False
    stand_in: int = None


@dataclasses.dataclass
class Status:
    """The frames asked for (None for those not ready), the job progress (`job_types.Progress`),
    notes, and whether the frames share their axes (no rotation may align them)."""

    frames: list
    progress: job_types.Progress
    notes: list
    shared_axes: bool = False

    @property
    def ready(self):
        return all(f is not None and not f.partial for f in self.frames)


class RunFrames:
    """The frames of one run: builds their `job_types.Request`s and reads what is ready.

    Args:
      data: The `run_data.RunData`; `ctx`, `experiment_id`, `run`, `entry`, `probe`: the run.
    """

    def __init__(self, data, ctx, experiment_id, run, entry, probe, layers):
        self._data, self._ctx, self._eid = data, ctx, experiment_id
        self._run, self._entry, self._probe, self._layers = run, entry, probe, layers
        self._built = {}
        self._keys = {}  # Identity of a built t-SNE request -> its (layer, epoch).

    def poll(self, analysis_jobs, keys, params, background=False):
        """The `Status` of the frames `[(layer, epoch)]`, queueing the jobs that compute them."""
        notes = []
        method = params.method
        if method == "joint_pca" and len({layer for layer, _ in keys}) > 1:
            method = "pca"
            notes.append("Across layers, each layer has its own PCA axes (their widths differ); "
                         "PCA with shared axes is for one layer across epochs.")
        if method == "joint_pca":
            return self._joint(analysis_jobs, keys, background, notes)
        requests = [self.request(key, dataclasses.replace(params, method=method)) for key in keys]
        progress = analysis_jobs.poll(requests, background=background)
        frames = []
        for (layer, epoch), request, result, preview in zip(keys, requests, progress.results, progress.previews):
            if result is not None:
                frames.append(Frame(layer, epoch, result["points"], float(result["neighborhood_hit"]),
                                    int(result["non_finite"])))
            elif preview is not None:
                frames.append(Frame(layer, epoch, preview["points"], partial=True))
            else:
                frames.append(self._stand_in(analysis_jobs, layer, epoch, request))
        return Status(frames, progress, notes)

    def _stand_in(self, analysis_jobs, layer, epoch, request):
        """A partial frame showing the layout of an earlier epoch of `layer` on `request`'s chain, or None."""
        ancestor, points = analysis_jobs.latest(request)
        key = self._keys.get(None if ancestor is None else ancestor.identity)
        if key is None or key[0] != layer:
            return None
        return Frame(layer, epoch, points, partial=True, stand_in=key[1])

    def request(self, key, params):
        """The `job_types.Request` of frame `key` (t-SNE: with the chain of frames it starts from)."""
        if params.method != "tsne":
            return self.record_request(key, analyses.point_projection(params.method))
        if (key, params) in self._built:
            return self._built[(key, params)]
        analysis = analyses.point_projection("tsne", params.perplexity, params.seed)
        chain = [key]
        while True:  # Iteratively: a long training makes a long chain.
            parent = sequence.parent(chain[-1], self._layers, sorted(self._entry.activations[chain[-1][0]]))
            if parent is None or parent[1] not in self._entry.activations.get(parent[0], {}) \
                    or (parent, params) in self._built:
                break
            chain.append(parent)
        init = self._built.get((parent, params)) if parent is not None else None
        for frame_key in reversed(chain):
            if (frame_key, params) not in self._built:
                self._built[(frame_key, params)] = self.record_request(frame_key, analysis, init)
                self._keys[self._built[(frame_key, params)].identity] = frame_key
            init = self._built[(frame_key, params)]
        return init

    def joint_request(self, layer):
        """The `job_types.Request` of one PCA of every recorded epoch of `layer` (shared axes)."""
        records = [self._entry.activations[layer][e] for e in sorted(self._entry.activations[layer])]
        loaders = job_types.FrameSet(self._loader(record) for record in records)
        return job_types.Request(
            identity=(self._eid, self._run, "joint_pca", tuple((r.tag, r.wall_time) for r in records)),
            load=lambda: loaders, analysis=analyses.joint_projection(len(records)), labels=self._probe.labels,
            description="PCA with shared axes of run %r, layer %r, %d epochs" % (self._run, layer, len(records)))

    def _joint(self, analysis_jobs, keys, background, notes):
        """Frames of one layer from one PCA of all its recorded epochs."""
        layer = keys[0][0]
        progress = analysis_jobs.poll([self.joint_request(layer)], background=background)
        (result,) = progress.results
        if result is None:
            return Status([None] * len(keys), progress, notes)
        where = {e: i for i, e in enumerate(sorted(self._entry.activations[layer]))}
        frames = [Frame(layer, e, result["points"][where[e]], float(result["neighborhood_hit"][where[e]]),
                        int(result["non_finite"][where[e]])) for _, e in keys]
        return Status(frames, progress, notes, shared_axes=True)

    def record_request(self, key, analysis, init=None):
        layer, epoch = key
        record = self._entry.activations.get(layer, {}).get(epoch)
        if record is None:
            raise errors.NotFoundError("No activations of layer %r at epoch %d in run %r." % (layer, epoch, self._run))
        identity = (self._eid, self._run, record.tag, record.wall_time, analysis.key)
        return job_types.Request(
            identity=identity if init is None else identity + (init.identity,),
            load=self._loader(record), analysis=analysis, labels=self._probe.labels,
            description="%s of run %r, layer %r, epoch %d" % (analysis.title, self._run, layer, epoch),
            init=init,
        )

    def _loader(self, record):
        return functools.partial(self._data.read_activations, self._ctx, self._eid, self._run, record, self._probe)
