"""SaliencyLogger's and FeatureMapLogger's grids in TensorBoard's own Images tab: the images plugin's
routes on a real `tensorboard`, and the tab in headless Chromium (screenshot in
`$NNVIZ_ARTIFACTS/images_tab.png`)."""

import io
import json
import os
import time
import urllib.parse

import keras
import numpy as np
import pytest
from PIL import Image

import nnviz_tb
from conftest import TensorBoardServer, digits
from nnviz_tb import feature_maps, saliency
from test_browser import ARTIFACTS, DEEP_QUERY_JS, driver  # noqa: F401 (a fixture)

ROUTES = "/data/plugin/images"
EPOCHS = 3
STEPS = list(range(EPOCHS + 1))  # Step 0 before training, then epochs trained.
SIDE = 8 * (saliency.MIN_PANEL_SIDE // 8)  # A saliency panel: the 8 x 8 digit scaled up.
# `(height, width)` of each tag's grid for 4 images: saliency 4 rows of 5 panels (2-pixel gaps),
# feature maps 4 rows of channels (1-pixel gaps: conv_a 8 maps of 6 x 6, conv_b 16 of 4 x 4), filters
# 1 input channel x 8 kernels of 3 x 3.
SIZES = {
    "saliency/gradient": (4 * SIDE + 3 * 2, 5 * SIDE + 4 * 2),
    "saliency/gradcam": (4 * SIDE + 3 * 2, 5 * SIDE + 4 * 2),
    "feature_maps/conv_a": (4 * 7 - 1, 8 * 7 - 1),
    "feature_maps/conv_b": (4 * 5 - 1, 16 * 5 - 1),
    "filters/conv_a": (3, 8 * 4 - 1),
}

# `{tag: [steps], ...}` of the Images tab's cards, once every card's shown image has loaded.
CARDS_JS = """
const dashboard = arguments[0];
const cards = {};
for (const loader of dashboard.shadowRoot.querySelectorAll("tf-image-loader")) {
  const img = loader.shadowRoot.querySelector("#main-image-container img");
  if (!img || !img.complete || img.naturalWidth === 0 || !loader._steps) return null;
  cards[loader.tag] = loader._steps.map((s) => s.step);
}
return cards;
"""


@pytest.fixture(scope="module")
def images_run(tmp_path_factory):
    """`(server, feature map logger)`: a small CNN, 3 epochs on the digits, 4 images explained, served."""
    keras.utils.set_random_seed(0)
    x, y = digits()
    x = x.reshape(-1, 8, 8, 1)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, activation="relu", name="conv_a"),
        keras.layers.Conv2D(16, 3, activation="relu", name="conv_b"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    root = tmp_path_factory.mktemp("images_logs")
    log_dir = str(root / "cnn")
    maps = nnviz_tb.FeatureMapLogger(log_dir, x[:4])
    callbacks = [nnviz_tb.SaliencyLogger(log_dir, x[:4], y[:4], methods=("gradient", "gradcam")), maps]
    model.fit(x, y, epochs=EPOCHS, batch_size=32, verbose=0, callbacks=callbacks)
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("images_cache"))
    _wait_for_steps(server)
    yield server, maps
    server.stop()


def get(server, route, **params):
    status, body, content_type = server.get(ROUTES + route + "?" + urllib.parse.urlencode(params))
    assert status == 200, body
    return body, content_type


def image(server, entry):
    """The PNG an `/images` entry names, decoded."""
    body, content_type = get(server, "/individualImage", **dict(urllib.parse.parse_qsl(entry["query"])))
    assert content_type == "image/png"
    return Image.open(io.BytesIO(body))


