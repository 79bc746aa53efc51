"""TensorBoard's conventions in a real browser: the tab follows TensorBoard's dark mode, keeps
its view in the URL (reload, shared links, TensorBoard's own tab switching), follows a run in
training, and fits a 1280 x 800 window (issue 13)."""

import os
import re
import time

import pytest

from conftest import TensorBoardServer
from test_browser import choose, click_colored_point, driver, open_tab, wait_ready, write_synthetic_run  # noqa: F401

LIVE = "live"
RUN = "steady"

# Luminance (0-255) of an element's computed background colour.
BACKGROUND_JS = """
const [r, g, b] = getComputedStyle(document.querySelector(arguments[0])).backgroundColor.match(/\\d+/g).map(Number);
return 0.2126 * r + 0.7152 * g + 0.0722 * b;
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("convention_logs")
    write_synthetic_run(str(root / RUN), 300, ["a", "b", "c"], epochs=(0, 1, 2))
    write_synthetic_run(str(root / LIVE), 300, ["a", "b", "c"], epochs=(0,))
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("convention_cache"))
    server.wait_for_runs([RUN, LIVE])
    server.logdir = str(root)
    yield server
    server.stop()


def set_parent_dark(driver, dark):
    """Toggles TensorBoard's dark mode as TensorBoard does: class "dark-mode" on the parent's <body>."""
    driver.execute_script("window.parent.document.body.classList.toggle('dark-mode', arguments[0])", dark)


def test_the_tab_follows_tensorboards_dark_mode(driver, server):
    from selenium.webdriver.support.ui import WebDriverWait

    open_tab(driver, server)
    assert driver.execute_script(BACKGROUND_JS, ".card") > 200
    canvas = driver.find_element("css selector", ".multiples .plot-canvas")
    click_colored_point(driver, canvas)  # Select a point.
    outline = "return getComputedStyle(document.body).getPropertyValue('--text').trim()"
    assert driver.execute_script(outline) == "#212121"
    set_parent_dark(driver, True)
    WebDriverWait(driver, 5).until(lambda d: d.execute_script("return document.documentElement.classList.contains('dark')"))
    for selector in (".card", ".sidebar", "html", "body", ".plot-canvas"):
        assert driver.execute_script(BACKGROUND_JS, selector) < 60, selector
    # The canvases are redrawn in the dark theme's colours: the selected point's outline is light.
    light_outline = driver.execute_script(
        "const c = arguments[0], d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && d[i] > 220 && d[i + 1] > 220 && d[i + 2] > 220) n++;"
        "return n;", canvas)
    assert light_outline > 8
    set_parent_dark(driver, False)
    WebDriverWait(driver, 5).until(lambda d: not d.execute_script("return document.documentElement.classList.contains('dark')"))
    assert driver.execute_script(BACKGROUND_JS, ".card") > 200


def parent_hash(driver):
    return driver.execute_script("return window.parent.location.hash")


def test_the_view_lives_in_the_url_and_survives_a_reload(driver, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_tab(driver, server)
    choose(driver, ".run-select", RUN)
    wait_ready(driver)
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='epochs']").click()
    choose(driver, ".layer-select", "dense_b")
    choose(driver, ".method-select", "joint_pca")
    choose(driver, ".color-by-select", "correct")
    wait_ready(driver)
    big = driver.find_element(By.CSS_SELECTOR, ".scatter.large .plot-canvas")
    click_colored_point(driver, big)
    point = re.search(r"Point #(\d+)", driver.find_element(By.CSS_SELECTOR, ".detail").text).group(1)
    url_hash = parent_hash(driver)
    assert url_hash.startswith("#nnviz&")
    for part in ("run=" + RUN, "view=epochs", "layer=dense_b", "method=joint_pca", "color=correct", "selected=" + point):
        assert part in url_hash.split("&"), (part, url_hash)
    assert "seed=" not in url_hash and "neuron=" not in url_hash  # Defaults are left out.

    def restored(d):
        d.switch_to.default_content()
        d.switch_to.frame(d.find_element(By.CSS_SELECTOR, "iframe"))
        wait_ready(d)
        values = d.execute_script(
            "return ['.run-select', '.layer-select', '.method-select', '.color-by-select']"
            ".map((s) => document.querySelector(s).value)")
        assert values == [RUN, "dense_b", "joint_pca", "correct"], values
        assert d.find_element(By.CSS_SELECTOR, ".segment.active").text == "Across epochs"
        WebDriverWait(d, 10).until(lambda dd: ("Point #" + point) in dd.find_element(By.CSS_SELECTOR, ".detail").text)
        assert "PCA (shared axes) of dense_b" in d.find_element(By.CSS_SELECTOR, ".scatter.large .plot-title").text

    driver.switch_to.default_content()
    driver.refresh()
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "iframe"))
    restored(driver)
    # A shared link, opened fresh.
    shared = driver.execute_script("return window.parent.location.href")
    driver.switch_to.default_content()
    driver.get("about:blank")
    driver.get(shared)
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "iframe"))
    restored(driver)
    # TensorBoard's router still works: another tab, then Back.
    driver.switch_to.default_content()
    driver.execute_script("location.hash = '#scalars'")
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return location.hash") == "#scalars")
    time.sleep(11)  # The hidden tab polls ./runs every 10 s: it must leave TensorBoard's URL alone.
    assert driver.execute_script("return location.hash") == "#scalars"
    driver.back()
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "iframe"))
    restored(driver)


def test_bad_values_in_the_url_fall_back_to_defaults(driver, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.switch_to.default_content()
    driver.get("about:blank")
    driver.get(server.url + "/#nnviz&run=nope&view=bogus&layer=%3Cb%3E&epoch=x&method=umap&perplexity=1e9&color=rainbow")
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "iframe"))
    driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, "iframe"))
    wait_ready(driver)
    assert driver.find_element(By.CSS_SELECTOR, ".segment.active").text == "Across layers"
    values = driver.execute_script(
        "return ['.run-select', '.method-select', '.color-by-select', '.epoch-select', '.perplexity-input']"
        ".map((s) => document.querySelector(s).value)")
    assert values == [LIVE, "pca", "class", "0", "30"], values
    assert "run=" + LIVE in parent_hash(driver)


def test_a_run_in_training_is_followed_until_an_epoch_is_chosen(driver, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def epoch_shown(d):
        return d.execute_script("return document.querySelector('.epoch-select').value")

    def options(d):
        return [e.text for e in d.find_elements(By.CSS_SELECTOR, ".epoch-select option")]

    open_tab(driver, server)
    choose(driver, ".run-select", LIVE)
    wait_ready(driver)
    assert options(driver) == ["0"]
    run_dir = os.path.join(server.logdir, LIVE)
    write_synthetic_run(run_dir, 300, ["a", "b", "c"], epochs=(1,), probe=False)
    # TensorBoard reloads every 2 s, the tab polls ./runs every 10 s: the view moves to epoch 1.
    WebDriverWait(driver, 40, poll_frequency=0.5).until(lambda d: epoch_shown(d) == "1")
    wait_ready(driver)
    assert "at epoch 1" in driver.find_element(By.CSS_SELECTOR, ".card-title").text
    # Once the user picks an epoch, the view stays there.
    choose(driver, ".epoch-select", 0)
    wait_ready(driver)
    time.sleep(1.1)  # The next event file's name must sort after the last one.
    write_synthetic_run(run_dir, 300, ["a", "b", "c"], epochs=(2,), probe=False)
    WebDriverWait(driver, 40, poll_frequency=0.5).until(lambda d: options(d) == ["0", "1", "2"])
    assert epoch_shown(driver) == "0"
    assert "at epoch 0" in driver.find_element(By.CSS_SELECTOR, ".card-title").text


def test_the_tab_fits_1280_by_800(driver, server):
    from selenium.webdriver.common.by import By

    driver.set_window_size(1280, 800)
    try:
        for mode in ("layers", "epochs"):
            open_tab(driver, server)
            driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='%s']" % mode).click()
            wait_ready(driver)
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (mode, overflow)
            # Every plot lies inside its card, and every header fits its plot.
            clipped = driver.execute_script("""
                return [...document.querySelectorAll('.scatter, .trails')].filter((plot) => {
                  const box = plot.getBoundingClientRect(), card = plot.closest('.card').getBoundingClientRect();
                  const header = plot.querySelector('.plot-header');
                  return box.left < card.left - 1 || box.right > card.right + 1 || header.scrollWidth > header.clientWidth + 1;
                }).map((plot) => plot.querySelector('.plot-title').textContent);""")
            assert clipped == [], (mode, clipped)
    finally:
        driver.set_window_size(1600, 1000)
