"""The saliency routes: SaliencyLogger's maps found for the probe points they show, at the nearest
recorded epoch; bad parameters 400, missing data 404, damaged records a note or 422, never a 500."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from conftest import digits
from nnviz_tb import metadata, probe
from nnviz_tb.plugin import saliency as saliency_routes
from nnviz_tb.summary import NnvizWriter, write_blobs
from test_plugin_routes import ROUTE, get_json, make_client

IMAGES = [3, 10, 57, 200]  # Probe points 3, 10 and 57; 200 is not in the 100-point probe.
METHODS = ("gradient", "gradcam")


def digits_cnn():
    import keras

    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, activation="relu", name="conv"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ])


def train_with_saliency(run_dir, epochs=3):
    """A CNN on the digits with an ActivationLogger (probe: the first 100) and a SaliencyLogger of
    `IMAGES` (labels given) every 2 epochs: steps 0, 2 and 3."""
    import keras

    import nnviz_tb

    keras.utils.set_random_seed(0)
    x, y = digits()
    x = x.reshape(-1, 8, 8, 1)
    model = digits_cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=epochs, batch_size=64, verbose=0, callbacks=[
        nnviz_tb.ActivationLogger(run_dir, probe=(x[:100], y[:100])),
        nnviz_tb.SaliencyLogger(run_dir, x[IMAGES], y[IMAGES], methods=METHODS, every_n_epochs=2),
    ])
    return y


def write_saliency(run_dir, thumbnails, records):
    """A probe of `thumbnails` `[N, 8, 8]` and saliency records `{(method, epoch): [blobs]}`."""
    writer = NnvizWriter(run_dir)
    writer.write_probe(0, {"num_points": len(thumbnails)}, np.zeros(len(thumbnails), np.int32), thumbnails)
    for (method, epoch), blobs in records.items():
        summary_metadata = metadata.create_summary_metadata(
            metadata.KIND_SALIENCY, method=method, epoch=epoch, num_images=len(blobs) - 2)
        writer.submit(lambda tag=metadata.saliency_tag(method, epoch), e=epoch, b=blobs, m=summary_metadata:
                      write_blobs(tag, b, e, m))
    writer.close()


def png(side=8):
    buffer = io.BytesIO()
    Image.fromarray(np.full((side, side, 3), 200, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    """Runs `cnn` (trained), `plain` (a probe, no saliency maps) and `damaged` (hand-written records)."""
    root = tmp_path_factory.mktemp("saliency_logs")
    labels = train_with_saliency(str(root / "cnn"))
    writer = NnvizWriter(str(root / "plain"))
    writer.write_probe(0, {"num_points": 3}, np.zeros(3, np.int32), None)
    writer.close()
    thumbnails = np.random.default_rng(0).integers(0, 256, (4, 8, 8)).astype(np.uint8)
    keys = metadata.encode_array(np.round(255 * probe.thumbnail_keys(thumbnails[[1, 2]])).astype(np.uint8))
    info = metadata.encode_json({"targets": [0, 0], "labels": None, "scale": 1.0, "layer": None})
    write_saliency(str(root / "damaged"), thumbnails, {
        ("gradient", 0): [info, keys, png(), b"\x89PNG\r\n\x1a\n-- cut short"],
        ("smoothgrad", 0): [b"{not json", keys, png(), png()],
        ("integrated_gradients", 0): [info, b"\x93NUMPY garbage", png(), png()],
        ("gradcam", 0): [metadata.encode_json({"targets": [0]}), keys, png(), png()],
    })
    return str(root), labels


@pytest.fixture(scope="module")
def client(logdir, tmp_path_factory):
    """`(werkzeug client, plugin)` on `logdir`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NNVIZ_TB_CACHE_DIR", str(tmp_path_factory.mktemp("saliency_cache")))
        yield make_client(logdir[0])


def saliency(client, query):
    return get_json(client[0], "/saliency?" + query)


def test_thumbnail_keys_match_across_image_sets(rng):
    images = rng.uniform(size=(40, 28, 28)).astype(np.float32)
    chosen = [5, 17, 33]
    probe_keys = probe.thumbnail_keys(probe.make_thumbnails(images))  # Scaled over all 40 ...
    keys = probe.thumbnail_keys(probe.make_thumbnails(images[chosen] * 3 + 1))  # ... and over these 3.
    assert keys.shape == (3, 7, 7) and 0 <= keys.min() and keys.max() == 1
    found = probe.match_keys(probe_keys, np.round(255 * keys) / 255)
    assert [i for i in range(40) if found[i] >= 0] == chosen and list(found[chosen]) == [0, 1, 2]
    assert (probe.match_keys(probe_keys[:, :4], keys) == -1).all()  # Keys of another shape match nothing.


