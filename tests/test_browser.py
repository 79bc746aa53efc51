"""The nnviz tab in a real browser: headless Debian chromium driven by selenium.

Screenshots go to `$NNVIZ_ARTIFACTS` (default /tmp/nnviz_artifacts); the
README's docs/screenshots/ come from there, copied by hand after a look.
"""

import os
import shutil
import tempfile
import time

import numpy as np
import pytest

from conftest import TensorBoardServer

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = os.environ.get("NNVIZ_ARTIFACTS", "/tmp/nnviz_artifacts")
XSS_CLASS = '<img src=x onerror="window.nnvizXss=1">'
XSS_RUN = "xss <b>run"
BIG_RUN = "big5000"
LIVE_RUN = "live"

# The first element matching a CSS selector, searched through every shadow root of the page.
DEEP_QUERY_JS = """
const find = (root, selector) => {
  const hit = root.querySelector(selector);
  if (hit) return hit;
  for (const el of root.querySelectorAll("*")) {
    if (el.shadowRoot) { const inner = find(el.shadowRoot, selector); if (inner) return inner; }
  }
  return null;
};
return find(document, arguments[0]);
"""

# Saturated (not grey) pixels of a canvas and how many 30-degree hue buckets they fall in.
COLOR_STATS_JS = """
const canvas = arguments[0];
const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
let count = 0;
const hues = new Set();
for (let i = 0; i < data.length; i += 4) {
  const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
  const max = Math.max(r, g, b), min = Math.min(r, g, b);
  if (a < 40 || max - min < 30) continue;
  count++;
  const d = max - min;
  const h = max === r ? ((g - b) / d + 6) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  hues.add(Math.floor(h * 2));
}
return [count, hues.size];
"""

# CSS-pixel position of the most opaque saturated pixel near the canvas centre.
COLORED_PIXEL_JS = """
const canvas = arguments[0];
const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
const ratio = canvas.width / canvas.clientWidth;
let best = null, bestScore = -1;
for (let i = 0; i < data.length; i += 4) {
  const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
  if (a < 100 || Math.max(r, g, b) - Math.min(r, g, b) < 40) continue;
  const x = (i / 4) % canvas.width, y = Math.floor(i / 4 / canvas.width);
  const score = a - Math.hypot(x - canvas.width / 2, y - canvas.height / 2) / 10;
  if (score > bestScore) { bestScore = score; best = [x / ratio, y / ratio]; }
}
return best;
"""


def _missing_browser():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(path)]
    if missing:
        message = "browser tests need %s" % ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def driver():
    _missing_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="nnviz-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--window-size=1600,1000", "--user-data-dir=" + profile,
    ):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


def write_synthetic_run(log_dir, num_points, class_names, epochs=(0, 1, 2), dim=16, probe=True):
    """A run of Gaussian class clusters that separate with depth and with training.

    With `probe=False` only the epochs are written (more epochs of an existing run).
    """
    from nnviz_tb.summary import NnvizWriter

    rng = np.random.default_rng(0)
    layers = ["dense_a", "dense_b", "dense_c", "dense_d"]
    labels = np.arange(num_points) % len(class_names)
    centres = rng.normal(size=(len(class_names), dim)) * 3
    writer = NnvizWriter(log_dir)
    info = {
        "num_points": num_points,
        "class_names": class_names,
        "layers": [
            {"name": n, "kind": "Dense", "dim": dim, "output_shape": [dim], "reduction": "none"}
            for n in layers
        ],
    }
    if probe:
        writer.write_probe(0, info, labels, None)
    for epoch in epochs:
        activations = {
            name: centres[labels] + rng.normal(size=(num_points, dim)) * (4.0 / (1 + depth + epoch))
            for depth, name in enumerate(layers)
        }
        predictions = np.where(rng.random(num_points) < 0.8, labels, rng.integers(0, len(class_names), num_points))
        writer.write_epoch(epoch, activations, predictions, dict.fromkeys(layers, "none"))
    writer.close()


