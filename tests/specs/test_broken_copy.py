"""The must-show: a broken copy of a seed spec fails `netspec check` like a compiler would.

Seed 003's GoogLeNet spec, copied with two mistakes people make: an Inception branch
that loses its padding (so its 8x8 output cannot be concatenated with the others'
12x12) and a misspelled kind. One run reports both, each at file:line:column with the
YAML line, a caret under the spot and a hint, exit status 1, and no traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from netspec.cli import cli

SEED_SPEC = Path(__file__).resolve().parents[2] / "specs" / "googlenet_mini.yaml"
LOST_PADDING = ("{kind: conv, out_channels: 24, kernel_size: 5, padding: 2}",
                "{kind: conv, out_channels: 24, kernel_size: 5}")
MISSPELLED = ("{kind: conv, name: conv2,", "{kind: covn, name: conv2,")


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the seed spec no longer has exactly one {old!r}"
    return text.replace(old, new)


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the only occurrence of `needle`."""
    assert text.count(needle) == 1, needle
    before = text[:text.index(needle)]
    return before.count("\n") + 1, len(before) - before.rfind("\n")


@pytest.fixture
def broken(tmp_path) -> tuple[Path, str]:
    text = replace_once(SEED_SPEC.read_text(encoding="utf-8"), *LOST_PADDING)
    text = replace_once(text, *MISSPELLED)
    path = tmp_path / "googlenet_broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def rendered(output: str, path: Path) -> dict[tuple[int, int], list[str]]:
    """Each error's rendering (headline and the lines after it), keyed by its line and column."""
    headline = re.compile(rf"^{re.escape(str(path))}:(\d+):(\d+): error: ")
    blocks: dict[tuple[int, int], list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        match = headline.match(line)
        if match:
            current = blocks.setdefault((int(match[1]), int(match[2])), [])
        elif line.startswith(str(path)):
            current = None  # a warning or the summary line
        if current is not None:
            current.append(line)
    return blocks


def assert_caret_under(block: list[str], source_line: str, column: int) -> None:
    """The block quotes `source_line` and puts a caret under its `column`."""
    quoted = next(i for i, line in enumerate(block) if line.endswith(source_line.rstrip()))
    start = block[quoted].rindex(source_line.rstrip())
    assert block[quoted + 1].rstrip() == " " * (start + column - 1) + "^"


def test_broken_copy_reports_both_errors_compiler_style(broken):
    path, text = broken
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    assert "Traceback" not in result.output
    blocks = rendered(result.output, path)
    concat_at, kind_at = position(text, "kind: concat"), position(text, "covn")
    assert set(blocks) == {concat_at, kind_at}
    assert f"{path}: 2 errors" in result.output

    lines = text.splitlines()
    concat = blocks[concat_at]
    assert "concat" in concat[0] and "(24, 8, 8)" in concat[0]  # the branch that lost its padding
    assert_caret_under(concat, lines[concat_at[0] - 1], concat_at[1])
    hint = next(line for line in concat if line.lstrip().startswith("hint:"))
    assert "padding" in hint and "stride" in hint

    kind = blocks[kind_at]
    assert "unknown layer kind 'covn'" in kind[0]
    assert_caret_under(kind, lines[kind_at[0] - 1], kind_at[1])
    assert any(line.strip() == "hint: did you mean 'conv'?" for line in kind)


def test_broken_copy_as_json_locates_both_errors(broken):
    path, text = broken
    result = CliRunner().invoke(cli, ["check", "--json", str(path)])
    assert result.exit_code == 1
    errors = [d for d in json.loads(result.stdout)["diagnostics"] if d["severity"] == "error"]
    located = {(d["line"], d["column"]): d for d in errors}
    assert set(located) == {position(text, "kind: concat"), position(text, "covn")}
    assert all(d["file"] == str(path) and d["path"] and d["hint"] for d in errors)
    assert located[position(text, "covn")]["path"] == "layers[4]"
