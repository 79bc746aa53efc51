"""EmbeddingLogger's output in TensorBoard's own Projector: its routes on a real `tensorboard`, and the
tab in headless Chromium (screenshot in `$NNVIZ_ARTIFACTS/projector.png`)."""

import io
import json
import os
import time
import urllib.parse

import keras
import numpy as np
import pytest
from PIL import Image

from conftest import TensorBoardServer, train_digits_mlp
from nnviz_tb import projector
from test_browser import ARTIFACTS, DEEP_QUERY_JS, driver  # noqa: F401 (a fixture)

ROUTES = "/data/plugin/projector"
TENSOR = "hidden2 @ epoch 003"


@pytest.fixture(scope="module")
def projector_run(tmp_path_factory):
    """`(server, log_dir, model, logger)`: 3 epochs of the digits MLP, 500 probe points, served."""
    root = tmp_path_factory.mktemp("projector_logs")
    log_dir = str(root / "mlp")
    model, logger = train_digits_mlp(log_dir, epochs=3, logger_class="EmbeddingLogger")
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("projector_cache"))
    yield server, log_dir, model, logger
    server.stop()


def get(server, route, **params):
    status, body, content_type = server.get(ROUTES + route + ("?" + urllib.parse.urlencode(params) if params else ""))
    assert status == 200, body
    return body, content_type


def test_runs_and_info_list_every_layer_and_epoch(projector_run):
    server, _, _, _ = projector_run
    assert json.loads(get(server, "/runs")[0]) == ["mlp"]
    info = json.loads(get(server, "/info", run="mlp")[0])
    embeddings = {e["tensorName"]: e for e in info["embeddings"]}
    assert sorted(embeddings) == ["%s @ epoch %03d" % (layer, step)
                                  for layer in ("hidden1", "hidden2", "output") for step in range(4)]
    assert embeddings[TENSOR]["tensorShape"] == [500, 16]
    assert embeddings[TENSOR]["sprite"] == {"imagePath": "sprite.png", "singleImageDim": [8, 8]}
    assert "modelCheckpointPath" not in info


def test_tensor_route_serves_the_layer_outputs(projector_run):
    server, _, model, logger = projector_run
    body, content_type = get(server, "/tensor", run="mlp", name=TENSOR)
    assert content_type == "application/octet-stream"
    expected = keras.Model(model.inputs, model.get_layer("hidden2").output).predict(logger.probe_x, verbose=0)
    np.testing.assert_allclose(np.frombuffer(body, "<f4").reshape(500, 16), expected, atol=1e-5)


def test_metadata_route_serves_our_columns(projector_run):
    server, log_dir, model, logger = projector_run
    body, _ = get(server, "/metadata", run="mlp", name=TENSOR)
    with open(os.path.join(projector.assets_dir(log_dir), "metadata_epoch_003.tsv"), "rb") as f:
        assert body == f.read()
    rows = [line.split("\t") for line in body.decode().splitlines()]
    predicted = model.predict(logger.probe_x, verbose=0).argmax(axis=1)
    assert rows[0] == ["label", "predicted", "correct", "index"]
    assert [(int(r[0]), int(r[1]), r[2], int(r[3])) for r in rows[1:]] == [
        (t, p, "yes" if t == p else "no", i) for i, (t, p) in enumerate(zip(logger.probe_labels, predicted))]


def test_sprite_route_serves_the_thumbnails(projector_run):
    server, _, _, logger = projector_run
    body, content_type = get(server, "/sprite_image", run="mlp", name=TENSOR)
    assert content_type == "image/png"
    sheet = np.asarray(Image.open(io.BytesIO(body)))
    assert sheet.shape == (22 * 8, 23 * 8)  # 500 images in 23 columns.
    np.testing.assert_array_equal(sheet[8:16, 8 * 5:8 * 6], logger.thumbnails[23 + 5])


def _wait_for(browser, selector, text, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        element = browser.execute_script(DEEP_QUERY_JS, selector)
        if element is not None and element.text.strip() == text:
            return
        time.sleep(0.5)
    raise AssertionError("%s never showed %r" % (selector, text))


def _open_projector(browser, url):
    """Opens the Projector tab, waits for its points, and returns its data panel (in the Projector's frame)."""
    browser.switch_to.default_content()
    browser.get(url + "/#projector")
    deadline = time.time() + 60
    for _ in range(2):  # The plugin's frame holds the Projector's.
        while not browser.find_elements("css selector", "iframe") and time.time() < deadline:
            time.sleep(0.5)
        browser.switch_to.frame(browser.find_element("css selector", "iframe"))
    _wait_for(browser, ".numDataPoints", "500")
    return browser.execute_script(DEEP_QUERY_JS, "vz-projector-data-panel")


def test_projector_tab_shows_the_points(projector_run, driver):  # noqa: F811
    server, _, _, _ = projector_run
    panel = _open_projector(driver, server.url)
    assert driver.execute_script("return arguments[0].selectedTensor", panel) == "hidden1 @ epoch 000"
    driver.execute_script("arguments[0].selectedTensor = arguments[1]", panel, TENSOR)
    _wait_for(driver, ".dim", "16")
    driver.execute_script("arguments[0].selectedColorOptionName = 'label'", panel)
    projections = driver.execute_script(DEEP_QUERY_JS, "vz-projector-projections-panel")
    driver.execute_script("arguments[0].pcaIs3d = false", projections)  # A flat PCA: clearer.
    time.sleep(3)
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, "projector.png")
    driver.save_screenshot(path)
    driver.switch_to.default_content()
    image = np.asarray(Image.open(path).convert("RGB")).astype(int)
    h, w = image.shape[:2]
    scatter = image[h // 5: h * 4 // 5, w * 2 // 9: w * 7 // 9]  # The Projector's canvas, between its panels.
    saturated = scatter.max(axis=2) - scatter.min(axis=2) > 60
    hues = {tuple(c // 64) for c in scatter[saturated]}
    assert saturated.sum() > 2000 and len(hues) >= 5, (saturated.sum(), len(hues))


def test_the_projector_forgets_the_selection_on_reload(projector_run, driver):  # noqa: F811
    server, _, _, _ = projector_run
    panel = _open_projector(driver, server.url)
    driver.execute_script("arguments[0].selectedTensor = arguments[1]", panel, TENSOR)
    _wait_for(driver, ".dim", "16")
    driver.switch_to.default_content()
    driver.refresh()
    panel = _open_projector(driver, server.url)
    assert driver.execute_script("return arguments[0].selectedTensor", panel) == "hidden1 @ epoch 000"
    driver.switch_to.default_content()
