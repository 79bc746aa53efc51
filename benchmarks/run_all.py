"""Runs every benchmark, one at a time, and writes one Markdown table of their results.

Each `benchmarks/*.py` (but `_*.py` and this file) runs in its own
subprocess from the repository root with `TF_CPP_MIN_LOG_LEVEL=3`; the rows
it prints with `_report.report` make the table. A script may declare, as
module-level literals (read with `ast`, without importing the script):

* `QUICK_ARGS`: its arguments under `--quick` (default `["--quick"]`);
* `MEMORY_CAP_GB`: the address-space cap it runs under (`prlimit --as`);
  `None` for a script that caps its own subprocesses (default 12).

    python benchmarks/run_all.py [--quick] [--only NAME ...] [--skip NAME ...]
                                 [--out benchmarks/RESULTS.md] [--timeout-min 40]
"""

import argparse
import ast
import datetime
import glob
import importlib.metadata
import math
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

from _report import MARKER, parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_QUICK_ARGS = ["--quick"]
DEFAULT_CAP_GB = 12
STDERR_TAIL_LINES = 20


def scripts(folder, only=(), skip=()):
    """`{name: path}` of the benchmark scripts in `folder`, by name; `only`/`skip` filter names."""
    found = {os.path.basename(p)[:-3]: p for p in sorted(glob.glob(os.path.join(folder, "[!_]*.py")))}
    found.pop("run_all", None)
    only, skip = {_name(n) for n in only}, {_name(n) for n in skip}
    unknown = (only | skip) - set(found)
    if unknown:
        raise SystemExit("unknown benchmarks: %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(found)))
    return {n: p for n, p in found.items() if (not only or n in only) and n not in skip}


def _name(text):
    return os.path.basename(text)[:-3] if text.endswith(".py") else text


def declared(path, name, default):
    """The literal value of module-level `name = ...` in the script at `path`, else `default`."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    return default


def command_of(path, quick):
    """The command line that runs the script at `path` (capped, with its quick arguments)."""
    command = [sys.executable, os.path.relpath(path, ROOT)]
    if quick:
        command += declared(path, "QUICK_ARGS", DEFAULT_QUICK_ARGS)
    cap_gb = declared(path, "MEMORY_CAP_GB", DEFAULT_CAP_GB)
    return command if cap_gb is None else ["prlimit", "--as=%d" % int(cap_gb * 1e9)] + command


def run_script(command, timeout_s, echo=print):
    """Runs `command` in its own process group, echoing its stdout but the rows; a dict with `rows`, `seconds`,
    `status` (`"ok"`, `"exit N"`, `"timed out"`, `"no rows"`) and `stderr` (its tail)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr,
                                   text=True, start_new_session=True)
        killed = threading.Event()

        def kill():
            killed.set()
            os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        output = []
        for line in process.stdout:
            output.append(line)
            if not line.startswith(MARKER):
                echo("    " + line.rstrip("\n"))
        code = process.wait()
        timer.cancel()
        stderr.seek(0)
        tail = stderr.read().splitlines()[-STDERR_TAIL_LINES:]
    rows = parse("".join(output))
    status = "timed out" if killed.is_set() else "exit %d" % code if code else "ok" if rows else "no rows"
    return {"rows": rows, "seconds": time.perf_counter() - start, "status": status, "stderr": tail}


def versions():
    """`python x, tensorflow y, keras z` (from the installed packages' metadata)."""
    def version(*names):
        for name in names:
            try:
                return importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                pass
        return "not installed"

    return "python %s, tensorflow %s, keras %s" % (
        platform.python_version(), version("tensorflow", "tensorflow-cpu"), version("keras"))


def _value(row):
    value = row["value"]
    if math.isnan(value):
        return "failed"
    return "%.3fx" % value if row["unit"] == "x" else ("%.4g %s" % (value, row["unit"])).strip()


def _cell(text):
    return str(text).replace("|", "\\|")


def markdown(results, header):
    """The report: `header` lines, then the table of every row, the runs, and the failures."""
    lines = ["# Benchmark results", ""] + header + [
        "", "| Benchmark | Measurement | Value | Target | Met |", "|---|---|---|---|---|"]
    for name, result in results.items():
        for row in result["rows"]:
            met = {True: "yes", False: "**no**", None: "–"}[row["ok"]]
            lines.append("| %s | %s | %s | %s | %s |" % (
                name, _cell(row["name"]), _value(row), _cell(row["target"] or "–"), met))
    lines += ["", "## Runs", "", "| Script | Command | Took | Status |", "|---|---|---|---|"]
    for name, result in results.items():
        lines.append("| %s | `%s` | %.0f s | %s |" % (
            name, _cell(shlex.join(result["command"])), result["seconds"], result["status"]))
    failed = {name: r for name, r in results.items() if r["status"] != "ok"}
    if failed:
        lines += ["", "## Failed"]
        for name, result in failed.items():
            lines += ["", "### %s: %s" % (name, result["status"]), "", "```"] + (
                result["stderr"] or ["(no stderr)"]) + ["```"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="each script's QUICK_ARGS: a functional check")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME")
    parser.add_argument("--skip", nargs="+", default=[], metavar="NAME")
    parser.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    parser.add_argument("--timeout-min", type=float, default=40, help="per script")
    parser.add_argument("--dir", default=HERE, help="folder of the scripts")
    args = parser.parse_args(argv)
    found = scripts(args.dir, args.only, args.skip)
    load_before, started = os.getloadavg(), datetime.datetime.now(datetime.timezone.utc)
    results = {}
    for i, (name, path) in enumerate(found.items()):
        command = command_of(path, args.quick)
        print("[%d/%d] %s: %s" % (i + 1, len(found), name, shlex.join(command)), flush=True)
        results[name] = dict(run_script(command, args.timeout_min * 60), command=command)
        print("[%d/%d] %s: %s, %d rows, %.0f s" % (i + 1, len(found), name, results[name]["status"],
                                                   len(results[name]["rows"]), results[name]["seconds"]), flush=True)
    took = datetime.datetime.now(datetime.timezone.utc) - started
    header = [
        "- Date: %s UTC (took %.0f min)" % (started.strftime("%Y-%m-%d %H:%M"), took.total_seconds() / 60),
        "- Machine: %d CPUs (%s), load average %s before, %s after" % (
            os.cpu_count(), platform.machine(), "%.2f %.2f %.2f" % load_before, "%.2f %.2f %.2f" % os.getloadavg()),
        "- Versions: " + versions(),
        "- Command: `%s`" % shlex.join(["python", "benchmarks/run_all.py"] + (sys.argv[1:] if argv is None else argv)),
    ]
    with open(args.out, "w") as f:
        f.write(markdown(results, header))
    print("wrote %s: %d rows, %d of %d scripts failed" % (
        args.out, sum(len(r["rows"]) for r in results.values()),
        sum(r["status"] != "ok" for r in results.values()), len(results)))
    return int(any(r["status"] != "ok" for r in results.values()))


if __name__ == "__main__":
    sys.exit(main())
