"""The incremental run index (`run_data.RunData`) and the cache of serialized answers built on it."""

import gzip
import json
import threading
import time

import pytest
from tensorboard.data import provider

from damaged_runs import content, good_run, write_run
from nnviz_tb import metadata, metadata_checks
from nnviz_tb.plugin import run_data
from test_plugin_routes import ROUTE, make_client


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class FakeProvider:
    """Lists `runs` `{run: {tag: (step, wall time, content)}}`; each listing "takes" `listing_s` of `clock`."""

    def __init__(self, runs, clock=None, listing_s=0.01, delay_s=0.0):
        self.runs, self.clock, self.listing_s, self.delay_s = runs, clock, listing_s, delay_s
        self.listings = 0

    def list_blob_sequences(self, ctx, experiment_id, plugin_name):
        self.listings += 1
        time.sleep(self.delay_s)
        if self.clock is not None:
            self.clock.now += self.listing_s
        return {run: {tag: series(*values) for tag, values in listed.items()} for run, listed in self.runs.items()}


def series(step, wall_time, raw):
    return provider.BlobSequenceTimeSeries(max_step=step, max_wall_time=wall_time, max_length=1,
                                           plugin_content=raw, description="", display_name="")


def tags(epochs, layers=("a", "b")):
    """The listed tags of a healthy run with `epochs`."""
    listed = {metadata.PROBE_TAG: (0, 1.0, content(metadata.KIND_PROBE))}
    for epoch in epochs:
        for layer in layers:
            listed[metadata.activations_tag(layer, epoch)] = (
                epoch, 2.0 + epoch, content(metadata.KIND_ACTIVATIONS, layer=layer, epoch=epoch))
    return listed


@pytest.fixture
def parses(monkeypatch):
    """Counts calls of `metadata_checks.read_plugin_content`."""
    calls = []
    parse = metadata_checks.read_plugin_content
    monkeypatch.setattr(metadata_checks, "read_plugin_content", lambda raw: calls.append(raw) or parse(raw))
    return calls


@pytest.fixture
def clock():
    return Clock()


def test_the_listing_is_reused_within_its_window_and_refreshed_after(clock):
    fake = FakeProvider({"r": tags([0])}, clock, listing_s=0.01)  # Reused for 10 x 10 ms.
    data = run_data.RunData(fake, clock=clock)
    data.index(None, "")
    clock.now += 0.05
    data.index(None, "")
    assert fake.listings == 1
    fake.runs["r"] = tags([0, 1])
    clock.now += 0.06
    assert data.index(None, "")["r"].epochs() == [0, 1]
    assert fake.listings == 2


def test_the_window_is_at_most_max_reuse_s(clock):
    fake = FakeProvider({"r": tags([0])}, clock, listing_s=10.0)
    data = run_data.RunData(fake, clock=clock)
    data.index(None, "")
    clock.now += run_data.MAX_REUSE_S
    data.index(None, "")
    assert fake.listings == 2


def test_only_new_metadata_of_changed_runs_is_parsed(clock, parses):
    fake = FakeProvider({"r": tags([0, 1]), "s": tags([0, 1])}, clock)
    data = run_data.RunData(fake, clock=clock)
    data.index(None, "")
    assert len(parses) == 2 * 5
    fake.runs["r"] = tags([0, 1, 2])
    clock.now += 10
    index = data.index(None, "")
    assert len(parses) == 2 * 5 + 2  # Epoch 2 of layers a and b.
    assert index["r"].epochs() == [0, 1, 2] and index["s"].epochs() == [0, 1]


