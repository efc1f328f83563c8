"""Diagnostics as data, and their compiler-style rendering: headline, layer path, source line, caret, hint."""

from __future__ import annotations

import json

from netspec.diagnostics import (MAX_CANDIDATES, Diagnostic, DiagnosticSink, Mark, NameIndex, SpecError, nearest,
                                 render_json, render_text)

SOURCE = "name: t\ninput: [1, 4, 4]\nlayers:\n  - {kind: conv, out_channels: 2, kernel_size: 5}\n"
COLLAPSE = Diagnostic("error", "shape.conv", "H collapses: expected ...", "net.yaml", 4, 48, "layers[0]",
                      "reduce kernel_size")


def test_render_text_is_compiler_style():
    assert render_text([COLLAPSE], SOURCE) == (
        "net.yaml:4:48: error: H collapses: expected ...\n"
        "  in layers[0]\n"
        "    4 |   - {kind: conv, out_channels: 2, kernel_size: 5}\n"
        "                                                       ^\n"
        "  hint: reduce kernel_size"
    )


def test_caret_sits_under_the_reported_column():
    line = render_text([COLLAPSE], SOURCE).splitlines()[2]
    caret = render_text([COLLAPSE], SOURCE).splitlines()[3]
    assert line[caret.index("^")] == "5"


def test_real_report_renders_with_the_caret_on_the_value(check_text):
    report = check_text(SOURCE)
    text = render_text(report.diagnostics, report.spec.source)
    source_line, caret_line = text.splitlines()[2:4]
    assert source_line.endswith("kernel_size: 5}")
    assert source_line[caret_line.index("^")] == "5"


def test_diagnostics_without_position_path_or_hint():
    diagnostic = Diagnostic("warning", "budget.memory", "large", "net.yaml")
    assert render_text([diagnostic], SOURCE) == "net.yaml: warning: large"
    assert render_text([Diagnostic("error", "x", "no file")]) == "<spec>: error: no file"


def test_position_past_the_end_shows_no_source_line():
    diagnostic = Diagnostic("error", "yaml.syntax", "invalid YAML", "net.yaml", 5, 1)
    assert render_text([diagnostic], SOURCE) == "net.yaml:5:1: error: invalid YAML"


def test_tabs_are_shown_as_spaces_so_the_caret_lines_up():
    text = render_text([Diagnostic("error", "yaml.syntax", "tab", "f", 1, 2)], "\tx: 1\n")
    assert text.splitlines()[1:3] == ["    1 |  x: 1", "         ^"]


def test_long_lines_are_shown_as_a_window_around_the_caret():
    line = "a" * 5000 + "X" + "b" * 5000
    text = render_text([Diagnostic("error", "c", "m", "f", 1, 5001)], line)
    source_line, caret_line = text.splitlines()[1:3]
    assert len(source_line) < 120
    assert source_line.startswith("    1 | ...") and source_line.endswith("...")
    assert source_line[caret_line.index("^")] == "X"


def test_window_at_the_start_of_a_long_line_has_no_leading_ellipsis():
    text = render_text([Diagnostic("error", "c", "m", "f", 1, 1)], "X" + "b" * 300)
    source_line, caret_line = text.splitlines()[1:3]
    assert source_line.startswith("    1 | Xbbb") and source_line.endswith("...")
    assert source_line[caret_line.index("^")] == "X"


def test_every_diagnostic_is_rendered_in_order():
    first = Diagnostic("error", "a", "first", "f", 1, 1)
    second = Diagnostic("warning", "b", "second", "f", 2, 1)
    text = render_text([first, second], "x: 1\ny: 2\n")
    assert text.index("f:1:1: error: first") < text.index("f:2:1: warning: second")


def test_render_json_and_to_dict_carry_every_field():
    assert json.loads(render_json([COLLAPSE])) == [{
        "severity": "error", "code": "shape.conv", "message": "H collapses: expected ...", "file": "net.yaml",
        "line": 4, "column": 48, "path": "layers[0]", "hint": "reduce kernel_size"}]
    assert COLLAPSE.to_dict()["severity"] == "error" and COLLAPSE.is_error


def test_sink_records_position_and_removes_exact_repeats():
    sink = DiagnosticSink("net.yaml")
    for _ in range(3):
        sink.error("x", "same problem", Mark(2, 3), "layers[1]", "fix it")
    sink.warning("y", "a warning")
    assert sink.items == [Diagnostic("error", "x", "same problem", "net.yaml", 2, 3, "layers[1]", "fix it"),
                          Diagnostic("warning", "y", "a warning", "net.yaml")]
    assert sink.has_errors


