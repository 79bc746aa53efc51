"""Projections computed ahead: by `nnviz-tb precompute LOGDIR` and by the server when records appear."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest
from tensorboard import context as tb_context

from nnviz_tb import precompute
from test_plugin_routes import ROUTE, cache_dir, make_client  # noqa: F401 (an autouse fixture)


def first_answer(client, path):
    response = client.get(ROUTE + path)
    return response.status_code, json.loads(response.get_data())


def test_the_cli_fills_the_cache_the_server_reads(digits_logdir, cache_dir, capsys):
    assert precompute.main(["precompute", digits_logdir, "--method", "all", "--cache-dir", str(cache_dir)]) == 0
    assert "projections ready" in capsys.readouterr().err
    client, _ = make_client(digits_logdir)
    for method in ("tsne", "joint_pca", "pca"):  # Served at once, without computing.
        status, body = first_answer(client, "/evolution?run=mlp&over=epochs&layer=hidden2&method=" + method)
        assert status == 200 and len(body["frames"]) == 4, method
    status, _ = first_answer(client, "/evolution?run=mlp&over=layers&epoch=3&method=tsne")
    assert status == 200


def test_the_console_script_explains_bad_arguments(tmp_path):
    script = [sys.executable, "-m", "nnviz_tb.precompute", "precompute"]
    bad = subprocess.run(script + [str(tmp_path), "--perplexity", "500"], capture_output=True, text=True)
    assert bad.returncode == 2 and "perplexity" in bad.stderr and "Traceback" not in bad.stderr
    empty = subprocess.run(script + [str(tmp_path)], capture_output=True, text=True)
    assert empty.returncode == 1 and "no activations" in empty.stderr
    assert "--method" in subprocess.run(script + ["--help"], capture_output=True, text=True).stdout


def test_the_server_computes_new_records_in_the_background(digits_logdir):
    client, plugin = make_client(digits_logdir)
    ctx = tb_context.RequestContext()
    index = plugin._data.index(ctx, "")
    plugin._activations.precompute(ctx, "", index)
    deadline = time.time() + 300
    while True:  # Nobody asks meanwhile: background work is never dropped.
        status, _ = first_answer(client, "/evolution?run=mlp&over=layers&epoch=3&method=tsne")
        if status == 200:
            break
        assert time.time() < deadline
        time.sleep(2.0)
    for layer in ("hidden1", "hidden2", "output"):
        status, body = first_answer(client, "/evolution?run=mlp&over=epochs&layer=%s&method=tsne" % layer)
        assert status == 200 and all(f["neighborhood_hit"] > 0.3 for f in body["frames"])
    # The same records are not queued again.
    queued = dict(plugin._activations._precomputed)
    plugin._activations.precompute(ctx, "", index)
    assert plugin._activations._precomputed == queued


@pytest.mark.parametrize("query", ["perplexity=1", "perplexity=101", "perplexity=nan", "perplexity=x",
                                   "seed=-1", "seed=99999999999", "method=umap"])
def test_bad_projection_parameters_are_400(digits_logdir, query):
    client, _ = make_client(digits_logdir)
    for route in ("/projection?run=mlp&layer=hidden1&epoch=0&", "/evolution?run=mlp&over=layers&epoch=0&"):
        status, body = first_answer(client, route + "method=tsne&" + query if "method" not in query
                                    else route + query)
        assert status == 400 and body["error"], (route, query)


def test_a_new_epoch_computes_one_frame(tmp_path, monkeypatch):
    from tensorboard.backend import application
    from tensorboard.backend.event_processing import data_provider as tb_data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from werkzeug import test as werkzeug_test

    from nnviz_tb.analysis import sequence
    from nnviz_tb.plugin import nnviz_plugin
    from nnviz_tb.summary import NnvizWriter
    from test_plugin_routes import get_json, write_synthetic_run

    computed = []
    real = sequence.tsne_frame
    monkeypatch.setattr(sequence, "tsne_frame", lambda data, **kw: computed.append(1) or real(data, **kw))
    labels = write_synthetic_run(tmp_path / "logs" / "run", epochs=2)
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(tmp_path / "logs"))
    multiplexer.Reload()
    provider = tb_data_provider.MultiplexerDataProvider(multiplexer, str(tmp_path / "logs"))
    plugin = nnviz_plugin.NnvizPlugin(base_plugin.TBContext(data_provider=provider, logdir=str(tmp_path)))
    client = werkzeug_test.Client(application.TensorBoardWSGI([plugin], data_provider=provider))
    path = "/evolution?run=run&over=epochs&layer=b&method=tsne"
    status, body = get_json(client, path)
    assert status == 200 and len(body["frames"]) == 3
    assert len(computed) == 4  # Epochs 0-2 of layer b, and epoch 0 of layer a (b's epoch 0 starts from it).
    # Epoch 3, as a resumed training writes it: a second later, so its event file's name sorts after the
    # first one's (TensorBoard's Python loader skips a file named lexicographically earlier).
    time.sleep(1.1)
    writer = NnvizWriter(str(tmp_path / "logs" / "run"))
    values = {n: np.random.default_rng(3).normal(size=(40, 5)).astype("float32") + labels[:, None] for n in "ab"}
    writer.write_epoch(3, values, labels, {n: "none" for n in "ab"})
    writer.close()
    multiplexer.Reload()
    deadline = time.time() + 30
    while len(body["frames"]) < 4:  # Until the server's index has the new epoch.
        assert time.time() < deadline
        time.sleep(0.5)
        status, body = get_json(client, path)
    assert status == 200 and len(computed) == 5
