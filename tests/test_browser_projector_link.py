"""The nnviz tab's link to TensorBoard's Projector: shown for a run with `EmbeddingLogger` data
(naming the entry to pick), opening the Projector tab; absent for a run without."""

import time

import pytest

import nnviz_tb
from conftest import TensorBoardServer, digits, train_digits_mlp
from test_browser import choose, driver, open_tab, screenshot, wait_ready  # noqa: F401 (a fixture)
from test_browser_projector import _wait_for as wait_for_text

LINKS_JS = "return [...document.querySelectorAll('.projector-link:not([hidden]) a')].map((a) => a.textContent)"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Two runs of the digits MLP (3 epochs): `a_embed` with an EmbeddingLogger, `b_plain` without."""
    root = tmp_path_factory.mktemp("link_logs")
    x, y = digits()
    embed_dir = str(root / "a_embed")
    train_digits_mlp(embed_dir, callbacks=[nnviz_tb.EmbeddingLogger(embed_dir, probe=(x[:300], y[:300]))])
    train_digits_mlp(str(root / "b_plain"))
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("link_cache"))
    server.wait_for_runs(["a_embed", "b_plain"])
    yield server
    server.stop()


def _links(browser, expected, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        links = browser.execute_script(LINKS_JS)
        if links == expected:
            return links
        time.sleep(0.3)
    raise AssertionError("links %r, expected %r" % (links, expected))


def test_links_name_the_entries_and_open_the_projector(server, driver):  # noqa: F811
    from selenium.webdriver.common.by import By

    open_tab(driver, server)  # Across layers, the latest epoch (3).
    _links(driver, ["hidden1 @ epoch 003", "hidden2 @ epoch 003", "output @ epoch 003"])
    help_text = driver.find_element(By.CSS_SELECTOR, ".projector-link .field-help").text
    assert 'pick run "a_embed"' in help_text
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='epochs']").click()
    wait_ready(driver)
    choose(driver, ".layer-select", "hidden1")
    wait_ready(driver)
    _links(driver, ["hidden1 @ epoch 003"])  # The shown layer and epoch.
    driver.execute_script("const s = document.querySelector('.epoch-slider'); s.value = '1';"
                          "s.dispatchEvent(new Event('change'));")  # The player at epoch 1.
    _links(driver, ["hidden1 @ epoch 001"])
    screenshot(driver, "projector_link.png")
    driver.find_element(By.CSS_SELECTOR, ".projector-link a").click()
    driver.switch_to.default_content()
    deadline = time.time() + 30
    while time.time() < deadline and driver.execute_script("return location.hash") != "#projector":
        time.sleep(0.3)
    assert driver.execute_script("return location.hash") == "#projector"
    # TensorBoard now shows the Projector plugin's frame, and the Projector in it the run's 300 points.
    deadline = time.time() + 30
    frame = None
    while time.time() < deadline and frame is None:
        time.sleep(0.5)
        frame = driver.execute_script("return [...document.querySelectorAll('iframe')].find((f) =>"
                                      " f.offsetParent !== null && f.contentWindow.location.href.includes('projector'))")
    assert frame is not None, "no Projector frame shown"
    driver.switch_to.frame(frame)
    driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, "iframe"))
    wait_for_text(driver, ".numDataPoints", "300")
    driver.switch_to.default_content()


def test_no_link_for_a_run_without_embeddings(server, driver):  # noqa: F811
    open_tab(driver, server)
    _links(driver, ["hidden1 @ epoch 003", "hidden2 @ epoch 003", "output @ epoch 003"])
    choose(driver, ".run-select", "b_plain")
    wait_ready(driver)
    time.sleep(2)  # Time for the Projector's answer.
    assert driver.execute_script(LINKS_JS) == []
    assert driver.execute_script("return document.querySelector('.projector-link').hidden") is True
