"""Sequences drawn frame by frame while the server computes them, and t-SNE's parameters, in the
nnviz tab in real headless Chromium on a real `tensorboard`.

Screenshots go to `$NNVIZ_ARTIFACTS` (see test_browser.py).
"""

import re
import time

import pytest

from conftest import TensorBoardServer, train_digits_mlp
from test_browser import choose, driver, open_tab, run_module, screenshot, wait_ready  # noqa: F401

RUN = "long"
EPOCHS = 12  # Frames of epochs 0..12: t-SNE computes them one after the other.

# What the epoch view shows: frames drawn (finished), provisional, in all; the status; the trails' hint.
SHOWN_JS = """
const plots = [...document.querySelectorAll('.filmstrip .scatter')];
const status = document.querySelector('.status');
return {
  ready: plots.filter((p) => p.dataset.state === 'ready').length,
  partial: plots.filter((p) => p.dataset.state === 'partial').length,
  total: plots.length,
  status: status.classList.contains('hidden') ? '' : status.textContent,
  trails: document.querySelector('.trails .plot-hint').textContent,
};
"""

# The ./evolution URLs the tab requested since the last call.
EVOLUTION_URLS_JS = """
const urls = performance.getEntriesByType('resource').map((e) => e.name).filter((u) => u.includes('/evolution?'));
performance.clearResourceTimings();
return urls.map((u) => decodeURIComponent(u));
"""


@pytest.fixture(scope="module")
def long_server(tmp_path_factory):
    """Run `long`: the digits MLP trained for 12 epochs on 1,000 probe points."""
    root = tmp_path_factory.mktemp("partial_logs")
    train_digits_mlp(str(root / RUN), epochs=EPOCHS, probe_size=1000)
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("partial_cache"))
    server.wait_for_runs([RUN])
    yield server
    server.stop()


def evolution_urls(driver):
    return driver.execute_script(EVOLUTION_URLS_JS)


