"""Exploring the scatter plots in a real browser: thumbnails of the right run, an obvious
selection, zoom / pan / brush, linked hover, enlarging, colour by prediction or neuron, and
each plot's layer description (issue 13)."""

import json
import os

import numpy as np
import pytest

from conftest import TensorBoardServer
from test_browser import COLORED_PIXEL_JS, choose, driver, drag, hover_at, open_tab, screenshot, wait_ready  # noqa: F401

DIM = 16
CLASSES = ["a", "b", "c"]
NUM_POINTS = 300
LAYERS = [
    {"name": "dense_a", "kind": "Dense", "dim": DIM, "output_shape": [DIM], "reduction": "none"},
    {"name": "conv_b", "kind": "Conv2D", "dim": DIM, "output_shape": [14, 14, DIM], "reduction": "global_mean"},
    {"name": "dense_c", "kind": "Dense", "dim": DIM, "output_shape": [DIM], "reduction": "none"},
]
CLASS_HEX = ["#4e79a7", "#f28e2b", "#e15759"]  # The first colours of the class palette.

# How many pixels of `canvas` are within 24 (per channel) of each of `arguments[1]` ([r, g, b] each),
# opaque ones only (alpha > arguments[2]).
COUNT_COLORS_JS = """
const [canvas, colors, minAlpha] = arguments;
const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
const counts = colors.map(() => 0);
for (let i = 0; i < data.length; i += 4) {
  if (data[i + 3] <= minAlpha) continue;
  colors.forEach(([r, g, b], k) => {
    if (Math.abs(data[i] - r) < 24 && Math.abs(data[i + 1] - g) < 24 && Math.abs(data[i + 2] - b) < 24) counts[k]++;
  });
}
return counts;
"""

# Opaque pixels (alpha > 240) of `canvas` within `arguments[3]` CSS px of (arguments[1], arguments[2]).
OPAQUE_NEAR_JS = """
const [canvas, x, y, r] = arguments;
const ratio = canvas.width / canvas.clientWidth;
const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
let count = 0;
for (let py = Math.floor((y - r) * ratio); py <= (y + r) * ratio; py++) {
  for (let px = Math.floor((x - r) * ratio); px <= (x + r) * ratio; px++) {
    if (Math.hypot(px / ratio - x, py / ratio - y) <= r && data[4 * (py * canvas.width + px) + 3] > 240) count++;
  }
}
return count;
"""

CANVAS_HASH_JS = """
const data = arguments[0].getContext("2d").getImageData(0, 0, arguments[0].width, arguments[0].height).data;
let h = 0;
for (let i = 0; i < data.length; i += 7) h = (Math.imul(h, 31) + data[i]) | 0;
return h;
"""


def rgb(hex_color):
    return [int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]


def write_run(log_dir, shade):
    """A run of 3 class clusters over 2 epochs whose thumbnails are all `shade` (0 or 255).

    At epoch 0 every point is predicted as class 0; at epoch 1 every fifth point is wrong.
    Returns `{epoch: {layer: activations [N, DIM]}}`.
    """
    from nnviz_tb.summary import NnvizWriter

    rng = np.random.default_rng(3)
    labels = np.arange(NUM_POINTS) % len(CLASSES)
    centres = rng.normal(size=(len(CLASSES), DIM)) * 3
    writer = NnvizWriter(log_dir)
    info = {"num_points": NUM_POINTS, "class_names": CLASSES, "layers": LAYERS}
    writer.write_probe(0, info, labels, np.full((NUM_POINTS, 8, 8), shade, np.uint8))
    written = {}
    for epoch in (0, 1):
        written[epoch] = {
            layer["name"]: (centres[labels] + rng.normal(size=(NUM_POINTS, DIM)) / (1 + depth + epoch)).astype(np.float32)
            for depth, layer in enumerate(LAYERS)
        }
        predictions = np.zeros(NUM_POINTS, np.int64) if epoch == 0 else np.where(
            np.arange(NUM_POINTS) % 5 == 0, (labels + 1) % len(CLASSES), labels)
        writer.write_epoch(epoch, written[epoch], predictions, {layer["name"]: layer["reduction"] for layer in LAYERS})
    writer.close()
    return written


