"""Marks that mean what their legend says (issue 13), read back from the tab's canvases and exports
in real headless Chromium on a real `tensorboard`."""

import colorsys
import re

import keras
import numpy as np
import pytest

import nnviz_tb
from conftest import TensorBoardServer, digits
from test_browser import choose, driver, open_tab, wait_ready  # noqa: F401

NUM_DEAD = 4
MANY_DEAD = 1950
PROBE = 500

# The RGBA pixels of a heatmap cell (all of them, in CSS-pixel steps), via the Heatmap on the canvas.
CELL_PIXELS_JS = """
const [canvas, row, col] = arguments;
const map = canvas.heatmap, ratio = canvas.width / canvas.clientWidth;
const [x0, y0] = map.toPixel(row, col), [x1, y1] = map.toPixel(row + 1, col + 1);
const image = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
const pixels = [];
for (let y = Math.ceil(y0 + 1); y < y1 - 1; y++) {
  for (let x = Math.ceil(x0 + 1); x < x1 - 1; x++) {
    const i = 4 * (Math.floor(y * ratio) * canvas.width + Math.floor(x * ratio));
    pixels.push(Array.from(image.data.slice(i, i + 4)));
  }
}
return pixels;
"""

# Clicks an export button and returns the SVG text it would download.
EXPORT_SVG_JS = """
const [button, done] = arguments;
const original = URL.createObjectURL;
URL.createObjectURL = (blob) => {
  URL.createObjectURL = original;
  blob.text().then(done);
  return original.call(URL, blob);
};
button.click();
"""


def _dead_tail(dead):
    """An initializer of biases that keep the last `dead` ReLU units of a layer at 0 for every input."""
    def initializer(shape, dtype=None):
        bias = np.zeros(shape, "float32")
        bias[-dead:] = -1000.0
        return keras.ops.convert_to_tensor(bias, dtype=dtype)
    return initializer


def _train_many_dead(log_dir, x, y):
    """Run `many_dead`: a Dense(2000) whose last MANY_DEAD units are dead, one epoch."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(2000, activation="relu", name="huge", bias_initializer=_dead_tail(MANY_DEAD)),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=64, verbose=0,
              callbacks=[nnviz_tb.ActivationLogger(log_dir, probe=(x[:200], y[:200]))])


@pytest.fixture(scope="module")
def truth_server(tmp_path_factory):
    """Run `mlp`: digits MLP, `narrow` (8 units) then `wide` (24, the last 4 dead); activations,
    correlations with augmentations and gradients (every 16th step: 2 measured steps an epoch).
    Run `many_dead`: 1,950 dead neurons of 2,000."""
    root = tmp_path_factory.mktemp("truth_logs")
    keras.utils.set_random_seed(0)
    x, y = digits()
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(8, activation="relu", name="narrow"),
        keras.layers.Dense(24, activation="relu", name="wide", bias_initializer=_dead_tail(NUM_DEAD)),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    log_dir, probe = str(root / "mlp"), (x[:PROBE], y[:PROBE])
    model.fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[
        nnviz_tb.ActivationLogger(log_dir, probe=probe),
        nnviz_tb.CorrelationLogger(log_dir, probe=probe, num_augmentations=40, max_samples=100),
        nnviz_tb.GradientStatsLogger(log_dir),
    ])
    _train_many_dead(str(root / "many_dead"), x, y)
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("truth_cache"))
    server.wait_for_runs(["mlp", "many_dead"])
    yield server
    server.stop()


def _open(driver, server, run="mlp"):
    """Opens the tab on `run`."""
    open_tab(driver, server)
    choose(driver, ".run-select", run)
    _wait(driver, "return document.querySelector('.run-select').value === arguments[0]", run)
    wait_ready(driver)


def _mode(driver, mode):
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='%s']" % mode).click()
    wait_ready(driver)


def _wait(driver, script, *args, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: d.execute_script(script, *args))


def _cell(driver, canvas, row, col):
    return np.array(driver.execute_script(CELL_PIXELS_JS, canvas, row, col))[:, :3]


def _sequential(t, low=(247, 251, 255), high=(8, 48, 107)):
    """heatmap.js's sequentialScale(0, 1) at `t`."""
    return np.round(np.array(low) + (np.array(high) - np.array(low)) * min(1.0, max(0.0, t)))


def _hue_lightness(rgb):
    h, l, _ = colorsys.rgb_to_hls(*(np.array(rgb) / 255.0))
    return 360 * h, l


def _export_svg(driver, button):
    driver.set_script_timeout(20)
    return driver.execute_async_script(EXPORT_SVG_JS, button)


