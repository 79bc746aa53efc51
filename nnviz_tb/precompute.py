"""`nnviz-tb precompute LOGDIR`: computes the tab's projections ahead, so it opens at once.

Reads the log dir with TensorBoard's own loader (no TensorFlow) and writes
into the disk cache the TensorBoard server reads (`$NNVIZ_TB_CACHE_DIR`, else
`~/.cache/nnviz_tb`): a frame computed here is served without computing.
"""

import argparse
import sys
import time

from tensorboard import context as tb_context
from tensorboard.backend.event_processing import data_provider as tb_data_provider
from tensorboard.backend.event_processing import plugin_event_multiplexer

from nnviz_tb.analysis import sequence
from nnviz_tb.plugin import activations, cache_files, frames, jobs, run_data
from nnviz_tb.plugin.corrupt import CorruptDataError

METHODS = ("pca", "joint_pca", "tsne")


def main(argv=None):
    """The `nnviz-tb` console script."""
    args = _parser().parse_args(argv)
    try:
        params = [frames.Params(m, args.perplexity, args.seed) for m in (METHODS if args.method == "all"
                                                                          else [args.method])]
        sequence.check_perplexity(args.perplexity, 10**6)
    except ValueError as e:
        _parser().error(str(e))
    data = run_data.RunData(data_provider(args.logdir))
    ctx = tb_context.RequestContext()
    requests = _requests(data, ctx, args.runs, params)
    if not requests:
        print("nnviz-tb: no activations to project in %s." % args.logdir, file=sys.stderr)
        return 1
    analysis_jobs = jobs.Jobs(args.cache_dir, wait_seconds=0.5)
    start = time.time()
    analysis_jobs.run(requests, report=_ProgressBar(len(requests), sys.stderr))
    print("\nnviz-tb: %d projections ready in %s (%.0f s)." % (len(requests), args.cache_dir, time.time() - start),
          file=sys.stderr)
    return 0


def _parser():
    parser = argparse.ArgumentParser(prog="nnviz-tb", description="Tools of the nnviz TensorBoard tab.")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "precompute", help="Compute the tab's projections of a log dir ahead, into the server's disk cache.",
        description="Computes every frame (layer x epoch) of the nnviz runs in LOGDIR with the chosen "
                    "method, so the tab shows them without waiting.")
    command.add_argument("logdir", help="The log dir TensorBoard serves (--logdir).")
    command.add_argument("--method", choices=METHODS + ("all",), default="tsne",
                         help="Projection to compute: pca, joint_pca (shared axes per layer), tsne, or all. "
                              "Default: tsne.")
    command.add_argument("--perplexity", type=float, default=sequence.DEFAULT_PERPLEXITY,
                         help="t-SNE perplexity, %g to %g (the tab's default: %g)." % (
                             frames.MIN_PERPLEXITY, frames.MAX_PERPLEXITY, sequence.DEFAULT_PERPLEXITY))
    command.add_argument("--seed", type=int, default=0, help="t-SNE seed (the tab's default: 0).")
    command.add_argument("--runs", nargs="*", default=None, help="Only these runs (default: all).")
    command.add_argument("--cache-dir", default=cache_files.default_cache_dir(),
                         help="The disk cache (default: $NNVIZ_TB_CACHE_DIR or ~/.cache/nnviz_tb: the server's).")
    return parser


def data_provider(logdir):
    """TensorBoard's (Python, multiplexer-backed) data provider of `logdir`, loaded once."""
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    return tb_data_provider.MultiplexerDataProvider(multiplexer, logdir)


def _requests(data, ctx, runs, params_list):
    """Every frame's `job_types.Request` of the chosen runs, for each of `params_list`."""
    requests = []
    for run, entry in sorted(data.index(ctx, "").items()):
        if (runs and run not in runs) or entry.probe is None or not entry.activations:
            continue
        try:
            probe = data.probe(ctx, "", run, entry)
        except CorruptDataError as e:
            print("nnviz-tb: skipping run %r: %s" % (run, e), file=sys.stderr)
            continue
        run_frames = activations.run_frames(data, ctx, "", run, entry, probe)
        for params in params_list:
            for layer, by_epoch in entry.activations.items():
                if params.method == "joint_pca":
                    requests.append(run_frames.joint_request(layer))
                else:
                    requests += [run_frames.request((layer, epoch), params) for epoch in sorted(by_epoch)]
    return requests


class _ProgressBar:
    """Prints `[#####-----] 12/40 projections, about 2 min left` (one line on a terminal)."""

    def __init__(self, total, stream, width=30):
        self._total, self._stream, self._width = total, stream, width
        self._last = None

    def __call__(self, progress):
        done = sum(r is not None for r in progress.results)
        filled = int(self._width * done / self._total)
        left = "" if progress.eta_seconds is None else ", about %s left" % _duration(progress.eta_seconds)
        line = "[%s%s] %d/%d projections%s" % ("#" * filled, "-" * (self._width - filled), done, self._total, left)
        if self._stream.isatty():
            self._stream.write("\r" + line.ljust(80))
        elif done != self._last:  # In a log: one line per finished projection.
            self._stream.write(line + "\n")
        self._last = done
        self._stream.flush()


def _duration(seconds):
    return "%d s" % max(seconds, 1) if seconds < 90 else "%d min" % round(seconds / 60)


if __name__ == "__main__":
    sys.exit(main())
