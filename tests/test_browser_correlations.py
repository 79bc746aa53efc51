"""The Correlations view of the nnviz tab in real headless Chromium, on a real `tensorboard`.

The screenshot goes to `$NNVIZ_ARTIFACTS` (see test_browser.py).
"""

import keras
import numpy as np
import pytest

import nnviz_tb
from conftest import TensorBoardServer, digits, train_digits_mlp
from test_browser import choose, color_stats, driver, open_tab, screenshot, wait_ready  # noqa: F401


@pytest.fixture(scope="module")
def correlations_server(tmp_path_factory):
    """Run `corr`: the digits MLP with a CorrelationLogger only (no activations); `tokens`: a
    text model on token ids with a Dense(3000) layer (not augmented, sampled)."""
    root = tmp_path_factory.mktemp("correlation_browser_logs")
    train_digits_mlp(str(root / "corr"), epochs=3, logger_class="CorrelationLogger", num_augmentations=50)
    _train_token_model(str(root / "tokens"))
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("correlation_browser_cache"))
    server.wait_for_runs(["corr", "tokens"])
    yield server
    server.stop()


def _train_token_model(log_dir):
    keras.utils.set_random_seed(0)
    _, labels = digits()
    tokens = np.random.default_rng(0).integers(0, 500, size=(len(labels), 12)).astype("int32")
    model = keras.Sequential([
        keras.Input((12,), dtype="int32"),
        keras.layers.Embedding(500, 8, name="embedding"),
        keras.layers.GlobalAveragePooling1D(name="pool"),
        keras.layers.Dense(3000, activation="relu", name="wide"),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    logger = nnviz_tb.CorrelationLogger(log_dir, probe=(tokens[:300], labels[:300]), layers=["pool", "wide", "output"])
    model.fit(tokens, labels, epochs=1, verbose=0, callbacks=[logger])


def wait_correlations(driver, title_start):
    """Waits until the sample/feature matrix card's title starts with `title_start`."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30, poll_frequency=0.2).until(
        lambda d: d.execute_script(
            "const t = document.querySelectorAll('.correlation-card .plot-title')[1];"
            "return t && t.textContent.startsWith(arguments[0]);", title_start)
    )


def test_correlation_views(driver, correlations_server):
    from selenium.webdriver.common.by import By

    open_tab(driver, correlations_server)
    # A run with correlations only opens on the Correlations view; activation views are hidden.
    assert driver.find_element(By.CSS_SELECTOR, ".segment.active").text == "Correlations"
    assert not driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='layers']").is_displayed()
    wait_correlations(driver, "Feature correlations of ")
    titles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".correlation-card .plot-title")]
    assert titles[0] == "Linear CKA between layers at epoch 3"
    assert "augmentations of probe point #0, epoch 3" in titles[2]
    pairs, *_ = driver.find_elements(By.CSS_SELECTOR, ".correlation-card .heatmap-canvas")
    assert color_stats(driver, pairs)[0] > 500
    multiples = driver.find_elements(By.CSS_SELECTOR, ".correlation-multiple")
    assert [m.get_attribute("data-epoch") for m in multiples] == ["0", "1", "2", "3"]

    # A small multiple moves the slider (and every card) to its epoch.
    multiples[0].find_element(By.CSS_SELECTOR, "canvas").click()
    assert driver.find_elements(By.CSS_SELECTOR, ".correlation-card .plot-title")[0].text.endswith("epoch 0")
    assert "current" in multiples[0].get_attribute("class")
    driver.find_element(By.CSS_SELECTOR, ".correlation-multiple:last-child canvas").click()

    choose(driver, ".correlation-over", "samples")
    wait_correlations(driver, "Sample correlations of ")
    note = driver.find_elements(By.CSS_SELECTOR, ".correlation-card .gradient-note")[1].text
    assert "probe points, balanced across classes" in note, note
    matrix = driver.find_elements(By.CSS_SELECTOR, ".correlation-card .heatmap-canvas")[-2]
    count, hues = color_stats(driver, matrix)
    assert count > 1000 and hues >= 2  # Red and blue: negative and positive correlations.
    choose(driver, ".correlation-measure", "pearson")
    wait_ready(driver)
    assert driver.find_elements(By.CSS_SELECTOR, ".correlation-card .plot-title")[0].text.startswith("Mean best-match")
    screenshot(driver, "correlations.png")


def test_token_ids_show_why_there_is_no_augmentation_and_sampled_widths(driver, correlations_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_tab(driver, correlations_server)
    choose(driver, ".run-select", "tokens")
    WebDriverWait(driver, 30, poll_frequency=0.2).until(
        lambda d: "(sampled)" in d.find_elements(By.CSS_SELECTOR, ".correlation-card .gradient-note")[0].text)
    notes = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".correlation-card .gradient-note")]
    assert "Features of each layer: 8, 2,048 of 3,000 (sampled), 10." in notes[0]
    cards = driver.find_elements(By.CSS_SELECTOR, ".correlation-card")
    assert cards[2].is_displayed() and "token ids" in notes[2]
    assert not cards[2].find_element(By.CSS_SELECTOR, ".heatmap").is_displayed()
    choose(driver, ".correlation-layer", "wide")
    WebDriverWait(driver, 30, poll_frequency=0.2).until(
        lambda d: "of 3,000 features, evenly spaced" in d.find_elements(By.CSS_SELECTOR, ".correlation-card .gradient-note")[1].text)