@pytest.fixture(scope="module")
def synthetic_server(tmp_path_factory):
    """TensorBoard on two synthetic runs: HTML in names, and 5,000 points."""
    root = tmp_path_factory.mktemp("synthetic_logs")
    write_synthetic_run(str(root / XSS_RUN), 300, [XSS_CLASS, "<b>bold</b>", "plain"], epochs=(0, 1))
    write_synthetic_run(str(root / BIG_RUN), 5000, ["class %d" % i for i in range(10)])
    write_synthetic_run(str(root / LIVE_RUN), 300, ["a", "b", "c"], epochs=(0,))
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("synthetic_cache"))
    server.wait_for_runs([XSS_RUN, BIG_RUN, LIVE_RUN])
    server.logdir = str(root)
    yield server
    server.stop()


def open_tab(driver, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.switch_to.default_content()
    driver.get("about:blank")
    driver.get(server.url + "/#nnviz")
    frame = WebDriverWait(driver, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, "iframe"))
    driver.switch_to.frame(frame)
    wait_ready(driver)


def wait_ready(driver, timeout=90):
    """Waits until the projections are drawn and nothing is loading."""
    from selenium.webdriver.support.ui import WebDriverWait

    from selenium.common.exceptions import TimeoutException

    try:
        WebDriverWait(driver, timeout, poll_frequency=0.2).until(
            lambda d: d.execute_script(
                "const status = document.querySelector('.status');"
                "if (status && status.classList.contains('error')) throw new Error(status.textContent);"
                "return status && status.classList.contains('hidden')"
                " && !document.querySelector('.content').classList.contains('stale')"
                " && document.querySelectorAll('.content canvas').length > 0;"
            )
        )
    except TimeoutException:
        screenshot(driver, "timeout.png")
        shown = driver.execute_script("return document.body.innerText.slice(0, 600)")
        raise TimeoutException("The tab was not ready in %d s; it showed: %r" % (timeout, shown))


def choose(driver, css, value):
    """Picks `value` in the select `css` as a user would (a change event)."""
    driver.execute_script(
        "const select = document.querySelector(arguments[0]);"
        "select.value = arguments[1];"
        "select.dispatchEvent(new Event('change'));",
        css, str(value),
    )


def color_stats(driver, canvas):
    return driver.execute_script(COLOR_STATS_JS, canvas)


