"""The line every benchmark prints last, which `run_all.py` collects into one table.

A benchmark ends with `report(rows)`: one `BENCHMARK_RESULT {json}` line
holding its measured rows. Each row is a dict with

- `name`: what was measured (e.g. `"ActivationLogger, MNIST MLP, x fastest epoch"`),
- `value`: the number (a ratio, seconds, MB, ...),
- `unit`: `"x"` for a ratio measured side by side in this run, else `"s"`, `"ms"`, `"MB"`, ...,
- `target`: the goal as text (e.g. `"<= 1.05"`), or `""`,
- `ok`: whether the goal is met (None without a goal).
"""

import json
import sys

MARKER = "BENCHMARK_RESULT "


def row(name, value, unit, target="", ok=None):
    """One measured row (see the module docstring)."""
    return {"name": name, "value": float(value), "unit": unit, "target": target,
            "ok": None if ok is None else bool(ok)}


def report(rows, stream=None):
    """Prints the `BENCHMARK_RESULT` line of `rows` (and flushes it)."""
    stream = stream or sys.stdout
    stream.write(MARKER + json.dumps({"rows": list(rows)}) + "\n")
    stream.flush()


def parse(output):
    """The rows of every `BENCHMARK_RESULT` line in a benchmark's output text."""
    rows = []
    for line in output.splitlines():
        if line.startswith(MARKER):
            rows.extend(json.loads(line[len(MARKER):])["rows"])
    return rows


def at_most(name, value, unit, limit):
    """A row whose goal is `value <= limit` (without a goal if `limit` is None)."""
    if limit is None:
        return row(name, value, unit)
    return row(name, value, unit, "<= %g%s" % (limit, unit if unit == "x" else " " + unit), value <= limit)


def failed(name, unit, target):
    """The row of a measurement that could not be made (its value NaN, its goal not met)."""
    return row(name, float("nan"), unit, target, False)
