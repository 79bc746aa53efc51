"""Which worker of a `tf.distribute` cluster writes the logs."""

import tensorflow as tf


def is_chief(model):
    """True unless this process is a non-chief worker of a multi-worker cluster.

    The chief is the task of type "chief", or worker 0 when the cluster has
    no chief (the `MultiWorkerMirroredStrategy` convention).
    """
    strategy = getattr(model, "distribute_strategy", None) or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return True
    cluster = resolver.cluster_spec().as_dict()
    if not cluster:
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief":
        return True
    return task_type == "worker" and task_id == 0 and "chief" not in cluster