def hover_at(driver, canvas, x, y):
    """Moves the mouse to (x, y), CSS pixels from the top left of `canvas`; returns the tooltip once shown."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    ActionChains(driver).move_to_element_with_offset(
        canvas, int(x - canvas.size["width"] / 2), int(y - canvas.size["height"] / 2)
    ).perform()
    tooltip = driver.find_element(By.CSS_SELECTOR, ".tooltip")
    WebDriverWait(driver, 10).until(lambda d: tooltip.is_displayed())
    return tooltip


def hover_colored_pixel(driver, canvas):
    """Moves the mouse onto a coloured pixel of `canvas`; returns the tooltip once shown."""
    return hover_at(driver, canvas, *driver.execute_script(COLORED_PIXEL_JS, canvas))


def hover(driver, canvas, x_fraction, y_fraction):
    """Moves the mouse to a point of `canvas` given as fractions of its size; returns the tooltip text."""
    return hover_at(driver, canvas, x_fraction * canvas.size["width"], y_fraction * canvas.size["height"]).text


def screenshot(driver, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, name)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.switch_to.default_content()
    driver.save_screenshot(path)
    driver.switch_to.frame(driver.find_element("css selector", "iframe"))
    return path


def test_layer_mode_draws_every_layer_and_trails(driver, tensorboard_server):
    from selenium.webdriver.common.by import By

    open_tab(driver, tensorboard_server)
    assert driver.find_element(By.CSS_SELECTOR, ".segment.active").text == "Across layers"
    small = driver.find_elements(By.CSS_SELECTOR, ".multiples canvas")
    assert len(small) == 3  # hidden1, hidden2, output
    for canvas in small:
        count, hues = color_stats(driver, canvas)
        assert count > 300 and hues >= 5, (count, hues)
    hits = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".scatter .plot-hit")]
    assert len(hits) == 3 and all(h.startswith("NH 0.") for h in hits), hits
    trails = driver.find_element(By.CSS_SELECTOR, ".trails canvas")
    count, hues = color_stats(driver, trails)
    assert count > 1000 and hues >= 5, (count, hues)
    assert "of 500 points" in driver.find_element(By.CSS_SELECTOR, ".trails .plot-note").text

    # Hiding a class removes its colour from every plot.
    before = color_stats(driver, small[0])[0]
    driver.find_element(By.CSS_SELECTOR, ".legend-item[data-label='0']").click()
    assert "hidden" in driver.find_element(By.CSS_SELECTOR, ".legend-item[data-label='0']").get_attribute("class")
    assert color_stats(driver, small[0])[0] < before
    driver.find_element(By.CSS_SELECTOR, ".legend-item[data-label='0']").click()

    choose(driver, ".method-select", "tsne")
    wait_ready(driver, timeout=120)
    assert driver.find_element(By.CSS_SELECTOR, ".card-title").text.startswith("t-SNE of each layer")
    assert color_stats(driver, driver.find_elements(By.CSS_SELECTOR, ".multiples canvas")[2])[0] > 300
    screenshot(driver, "layers_tsne.png")


def test_hover_shows_thumbnail_and_classes(driver, tensorboard_server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_tab(driver, tensorboard_server)
    tooltip = hover_colored_pixel(driver, driver.find_elements(By.CSS_SELECTOR, ".multiples canvas")[1])
    assert "Class" in tooltip.text and "Predicted" in tooltip.text
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.querySelector('.tooltip-image').naturalWidth") > 0
    )
    screenshot(driver, "hover.png")
    ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, ".legend")).perform()
    WebDriverWait(driver, 10).until(lambda d: not tooltip.is_displayed())


def test_epoch_mode_slider_play_and_trails(driver, tensorboard_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_tab(driver, tensorboard_server)
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='epochs']").click()
    wait_ready(driver)
    slider = driver.find_element(By.CSS_SELECTOR, ".epoch-slider")
    label = driver.find_element(By.CSS_SELECTOR, ".player-label")
    assert slider.get_attribute("max") == "3"  # epochs 0..3
    assert label.text == "epoch 3"
    big = driver.find_element(By.CSS_SELECTOR, ".scatter.large canvas")
    assert color_stats(driver, big)[0] > 300
    trails = driver.find_element(By.CSS_SELECTOR, ".trails canvas")
    count, hues = color_stats(driver, trails)
    assert count > 1000 and hues >= 5, (count, hues)
    assert len(driver.find_elements(By.CSS_SELECTOR, ".hit-row")) == 4

    driver.execute_script(
        "const s = document.querySelector('.epoch-slider'); s.value = 1;"
        "s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change'));"
    )
    assert label.text == "epoch 1"
    assert "at epoch 1" in driver.find_element(By.CSS_SELECTOR, ".scatter.large .plot-title").text
    frame_at_1 = driver.execute_script("return arguments[0].toDataURL()", big)

    driver.find_element(By.CSS_SELECTOR, ".play-button").click()
    time.sleep(0.4)
    assert "playing" in driver.find_element(By.CSS_SELECTOR, ".player").get_attribute("class")
    assert 1 < float(slider.get_attribute("value")) < 3
    assert driver.execute_script("return arguments[0].toDataURL()", big) != frame_at_1
    WebDriverWait(driver, 10).until(lambda d: label.text == "epoch 3")
    WebDriverWait(driver, 5).until(
        lambda d: "playing" not in d.find_element(By.CSS_SELECTOR, ".player").get_attribute("class")
    )
    screenshot(driver, "epochs.png")


def test_html_in_names_renders_as_text(driver, synthetic_server):
    from selenium.webdriver.common.by import By

    open_tab(driver, synthetic_server)
    choose(driver, ".run-select", XSS_RUN)
    wait_ready(driver)
    names = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".legend-name")]
    assert names == [XSS_CLASS, "<b>bold</b>", "plain"]
    options = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".run-select option")]
    assert XSS_RUN in options
    assert driver.execute_script("return document.querySelectorAll('img:not(.tooltip-image):not(.detail-image), b').length") == 0
    assert driver.execute_script("return window.nnvizXss") is None
    screenshot(driver, "html_names.png")


def time_trail_redraw(driver, select_css, value):
    """Total and draw-call milliseconds of the trail redraw that choosing `value` triggers.

    The total goes through a pixel read-back so that rasterisation is included, not only
    the JavaScript.
    """
    return driver.execute_script(
        "const canvas = document.querySelector('.trails canvas');"
        "const select = document.querySelector(arguments[0]);"
        "const start = performance.now();"
        "select.value = arguments[1]; select.dispatchEvent(new Event('change'));"
        "canvas.getContext('2d').getImageData(0, 0, 1, 1);"
        "return [performance.now() - start, Number(canvas.dataset.renderMs)];",
        select_css, value,
    )


def test_trails_of_5000_points_render_fast(driver, synthetic_server):
    from selenium.webdriver.common.by import By

    open_tab(driver, synthetic_server)
    choose(driver, ".run-select", BIG_RUN)
    wait_ready(driver)
    assert "5000 probe points" in driver.find_element(By.CSS_SELECTOR, ".run-info").text
    total_ms, draw_ms = time_trail_redraw(driver, ".trail-select", "5000")
    print("trail view, 5000 trails x 4 layers: %.1f ms (draw calls %.1f ms)" % (total_ms, draw_ms))
    assert "5000 of 5000 points" in driver.find_element(By.CSS_SELECTOR, ".trails .plot-note").text
    assert total_ms < 1000
    assert color_stats(driver, driver.find_element(By.CSS_SELECTOR, ".trails canvas"))[1] >= 5
    screenshot(driver, "big5000.png")


def test_new_epochs_appear_while_the_tab_is_open(driver, synthetic_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_tab(driver, synthetic_server)
    choose(driver, ".run-select", LIVE_RUN)
    wait_ready(driver)
    epochs = lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, ".epoch-select option")]
    assert epochs(driver) == ["0"]
    write_synthetic_run(
        os.path.join(synthetic_server.logdir, LIVE_RUN), 300, ["a", "b", "c"], epochs=(1,), probe=False
    )
    # TensorBoard reloads every 2 s, the tab polls ./runs every 10 s.
    WebDriverWait(driver, 40, poll_frequency=0.5).until(lambda d: epochs(d) == ["0", "1"])
    assert driver.execute_script("return document.querySelector('.run-select').value") == LIVE_RUN
    # The user chose no epoch: the view follows the latest (tests/test_browser_conventions.py).
    assert driver.execute_script("return document.querySelector('.epoch-select').value") == "1"


def test_neuron_mode_draws_projection_and_discriminative_map(driver, tensorboard_server):
    from selenium.webdriver.common.by import By

    open_tab(driver, tensorboard_server)
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='neurons']").click()
    wait_ready(driver, timeout=120)
    assert driver.find_element(By.CSS_SELECTOR, ".segment.active").text == "Neurons"
    methods = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".method-select option")]
    assert methods == ["MDS", "t-SNE"]
    choose(driver, ".layer-select", "hidden1")
    wait_ready(driver, timeout=120)
    projection, neuron_map = driver.find_elements(By.CSS_SELECTOR, ".neuron-plot canvas")
    assert "of the neurons of hidden1" in driver.find_element(By.CSS_SELECTOR, ".neuron-plot .plot-title").text
    notes = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".neuron-plot .plot-note")]
    live, dead = (int(n) for n in notes[0].replace(" live ·", "").replace(" dead", "").split())
    assert live + dead == 32 and notes[1] == notes[0]
    assert color_stats(driver, projection)[0] > 100
    count, hues = color_stats(driver, neuron_map)
    assert count > 100 and hues >= 4, (count, hues)
    # Another class recolours the projection.
    before = driver.execute_script("return arguments[0].toDataURL()", projection)
    choose(driver, ".class-select", 3)
    assert driver.execute_script("return arguments[0].toDataURL()", projection) != before
    screenshot(driver, "neurons.png")

    tooltip = hover_colored_pixel(driver, neuron_map)
    assert "Neuron" in tooltip.text and "Best class" in tooltip.text
    screenshot(driver, "neurons_hover.png")

    choose(driver, ".method-select", "tsne")
    wait_ready(driver, timeout=120)
    assert driver.find_element(By.CSS_SELECTOR, ".neuron-plot .plot-title").text.startswith("t-SNE of the neurons")
    assert color_stats(driver, driver.find_elements(By.CSS_SELECTOR, ".neuron-plot canvas")[1])[1] >= 4


def drag(driver, canvas, start, end):
    """Drags with the mouse from `start` to `end`, offsets in CSS px from the canvas centre."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).move_to_element_with_offset(canvas, *start).click_and_hold().move_by_offset(
        end[0] - start[0], end[1] - start[1]
    ).release().perform()


