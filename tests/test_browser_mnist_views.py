"""Every view of the tab on a real MNIST run with 5,000 probe points, in headless Chromium on a real
`tensorboard`: each draws without an error, and its screenshot goes to `$NNVIZ_ARTIFACTS`
(`mnist5000_<view>.png`, see test_browser.py), where the README's screenshots are chosen from.
"""

import os

import pytest

from conftest import TensorBoardServer
from test_browser import choose, driver, open_tab, screenshot, wait_ready  # noqa: F401

MNIST_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "mnist")
RUN = "mnist_mlp"
PROBE = 5000


@pytest.fixture(scope="module")
def mnist_server(tmp_path_factory):
    """An MLP trained 2 epochs on 3,000 MNIST test images, the other 5,000 recorded by every logger."""
    import keras

    import nnviz_tb
    from nnviz_tb import datasets

    (x, y), probe = datasets.mnist_split(MNIST_DIR, num_train=3000, num_probe=PROBE)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten()]
                             + [keras.layers.Dense(n, activation="relu", name="hidden%d" % i)
                                for i, n in enumerate((128, 64, 32), 1)]
                             + [keras.layers.Dense(10, activation="softmax", name="output")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    log_dir = str(tmp_path_factory.mktemp("mnist_views") / RUN)
    model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=[
        nnviz_tb.ActivationLogger(log_dir, probe=probe),
        nnviz_tb.CorrelationLogger(log_dir, probe=probe, num_augmentations=50),
        nnviz_tb.GradientStatsLogger(log_dir, every_n_steps=4),
    ])
    server = TensorBoardServer(os.path.dirname(log_dir), tmp_path_factory.mktemp("mnist_views_cache"))
    server.wait_for_runs([RUN])
    yield server
    server.stop()


def _show(driver, mode, timeout=90):
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='%s']" % mode).click()
    wait_ready(driver, timeout=timeout)


@pytest.mark.parametrize("mode", ["layers", "epochs", "neurons", "compare", "gradients", "correlations"])
def test_every_view_draws_a_5000_point_mnist_run(driver, mnist_server, mode):
    from selenium.webdriver.common.by import By

    driver.set_window_size(1600, 1000)
    open_tab(driver, mnist_server)
    _show(driver, mode)
    assert driver.find_elements(By.CSS_SELECTOR, ".content canvas")
    assert not driver.find_elements(By.CSS_SELECTOR, ".status.error")
    drawn = driver.execute_script(
        "return [...document.querySelectorAll('.content canvas')].some((c) => c.width > 0 && "
        "c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0));")
    assert drawn, "nothing drawn in %s" % mode
    screenshot(driver, "mnist5000_%s.png" % mode)


def test_tsne_across_layers_of_a_5000_point_mnist_run(driver, mnist_server):
    from selenium.webdriver.common.by import By

    driver.set_window_size(1600, 1000)
    open_tab(driver, mnist_server)
    choose(driver, ".method-select", "tsne")
    wait_ready(driver, timeout=240)  # 15 frames of 5,000 points: every layer's epochs 0-2.
    plots = driver.find_elements(By.CSS_SELECTOR, ".multiples .scatter")
    assert len(plots) == 4 and all(p.get_attribute("data-state") == "ready" for p in plots)
    notes = [p.find_element(By.CSS_SELECTOR, ".plot-note").text for p in plots]
    assert all(n.startswith("NH ") for n in notes) and float(notes[-1][3:]) > 0.8, notes
    screenshot(driver, "mnist5000_layers_tsne.png")
