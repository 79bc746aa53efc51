"""The confusion view's "probe | validation" switch, in real headless Chromium on a real `tensorboard`:
the validation data's matrix and metrics (ConfusionMatrixLogger) at the epoch shown."""

import json
import os

import numpy as np
import pytest

import nnviz_tb
from conftest import TensorBoardServer, digits, train_digits_mlp
from test_browser import ARTIFACTS, choose, driver, open_tab, wait_ready  # noqa: F401
from test_browser_truth import _wait

VALIDATION = 300
TITLE_JS = "return document.querySelector('.layer-mode .confusion .section-title').textContent"


def _wait_title(driver, prefix):
    """Waits until the layer mode's confusion matrix title starts with `prefix`."""
    _wait(driver, TITLE_JS + ".startsWith(arguments[0])", prefix)


@pytest.fixture(scope="module")
def confusion_server(tmp_path_factory):
    """Run `mlp` (3 epochs) with validation matrices in `mlp/validation` at epochs 0, 2 and 3, and
    run `plain` without any; also yields the final predictions of the validation data."""
    x, y = digits()
    root = tmp_path_factory.mktemp("confusion_logs")
    validation = (x[-VALIDATION:], y[-VALIDATION:])
    logger = nnviz_tb.ConfusionMatrixLogger(str(root / "mlp"), validation, every_n_epochs=2)
    model, _ = train_digits_mlp(str(root / "mlp"), probe_size=200, callbacks=[logger])
    train_digits_mlp(str(root / "plain"), epochs=1, probe_size=100)
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("confusion_cache"))
    server.wait_for_runs(["mlp", "mlp/validation", "plain"])
    yield server, validation[1], model.predict(validation[0], verbose=0).argmax(axis=1)
    server.stop()


def _table(driver):
    """`{row head: [cell texts]}` of the shown metrics table."""
    from selenium.webdriver.common.by import By

    table = driver.find_element(By.CSS_SELECTOR, ".layer-mode .confusion-metrics")
    return {r.find_element(By.TAG_NAME, "th").text: [c.text for c in r.find_elements(By.TAG_NAME, "td")]
            for r in table.find_elements(By.TAG_NAME, "tr")}


def _percents(values):
    return [None if v == "—" else float(v) for v in values]


def test_the_switch_shows_the_validation_data_at_the_epoch_shown(driver, confusion_server):
    from selenium.webdriver.common.by import By
    from sklearn.metrics import precision_recall_fscore_support

    server, labels, predictions = confusion_server
    open_tab(driver, server)
    switch = driver.find_element(By.CSS_SELECTOR, ".layer-mode .confusion-source")
    assert switch.is_displayed() and switch.text.split() == ["probe", "validation"]
    assert driver.execute_script(TITLE_JS).startswith("Confusion matrix of the probe at epoch 3: ")
    probe_table = _table(driver)

    switch.find_element(By.CSS_SELECTOR, "[data-source='validation']").click()
    _wait_title(driver, "Confusion matrix of the validation data at epoch 3 (300 points): ")
    rows = _table(driver)
    assert rows != probe_table and rows["points"] == [str(n) for n in np.bincount(labels, minlength=10)]
    per_class = precision_recall_fscore_support(labels, predictions, labels=range(10), zero_division=0)
    predicted = np.bincount(predictions, minlength=10)
    for name, expected, defined in (("precision %", per_class[0], predicted > 0), ("recall %", per_class[1], True),
                                    ("F1 %", per_class[2], True)):
        shown = _percents(rows[name])
        for value, truth, known in zip(shown, 100 * expected, np.broadcast_to(defined, (10,))):
            assert (value is None) if not known else value == pytest.approx(truth, abs=0.051), (name, shown)
    correct = 100 * np.mean(labels == predictions)
    assert driver.execute_script(TITLE_JS).endswith(": %.1f %% correct" % correct)
    macro = precision_recall_fscore_support(labels, predictions, average="macro", zero_division=0)
    note = driver.find_element(By.CSS_SELECTOR, ".layer-mode .confusion-macro").text
    assert "F1 %.1f %%" % (100 * macro[2]) in note, note
    assert "Click a cell" not in driver.find_element(By.CSS_SELECTOR, ".layer-mode .confusion").text  # No points to select.
    os.makedirs(ARTIFACTS, exist_ok=True)
    view = driver.find_element(By.CSS_SELECTOR, ".layer-mode .confusion")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", view)
    view.screenshot(os.path.join(ARTIFACTS, "confusion_validation.png"))

    # Epoch 1 was not recorded: the matrix of epoch 0, the route's numbers.
    choose(driver, ".epoch-select", 1)
    wait_ready(driver)
    _wait_title(driver, "Confusion matrix of the validation data at epoch 0, the latest recorded by epoch 1 (300 points): ")
    answer = json.loads(server.get("/data/plugin/nnviz/confusion?run=mlp&epoch=1")[1])
    assert answer["epoch"] == 0
    assert _percents(_table(driver)["recall %"]) == pytest.approx([100 * r for r in answer["recall"]], abs=0.051)

    # Back to the probe; a run without validation data has no switch.
    switch.find_element(By.CSS_SELECTOR, "[data-source='probe']").click()
    assert driver.execute_script(TITLE_JS).startswith("Confusion matrix of the probe at epoch 1: ")
    choose(driver, ".run-select", "plain")
    wait_ready(driver)
    _wait_title(driver, "Confusion matrix of the probe at epoch 1: ")
    assert not driver.find_element(By.CSS_SELECTOR, ".layer-mode .confusion-source").is_displayed()
