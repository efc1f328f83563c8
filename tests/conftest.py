"""Fixtures shared by the test suite."""

from __future__ import annotations

import textwrap

import pytest

import netspec


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
