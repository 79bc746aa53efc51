"""The trail view and the NH chart in a real browser, on a synthetic 5,000-point run."""

import re

import pytest

from conftest import TensorBoardServer
from test_browser import (  # noqa: F401 (driver is a fixture)
    CAPTURE_DOWNLOADS_JS, choose, color_stats, drag, driver, open_tab, screenshot, wait_ready,
    write_synthetic_run,
)

RUN = "trails5000"
SMALL_RUN = "small300"
LAYERS = ["dense_a", "dense_b", "dense_c", "dense_d"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("trail_logs")
    write_synthetic_run(str(root / RUN), 5000, ["class %d" % i for i in range(10)], epochs=(0, 1, 2, 3))
    write_synthetic_run(str(root / SMALL_RUN), 300, ["a", "b", "c"], epochs=(0, 1))
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("trail_cache"))
    server.wait_for_runs([RUN, SMALL_RUN])
    yield server
    server.stop()


def _open(driver, server, run=RUN):
    open_tab(driver, server)
    choose(driver, ".run-select", run)
    wait_ready(driver)


def _note(driver):
    return driver.find_element("css selector", ".trails .plot-note").text


def _set_slider(driver, value):
    driver.execute_script(
        "const s = document.querySelector('.epoch-slider'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change'));", value)


def _trail_svg(driver):
    """The trails exported as SVG (the same painting as on screen)."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script(CAPTURE_DOWNLOADS_JS)
    driver.find_element("css selector", ".trails .export-svg").click()
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return window.nnvizDownloads.length") == 1)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; window.nnvizDownloads[0].text().then(done);")


def test_the_note_counts_the_selection_it_draws(driver, server):
    _open(driver, server)
    choose(driver, ".trail-select", 500)
    first = driver.find_element("css selector", ".multiples canvas")
    half_w, half_h = first.size["width"] // 2 - 2, first.size["height"] // 2 - 2
    drag(driver, first, (-half_w, -half_h), (half_w, half_h))  # Every point.
    detail = driver.find_element("css selector", ".detail").text
    selected = int(re.search(r"(\d+) points of", detail).group(1))
    assert selected > 500
    assert _note(driver) == "500 of the %d points selected" % selected
    # Hiding a class leaves its points out of both numbers.
    driver.find_element("css selector", ".legend-item[data-label='0']").click()
    assert _note(driver) == "500 of the %d points selected" % (selected - 500)  # 500 points per class.
    driver.find_element("css selector", ".legend-item[data-label='0']").click()


def test_the_trails_follow_the_epoch_player(driver, server):
    from selenium.webdriver.common.by import By

    _open(driver, server)
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='epochs']").click()
    wait_ready(driver)
    trails = driver.find_element(By.CSS_SELECTOR, ".trails canvas")
    title = lambda: driver.find_element(By.CSS_SELECTOR, ".trails .plot-title").text  # noqa: E731
    drawn = {}
    for position in (0, 1, 3):
        _set_slider(driver, position)
        drawn[position] = (color_stats(driver, trails)[0], driver.execute_script("return arguments[0].toDataURL()", trails))
    assert title().endswith("across epochs")  # At the last epoch: all of them.
    _set_slider(driver, 1)
    assert title().endswith(", up to epoch 1")
    # At epoch 0 only the points are drawn; each epoch more adds trail pixels.
    assert drawn[0][0] < drawn[1][0] < drawn[3][0], [count for count, _ in drawn.values()]
    assert len({url for _, url in drawn.values()}) == 3
    svg = _trail_svg(driver)
    # Labelled markers up to the head; where labels would overlap, the head's are kept.
    assert svg.count(">e1</text>") >= 5 and ">e2</text>" not in svg and ">e3</text>" not in svg
    screenshot(driver, "trails_epoch1.png")


def test_each_frame_is_marked_labelled_and_directed(driver, server):
    from selenium.webdriver.common.by import By

    _open(driver, server)
    key = driver.find_element(By.CSS_SELECTOR, ".trails .ramp").text
    assert all("L%d %s" % (i + 1, layer) in key for i, layer in enumerate(LAYERS)), key
    svg = _trail_svg(driver)
    # Each class's mean path: a marker at each layer (10 classes x 4 layers), labelled at its first
    # and last layer (labels that would overlap another are left out, the last layer's last) ...
    assert len(re.findall(r'A3\.5 3\.5 0 1 0 [^"]*Z" fill="(?!none)', svg)) == 40
    labels = [svg.count(">L%d</text>" % (i + 1)) for i in range(len(LAYERS))]
    assert labels[-1] == 10 and labels[0] >= 1 and not any(labels[1:-1]), labels
    # The trails widen along the way: the first piece is drawn thinner than the last.
    widths = [float(w) for w in re.findall(r'stroke-width="([\d.]+)"', svg)]
    assert min(widths) < 0.8 and max(widths) > 1.5


ARROWS_JS = """
const done = arguments[arguments.length - 1];
Promise.all([import("./static/views/trail_marks.js"), import("./static/export.js")]).then(([marks, exported]) => {
  const ctx = new exported.SvgContext(200, 200);
  const path = [[10, 10], [110, 10], [110, 110]];  // One class: right, then down (pixels).
  marks.paintMeanPaths(ctx, [path, null], [{rgb: [200, 0, 0]}, {rgb: [0, 0, 200]}], arguments[0],
                       (f) => f / 2, ["L1", "L2", "L3"]);
  done(ctx.toString());
}, (e) => done("error: " + e));
"""
TRIANGLE = re.compile(r'<path d="M([-\d.]+) ([-\d.]+)L[-\d.]+ [-\d.]+L[-\d.]+ [-\d.]+Z" fill="(?!none)')


def test_mean_paths_point_the_way_the_sequence_goes(driver, server):
    _open(driver, server)
    svg = driver.execute_async_script(ARROWS_JS, 2)
    tips = [tuple(map(float, tip)) for tip in TRIANGLE.findall(svg)]
    assert tips == [(70.0, 10.0), (110.0, 70.0)]  # 60% along each piece, pointing along it.
    assert [svg.count(">L%d</text>" % i) for i in (1, 2, 3)] == [1, 0, 1]  # Labels at the ends only.
    # Halfway through the second piece, the path ends there, in an arrowhead.
    svg = driver.execute_async_script(ARROWS_JS, 1.5)
    assert [tuple(map(float, tip)) for tip in TRIANGLE.findall(svg)] == [(70.0, 10.0), (110.0, 60.0)]
    assert ">L3</text>" not in svg


def test_class_means_follow_the_drawn_points(driver, server):
    from test_browser import run_module

    _open(driver, server)
    means = run_module(driver, "views/trail_marks.js", """
        const frames = [Float32Array.from([0, 0, 2, 4, 9, 9]), Float32Array.from([1, 1, 3, 5, 8, 8])];
        return m.classMeans(frames, [[0, 1], [], [2]]);
    """)
    assert means == [[[1, 2], [2, 3]], None, [[9, 9], [8, 8]]]


def _chart_table(chart):
    """`{layer: {"e0": "0.512", ...}}` from the chart's tooltip ("…" where unknown)."""
    rows = dict(line.split(": ", 1) for line in chart.get_attribute("title").split("\n"))
    return {layer: dict(item.split() for item in row.split(", ")) for layer, row in rows.items()}