def click_colored_point(driver, canvas):
    """Clicks the first pixel of `canvas` that shows a point (see `COLORED_PIXEL_JS`)."""
    x, y = driver.execute_script(COLORED_PIXEL_JS, canvas)
    at = (int(x - canvas.size["width"] / 2), int(y - canvas.size["height"] / 2))
    drag(driver, canvas, at, at)


def click_in_epoch_mode(driver, server):
    """Opens the tab on "Across epochs" and clicks a point of its large plot; returns that canvas."""
    from selenium.webdriver.common.by import By

    open_tab(driver, server)
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='epochs']").click()
    wait_ready(driver)
    big = driver.find_element(By.CSS_SELECTOR, ".scatter.large canvas")
    click_colored_point(driver, big)
    return big


def test_bundled_trails_and_brushing_at_5000_points(driver, synthetic_server):
    from selenium.webdriver.common.by import By

    open_tab(driver, synthetic_server)
    choose(driver, ".run-select", BIG_RUN)
    wait_ready(driver)
    choose(driver, ".trail-select", 5000)
    choose(driver, ".trail-style-select", "bundled")
    wait_ready(driver)
    trails = driver.find_element(By.CSS_SELECTOR, ".trails canvas")
    assert "bundled per class" in driver.find_element(By.CSS_SELECTOR, ".trails .plot-title").text
    total_ms, draw_ms = time_trail_redraw(driver, ".trail-filter-select", "sample")
    print("bundled trail view, 5000 trails x 4 layers: %.1f ms (draw calls %.1f ms)" % (total_ms, draw_ms))
    assert total_ms < 1000
    assert color_stats(driver, trails)[1] >= 5
    screenshot(driver, "trails_bundled.png")

    # Brushing a region of the first layer shows only the trails of its points.
    first = driver.find_element(By.CSS_SELECTOR, ".multiples canvas")
    drag(driver, first, (-30, -30), (30, 30))
    note = driver.find_element(By.CSS_SELECTOR, ".trails .plot-note").text
    assert note.endswith("selected") and not note.startswith("0 of"), note
    assert "points of" in driver.find_element(By.CSS_SELECTOR, ".detail").text
    screenshot(driver, "brushing.png")
    # A click on empty space clears the selection.
    drag(driver, first, (-first.size["width"] // 2 + 2, -first.size["height"] // 2 + 2),
         (-first.size["width"] // 2 + 2, -first.size["height"] // 2 + 2))
    assert not driver.find_element(By.CSS_SELECTOR, ".detail").is_displayed()

    choose(driver, ".trail-filter-select", "misclassified")
    assert "misclassified (of" in driver.find_element(By.CSS_SELECTOR, ".trails .plot-note").text


def test_thumbnails_and_click_detail(driver, tensorboard_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    big = click_in_epoch_mode(driver, tensorboard_server)
    detail = driver.find_element(By.CSS_SELECTOR, ".detail")
    assert detail.is_displayed() and "Point #" in detail.text and "Epoch 3: predicted" in detail.text
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.querySelector('.detail-image').naturalWidth") > 0
    )
    driver.find_element(By.CSS_SELECTOR, ".detail-clear").click()
    before = color_stats(driver, big)[0]
    choose(driver, ".point-style-select", "thumbnails")
    WebDriverWait(driver, 20).until(lambda d: color_stats(d, big)[0] != before)
    screenshot(driver, "thumbnails.png")


def test_compare_two_epochs_side_by_side(driver, tensorboard_server):
    from selenium.webdriver.common.by import By

    open_tab(driver, tensorboard_server)
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='compare']").click()
    wait_ready(driver)
    epochs = [e.get_attribute("value") for e in driver.find_elements(By.CSS_SELECTOR, ".compare-epoch")]
    assert epochs == ["0", "3"]
    hits = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".compare-card .plot-hit")]
    assert len(hits) == 2 and all(h.startswith("NH 0.") for h in hits), hits
    assert float(hits[1][3:]) > float(hits[0][3:])  # Training separates the classes.
    for canvas in driver.find_elements(By.CSS_SELECTOR, ".compare-card canvas"):
        assert color_stats(driver, canvas)[0] > 50
    choose(driver, ".compare-right .compare-layer", "hidden1")
    wait_ready(driver)
    titles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".compare-right .plot-title")]
    assert all("hidden1 at epoch 3" in title for title in titles), titles
    screenshot(driver, "compare.png")


