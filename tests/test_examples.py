"""Runs the examples as scripts (short settings) and checks what they wrote."""

import glob
import os
import re
import socket
import subprocess
import sys

import pytest
from tensorboard.backend.event_processing import plugin_event_accumulator

from nnviz_tb import metadata
from test_steps import tensors

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
MNIST_DIR = os.path.join(ROOT, os.pardir, "shared", "data", "mnist")


EXAMPLES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "examples", "[!_]*.py")))


def run(name, *args):
    """The finished `subprocess.CompletedProcess` of `python examples/<name> args` (exit status 0)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}  # The example's own settings.
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", name), *args],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def run_example(name, *args):
    return run(name, *args).stdout


def nnviz_tags(run_dir):
    acc = plugin_event_accumulator.EventAccumulator(run_dir)
    acc.Reload()
    return {
        tag: sorted(event.step for event in acc.Tensors(tag))
        for tag in acc.Tags()["tensors"]
        if acc.SummaryMetadata(tag).plugin_data.plugin_name == metadata.PLUGIN_NAME
    }


def help_texts(usage):
    """`{option: its help text}` of an argparse `--help` output."""
    options = usage.split("\noptions:\n", 1)[1]
    entries = re.findall(r"^  (-[^\n]*?)(?:  +|\n +)(\S.*?)(?=\n  -|\Z)", options, re.M | re.S)
    return {flags.split(",")[-1].split()[0]: " ".join(text.split()) for flags, text in entries}


@pytest.mark.parametrize("name", EXAMPLES)
def test_help_describes_every_argument(name):
    result = run(name, "--help")
    assert result.stderr == ""  # No TensorFlow start-up notices.
    usage = result.stdout
    options = set(re.findall(r"\[(--[a-z-]+)", usage.split("\n\n")[0]))
    texts = help_texts(usage)
    assert options and options <= set(texts), (options, texts)
    for option in options:
        assert re.search(r"\w+ \w+.*\(default: .+\)$", texts[option]), (option, texts[option])


def test_quickstart(tmp_path):
    logdir = str(tmp_path / "quickstart")
    result = run("quickstart.py", "--logdir", logdir, "--epochs", "2")
    stdout = result.stdout
    assert result.stderr == ""  # Only the training progress (stdout), no TensorFlow notices.
    assert logdir in stdout and "Epoch 2/2" in stdout
    assert glob.glob(os.path.join(logdir, "events.out.tfevents.*"))  # nnviz
    assert glob.glob(os.path.join(logdir, "train", "events.out.tfevents.*"))  # TensorBoard
    tags = nnviz_tags(logdir)
    assert tags[metadata.PROBE_TAG] == [0]
    for layer in ("dense_64", "dense_32", "dense_16", "output"):
        for epoch in (0, 1, 2):
            assert tags[metadata.activations_tag(layer, epoch)] == [epoch]
    for epoch in (0, 1, 2):  # The other two callbacks, into the same run.
        assert tags[metadata.correlations_tag(epoch)] == [epoch]
    assert tags[metadata.gradient_stats_tag(1)] == [1] and tags[metadata.gradient_stats_tag(2)] == [2]
    assert sorted(tensors(os.path.join(logdir, "train"))["epoch_loss"]) == [1, 2]  # nnviz_tb.TensorBoard's steps.
    assert sorted(tensors(logdir)[metadata.class_metric_tag("f1", "3")]) == [0, 1, 2]
    assert sorted(tensors(logdir)["saliency/integrated_gradients"]) == [0, 1, 2]  # Images tab.


@pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason="no MNIST files in ../shared/data/mnist")
def test_mnist_cnn_tiny(tmp_path):
    logdir = str(tmp_path / "cnn")
    run_example("mnist_cnn.py", "--data-dir", MNIST_DIR, "--logdir", logdir, "--epochs", "1",
                "--train-size", "256", "--probe-size", "100")
    tags = nnviz_tags(logdir)
    for layer in ("conv1a", "conv1b", "pool1", "conv2a", "conv2b", "pool2", "dense", "output"):
        assert tags[metadata.activations_tag(layer, 1)] == [1]
    for method in ("gradient", "integrated_gradients", "gradcam"):  # Images tab and selection panel.
        assert tags[metadata.saliency_tag(method, 1)] == [1]
    images = tensors(logdir)
    assert sorted(images["saliency/gradcam"]) == sorted(images["feature_maps/conv2b"]) == [0, 1]


@pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason="no MNIST files in ../shared/data/mnist")
def test_mnist_mlp_one_epoch(tmp_path):
    logdir = str(tmp_path / "mlp")
    run_example("mnist_mlp.py", "--data-dir", MNIST_DIR, "--logdir", logdir, "--epochs", "1")
    assert nnviz_tags(logdir)[metadata.activations_tag("dense_32", 1)] == [1]
    with open(os.path.join(logdir, "plugins", "org_tensorflow_tensorboard_projector", "projector_config.pbtxt")) as f:
        config = f.read()
    assert "dense_64 @ epoch 001" in config and "dense_32 @ epoch 000" in config
    assert nnviz_tags(os.path.join(logdir, "validation"))[metadata.confusion_tag(1)] == [1]


@pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason="no MNIST files in ../shared/data/mnist")
def test_reproduce_paper_prints_the_table(tmp_path):
    stdout = run_example("reproduce_paper.py", "--data-dir", MNIST_DIR, "--logdir", str(tmp_path),
                         "--epochs", "1", "--methods", "pca")
    rows = [line for line in stdout.splitlines() if line.startswith("| mlp") or line.startswith("| cnn")]
    assert len(rows) == 6  # 4 MLP hidden layers, 2 CNN dense layers.
    for row in rows:
        before, after = (float(v) for v in row.strip("|").split("|")[2:4])
        assert 0 < before <= 1 and 0 < after <= 1
    assert "most mixed digit pairs" in stdout
    assert (tmp_path / "paper_results.json").exists()


@pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason="no MNIST files in ../shared/data/mnist")
def test_gradient_cnn_tiny(tmp_path):
    logdir = str(tmp_path / "gradient_cnn")
    stdout = run_example("gradient_cnn.py", "--data-dir", MNIST_DIR, "--logdir", logdir, "--epochs", "2",
                         "--train-size", "256")
    assert metadata.gradient_stats_tag(2) in nnviz_tags(logdir)
    lines = {line.split()[0]: line for line in stdout.splitlines() if line.strip()}
    for layer in ("conv1a", "conv1b", "conv2a", "conv2b", "dense", "output"):
        assert layer in lines and "%" in lines[layer]
    assert "/32" in lines["conv1a"] and lines["output"].count(" - ") == 2  # Units of ReLU layers only.


@pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason="no MNIST files in ../shared/data/mnist")
def test_squeeze_expand_tiny(tmp_path):
    stdout = run_example("squeeze_expand.py", "--data-dir", MNIST_DIR, "--logdir", str(tmp_path),
                         "--epochs", "1", "--train-size", "256")
    rows = [line.split() for line in stdout.splitlines() if line.startswith(("bottleneck", "wide"))]
    assert [(r[0], r[1], r[2]) for r in rows[:4]] == [
        ("bottleneck", "hidden1", "784x512"), ("bottleneck", "hidden2", "512x32"),
        ("bottleneck", "hidden3", "32x512"), ("bottleneck", "output", "512x10")]
    assert len(rows) == 8 and float(rows[1][3]) <= 32 < float(rows[5][3])  # Effective ranks of hidden2.
    assert metadata.gradient_stats_tag(1) in nnviz_tags(str(tmp_path / "wide"))


@pytest.mark.parametrize("how, exposed", [({}, False), ({"BIND_ALL": "1"}, True), ({"args": ["--bind_all"]}, True)])
def test_quickstart_script_serves_on_localhost_unless_asked(tmp_path, how, exposed):
    """scripts/quickstart.sh with its setup, training and tensorboard replaced by stubs that print their arguments."""
    scripts, bin_dir = tmp_path / "scripts", tmp_path / ".venv" / "bin"
    scripts.mkdir()
    bin_dir.mkdir(parents=True)
    with open(os.path.join(ROOT, "scripts", "quickstart.sh")) as f:
        (scripts / "quickstart.sh").write_text(f.read())
    (scripts / "setup.sh").write_text("")
    for tool in ("python", "tensorboard"):
        (bin_dir / tool).write_text('#!/bin/sh\necho "%s $*"\n' % tool)
        (bin_dir / tool).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("BIND_ALL", "PORT", "LOGDIR")}
    env.update({k: v for k, v in how.items() if k != "args"})
    result = subprocess.run(["bash", str(scripts / "quickstart.sh"), *how.get("args", [])],
                            capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "python examples/quickstart.py --logdir logs/quickstart" in lines
    served = [line for line in lines if line.startswith("tensorboard ")]
    assert served and served[0].startswith("tensorboard --logdir logs --port 6006")
    assert ("--bind_all" in served[0].split()) == exposed
    url = "nnviz tab: http://%s:6006/#nnviz" % (socket.gethostname() if exposed else "localhost")
    assert url in lines, lines