def test_sequence_is_drawn_frame_by_frame(driver, long_server):
    from selenium.webdriver.common.by import By

    driver.set_window_size(1280, 800)
    try:
        open_tab(driver, long_server)
        driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='epochs']").click()
        wait_ready(driver)
        frames = EPOCHS + 1
        assert len(driver.find_elements(By.CSS_SELECTOR, ".filmstrip .scatter[data-state='ready']")) == frames
        choose(driver, ".method-select", "tsne")
        seen, partial_shot, kept = [], None, None
        deadline = time.time() + 300
        while time.time() < deadline:
            shown = driver.execute_script(SHOWN_JS)
            seen.append(shown)
            if not shown["status"] and shown["ready"] == frames:
                break
            if 0 < shown["ready"] < frames and kept is None:
                kept = driver.find_element(By.CSS_SELECTOR, ".filmstrip .scatter[data-state='ready'] canvas")
            if frames / 3 <= shown["ready"] < frames and partial_shot is None:
                partial_shot = screenshot(driver, "partial_epochs_1280.png")
            time.sleep(0.2)
        partway = [s for s in seen if 0 < s["ready"] < s["total"] and s["status"]]
        assert partway, "never saw a partly drawn sequence: %r" % seen[-5:]
        assert all(s["total"] == frames for s in partway)
        for s in partway:  # "Computing t-SNE projections… 3 of 13 frames · about 12 s left"
            assert re.search(r"\d+ of %d frames( · about \d+ (s|min) left)?$" % frames, s["status"]), s["status"]
        assert any(s["trails"].startswith("So far from epoch ") for s in partway if s["ready"] >= 2), partway[-1]
        print("partial states seen: %d (provisional frames in %d), e.g. %r" % (
            len(partway), sum(s["partial"] > 0 for s in partway), partway[len(partway) // 2]["status"]))
        wait_ready(driver, timeout=120)
        assert driver.execute_script(SHOWN_JS)["ready"] == frames
        assert driver.execute_script("return arguments[0].isConnected", kept)  # The plots stayed: no flicker.
        assert driver.find_element(By.CSS_SELECTOR, ".player-label").text == "epoch %d" % EPOCHS
        assert not driver.find_element(By.CSS_SELECTOR, ".play-button").get_attribute("disabled")
        assert "So far" not in driver.find_element(By.CSS_SELECTOR, ".trails .plot-hint").text
        screenshot(driver, "tsne_epochs_1280.png")
    finally:
        driver.set_window_size(1600, 1000)


def test_a_layer_shows_an_earlier_epochs_layout_until_its_own_is_computed(driver, long_server):
    from selenium.webdriver.common.by import By

    open_tab(driver, long_server)  # Across layers at the last epoch: each frame needs its layer's 12 epochs.
    wait_ready(driver)
    choose(driver, ".method-select", "tsne")
    stand_ins, deadline = set(), time.time() + 300
    while time.time() < deadline:
        notes = driver.execute_script(
            "return [...document.querySelectorAll('.multiples .scatter')].map((p) => "
            "[p.dataset.state, p.querySelector('.plot-note').textContent]);")
        for state, note in notes:
            found = re.fullmatch(r"epoch (\d+)'s layout, refining…", note)
            if found:
                assert state == "partial" and int(found.group(1)) < EPOCHS
                stand_ins.add(int(found.group(1)))
        title = driver.find_element(By.CSS_SELECTOR, ".card-title").text
        if title.startswith("t-SNE") and notes and all(state == "ready" for state, _ in notes):
            break  # (Right after choosing t-SNE, the PCA plots are still shown, ready.)
        time.sleep(0.2)
    assert stand_ins, "no frame ever showed an earlier epoch's layout: %r" % notes
    wait_ready(driver, timeout=120)


def test_tsne_parameters_show_for_tsne_only_and_reach_the_request(driver, long_server):
    from selenium.webdriver.common.by import By

    open_tab(driver, long_server)
    choose(driver, ".epoch-select", 0)  # A t-SNE frame starts from the one before: few frames to compute.
    wait_ready(driver)
    fields = driver.find_element(By.CSS_SELECTOR, ".tsne-fields")
    methods = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".method-select option")]
    assert methods == ["PCA (per frame)", "PCA (shared axes)", "t-SNE"]
    assert not fields.is_displayed()
    evolution_urls(driver)

    choose(driver, ".method-select", "tsne")
    assert fields.is_displayed()
    perplexity = driver.find_element(By.CSS_SELECTOR, ".perplexity-input")
    seed = driver.find_element(By.CSS_SELECTOR, ".seed-input")
    assert perplexity.get_attribute("value") == "30" and seed.get_attribute("value") == "0"
    assert "perplexity" in perplexity.get_attribute("title") and "seed" in seed.get_attribute("title")
    wait_ready(driver, timeout=120)
    assert any("method=tsne" in u and "perplexity=30" in u and "seed=0" in u for u in evolution_urls(driver))

    choose(driver, ".perplexity-input", "12")
    choose(driver, ".seed-input", "3")
    wait_ready(driver, timeout=120)
    assert any("perplexity=12" in u and "seed=3" in u for u in evolution_urls(driver))
    choose(driver, ".perplexity-input", "500")  # Out of [2, 100]: back to the value in use, nothing asked.
    choose(driver, ".seed-input", "1.5")
    assert perplexity.get_attribute("value") == "12" and seed.get_attribute("value") == "3"
    assert not evolution_urls(driver)

    choose(driver, ".method-select", "joint_pca")
    assert not fields.is_displayed()
    wait_ready(driver)
    urls = evolution_urls(driver)
    assert urls and all("method=joint_pca" in u and "perplexity" not in u for u in urls), urls
    assert driver.find_element(By.CSS_SELECTOR, ".card-title").text.startswith("PCA (shared axes) of each layer")

    # Compare: two epochs of one layer in shared PCA axes are drawn as computed, not rotated.
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='compare']").click()
    wait_ready(driver)
    assert "share their PCA axes" in driver.find_element(By.CSS_SELECTOR, ".compare-note").text

    # Neuron mode keeps its own methods and has no t-SNE parameters.
    driver.find_element(By.CSS_SELECTOR, ".segment[data-mode='neurons']").click()
    choose(driver, ".method-select", "tsne")
    assert [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".method-select option")] == ["MDS", "t-SNE"]
    assert not fields.is_displayed()
    wait_ready(driver, timeout=120)


def test_progress_text_and_finished_frames(driver, long_server):
    open_tab(driver, long_server)
    texts = run_module(driver, "views/status.js", """return [
        m.describeProgress({progress: 0.4, frames_total: 8, frames_done: 3, eta_seconds: 12.4}),
        m.describeProgress({progress: 0.5, frames_total: 8, frames_done: 4, eta_seconds: 130}),
        m.describeProgress({progress: 0.25, frames_total: 1, frames_done: 0, eta_seconds: null}),
        m.formatEta(0.2), m.formatEta(7200)];""")
    assert texts == ["3 of 8 frames · about 12 s left", "4 of 8 frames · about 2 min left", "25%", "about 1 s", "about 2 h"]
    # The trails join the longest run of consecutive finished (not provisional) frames.
    spans = run_module(driver, "data.js", """const [f, p] = [{}, {partial: true}];
        return [m.finishedSpan([f, f, null, f, f, f, p]), m.finishedSpan([null, p]), m.finishedSpan([f])];""")
    assert spans == [[3, 6], [0, 0], [0, 1]]
    sequence = run_module(driver, "data.js", """const s = m.buildSequence({labels: [0, 1], frames: [
        null, {layer: 'b', epoch: 1, points: [[1, 0], [0, 2]], neighborhood_hit: 1, partial: true}]}, 2,
        [{layer: 'a', epoch: 1}, {layer: 'b', epoch: 1}]);
        return [s.keys.map((k) => k.layer), s.complete, s.frames[1].partial, typeof s.frames[1].extent, s.extent];""")
    assert sequence == [["a", "b"], False, True, "number", 1]  # No finished frame: extent 1.