def test_layer_pair_scores_use_a_sequential_scale_named_after_the_measure(driver, truth_server):
    from selenium.webdriver.common.by import By

    _open(driver, truth_server)
    _mode(driver, "correlations")
    _wait(driver, "return document.querySelectorAll('.correlation-card .plot-title')[1]?.textContent.startsWith('Feature')")
    card = driver.find_elements(By.CSS_SELECTOR, ".correlation-card")[0]
    pairs = card.find_element(By.CSS_SELECTOR, ".heatmap-canvas")
    legend = card.find_element(By.CSS_SELECTOR, ".heatmap-legend")
    assert legend.find_element(By.CSS_SELECTOR, ".heatmap-legend-title").text == "Linear CKA"
    assert [e.text for e in legend.find_elements(By.CSS_SELECTOR, ".heatmap-legend-label")] == ["0", "1"]
    # A layer with itself: CKA 1, the dark end of the sequential scale (not the diverging blue).
    assert np.abs(_cell(driver, pairs, 0, 0) - _sequential(1.0)).max() <= 2
    # Off the diagonal: the colour of the cell's own score on the 0…1 scale.
    scores = driver.execute_script("return arguments[0].heatmap.data.values", pairs)
    assert 0 <= scores[1] < 1
    assert np.abs(_cell(driver, pairs, 0, 1) - _sequential(scores[1])).max() <= 2

    choose(driver, ".correlation-measure", "pearson")
    _wait(driver, "return document.querySelector('.correlation-card .plot-title').textContent.startsWith('Mean best-match')")
    title = card.find_element(By.CSS_SELECTOR, ".heatmap-legend-title").text
    assert title == "Mean best-match |Pearson r|"
    # Signed Pearson r keeps its diverging −1…1 scale.
    matrix_card = driver.find_elements(By.CSS_SELECTOR, ".correlation-card")[1]
    labels = [e.text for e in matrix_card.find_elements(By.CSS_SELECTOR, ".heatmap-legend-label")]
    assert labels == ["−1", "1"] and matrix_card.find_element(By.CSS_SELECTOR, ".heatmap-legend-title").text == "Pearson r"


def test_matrix_notes_say_the_sampling_in_words(driver, truth_server):
    from selenium.webdriver.common.by import By

    _open(driver, truth_server)
    _mode(driver, "correlations")
    _wait(driver, "return document.querySelectorAll('.correlation-card .plot-title')[1]?.textContent.startsWith('Feature')")
    note = lambda: driver.find_elements(By.CSS_SELECTOR, ".correlation-card .gradient-note")[1].text  # noqa: E731
    assert note() == "all 10 features."  # The last layer, output: 10 features, none left out.
    choose(driver, ".correlation-over", "samples")
    _wait(driver, "return document.querySelectorAll('.correlation-card .plot-title')[1].textContent.startsWith('Sample')")
    assert note().startswith("100 of 500 probe points, balanced across classes"), note()


def test_augmentation_map_tells_beyond_width_dead_and_invariant_apart(driver, truth_server):
    from selenium.webdriver.common.by import By

    _open(driver, truth_server)
    _mode(driver, "correlations")
    _wait(driver, "return document.querySelectorAll('.correlation-card .plot-title')[2]?.textContent.includes('augmentations')")
    card = driver.find_elements(By.CSS_SELECTOR, ".correlation-card")[2]
    canvas = card.find_element(By.CSS_SELECTOR, ".heatmap-canvas")
    layers = driver.execute_script(
        "return arguments[0].heatmap.data.rowLabels", canvas)
    assert layers == ["narrow", "wide", "output"]
    # Beyond its width (narrow has 8 features of 24 columns): hatched, two inks in the cell.
    beyond = _cell(driver, canvas, 0, 20)
    assert len({tuple(p) for p in beyond}) >= 2 and (beyond.max(axis=1) - beyond.min(axis=1)).max() < 20
    # Dead (the last 4 of wide): the legend's dead colour, the same in every dead cell.
    for col in range(24 - NUM_DEAD, 24):
        assert (np.abs(_cell(driver, canvas, 1, col) - [197, 27, 125]).max(axis=1) <= 2).all()
    # Live features: their own ratio on the sequential scale; the least reactive is the low end.
    json = driver.execute_script("return arguments[0].heatmap.data.values", canvas)
    ratios = np.array(json[24:24 + 24 - NUM_DEAD], dtype=float)
    least = int(np.nanargmin(ratios))
    assert np.abs(_cell(driver, canvas, 1, least) - _sequential(ratios[least])).max() <= 2
    legend = card.text
    assert "dead: no variance over the probe" in legend and "no such feature: the layer is narrower" in legend
    tooltip = dict(driver.execute_script("return arguments[0].heatmap.options.describe(NaN, 0, 23)", canvas))
    assert tooltip["Feature"] == "none: narrow has 8 features shown", tooltip


