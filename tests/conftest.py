"""Fixtures shared by the test suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import netspec

PLUGIN_PACKAGE = Path(__file__).resolve().parent / "plugin_package"


@pytest.fixture
def write_spec(tmp_path):
    """Write YAML text (dedented) to a file and return its path as a string."""

    def write(text: str, name: str = "net.yaml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return str(path)

    return write


@pytest.fixture
def check_text(write_spec):
    """Check YAML text the way users do (through a file); return the Report."""

    def check(text: str, **kwargs) -> netspec.Report:
        return netspec.check(write_spec(text), **kwargs)

    return check


@pytest.fixture(scope="session")
def install_plugin_package(tmp_path_factory):
    """pip-install tests/plugin_package into a temporary folder (never into a venv), leaving out the entry
    points named in `without`; return the folder that holds `site/`, where it is installed."""
    folders: dict[tuple[str, ...], Path] = {}

    def install(without: tuple[str, ...] = ()) -> Path:
        if without not in folders:
            work = tmp_path_factory.mktemp("plugin")
            shutil.copytree(PLUGIN_PACKAGE, work / "source")  # pip builds in place: keep the repository clean
            pyproject = work / "source" / "pyproject.toml"
            lines = pyproject.read_text().splitlines(keepends=True)
            pyproject.write_text("".join(line for line in lines if line.split(" = ")[0] not in without))
            result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                                     "--no-build-isolation", "--target", str(work / "site"), str(work / "source")],
                                    capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stderr
            folders[without] = work
        return folders[without]

    return install