@pytest.fixture(scope="module")
def explore_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("explore_logs")
    written = write_run(str(root / "black"), 0)
    write_run(str(root / "white"), 255)
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("explore_cache"))
    server.wait_for_runs(["black", "white"])
    server.written = written
    yield server
    server.stop()


def plots(driver):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, ".multiples .plot-canvas")


def count_colors(driver, canvas, colors, min_alpha=100):
    return driver.execute_script(COUNT_COLORS_JS, canvas, colors, min_alpha)


def test_thumbnails_show_the_run_switched_to(driver, explore_server):
    from selenium.webdriver.support.ui import WebDriverWait

    open_tab(driver, explore_server)
    choose(driver, ".point-style-select", "thumbnails")
    first = plots(driver)[0]
    black, white = [0, 0, 0], [255, 255, 255]
    WebDriverWait(driver, 20).until(lambda d: count_colors(d, first, [black], 250)[0] > 300)
    choose(driver, ".run-select", "white")
    wait_ready(driver)
    first = plots(driver)[0]
    WebDriverWait(driver, 20).until(lambda d: count_colors(d, first, [white], 250)[0] > 300)
    assert count_colors(driver, first, [black], 250)[0] < 50  # No tile of the other run's atlas.


def test_a_clicked_point_is_large_outlined_and_on_top(driver, explore_server):
    open_tab(driver, explore_server)
    canvas = plots(driver)[2]
    x, y = driver.execute_script(COLORED_PIXEL_JS, canvas)
    half_w, half_h = canvas.size["width"] / 2, canvas.size["height"] / 2
    drag(driver, canvas, (int(x - half_w), int(y - half_h)), (int(x - half_w), int(y - half_h)))
    assert "Point #" in driver.find_element("css selector", ".detail").text
    # The other points fade; the selected one is an opaque disc of radius >= 4.5 px (~60 px² within 7 px).
    assert driver.execute_script(OPAQUE_NEAR_JS, canvas, x, y, 7) > 60
    outline = count_colors(driver, canvas, [[33, 33, 33]], 200)[0]  # The theme's text colour.
    assert outline > 10, outline
    # In every other plot too (the same point, elsewhere).
    for other in plots(driver)[:2]:
        assert count_colors(driver, other, [[33, 33, 33]], 200)[0] > 8
    screenshot(driver, "explore_selected_point.png")


def wheel(driver, canvas, delta_y, times=1):
    driver.execute_script(
        "const c = arguments[0], box = c.getBoundingClientRect();"
        "for (let i = 0; i < arguments[2]; i++) c.dispatchEvent(new WheelEvent('wheel', {deltaY: arguments[1],"
        " clientX: box.left + box.width / 2, clientY: box.top + box.height / 2, bubbles: true, cancelable: true}));",
        canvas, delta_y, times,
    )


def zoom_of(driver, index=0):
    return float(driver.find_elements("css selector", ".multiples .scatter")[index].get_attribute("data-zoom"))