def test_concurrent_requests_share_one_listing():
    fake = FakeProvider({"r": tags([0])}, delay_s=0.2)
    data = run_data.RunData(fake)
    threads = [threading.Thread(target=data.index, args=(None, "")) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake.listings == 1


def test_while_one_request_lists_the_others_get_the_last_index(clock):
    fake = FakeProvider({"r": tags([0])}, clock)
    data = run_data.RunData(fake, clock=clock)
    first = data.index(None, "")
    listing, release = threading.Event(), threading.Event()

    def slow_listing(*args, **kwargs):
        listing.set()
        release.wait()
        return {}

    fake.list_blob_sequences = slow_listing
    clock.now += 10
    thread = threading.Thread(target=data.index, args=(None, ""))
    thread.start()
    listing.wait()
    assert data.index(None, "") is first
    release.set()
    thread.join()
    assert data.index(None, "") == {}


def test_generations_change_exactly_when_the_data_does(clock):
    fake = FakeProvider({"r": tags([0]), "s": tags([0])}, clock)
    data = run_data.RunData(fake, clock=clock)

    def generations():
        clock.now += 10
        return data.generation(None, ""), data.generation(None, "", "r"), data.generation(None, "", "s")

    first = generations()
    assert generations() == first
    fake.runs["r"] = tags([0, 1])
    second = generations()
    assert second[0] != first[0] and second[1] != first[1] and second[2] == first[2]
    del fake.runs["s"]
    third = generations()
    assert third[0] != second[0] and third[1] == second[1]


def test_a_corrupt_tag_is_still_reported_after_a_refresh(clock):
    listed = dict(tags([0]), broken=(0, 1.0, b"{not json"))
    fake = FakeProvider({"r": listed}, clock)
    data = run_data.RunData(fake, clock=clock)
    for _ in range(2):
        clock.now += 10
        problems = data.index(None, "")["r"].problems
        assert len(problems) == 1 and problems[0].startswith("Summary 'broken' skipped: its metadata is")


def test_without_caches_every_request_lists_and_parses(clock, parses, monkeypatch):
    monkeypatch.setenv("NNVIZ_TB_SERVER_CACHES", "0")
    fake = FakeProvider({"r": tags([0])}, clock)
    data = run_data.RunData(fake, clock=clock)
    data.index(None, "")
    data.index(None, "")
    assert fake.listings == 2 and len(parses) == 2 * 3


@pytest.fixture
def served(tmp_path, monkeypatch):
    """`(client, plugin)` serving runs `r` and `s` (epochs 0 and 1), the listing never reused."""
    monkeypatch.setenv("NNVIZ_TB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(run_data, "MAX_REUSE_S", 0.0)
    for run in ("r", "s"):
        write_run(tmp_path / "logs" / run, good_run(epochs=(0, 1))[0])
    return make_client(str(tmp_path / "logs"))


def counted(monkeypatch, owner, name):
    """Counts calls of `owner.name`."""
    calls = []
    method = getattr(owner, name)
    monkeypatch.setattr(owner, name, lambda *args: calls.append(args) or method(*args))
    return calls


def get_ready(client, path, **kwargs):
    for _ in range(600):
        response = client.get(ROUTE + path, **kwargs)
        if response.status_code != 202:
            return response
        time.sleep(0.05)
    raise AssertionError("still computing: %s" % path)


PROJECTION = "/projection?run=s&layer=a&epoch=1"


def test_ready_answers_are_served_again_until_their_run_changes(served, monkeypatch, tmp_path):
    client, plugin = served
    runs = counted(monkeypatch, plugin, "runs_impl")
    projections = counted(monkeypatch, plugin._activations, "projection_impl")
    first, projection = get_ready(client, "/runs").get_data(), get_ready(client, PROJECTION).get_data()
    runs.clear(), projections.clear()
    assert get_ready(client, "/runs").get_data() == first
    assert get_ready(client, PROJECTION).get_data() == projection
    zipped = get_ready(client, PROJECTION, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.get_data()) == projection
    assert (runs, projections) == ([], [])

    write_run(tmp_path / "logs" / "r", good_run(epochs=(2,))[0][1:])  # A new epoch of run r.
    plugin._data._provider._multiplexer.Reload()
    assert json.loads(get_ready(client, "/runs").get_data())["r"]["epochs"] == [0, 1, 2]
    assert get_ready(client, PROJECTION).get_data() == projection
    assert (len(runs), projections) == (1, [])  # Run s is unchanged: still served from the cache.


def test_errors_are_not_kept(served, monkeypatch):
    client, plugin = served
    projections = counted(monkeypatch, plugin._activations, "projection_impl")
    for _ in range(2):
        assert client.get(ROUTE + "/projection?run=s&layer=zzz&epoch=1").status_code == 404
    assert len(projections) == 2
