"""Which worker of a `tf.distribute` cluster writes the logs."""

import tensorflow as tf


def _cluster(model):
    """`(cluster dict, resolver)` of the model's strategy; `({}, None)` on one machine."""
    strategy = getattr(model, "distribute_strategy", None) or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    return ({}, None) if resolver is None else (resolver.cluster_spec().as_dict(), resolver)


def num_workers(model):
    """Processes that train replicas: the chief and workers of the cluster, 1 on one machine."""
    cluster, _ = _cluster(model)
    return max(1, len(cluster.get("chief", [])) + len(cluster.get("worker", [])))


def is_chief(model):
    """True unless this process is a non-chief worker of a multi-worker cluster.

    The chief is the task of type "chief", or worker 0 when the cluster has
    no chief (the `MultiWorkerMirroredStrategy` convention).
    """
    cluster, resolver = _cluster(model)
    if not cluster:
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief":
        return True
    return task_type == "worker" and task_id == 0 and "chief" not in cluster
