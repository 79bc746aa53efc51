"""The installed package: entry point, and a wheel that ships the tab's files."""

import pathlib
import subprocess
import sys
import zipfile
from importlib import metadata as importlib_metadata

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_tensorboard_finds_the_plugin_through_its_entry_point():
    (entry,) = [e for e in importlib_metadata.entry_points(group="tensorboard_plugins") if e.name == "nnviz"]
    assert entry.load().plugin_name == "nnviz"


def test_wheel_contains_the_frontend(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True,
    )
    (wheel,) = tmp_path.glob("nnviz_tb-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    frontend = {p.relative_to(ROOT / "plugin_frontend").as_posix()
                for p in (ROOT / "plugin_frontend").rglob("*") if p.suffix in (".js", ".css")}
    assert frontend and {"nnviz_tb/plugin_frontend/" + f for f in frontend} <= names
    assert "nnviz_tb/plugin/nnviz_plugin.py" in names
