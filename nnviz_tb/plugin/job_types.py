"""What the analysis scheduler (`jobs`) is asked, hands to an analysis, and answers.

`Analysis` says what to compute, `Request` of which record, `Context` is
what a running analysis gets besides its data, `Progress` what `Jobs.poll`
reports; an analysis raises `Stopped` when nobody wants its result any more.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Analysis:
    """What to compute from one record's activations.

    Attributes:
      key: Name and parameters, e.g. `"projection|tsne|30|0"`; part of the cache key.
      title: Short name for progress messages, e.g. `"tsne"`.
      compute: `compute(data, labels, context)` returning a dict of NumPy
        arrays; `data` is what `Request.load` returns, `context` a `Context`.
      shapes: `shapes(N, D)` returning `{name: shape}` of every array a
        result of `[N, D]` activations holds (checks cached results).
      slow: Whether it runs in the slow lane (else the quick one).
    """

    key: str
    title: str
    compute: object
    shapes: object
    slow: bool = False


@dataclasses.dataclass(frozen=True)
class Request:
    """One analysis of one record (or of a set of records).

    Attributes:
      identity: Hashable key of the record and analysis (the memory-cache key).
      load: Callable returning the `[N, D]` activations, or a `FrameSet` (runs in the job).
      analysis: The `Analysis` to run.
      labels: `[N]` class labels of the probe points.
      description: Human-readable name for progress messages.
      init: A `Request` whose result the analysis starts from, or None.
    """

    identity: tuple
    load: object
    analysis: Analysis
    labels: object
    description: str
    init: "Request | None" = None


class FrameSet(list):
    """Loaders of several `[N, D]` records (an analysis of a whole sequence), read one at a time."""

    shape = None  # `(N, D)` of each frame, set when they are first read.


@dataclasses.dataclass
class Context:
    """What a running analysis gets besides its data.

    `init`: the result of `Request.init` (or None); `progress(fraction)`;
    `should_stop()` (True once nobody wants the result: raise or return early);
    `preview(arrays)`: a provisional result (a dict like the final one) to show meanwhile;
    `parent_data()`: the data of `Request.init` (or None).
    """

    init: object
    progress: object
    should_stop: object
    preview: object
    parent_data: object = lambda: None


@dataclasses.dataclass
class Progress:
    """What `Jobs.poll` reports for a list of requests.

    `results`: one result dict per request, or None while it is not ready;
    `previews`: the provisional result of each running one (else None);
    `fraction`: how much of the work is done; `eta_seconds`: an estimate of
    the time left, or None before anything comparable has been timed.
    """

    results: list
    previews: list
    fraction: float
    eta_seconds: "float | None"

    @property
    def ready(self):
        return all(r is not None for r in self.results)


class Stopped(Exception):
    """Raised by an analysis whose `Context.should_stop()` became True."""
