"""The detail panel in a real browser: a clicked probe point's saliency maps at the shown epoch."""

import os

import numpy as np
import pytest

from conftest import TensorBoardServer
from test_browser import (  # noqa: F401 (driver: a fixture)
    ARTIFACTS, choose, click_colored_point, click_in_epoch_mode, driver, open_tab, wait_ready,
)
from test_browser_conventions import set_parent_dark

METHODS = ("gradient", "smoothgrad", "integrated_gradients", "gradcam")
NAMES = ["gradient", "smoothgrad", "integrated gradients", "grad-cam"]
NUM_POINTS = 64


@pytest.fixture(scope="module")
def saliency_server(tmp_path_factory):
    """TensorBoard on run `cnn`: a small CNN on MNIST, 3 epochs, a 64-image probe whose images
    SaliencyLogger explains too, in another order (`server.order`: probe point of each image)."""
    import keras

    import nnviz_tb
    from nnviz_tb import datasets

    keras.utils.set_random_seed(0)
    (x, y), (xp, yp) = datasets.mnist_split(None, 4000, NUM_POINTS)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(8, 3, activation="relu", name="conv_a"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(16, 3, activation="relu", name="conv_b"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    root = tmp_path_factory.mktemp("saliency_browser_logs")
    run = str(root / "cnn")
    order = np.random.default_rng(0).permutation(NUM_POINTS)
    model.fit(x[..., None], y, epochs=3, batch_size=64, verbose=0, callbacks=[
        nnviz_tb.ActivationLogger(run, probe=(xp[..., None], yp)),
        nnviz_tb.SaliencyLogger(run, xp[order, ..., None], yp[order], methods=METHODS, ig_steps=8,
                                smoothgrad_samples=4),
    ])
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("saliency_browser_cache"))
    server.wait_for_runs(["cnn"])
    server.order = order
    yield server
    server.stop()


def screenshot_detail(driver, name):
    """Saves the page, scrolled to the selection detail, as `$NNVIZ_ARTIFACTS/name`."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    detail = driver.find_element(By.CSS_SELECTOR, ".detail")
    ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, ".legend")).perform()  # No tooltip.
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", detail)
    os.makedirs(ARTIFACTS, exist_ok=True)
    driver.switch_to.default_content()
    driver.save_screenshot(os.path.join(ARTIFACTS, name))
    driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, "iframe"))


def click_a_point(driver):
    """Clicks a coloured pixel of the first small plot; returns the detail panel."""
    from selenium.webdriver.common.by import By

    canvas = driver.find_elements(By.CSS_SELECTOR, ".multiples canvas")[0]
    click_colored_point(driver, canvas)
    return driver.find_element(By.CSS_SELECTOR, ".detail")


def shown_maps(driver):
    """`(title, [caption], [image URL], [loaded])` of the saliency panel, once its images loaded."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "const panel = document.querySelector('.detail .saliency');"
        "const images = [...panel.querySelectorAll('img')];"
        "if (panel.hidden || !images.length || images.some((image) => !image.complete)) return null;"
        "return [panel.querySelector('.saliency-title').textContent,"
        " [...panel.querySelectorAll('figcaption')].map((caption) => caption.textContent),"
        " images.map((image) => image.getAttribute('src')), images.map((image) => image.naturalWidth > 0)];"))


def test_a_clicked_point_shows_its_maps_at_the_shown_epoch(driver, saliency_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_tab(driver, saliency_server)
    detail = click_a_point(driver)
    assert detail.is_displayed() and "Point #" in detail.text
    point = int(detail.text.split("Point #")[1].split(",")[0])
    image = int(np.flatnonzero(saliency_server.order == point)[0])
    title, captions, urls, loaded = shown_maps(driver)
    assert title == "Saliency at epoch 3" and captions == NAMES and all(loaded)
    assert all("epoch=3&image=%d" % image in url for url in urls), (urls, image)
    assert "Red raises the score of class" in detail.text
    screenshot_detail(driver, "saliency_detail.png")

    # Another epoch shown: the maps of that epoch.
    choose(driver, ".epoch-select", 0)
    wait_ready(driver)
    WebDriverWait(driver, 20).until(lambda d: shown_maps(d)[0] == "Saliency at epoch 0")
    assert all("epoch=0&image=%d" % image in url for url in shown_maps(driver)[2])

    # In dark mode the panel follows the theme.
    set_parent_dark(driver, True)
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(
        "return document.documentElement.classList.contains('dark')"))
    screenshot_detail(driver, "saliency_detail_dark.png")
    set_parent_dark(driver, False)

    # Clearing the selection hides the maps.
    driver.find_element(By.CSS_SELECTOR, ".detail-clear").click()
    assert not detail.is_displayed()


def test_epoch_mode_player_moves_the_maps(driver, saliency_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    click_in_epoch_mode(driver, saliency_server)
    assert shown_maps(driver)[0] == "Saliency at epoch 3"
    driver.find_elements(By.CSS_SELECTOR, ".epoch-mode .hit-row")[1].click()  # Epoch 1.
    WebDriverWait(driver, 20).until(lambda d: shown_maps(d)[0] == "Saliency at epoch 1")