def test_sink_clips_huge_messages_and_hints():
    sink = DiagnosticSink()
    sink.error("x", "m" * 100_000, hint="h" * 100_000)
    (diagnostic,) = sink.items
    assert len(diagnostic.message) == 500 and diagnostic.message.endswith("...")
    assert len(diagnostic.hint) == 500


def test_spec_error_headline_counts_the_rest():
    error = SpecError([COLLAPSE, Diagnostic("warning", "w", "inexact", "net.yaml", 4, 5),
                       Diagnostic("error", "e", "second", "net.yaml", 3, 1)], SOURCE)
    assert str(error) == "net.yaml:4:48: error: H collapses: expected ... (and 1 more)"
    assert error.render().startswith("net.yaml:4:48: error: H collapses")
    assert error.diagnostics[1].severity == "warning" and error.source_text == SOURCE


def test_nearest_suggests_only_close_names():
    assert nearest("cnov", ["conv", "concat", "relu"]) == "conv"
    assert nearest("batchnrom", {"batchnorm", "lrn"}) == "batchnorm"
    assert nearest("zzzz", ["conv", "relu"]) is None
    assert nearest("x", []) is None


def test_nearest_in_a_large_set_finds_names_a_couple_of_edits_away():
    names = [f"layer_{i:05d}" for i in range(5000)]
    assert nearest("layr_01234", names) == "layer_01234"  # a deletion
    assert nearest("lyaer_04321", names) == "layer_04321"  # a swap
    assert nearest("lazer_00999", names) == "layer_00999"  # a substitution
    assert nearest("something_else", names) is None
    index = NameIndex()
    scope = {name: None for name in names[:10]}
    assert nearest("layer_00003x", index.sync(scope)) == "layer_00003"
    scope["stem"] = None
    assert nearest("stme", index.sync(scope)) == "stem"  # names added later are indexed on the next sync


def test_did_you_mean_ranks_a_bounded_number_of_names_per_miss(check_text, monkeypatch):
    """Thousands of misspelled references cost linear time: each miss ranks at most MAX_CANDIDATES names
    (before, every miss ran difflib over every visible name: 205 s for 1,900 misses)."""
    import difflib

    from netspec.diagnostics import _nearest

    _nearest.cache_clear()  # every miss below asks difflib afresh
    compared = []
    original = difflib.get_close_matches
    monkeypatch.setattr(difflib, "get_close_matches",
                        lambda word, candidates, **kw: compared.append(len(candidates)) or original(word, candidates, **kw))
    count = 400
    layers = "".join(f"  - {{kind: relu, name: layer_{i:04d}}}\n  - {{kind: relu, from: layr_{i:04d}}}\n"
                     f"  - blok_{i:04d}\n" for i in range(count))
    blocks = "".join(f"  blk_{i:04d}: {{layers: [relu]}}\n" for i in range(count))
    report = check_text(f"name: t\ninput: [1, 8, 8]\nblocks:\n{blocks}layers:\n{layers}")
    hints = [d.hint for d in report.errors]
    assert len(hints) == 2 * count
    assert "did you mean 'layer_0123'?" in hints and "did you mean 'blk_0123'?" in hints
    assert len(compared) >= count and max(compared) <= MAX_CANDIDATES


def test_a_small_index_ranks_every_name_like_difflib():
    index = NameIndex.of(["maxpool", "conv", "relu"])
    assert nearest("maxpooling", index) == "maxpool"  # three edits away: found because the set is small


def test_rendering_many_diagnostics_splits_the_source_once():
    """10,000 errors in a 400 KB spec rendered in 23 s when every diagnostic split the whole text again."""
    calls = []

    class Text(str):
        def splitlines(self, *args):
            calls.append(1)
            return super().splitlines(*args)

    diagnostics = [Diagnostic("error", "x.y", f"problem {i}", "f.yaml", 1 + i % 3, 1) for i in range(500)]
    rendered = render_text(diagnostics, Text("a: 1\nb: 2\nc: 3\n"))
    assert rendered.count("^") == 500 and len(calls) == 1
    render_text(diagnostics, {"f.yaml": Text("a: 1\nb: 2\nc: 3\n")})
    assert len(calls) == 2
