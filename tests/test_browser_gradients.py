"""The Gradients view of the nnviz tab in real headless Chromium, on a real `tensorboard`.

The screenshot goes to `$NNVIZ_ARTIFACTS` (see test_browser.py).
"""

import pytest

import nnviz_tb
from conftest import TensorBoardServer, train_digits_mlp
from test_browser import choose, color_stats, driver, hover, open_tab, screenshot, wait_ready  # noqa: F401
from test_gradient_stats import fit_logged, reference_model


@pytest.fixture(scope="module")
def gradients_server(tmp_path_factory):
    """Run `mlp`: the digits MLP with activations and gradients (8 epochs, every step
    measured); run `ref`: gradients only, of the tiny reference model."""
    root = tmp_path_factory.mktemp("gradient_browser_logs")
    mlp = str(root / "mlp")
    train_digits_mlp(mlp, epochs=8, callbacks=[nnviz_tb.GradientStatsLogger(mlp, every_n_steps=1)])
    model, x, y = reference_model()
    fit_logged(model, x, y, str(root / "ref"), epochs=3)
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("gradient_browser_cache"))
    server.wait_for_runs(["mlp", "ref"])
    yield server
    server.stop()


def wait_gradients(driver, layer):
    """Waits until the sign heatmap of `layer` is shown."""
    from selenium.webdriver.support.ui import WebDriverWait

    wait_ready(driver)
    WebDriverWait(driver, 30, poll_frequency=0.2).until(
        lambda d: d.execute_script(
            "const t = document.querySelector('.gradient-mode .card:nth-child(2) .plot-title');"
            "return t && t.textContent.startsWith('Gradient signs of ' + arguments[0] + ',');", layer)
    )


def canvas_image(driver, canvas):
    return driver.execute_script("return arguments[0].toDataURL()", canvas)


def test_gradients_view_heatmaps_hover_zoom_and_a_run_with_gradients_only(driver, gradients_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.set_window_size(1600, 1250)  # The whole view in the screenshot.
    open_tab(driver, gradients_server)
    choose(driver, ".run-select", "mlp")
    wait_ready(driver)
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='gradients']").click()
    wait_gradients(driver, "hidden1")
    # TensorBoard may still be loading the last epochs: the latest epoch stays selected as they come.
    WebDriverWait(driver, 40).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".gradient-epoch-select option")) == 8)
    assert driver.find_element(By.CSS_SELECTOR, ".gradient-table th").text == "epoch 8"
    overview, signs = driver.find_elements(By.CSS_SELECTOR, ".gradient-mode canvas")
    rows = driver.find_elements(By.CSS_SELECTOR, ".gradient-table tr")
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows[1:]] == ["hidden1", "hidden2", "output"]
    assert "Exact: every optimizer step" in driver.find_element(By.CSS_SELECTOR, ".gradient-note").text
    assert color_stats(driver, overview)[0] > 500  # The blue ramp of the zero fractions.

    # Exact values on hover: the top-right cell is hidden1 at the last epoch.
    text = hover(driver, overview, 0.97, 0.1)
    assert "hidden1 (2,080 weights)" in text and "8 (29 of 29 steps measured)" in text, text

    # Negative and positive gradients in orange and blue.
    count, hues = color_stats(driver, signs)
    assert count > 1000 and hues >= 2, (count, hues)
    note = driver.find_elements(By.CSS_SELECTOR, ".gradient-note")[1].text
    assert note.startswith("A sample: 64 of 2,080 weights") and "all 29 steps" in note, note
    text = hover(driver, signs, 0.5, 0.5)
    assert "Weight" in text and "Step" in text and "Gradient" in text

    # Zoom with the wheel, then see all again with a double-click.
    before = canvas_image(driver, signs)
    driver.execute_script(
        "const c = arguments[0], box = c.getBoundingClientRect();"
        "for (let i = 0; i < 4; i++) c.dispatchEvent(new WheelEvent('wheel', {deltaY: -100, bubbles: true,"
        " cancelable: true, clientX: box.left + box.width * 0.6, clientY: box.top + box.height * 0.5}));",
        signs,
    )
    assert canvas_image(driver, signs) != before
    driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))", signs)
    assert canvas_image(driver, signs) == before

    # Another layer from the table; its heatmap and title follow.
    rows[2].click()
    wait_gradients(driver, "hidden2")
    assert driver.find_element(By.CSS_SELECTOR, ".gradient-table th").text == "epoch 8"
    screenshot(driver, "gradients.png")

    # A run with gradients only opens in the Gradients view, without the activation views.
    choose(driver, ".run-select", "ref")
    wait_gradients(driver, "h")
    assert "3 epochs of gradient statistics" in driver.find_element(By.CSS_SELECTOR, ".run-info").text
    shown = [b.get_attribute("data-mode") for b in driver.find_elements(By.CSS_SELECTOR, ".segment") if b.is_displayed()]
    assert shown == ["gradients"]
    assert driver.find_element(By.CSS_SELECTOR, ".segment.active").text == "Gradients"