def test_zoom_pan_reset_and_brush(driver, explore_server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_tab(driver, explore_server)
    canvas = plots(driver)[0]
    whole = driver.execute_script(CANVAS_HASH_JS, canvas)
    wheel(driver, canvas, -100, times=3)
    assert zoom_of(driver) == pytest.approx(1.25 ** 3, rel=1e-3)
    zoomed = driver.execute_script(CANVAS_HASH_JS, canvas)
    assert zoomed != whole
    assert driver.find_element("css selector", ".multiples .scatter .zoom-reset").is_displayed()
    # Shift+drag pans (the default drag brushes): the picture moves, nothing is selected.
    ActionChains(driver).key_down(Keys.SHIFT).move_to_element_with_offset(canvas, 0, 0).click_and_hold() \
        .move_by_offset(40, 25).release().key_up(Keys.SHIFT).perform()
    assert zoom_of(driver) == pytest.approx(1.25 ** 3, rel=1e-3)
    assert driver.execute_script(CANVAS_HASH_JS, canvas) not in (whole, zoomed)
    assert not driver.find_element("css selector", ".detail").is_displayed()
    # Double-click shows the whole plot again, exactly as before.
    ActionChains(driver).double_click(canvas).perform()
    assert zoom_of(driver) == 1
    driver.execute_script("document.querySelector('.detail-clear').click()")  # The double-click's clicks.
    assert driver.execute_script(CANVAS_HASH_JS, canvas) == whole
    # A plain drag still brushes.
    drag(driver, canvas, (-60, -60), (60, 60))
    assert "points of" in driver.find_element("css selector", ".detail").text
    driver.find_element("css selector", ".detail-clear").click()
    # With "Drag on a plot to: Pan", a drag pans and Shift+drag brushes.
    driver.find_element("css selector", ".drag-mode [data-drag='pan']").click()
    drag(driver, canvas, (-60, -60), (0, 0))
    assert not driver.find_element("css selector", ".detail").is_displayed()
    assert driver.execute_script(CANVAS_HASH_JS, canvas) != whole
    ActionChains(driver).key_down(Keys.SHIFT).move_to_element_with_offset(canvas, -80, -80).click_and_hold() \
        .move_by_offset(160, 160).release().key_up(Keys.SHIFT).perform()
    assert "points of" in driver.find_element("css selector", ".detail").text
    driver.find_element("css selector", ".drag-mode [data-drag='select']").click()


MARKERS_JS = """
return [...document.querySelectorAll(arguments[0])].map((marker) => {
  const box = marker.getBoundingClientRect(), canvas = marker.closest('.scatter').querySelector('.plot-canvas').getBoundingClientRect();
  return marker.hidden ? null : [box.left + box.width / 2 - canvas.left, box.top + box.height / 2 - canvas.top];
});
"""


def test_hover_marks_the_point_in_every_plot(driver, explore_server):
    open_tab(driver, explore_server)
    canvas = plots(driver)[1]
    assert driver.execute_script(MARKERS_JS, ".multiples .hover-marker") == [None] * 3
    x, y = driver.execute_script(COLORED_PIXEL_JS, canvas)
    hover_at(driver, canvas, x, y)
    centres = driver.execute_script(MARKERS_JS, ".multiples .hover-marker")
    assert all(centres), centres
    assert abs(centres[1][0] - x) < 8 and abs(centres[1][1] - y) < 8  # On the hovered point.
    for other, centre in zip(plots(driver), centres):  # On a drawn point in the other plots.
        near = driver.execute_script(
            "const [c, x, y] = arguments, r = c.width / c.clientWidth;"
            "return c.getContext('2d').getImageData(Math.round(x * r) - 2, Math.round(y * r) - 2, 5, 5).data"
            ".some((v, i) => i % 4 === 3 && v > 60);", other, *centre)
        assert near, centre
    # The epoch mode's large plot and filmstrip share the marker too.
    driver.find_element("css selector", ".segment[data-mode='epochs']").click()
    wait_ready(driver)
    big = driver.find_element("css selector", ".scatter.large .plot-canvas")
    hover_at(driver, big, *driver.execute_script(COLORED_PIXEL_JS, big))
    tiny = driver.execute_script(MARKERS_JS, ".filmstrip .hover-marker")
    assert tiny and all(tiny), tiny


def test_enlarge_a_plot_and_close_it_with_escape(driver, explore_server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_tab(driver, explore_server)
    driver.find_elements("css selector", ".multiples .enlarge-button")[1].click()
    large = driver.find_element("css selector", ".scatter.enlarged .plot-canvas")
    assert large.size["width"] > 2 * plots(driver)[1].size["width"]
    assert driver.find_element("css selector", ".scatter.enlarged .plot-title").text == "conv_b"
    assert sum(count_colors(driver, large, [rgb(h) for h in CLASS_HEX])) > 1000
    screenshot(driver, "explore_enlarged.png")
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    assert not driver.find_elements("css selector", ".enlarge-backdrop")


def test_colour_by_prediction_correctness_and_a_neuron(driver, explore_server):
    from selenium.webdriver.support.ui import WebDriverWait

    open_tab(driver, explore_server)
    classes = [rgb(h) for h in CLASS_HEX]
    assert all(n > 50 for n in count_colors(driver, plots(driver)[2], classes))
    # Epoch 0 predicts class 0 for every point: coloured by prediction, only class 0's colour is left.
    choose(driver, ".epoch-select", 0)
    wait_ready(driver)
    choose(driver, ".color-by-select", "prediction")
    first, second, third = count_colors(driver, plots(driver)[2], classes)
    assert first > 150 and second == 0 and third == 0, (first, second, third)
    # Epoch 1: every fifth point wrong, drawn red; no class colours.
    choose(driver, ".epoch-select", 1)
    wait_ready(driver)
    choose(driver, ".color-by-select", "correct")
    wrong, correct = count_colors(driver, plots(driver)[2], [[229, 57, 53], [144, 164, 174]])
    assert wrong > 50 and correct > 50, (wrong, correct)
    assert count_colors(driver, plots(driver)[2], classes[:2]) == [0, 0]
    assert "wrong" in driver.find_element("css selector", ".color-key").text
    # A neuron: a viridis scale, its legend from the neuron's lowest to its highest value.
    choose(driver, ".color-by-select", "neuron")
    choose(driver, ".color-layer-select", "dense_c")
    driver.execute_script(
        "const input = document.querySelector('.color-neuron-input'); input.value = '3';"
        "input.dispatchEvent(new Event('change'));")
    values = explore_server.written[1]["dense_c"][:, 3].astype(np.float16)
    key = driver.find_element("css selector", ".color-key")
    WebDriverWait(driver, 20).until(lambda d: "neuron 3" in key.text)
    assert "dense_c · neuron 3 · epoch 1" in key.text
    labels = [e.text for e in key.find_elements("css selector", ".heatmap-legend-label")]
    assert labels == ["%.2f" % values.min(), "%.2f" % values.max()]
    dark_end, bright_end = count_colors(driver, plots(driver)[2], [[68, 1, 84], [253, 231, 37]], 50)
    assert dark_end + bright_end > 0 and count_colors(driver, plots(driver)[2], classes[:2]) == [0, 0]
    screenshot(driver, "explore_colour_by_neuron.png")
    choose(driver, ".color-by-select", "class")


def test_neuron_activations_route(explore_server):
    base = "/data/plugin/nnviz/neuron_activations?run=black&layer=conv_b&epoch=1"
    status, body, _ = explore_server.get(base + "&neuron=5")
    answer = json.loads(body)
    assert status == 200 and answer["num_neurons"] == DIM
    expected = explore_server.written[1]["conv_b"][:, 5].astype(np.float16)  # As the writer stores them.
    np.testing.assert_allclose(answer["values"], expected, atol=1e-5)
    assert answer["min"] == pytest.approx(expected.min(), abs=1e-5)
    for bad in ("&neuron=16", "&neuron=-1", "&neuron=x", ""):
        status, body, _ = explore_server.get(base + bad)
        assert status == 400 and "neuron" in json.loads(body)["error"], (bad, body)
    status, _, _ = explore_server.get("/data/plugin/nnviz/neuron_activations?run=black&layer=nope&epoch=1&neuron=0")
    assert status == 404


def test_each_plot_names_its_layer_kind_shape_and_reduction(driver, explore_server):
    open_tab(driver, explore_server)
    subtitles = [e.text for e in driver.find_elements("css selector", ".multiples .plot-subtitle")]
    assert subtitles == ["Dense · 16", "Conv2D · 14×14×16 → 16 (mean over space)", "Dense · 16"]
    driver.find_element("css selector", ".segment[data-mode='epochs']").click()
    choose(driver, ".layer-select", "conv_b")
    wait_ready(driver)
    assert driver.find_element("css selector", ".scatter.large .plot-subtitle").text.startswith("Conv2D · 14×14×16")