def test_the_nh_chart_computes_other_tsne_layers_only_when_asked(driver, server):
    import time

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(driver, server, SMALL_RUN)
    choose(driver, ".method-select", "tsne")
    wait_ready(driver, timeout=120)
    shown = [float(e.text.split()[1]) for e in driver.find_elements(By.CSS_SELECTOR, ".multiples .plot-hit")]
    chart = driver.find_element(By.CSS_SELECTOR, ".layer-mode .nh-chart canvas")
    button = driver.find_element(By.CSS_SELECTOR, ".layer-mode .nh-fill")
    time.sleep(2)  # Nothing is fetched unasked: epoch 0 stays unknown.
    assert [row["e0"] for row in _chart_table(chart).values()] == ["…"] * 4
    assert [float(row["e1"]) for row in _chart_table(chart).values()] == pytest.approx(shown, abs=1e-3)
    assert button.is_displayed() and "(0 of 4 layers)" in driver.find_element(By.CSS_SELECTOR, ".layer-mode .nh-chart").text
    button.click()
    assert not button.is_displayed()
    WebDriverWait(driver, 180, poll_frequency=0.5).until(lambda d: "…" not in chart.get_attribute("title"))
    assert [float(row["e1"]) for row in _chart_table(chart).values()] == pytest.approx(shown, abs=1e-3)


def test_the_nh_chart_shows_every_layer_over_epochs(driver, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(driver, server)
    # The NH of each layer at epoch 3, as the small multiples show it.
    shown = [float(e.text.split()[1]) for e in driver.find_elements(By.CSS_SELECTOR, ".multiples .plot-hit")]
    assert len(shown) == 4
    chart = driver.find_element(By.CSS_SELECTOR, ".layer-mode .nh-chart canvas")
    WebDriverWait(driver, 120, poll_frequency=0.5).until(lambda d: "…" not in chart.get_attribute("title"))
    table = _chart_table(chart)
    assert list(table) == LAYERS
    assert all(list(values) == ["e0", "e1", "e2", "e3"] for values in table.values())
    assert [float(table[layer]["e3"]) for layer in LAYERS] == pytest.approx(shown, abs=1e-3)
    # The synthetic classes separate with depth and with training (as in the paper).
    assert float(table["dense_d"]["e3"]) > float(table["dense_a"]["e0"]) + 0.2
    assert driver.find_element(By.CSS_SELECTOR, ".layer-mode .nh-chart").text.startswith("NEIGHBORHOOD HIT")
    assert color_stats(driver, chart)[0] > 300  # The lines are drawn.

    # Across epochs, a click on the chart moves the player to the epoch clicked.
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='epochs']").click()
    wait_ready(driver)
    chart = driver.find_element(By.CSS_SELECTOR, ".epoch-mode .nh-chart canvas")
    from selenium.webdriver.common.action_chains import ActionChains

    left = 34 - chart.size["width"] / 2  # The chart's left margin: epoch 0.
    ActionChains(driver).move_to_element_with_offset(chart, int(left), 0).click().perform()
    assert driver.find_element(By.CSS_SELECTOR, ".player-label").text == "epoch 0"
    screenshot(driver, "trails_nh_chart.png")


def test_the_brightness_ramp_stays_visible_on_a_dark_theme(driver, server):
    from test_browser import run_module

    _open(driver, server)
    positions = run_module(driver, "views/trail_marks.js", """
        const light = [0, 0.5, 1].map(m.rampPosition);
        document.documentElement.classList.add("dark");
        const dark = [0, 0.5, 1].map(m.rampPosition);
        document.documentElement.classList.remove("dark");
        return [light, dark];
    """)
    assert positions == [[0, 0.5, 1], [0.35, pytest.approx(0.675), 1]]