def test_compare_runs_with_different_probes_is_not_aligned(driver, synthetic_server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    open_tab(driver, synthetic_server)
    choose(driver, ".run-select", LIVE_RUN)
    wait_ready(driver)
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='compare']").click()
    wait_ready(driver)
    note = lambda: driver.find_element(By.CSS_SELECTOR, ".compare-note").text  # noqa: E731
    assert note().startswith("Same probe points")
    choose(driver, ".compare-right .compare-run", BIG_RUN)
    wait_ready(driver)
    assert "different probe points (300 and 5000)" in note()
    left, right = (driver.find_element(By.CSS_SELECTOR, ".compare-%s .plot-canvas" % side) for side in ("left", "right"))
    before = color_stats(driver, left)
    # A brush over the middle of the right projection selects nothing on the left: the
    # indices of one probe do not name points of the other.
    ActionChains(driver).move_to_element(right).click_and_hold().move_by_offset(60, 60).release().perform()
    assert color_stats(driver, left) == before
    assert color_stats(driver, right)[1] >= 8  # Its 10 classes in their own colours, with a legend.
    assert driver.find_element(By.CSS_SELECTOR, ".compare-right .compare-legend").text.split("\n")[-1] == "class 9"
    assert driver.find_element(By.CSS_SELECTOR, ".compare-left .compare-legend").text == ""
    assert "class " in hover_colored_pixel(driver, right).text  # Its own class names.
    screenshot(driver, "compare_different_probes.png")
    choose(driver, ".compare-right .compare-run", XSS_RUN)  # 300 points, the same labels.
    wait_ready(driver)
    assert note().startswith("Same probe points")