def test_no_class_colour_is_the_de_emphasis_grey(driver, truth_server):
    from selenium.webdriver.common.by import By

    _open(driver, truth_server)
    driver.set_script_timeout(20)
    palettes, neutral = driver.execute_async_script(
        "const done = arguments[0];"
        "import('./static/colors.js').then((m) => done([Array.from({length: 20}, (_, i) => m.classColors(i + 1).map((c) => c.rgb)), m.NEUTRAL.rgb]));")
    assert max(neutral) - min(neutral) == 0  # Grey at any opacity on white or black.
    for palette in palettes:
        chroma = [max(rgb) - min(rgb) for rgb in palette]
        assert min(chroma) >= 40, (palette, chroma)
        assert len({tuple(rgb) for rgb in palette}) == min(len(palette), 18)
    # The legend's class 9 is coloured too.
    swatch = driver.find_element(By.CSS_SELECTOR, ".legend-item[data-label='9'] .swatch")
    rgb = [int(v) for v in re.findall(r"\d+", swatch.value_of_css_property("background-color"))[:3]]
    assert max(rgb) - min(rgb) >= 40, rgb


def test_compare_draws_every_dead_neuron_it_counts(driver, truth_server):
    from selenium.webdriver.common.by import By

    _open(driver, truth_server)
    _mode(driver, "epochs")
    choose(driver, ".layer-select", "narrow")
    wait_ready(driver)
    _mode(driver, "compare")  # Both sides start on narrow: 8 neurons.
    assert driver.execute_script("return document.querySelector('.compare-left .compare-layer').value") == "narrow"
    choose(driver, ".compare-left .compare-layer", "wide")  # More neurons than the map drew before.
    wait_ready(driver)
    plot = driver.find_element(By.CSS_SELECTOR, ".compare-left .neuron-plot")
    live_count, dead_count = map(int, re.fullmatch(r"(\d+) live · (\d+) dead", plot.find_element(By.CSS_SELECTOR, ".plot-note").text).groups())
    assert live_count + dead_count == 24 and dead_count >= NUM_DEAD
    svg = _export_svg(driver, plot.find_element(By.CSS_SELECTOR, ".export-svg"))
    dead = re.findall(r'<path d="([^"]*)" fill="none" stroke="#9e9e9e"', svg)
    assert len(dead) == dead_count and "NaN" not in svg, (len(dead), dead_count)
    assert len(set(dead)) == dead_count  # Each marker at a place of its own.
    assert "%d dead" % dead_count in re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_a_strip_of_many_dead_neurons_shows_them_all(driver, truth_server):
    from selenium.webdriver.common.by import By

    _open(driver, truth_server, "many_dead")
    _mode(driver, "neurons")
    plot = driver.find_elements(By.CSS_SELECTOR, ".neuron-mode .neuron-plot")[1]
    dead_count = int(re.search(r"(\d+) dead", plot.find_element(By.CSS_SELECTOR, ".plot-note").text).group(1))
    assert dead_count >= MANY_DEAD
    svg = _export_svg(driver, plot.find_element(By.CSS_SELECTOR, ".export-svg"))
    height = plot.find_element(By.CSS_SELECTOR, "canvas").size["height"]  # Of the plot, as exported.
    dead = re.findall(r'<path d="M([\d.]+) ([\d.]+)A[^"]*" fill="none" stroke="#9e9e9e"', svg)
    assert len(set(dead)) == dead_count
    assert all(0 < float(y) < height for _, y in dead)  # None drawn off the plot.


def test_trails_svg_export_keeps_the_layer_ramp(driver, truth_server):
    from selenium.webdriver.common.by import By

    _open(driver, truth_server)
    trails = driver.find_element(By.CSS_SELECTOR, ".trails")
    key = [e.text for e in trails.find_elements(By.CSS_SELECTOR, ".ramp-label")]
    assert key[0].startswith("dark") and "narrow" in key[1] and "output" in key[-1], key
    svg = _export_svg(driver, trails.find_element(By.CSS_SELECTOR, ".export-svg"))
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    shown = [text.replace("&#62;", ">") for text in texts]
    start = shown.index(key[0])
    assert shown[start:start + len(key)] == key, (shown, key)  # The key's words, in order, under the plot.
    # Its swatches: one grey disc per frame, dark (first layer) to bright (output).
    greys = [tuple(map(int, m)) for m in re.findall(r'A5 5 0 1 0 [^"]*Z" fill="rgb\((\d+), ?(\d+), ?(\d+)\)"', svg)]
    assert len(greys) == len(key) - 1 and all(r == g == b for r, g, b in greys), greys
    assert greys == sorted(greys) and greys[0][0] < greys[-1][0]


