"""Diagnostics are data: what went wrong, where, and how to fix it.

Rendering (compiler-style text with a caret, or JSON) lives here too but is kept
separate from the data so every stage can collect problems without printing.
"""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class Mark:
    """A position in a source file; line and column count from 1."""

    line: int
    column: int


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # "error" | "warning"
    code: str  # stable identifier, e.g. "shape.collapsed"
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None  # layer path, e.g. "layers[3].branches[1][0]"
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DiagnosticSink:
    """Collects diagnostics for one source file, de-duplicating repeats.

    One mistake at one place of the file is reported once, however many times it
    is expanded: a block used three times, or a `defaults:` entry every layer
    inherits, gives one diagnostic whose message names the uses (their paths).
    """

    file: str | None = None
    items: list[Diagnostic] = field(default_factory=list)
    # (severity, code, message, line, column) -> (its index in items, the paths it was reported at): O(1) for huge inputs
    _seen: dict[tuple, tuple[int, list]] = field(default_factory=dict, repr=False)

    def add(self, severity: str, code: str, message: str, mark: Mark | None = None,
            path: str | None = None, hint: str | None = None) -> None:
        diag = Diagnostic(severity, code, _clip(message), self.file,
                          mark.line if mark else None, mark.column if mark else None,
                          path, _clip(hint) if hint else hint)
        key = (severity, code, diag.message, diag.line, diag.column)
        if key not in self._seen:
            self._seen[key] = (len(self.items), [path])
            self.items.append(diag)
            return
        index, paths = self._seen[key]
        if path in paths or diag.line is None:
            return
        paths.append(path)
        first = self.items[index]
        self.items[index] = replace(first, message=_clip(f"{diag.message} (in each of {len(paths)} uses: "
                                                         f"{_listed(paths)})"))

    def error(self, code: str, message: str, mark: Mark | None = None,
              path: str | None = None, hint: str | None = None) -> None:
        self.add("error", code, message, mark, path, hint)

    def warning(self, code: str, message: str, mark: Mark | None = None,
                path: str | None = None, hint: str | None = None) -> None:
        self.add("warning", code, message, mark, path, hint)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)


def _listed(paths: list, shown: int = 4) -> str:
    names = ", ".join(map(str, paths[:shown]))
    return names + (f" and {len(paths) - shown} more" if len(paths) > shown else "")


def _clip(text: str, limit: int = 500) -> str:
    """Keep one diagnostic readable when it quotes a huge value from hostile input."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


class SpecError(Exception):
    """Raised by the Python API when a spec has errors; carries every diagnostic."""

    def __init__(self, diagnostics: list[Diagnostic], source_text: str | None = None):
        self.diagnostics = list(diagnostics)
        self.source_text = source_text
        errors = [d for d in self.diagnostics if d.is_error]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        summary = _headline(first) if first else "invalid spec"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(summary + more)

    def render(self) -> str:
        return render_text(self.diagnostics, self.source_text)


def _headline(diag: Diagnostic) -> str:
    where = diag.file or "<spec>"
    if diag.line is not None:
        where += f":{diag.line}:{diag.column}"
    return f"{where}: {diag.severity}: {diag.message}"


def render_text(diagnostics: list[Diagnostic], source_text: str | None = None) -> str:
    """Compiler-style rendering: headline, the offending line, a caret, the hint."""
    lines = source_text.splitlines() if source_text else []
    out: list[str] = []
    for diag in diagnostics:
        out.append(_headline(diag))
        if diag.path:
            out.append(f"  in {diag.path}")
        if diag.line is not None and 0 < diag.line <= len(lines):
            text, caret = _excerpt(lines[diag.line - 1].replace("\t", " "), max(diag.column - 1, 0))
            gutter = f"{diag.line:>5} | "
            out.append(gutter + text)
            out.append(" " * (len(gutter) + caret) + "^")
        if diag.hint:
            out.append(f"  hint: {diag.hint}")
    return "\n".join(out)


def _excerpt(line: str, caret: int, width: int = 100) -> tuple[str, int]:
    """At most `width` characters of a long line around the caret, and the caret's new column."""
    if len(line) <= width:
        return line, caret
    start = min(max(caret - width // 2, 0), len(line) - width)
    text = ("..." if start else "") + line[start:start + width] + ("..." if start + width < len(line) else "")
    return text, caret - start + (3 if start else 0)


def render_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diagnostics], indent=2)


def nearest(word: str, candidates) -> str | None:
    """The closest candidate by edit distance, for 'did you mean' hints."""
    return _nearest(word, tuple(sorted(candidates)))


@functools.lru_cache(maxsize=1024)  # a file with thousands of the same typo asks the same question
def _nearest(word: str, candidates: tuple[str, ...]) -> str | None:
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None
