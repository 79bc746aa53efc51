"""The tab with damaged runs beside a good one: problems are visible notes, never a blank tab."""

import numpy as np
import pytest

from nnviz_tb import metadata
from conftest import TensorBoardServer
from damaged_runs import activations_summary, good_run, probe_summary, replaced, write_run
from test_browser import choose, driver, open_tab, screenshot, wait_ready  # noqa: F401 (driver: a fixture)


@pytest.fixture(scope="module")
def damaged_server(tmp_path_factory):
    """`good`; `damaged` (a malformed record, bad thumbnails, NaN values); `unreadable` (no probe)."""
    root = tmp_path_factory.mktemp("damaged_logs")
    summaries, labels = good_run(num_points=200, layers=("a", "b", "c"), dim=8)
    write_run(root / "good", summaries)
    info = {"num_points": 200, "class_names": ["c0", "c1", "c2", "c3"]}
    damaged = replaced(summaries, metadata.PROBE_TAG, blobs=probe_summary(info, labels, np.zeros((200, 8), np.uint8)).blobs)
    damaged = replaced(damaged, metadata.activations_tag("a", 1), content=b'{"kind": "activations", "epoch": "1"}')
    values = np.random.default_rng(0).normal(size=(200, 8)).astype(np.float32) + labels[:, None]
    values[:3, 0] = [np.nan, np.inf, -np.inf]
    write_run(root / "damaged", replaced(damaged, metadata.activations_tag("b", 1), blobs=[metadata.encode_array(values)]))
    write_run(root / "unreadable", replaced(summaries, metadata.PROBE_TAG, blobs=[b"[]", b"x", b""]))
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("damaged_cache"))
    server.wait_for_runs(["good", "damaged", "unreadable"])  # The tab opens on the first run listed.
    yield server
    server.stop()


def notes(driver):
    return driver.execute_script(
        "const notes = document.querySelector('.notes');"
        "return notes.hidden ? [] : [...notes.querySelectorAll('.note')].map((n) => n.textContent);"
    )


def test_damaged_runs_show_notes_beside_the_good_run(driver, damaged_server):
    open_tab(driver, damaged_server)  # Opens on the first run, "damaged": never a blank tab.
    choose(driver, ".run-select", "good")
    wait_ready(driver)
    assert notes(driver) == []
    choose(driver, ".run-select", "damaged")
    wait_ready(driver)
    shown = notes(driver)
    assert any("Run damaged: Summary 'nnviz/activations/a/epoch_00001' skipped" in n for n in shown)
    assert any("Thumbnails not shown" in n for n in shown)
    assert "3 NaN or infinite activation values of layer 'b' at epoch 1 are drawn as 0." in shown
    assert len(driver.find_elements("css selector", ".content canvas")) > 0
    screenshot(driver, "damaged_run_notes.png")
    choose(driver, ".run-select", "unreadable")
    status = driver.execute_script("return document.querySelector('.status').textContent")
    assert status == "Run unreadable has nothing this tab can read: see the notes above."
    assert any("'nnviz/probe'" in n and "'unreadable'" in n for n in notes(driver))
    assert "--load_fast=false" in driver.execute_script("return document.querySelector('.hint').textContent")