def test_runs_lists_the_methods_and_epochs(client):
    status, runs = get_json(client[0], "/runs")
    assert status == 200
    assert runs["cnn"]["saliency"] == {"methods": list(METHODS), "epochs": [0, 2, 3]}
    assert runs["plain"]["saliency"] is None
    assert runs["damaged"]["saliency"]["methods"] == list(metadata.SALIENCY_METHODS)


def test_the_probe_points_that_are_images_have_their_maps(client, logdir):
    labels = logdir[1]
    found = {}
    for index in range(100):
        status, body = saliency(client, "run=cnn&index=%d" % index)
        assert status == 200 and body["epoch"] == 3 and body["notes"] == []
        if body["methods"]:
            found[index] = body["methods"]
    assert sorted(found) == [3, 10, 57]
    for image, index in enumerate(IMAGES[:3]):
        assert [m["method"] for m in found[index]] == list(METHODS)
        for entry in found[index]:
            assert entry["image"] == image and entry["epoch"] == 3
            assert entry["target"] == entry["label"] == labels[index]
            response = client[0].get(ROUTE + entry["url"][1:])
            assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
            assert Image.open(io.BytesIO(response.get_data())).size == (8, 8)


@pytest.mark.parametrize("asked, used", [(0, 0), (1, 0), (2, 2), (3, 3), (99, 3)])
def test_the_nearest_recorded_epoch_at_or_before(client, asked, used):
    status, body = saliency(client, "run=cnn&index=10&epoch=%d" % asked)
    assert status == 200 and body["epoch"] == used
    assert [m["epoch"] for m in body["methods"]] == [used, used]
    assert all("epoch=%d&" % used in m["url"] for m in body["methods"])


@pytest.mark.parametrize("query, status", [
    ("index=3", 400),
    ("run=cnn", 400),
    ("run=cnn&index=-1", 400),
    ("run=cnn&index=x", 400),
    ("run=cnn&index=3&epoch=1.5", 400),
    ("run=nope&index=3", 404),
    ("run=cnn&index=100", 404),
    ("run=plain&index=0", 404),
])
def test_bad_and_missing_parameters(client, query, status):
    code, body = saliency(client, query)
    assert code == status and "error" in body


@pytest.mark.parametrize("query, status", [
    ("run=cnn&method=gradient&epoch=3", 400),
    ("run=cnn&method=lime&epoch=3&image=0", 400),
    ("run=cnn&method=gradient&epoch=x&image=0", 400),
    ("run=cnn&method=gradient&epoch=1&image=0", 404),
    ("run=cnn&method=smoothgrad&epoch=3&image=0", 404),
    ("run=cnn&method=gradient&epoch=3&image=4", 404),
    ("run=plain&method=gradient&epoch=0&image=0", 404),
    ("run=damaged&method=gradient&epoch=0&image=1", 422),
    ("run=damaged&method=gradient&epoch=0&image=0", 200),
])
def test_image_route_errors(client, query, status):
    response = client[0].get(ROUTE + "/saliency_image?" + query)
    assert response.status_code == status
    if status != 200:
        assert "error" in json.loads(response.get_data())


def test_damaged_records_are_notes(client):
    status, body = saliency(client, "run=damaged&index=2")
    assert status == 200
    assert [(m["method"], m["image"]) for m in body["methods"]] == [("gradient", 1)]
    assert len(body["notes"]) == 3 and all(note.startswith("Corrupt data:") for note in body["notes"])
    assert all("nnviz/saliency/%s/epoch_00000" % m in " ".join(body["notes"])
               for m in ("smoothgrad", "integrated_gradients", "gradcam"))
    assert saliency(client, "run=damaged&index=0")[1]["methods"] == []  # Not one of the images.


def test_matching_is_done_once_per_run(client, monkeypatch):
    from tensorboard import context as tb_context

    calls = []
    real = probe.match_keys
    monkeypatch.setattr(probe, "match_keys", lambda *args: calls.append(args) or real(*args))
    fresh = saliency_routes.Saliency(client[1]._data)
    for epoch in (0, 2, 3):
        for index in (3, 10, 11):
            fresh.point_impl(tb_context.RequestContext(), "", "cnn", index, epoch)
    assert len(calls) == 1  # The same images in every record: matched once.
