"""The `ConfusionMatrixLogger`'s data for the `confusion` route (plain data; see docs/http_api.md).

Reads the confusion matrices (`nnviz_tb.metadata`, "Per-class metrics") of
a run's validation data, in the run `<run>/validation` (or `<run>` itself)
through `run_data.RunData`; the metrics are `nnviz_tb.class_metrics`'.
"""

from tensorboard import errors

from nnviz_tb import class_metrics, metadata, metadata_checks


def _records(entry):
    """`{epoch: (content, Record)}` of a run's confusion matrices."""
    return {content["epoch"]: (content, record) for content, record in entry.others.get(metadata.KIND_CONFUSION, [])}


def source_run(index, run):
    """The run of `index` (`RunData.index`) with the confusion matrices of `run`'s validation
    data: `<run>/validation`, else `run` itself; None if neither has any."""
    for name in (run + "/" + metadata.VALIDATION_RUN, run):
        if name in index and _records(index[name]):
            return name
    return None


def summary(index, run):
    """The `confusion` field of a run in the `runs` route: `{run, epochs}` (the source run), or None."""
    source = source_run(index, run)
    return None if source is None else {"run": source, "epochs": sorted(_records(index[source]))}


class Confusion:
    """Answers the `confusion` route for the runs of `data` (a `run_data.RunData`)."""

    def __init__(self, data):
        self._data = data

    def confusion_impl(self, ctx, experiment_id, run, epoch=None):
        """The confusion matrix of `run`'s validation data and its per-class metrics.

        Args:
          run: The run, or its validation run.
          epoch: The epoch asked for: the answer is the latest recorded epoch
            at or before it. Defaults to the last recorded one.

        Returns a dict: `run`, `source_run` (the run read), `epoch` (the one
        shown), `epochs` (all recorded), `class_names`, `num_points`,
        `counts` `[C][C]` (row = true class, column = predicted), per class
        `precision`, `recall`, `f1` (0 where undefined, as scikit-learn's
        `zero_division=0`) and `support` (points), and their `macro`
        averages over the classes present.

        Raises:
          NotFoundError: for an unknown run, one without confusion matrices,
            or an epoch before the first recorded.
          CorruptDataError: if the summary is damaged or malformed.
        """
        index = self._data.index(ctx, experiment_id)
        source = source_run(index, run)
        if source is None:
            if run not in index:
                raise errors.NotFoundError("Unknown run: %r" % (run,))
            raise errors.NotFoundError("Run %r has no confusion matrices of validation data (ConfusionMatrixLogger "
                                       "writes them to the run %r)." % (run, run + "/" + metadata.VALIDATION_RUN))
        records = _records(index[source])
        epochs = sorted(records)
        shown = [e for e in epochs if epoch is None or e <= epoch]
        if not shown:
            raise errors.NotFoundError("Run %r has no confusion matrix at or before epoch %d; the first is of epoch %d."
                                       % (source, epoch, epochs[0]))
        content, record = records[shown[-1]]
        counts = self._data.read_checked(ctx, experiment_id, source, record, metadata_checks.check_confusion,
                                         len(content["class_names"]))
        per_class, macro = class_metrics.confusion_scores(counts)
        return {
            "run": run,
            "source_run": source,
            "epoch": shown[-1],
            "epochs": epochs,
            "class_names": content["class_names"],
            "num_points": int(counts.sum()),
            "counts": counts.tolist(),
            **{metric: values.tolist() for metric, values in per_class.items()},
            "support": counts.sum(axis=1).tolist(),
            "macro": macro,
        }