def test_confusion_matrix_selects_the_points_of_a_cell(driver, tensorboard_server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    open_tab(driver, tensorboard_server)
    title = driver.find_element(By.CSS_SELECTOR, ".layer-mode .confusion .section-title").get_attribute("textContent")
    assert title.startswith("Confusion matrix of the probe at epoch 3: ") and title.endswith("% correct"), title
    matrix = driver.find_element(By.CSS_SELECTOR, ".layer-mode .confusion canvas")
    scatter = driver.find_element(By.CSS_SELECTOR, ".layer-mode .multiples canvas")
    all_points = color_stats(driver, scatter)
    assert all_points[1] >= 8
    # The diagonal cell of class 5 (rows and columns 0..9 in a 10 x 10 grid).
    text = hover(driver, matrix, 0.58, 0.46)
    assert "True class\n5" in text and "Predicted\n5" in text and "% of the class)" in text, text
    ActionChains(driver).click().perform()
    chosen = color_stats(driver, scatter)
    assert chosen[0] < all_points[0] / 3 and chosen[1] <= 2, (chosen, all_points)  # Only class 5 in colour.
    screenshot(driver, "confusion.png")
    ActionChains(driver).click().perform()  # The same cell again: all points back.
    assert color_stats(driver, scatter) == all_points

    # Across epochs, the matrix follows the epoch shown.
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='epochs']").click()
    wait_ready(driver)
    title = lambda: driver.find_element(  # noqa: E731
        By.CSS_SELECTOR, ".epoch-mode .confusion .section-title").get_attribute("textContent")
    assert title().startswith("Confusion matrix of the probe at epoch 3:"), title()
    driver.find_elements(By.CSS_SELECTOR, ".epoch-mode .hit-row")[0].click()
    assert title().startswith("Confusion matrix of the probe at epoch 0:"), title()