def _wait_for_steps(server, timeout=60):
    """Waits until the images routes list every tag with every step (TensorBoard loads them a piece at a time)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        tags = json.loads(get(server, "/tags")[0]).get("cnn", {})
        if set(tags) == set(SIZES) and all(
                [e["step"] for e in json.loads(get(server, "/images", run="cnn", tag=tag)[0])] == STEPS
                for tag in tags):
            return
        time.sleep(0.5)
    raise AssertionError("TensorBoard did not list the image steps %s of %s in %d s" % (STEPS, sorted(SIZES), timeout))


def test_tags_and_descriptions(images_run):
    server, _ = images_run
    tags = json.loads(get(server, "/tags")[0])
    assert list(tags) == ["cnn"] and set(tags["cnn"]) == set(SIZES)
    assert all(info["samples"] == 1 for info in tags["cnn"].values())
    for method in ("gradient", "gradcam"):
        assert tags["cnn"][saliency.tag(method)]["description"].startswith(
            "<p>Rows: images. Columns: source, baseline, saliency, delta, overlay. Colour scale: +-")


def test_every_step_is_a_png_of_the_grid_size(images_run):
    server, _ = images_run
    for tag, size in SIZES.items():
        for entry in json.loads(get(server, "/images", run="cnn", tag=tag)[0]):
            png = image(server, entry)
            assert png.size[::-1] == size, (tag, entry["step"])
            assert png.mode == ("RGB" if tag.startswith("saliency/") else "L"), tag


def test_the_last_step_shows_the_trained_model(images_run):
    server, maps = images_run
    last = json.loads(get(server, "/images", run="cnn", tag="feature_maps/conv_a")[0])[-1]
    expected = feature_maps.feature_map_grid(maps.feature_maps_()["conv_a"], maps.max_channels)
    np.testing.assert_array_equal(np.asarray(image(server, last)), expected[..., 0])


def _wait_for_cards(browser, tags, timeout=60):
    """`{tag: [steps]}` of the cards, once every one of `tags` has a card with its image loaded."""
    deadline = time.time() + timeout
    cards = None
    while time.time() < deadline:
        dashboard = browser.execute_script(DEEP_QUERY_JS, "tf-image-dashboard")
        cards = dashboard and browser.execute_script(CARDS_JS, dashboard)
        if cards and set(tags) <= set(cards):
            return cards
        time.sleep(0.5)
    raise AssertionError("the Images tab showed %r, not the cards %s" % (cards, sorted(tags)))


def test_images_tab_shows_the_grids(images_run, driver):  # noqa: F811
    server, _ = images_run
    driver.get(server.url + "/#images")
    # TensorBoard opens its first 3 categories (a hidden search-results one first), in alphabetical order:
    # feature_maps and filters; saliency starts collapsed, and is opened as a user would.
    _wait_for_cards(driver, ["feature_maps/conv_a", "feature_maps/conv_b", "filters/conv_a"])
    dashboard = driver.execute_script(DEEP_QUERY_JS, "tf-image-dashboard")
    driver.execute_script(
        "for (const view of arguments[0].shadowRoot.querySelectorAll('tf-category-paginated-view'))"
        "  if (view.category.name === 'saliency' && !view.opened)"
        "    view.shadowRoot.querySelector('button.heading').click();", dashboard)
    assert _wait_for_cards(driver, SIZES) == dict.fromkeys(SIZES, STEPS)
    shown = driver.execute_script(
        "return [...arguments[0].shadowRoot.querySelectorAll('tf-image-loader')].map((loader) => {"
        "  const img = loader.shadowRoot.querySelector('#main-image-container img');"
        "  return [loader.tag, loader._stepValue, img.naturalHeight, img.naturalWidth, img.clientWidth];"
        "});", dashboard)
    assert {tag: (step, (h, w)) for tag, step, h, w, _ in shown} == {tag: (EPOCHS, size) for tag, size in SIZES.items()}
    assert all(client >= natural for _, _, _, natural, client in shown)  # Scaled up to the card, never down.
    os.makedirs(ARTIFACTS, exist_ok=True)
    driver.set_window_size(1600, 1500)
    try:
        driver.save_screenshot(os.path.join(ARTIFACTS, "images_tab.png"))
    finally:
        driver.set_window_size(1600, 1000)
