"""Training-time overhead of GradientStatsLogger under `tf.distribute.MirroredStrategy`.

Two replicas on two logical CPU devices (this machine has no GPUs), each
training the MNIST MLP of `activation_logger_overhead.py` on half of every
batch of 64. Under several replicas the logger adds one `merge_call` per
step (a synchronisation of the replica threads) and adds the replicas'
gradient shares on the measured steps. Same method: without the logger and
with it (per-epoch statistics only, and the default with the sign heatmaps).

    python benchmarks/gradient_stats_mirrored.py [--rounds 4] [--epochs 9]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from _report import report  # noqa: E402
from activation_logger_overhead import compare, mlp, mnist_mlp_data, overhead_rows, parse_args  # noqa: E402
from gradient_stats_overhead import SAMPLED_CONFIGS  # noqa: E402

QUICK_ARGS = ["--rounds", "1", "--epochs", "5"]

STRATEGY = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


def mirrored_mlp():
    with STRATEGY.scope():
        return mlp()


def main():
    args = parse_args(__doc__.split("\n")[0])
    (x, y), _ = mnist_mlp_data(args.data_dir)
    print("== MLP, %d replicas" % STRATEGY.num_replicas_in_sync, flush=True)
    times = compare(SAMPLED_CONFIGS, (x, y), args.rounds, args.epochs, mirrored_mlp)
    report(overhead_rows(times, "MNIST MLP, %d replicas" % STRATEGY.num_replicas_in_sync))


if __name__ == "__main__":
    main()