CAPTURE_DOWNLOADS_JS = """
window.nnvizDownloads = [];
const original = URL.createObjectURL;
URL.createObjectURL = (blob) => { window.nnvizDownloads.push(blob); return original(blob); };
"""


def test_every_plot_exports_png_and_svg(driver, tensorboard_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_tab(driver, tensorboard_server)
    driver.execute_script(CAPTURE_DOWNLOADS_JS)
    driver.find_element(By.CSS_SELECTOR, ".trails .export-svg").click()
    driver.find_element(By.CSS_SELECTOR, ".multiples .export-png").click()
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return window.nnvizDownloads.length") == 2)
    svg, png = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const [svg, png] = window.nnvizDownloads;"
        "Promise.all([svg.text(), png.arrayBuffer()]).then(([text, bytes]) => done([text, png.type + ' ' + bytes.byteLength]));"
    )
    errors = driver.execute_script(
        "return new DOMParser().parseFromString(arguments[0], 'image/svg+xml').getElementsByTagName('parsererror').length",
        svg,
    )
    assert errors == 0
    with open(os.path.join(ARTIFACTS, "export_trails.svg"), "w") as f:
        f.write(svg)
    assert svg.count("<path") > 10 and "Trails across layers" in svg and ">0</text>" in svg  # Title, legend.
    kind, size = png.split()
    assert kind == "image/png" and int(size) > 5000
    for selector in (".scatter", ".trails"):
        assert driver.find_element(By.CSS_SELECTOR, selector + " .export-svg").is_displayed()


def run_module(driver, module, body):
    """Runs `body` (JavaScript using `m`, the imported tab module) in the tab; returns its value."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import(arguments[0]).then((m) => done(new Function('m', arguments[1])(m)),"
        " (e) => done('error: ' + e));",
        "./static/" + module, body,
    )


def test_discriminative_map_colours(driver, tensorboard_server):
    open_tab(driver, tensorboard_server)
    fills = run_module(driver, "views/neuron_mode.js", """
        const neurons = {best: [0, 1, -1, 0], numClasses: 2, classMax: [0.5, 0.2],
                         importance: [0.5, 0.1, 0.1, 0.2, 0, 0, 0.05, 0.01]};
        const colors = [{rgb: [10, 20, 30]}, {rgb: [200, 100, 0]}];
        const fill = m.mapFill(neurons, colors);
        return [0, 1, 2, 3].map(fill);
    """)
    # Hue = best class, opacity = importance / the largest for that class (at least 0.08).
    assert fills == ["rgba(10,20,30,1)", "rgba(200,100,0,1)", "rgba(189,189,189,0.6)", "rgba(10,20,30,0.1)"]


def test_procrustes_alignment_of_compared_projections(driver, tensorboard_server):
    open_tab(driver, tensorboard_server)
    error = run_module(driver, "data.js", """
        const reference = Float32Array.from([1, 0, 0, 2, -1, 0.5, 0, -2.5]);
        // Mirror x, then rotate by 1 radian: alignTo must undo both.
        const moved = new Float32Array(8);
        for (let i = 0; i < 8; i += 2) {
          const x = -reference[i], y = reference[i + 1];
          moved[i] = Math.cos(1) * x - Math.sin(1) * y;
          moved[i + 1] = Math.sin(1) * x + Math.cos(1) * y;
        }
        const aligned = m.alignTo(reference, moved);
        return Math.max(...aligned.map((v, i) => Math.abs(v - reference[i])));
    """)
    assert error < 1e-5


def test_confusion_counts(driver, tensorboard_server):
    open_tab(driver, tensorboard_server)
    counts = run_module(driver, "views/confusion_source.js", """
        // Labels 0, 0, 1, 2; predictions 0, 1, 1 and one outside the classes (not counted).
        return m.confusionCounts([0, 0, 1, 2], [0, 1, 1, 7], 3);
    """)
    assert counts == [1, 1, 0, 0, 1, 0, 0, 0, 0]
