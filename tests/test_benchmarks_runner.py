"""benchmarks/run_all.py on fake scripts, and a static check of the real benchmarks (none is run)."""

import glob
import os
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "benchmarks")
sys.path.insert(0, BENCHMARKS)

import _report  # noqa: E402
import run_all  # noqa: E402

REPORTING = """
import json
print("measuring")
print(%r + json.dumps({"rows": [
    {"name": "fake ratio", "value": 1.25, "unit": "x", "target": "<= 1.1x", "ok": False},
    {"name": "fake time", "value": 12.5, "unit": "ms", "target": "", "ok": None}]}))
"""
FAILING = """
import sys
QUICK_ARGS = ["--fast"]
sys.stderr.write("argv %s\\n" % sys.argv[1:])
raise SystemExit("fake failure")
"""


@pytest.fixture
def fakes(tmp_path):
    for name, text in (("reporting", REPORTING % _report.MARKER), ("failing", FAILING),
                       ("_helper", "raise SystemExit(1)\n")):
        (tmp_path / (name + ".py")).write_text(text)
    return tmp_path


def run(fakes, *args):
    out = fakes / "out.md"
    code = run_all.main(["--dir", str(fakes), "--out", str(out), *args])
    return code, out.read_text()


def test_markdown_has_every_row_and_the_failure(fakes):
    code, text = run(fakes, "--quick")
    assert code == 1
    assert "| Benchmark | Measurement | Value | Target | Met |" in text
    assert "| reporting | fake ratio | 1.250x | <= 1.1x | **no** |" in text
    assert "| reporting | fake time | 12.5 ms | – | – |" in text
    assert "### failing: exit 1" in text
    assert "fake failure" in text and "argv ['--fast']" in text  # Its QUICK_ARGS, and its stderr's tail.
    assert "argv ['--quick']" not in text and "_helper" not in text
    assert "load average" in text and "`python benchmarks/run_all.py --dir" in text


def test_only_and_skip(fakes):
    code, text = run(fakes, "--only", "reporting.py")
    assert code == 0 and "fake ratio" in text and "failing" not in text
    code, text = run(fakes, "--skip", "reporting")
    assert code == 1 and "fake ratio" not in text and "### failing" in text
    with pytest.raises(SystemExit, match="unknown benchmarks: nope"):
        run(fakes, "--only", "nope")


def test_timed_out_and_silent_scripts_fail(fakes):
    (fakes / "slow.py").write_text("import time\ntime.sleep(60)\n")
    (fakes / "silent.py").write_text("print('no rows')\n")
    code, text = run(fakes, "--only", "slow", "silent", "--timeout-min", "0.02")
    assert code == 1 and "### slow: timed out" in text and "### silent: no rows" in text


def test_report_parse_round_trip(capsys):
    rows = [_report.row("a", 1, "x", "<= 2x", True), _report.at_most("b", 3.5, "MB", 300),
            _report.row("c", 2, "s")]
    _report.report(rows)
    printed = capsys.readouterr().out
    assert _report.parse("noise\n" + printed + "more noise\n") == rows
    assert rows[1] == {"name": "b", "value": 3.5, "unit": "MB", "target": "<= 300 MB", "ok": True}
    assert _report.at_most("c", 2, "s", None) == rows[2] and not _report.at_most("d", 1.2, "x", 1.1)["ok"]
    assert _report.parse(_report.MARKER + '{"rows": [{"name": "d", "value": NaN}]}')[0]["name"] == "d"


def test_declared_reads_literals_without_running(fakes):
    path = str(fakes / "failing.py")
    assert run_all.declared(path, "QUICK_ARGS", None) == ["--fast"]
    assert run_all.declared(path, "MEMORY_CAP_GB", 12) == 12
    assert run_all.command_of(path, quick=True)[:1] == ["prlimit"]


@pytest.mark.parametrize("path", sorted(run_all.scripts(BENCHMARKS).values()), ids=os.path.basename)
def test_every_benchmark_declares_quick_mode_and_reports(path):
    with open(path) as f:
        text = f.read()
    quick = run_all.declared(path, "QUICK_ARGS", None)
    assert quick is not None or '"--quick"' in text, "no QUICK_ARGS and no --quick flag"
    assert all(isinstance(a, str) for a in quick or [])
    assert "report(" in text
    if "run_capped(" in text:  # A cap over the script would bound its subprocesses' own caps.
        assert run_all.declared(path, "MEMORY_CAP_GB", 12) is None


def test_found_scripts_are_the_benchmarks():
    found = run_all.scripts(BENCHMARKS)
    expected = {os.path.basename(p)[:-3] for p in glob.glob(os.path.join(BENCHMARKS, "[!_]*.py"))} - {"run_all"}
    assert set(found) == expected and "activation_logger_overhead" in found