def test_gradient_signs_are_orange_and_blue_and_few_steps_are_marked(driver, truth_server):
    from selenium.webdriver.common.by import By

    _open(driver, truth_server)
    _mode(driver, "gradients")
    _wait(driver, "return document.querySelector('.gradient-mode .card:nth-child(2) .plot-title')?.textContent.startsWith('Gradient signs of narrow,')")
    swatches = driver.find_elements(By.CSS_SELECTOR, ".gradient-mode .card:nth-child(2) .heatmap-swatch-item")
    colors = {}
    for item in swatches:
        rgb = [int(v) for v in re.findall(r"\d+", item.find_element(By.CSS_SELECTOR, ".heatmap-swatch").value_of_css_property("background-color"))[:3]]
        colors[item.text.split(" (")[0]] = _hue_lightness(rgb)
    assert set(colors) == {"zero", "small negative", "large negative", "small positive", "large positive"}
    for sign, (low, high) in {"negative": (20, 45), "positive": (190, 215)}.items():  # Orange, blue.
        for size in ("small", "large"):
            assert low <= colors["%s %s" % (size, sign)][0] <= high, colors
        assert colors["large " + sign][1] < colors["small " + sign][1]  # Larger |g|: darker.

    overview = driver.find_element(By.CSS_SELECTOR, ".gradient-mode canvas")
    measured = driver.execute_script("return arguments[0].heatmap.options.describe(0, 0, 0)", overview)
    measured = dict(measured)
    steps = int(re.search(r"\((\d+) of", measured["Epoch"]).group(1))
    assert steps < 5 and "fewer than 5" in measured["Caution"]
    note = driver.find_element(By.CSS_SELECTOR, ".gradient-note").text
    assert "fewer than 5" in note and "washed out and hatched" in note, note
    cell = _cell(driver, overview, 0, 0)
    assert len({tuple(p) for p in cell}) >= 2  # Hatched.
    assert "fewer than 5 measured steps" in driver.find_element(By.CSS_SELECTOR, ".gradient-card").text


def test_confusion_prints_counts_and_precision_recall_equal_scikit_learn(driver, truth_server):
    from selenium.webdriver.common.by import By
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 300)
    predictions = np.where(rng.random(300) < 0.6, labels, rng.integers(0, 4, 300))
    predictions[predictions == 4] = 3  # Class 4: never predicted, its precision undefined.
    _open(driver, truth_server)
    driver.set_script_timeout(20)
    result = driver.execute_async_script(
        "const [labels, predictions, done] = arguments;"
        "import('./static/views/confusion_source.js').then((m) => done(m.precisionRecall(m.confusionCounts(labels, predictions, 5), 5)));",
        labels.tolist(), predictions.tolist())
    precision, recall, f1, support = precision_recall_fscore_support(labels, predictions, labels=range(5), zero_division=0)
    np.testing.assert_allclose(result["precision"][:4], precision[:4])
    np.testing.assert_allclose(result["recall"], recall)
    np.testing.assert_allclose(result["f1"], f1)
    macro = precision_recall_fscore_support(labels, predictions, average="macro", zero_division=0)
    assert [result["macro"][m] for m in ("precision", "recall", "f1")] == pytest.approx(macro[:3])
    assert result["precision"][4] is None and result["support"] == support.tolist()

    # In the tab: the probe's class counts, a percentage per class, the counts in the cells.
    table = driver.find_element(By.CSS_SELECTOR, ".confusion-metrics")
    rows = {r.find_element(By.TAG_NAME, "th").text: [c.text for c in r.find_elements(By.TAG_NAME, "td")]
            for r in table.find_elements(By.TAG_NAME, "tr")}
    assert rows["points"] == [str(n) for n in np.bincount(digits()[1][:PROBE], minlength=10)]
    for key in ("precision %", "recall %"):
        assert all(v == "—" or 0 <= float(v) <= 100 for v in rows[key]), rows[key]
    canvas = driver.find_element(By.CSS_SELECTOR, ".confusion .heatmap-canvas")
    counts = driver.execute_script("return arguments[0].heatmap.options.cellText(0, 0, 0)", canvas)
    diagonal = _cell(driver, canvas, 0, 0)
    assert int(counts) > 0 and len({tuple(p) for p in diagonal}) >= 3  # The cell's colour and its text.
