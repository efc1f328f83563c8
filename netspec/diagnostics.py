"""Diagnostics are data: what went wrong, where, and how to fix it.

Rendering (compiler-style text with a caret, or JSON) lives here too but is kept
separate from the data so every stage can collect problems without printing.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class Mark:
    """A position in a source file; line and column count from 1.

    `file` is set where the position is not in the file being read: an imported
    spec, or a `--set` override (whose pseudo-file is named like `<--set width=2>`).
    """

    line: int
    column: int
    file: str | None = None


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
    # (severity, code, message, file, line, column) -> (its index in items, the paths it was reported at): O(1) for huge inputs
    _seen: dict[tuple, tuple[int, list]] = field(default_factory=dict, repr=False)

    def add(self, severity: str, code: str, message: str, mark: Mark | None = None,
            path: str | None = None, hint: str | None = None) -> None:
        diag = Diagnostic(severity, code, _clip(message), mark.file or self.file if mark else self.file,
                          mark.line if mark else None, mark.column if mark else None,
                          path, _clip(hint) if hint else hint)
        key = (severity, code, diag.message, diag.file, diag.line, diag.column)
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

    def copy(self) -> "DiagnosticSink":
        """A sink holding what this one holds, to which more can be added without changing this one."""
        return DiagnosticSink(self.file, list(self.items), {key: (index, list(paths))
                                                           for key, (index, paths) in self._seen.items()})

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

    def __init__(self, diagnostics: list[Diagnostic], source_text: "str | Mapping[str, str] | None" = None):
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


def render_text(diagnostics: list[Diagnostic], source_text: "str | Mapping[str, str] | None" = None) -> str:
    """Compiler-style rendering: headline, the offending line, a caret, the hint.

    `source_text` is the spec's text, or a mapping of file name to text when the
    diagnostics come from several files (imports, overrides).
    """
    out: list[str] = []
    split: dict[str | None, list[str]] = {}  # each file's lines, split once: 10,000 errors stay linear
    for diag in diagnostics:
        key = diag.file if isinstance(source_text, Mapping) else None
        if key not in split:
            text = source_text.get(diag.file) if isinstance(source_text, Mapping) else source_text
            split[key] = text.splitlines() if text else []
        lines = split[key]
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


SMALL_CANDIDATE_SET = 64  # up to this many names, difflib compares the word with each one
MAX_SUGGESTED_LENGTH = 48  # longer names are not suggested (their index would be quadratic in size)
MAX_CANDIDATES = 64  # names difflib ranks for one suggestion, however many the index finds


def nearest(word: str, candidates) -> str | None:
    """The closest candidate by edit distance, for 'did you mean' hints.

    Linear however many names a file holds: a large set is indexed once (NameIndex) and
    only the names a couple of edits away are ranked.
    """
    if isinstance(candidates, NameIndex):
        candidates = candidates.near(word)
    elif len(candidates) > SMALL_CANDIDATE_SET:
        candidates = _index_of(frozenset(candidates)).near(word)
    return _nearest(word, tuple(sorted(candidates)))


@functools.lru_cache(maxsize=1024)  # a file with thousands of the same typo asks the same question
def _nearest(word: str, candidates: tuple[str, ...]) -> str | None:
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


@functools.lru_cache(maxsize=8)
def _index_of(names: frozenset[str]) -> "NameIndex":
    return NameIndex.of(names)


def _variants(word: str) -> list[str]:
    """The word and each way of deleting one character from it."""
    return list(dict.fromkeys([word] + [word[:i] + word[i + 1:] for i in range(len(word))]))


class NameIndex:
    """Names indexed by their one-character deletions (a symmetric-delete index): the names within
    two edits of a word (an insertion, deletion, substitution or swap each) are found in time that
    depends on the word's length, not on how many names there are."""

    def __init__(self) -> None:
        self._by_variant: dict[str, dict[str, None]] = {}  # dicts as ordered sets: deterministic hints
        self.names: list[str] = []

    @classmethod
    def of(cls, names) -> "NameIndex":
        index = cls()
        for name in sorted(names):
            index.add(name)
        return index

    @property
    def count(self) -> int:
        return len(self.names)

    def add(self, name: str) -> None:
        self.names.append(name)
        if len(name) <= MAX_SUGGESTED_LENGTH:
            for variant in _variants(name):
                self._by_variant.setdefault(variant, {})[name] = None

    def sync(self, names: dict) -> "NameIndex":
        """Index the names added to `names` (a dict that only grows) since the last call."""
        new = len(names) - self.count
        if new > 0:
            for name in reversed(list(itertools.islice(reversed(names), new))):
                self.add(name)
        return self

    def near(self, word: str) -> list[str]:
        """The names worth ranking for `word`: all of a small set, else those a couple of edits away."""
        if self.count <= SMALL_CANDIDATE_SET:
            return self.names
        found: dict[str, None] = {}
        if len(word) <= MAX_SUGGESTED_LENGTH:
            for variant in _variants(word):
                for name in self._by_variant.get(variant, ()):
                    found[name] = None
                    if len(found) >= MAX_CANDIDATES:
                        return list(found)
        return list(found)
