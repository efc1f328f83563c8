"""Safe YAML reading that keeps line/column marks.

We compose (never construct) the YAML so no tag can build a Python object, and
we type scalars ourselves with YAML 1.2 core rules: `no`, `off`, `yes` stay
strings (the schema then decides), `010` is refused rather than read as octal 8,
and `1e-4` is a float. Budgets on nesting depth and node count (alias expansion)
keep hostile input from exhausting the stack or memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union

import yaml

from .diagnostics import DiagnosticSink, Mark
from .expr import MAX_MAGNITUDE, UNRESOLVED

MAX_DEPTH = 64  # fixed: no real spec nests deeper than a dozen levels
DEFAULT_MAX_LAYERS = 10_000  # Limits.max_nodes, `--max-layers`
# The reading budgets follow the layer budget, so a spec within --max-layers is read whether it uses
# `repeat:` or is written out layer by layer; an alias bomb still stops (it grows exponentially).
NODES_PER_LAYER = 32  # a conv with name, from and every field as a pair is about 30 YAML nodes
BYTES_PER_LAYER = 200  # such a layer written out on one line, indented
SLACK = 10_000  # top-level keys, params, blocks: room that does not depend on the layer count

_MAX_DIGITS = len(str(MAX_MAGNITUDE))
_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)")
_LEADING_ZERO_INT = re.compile(r"[-+]?0[0-9_]+|[-+]?0[oOxXbB][0-9a-fA-F_]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL_FLOAT = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}
_BOOL = {"true": True, "false": False}
_NULL = {"null", "~", ""}
_STR = "tag:yaml.org,2002:str"
_UNTAGGED = "tag:netspec:untagged"  # a plain scalar without a tag: typed by YAML 1.2 rules below
_STANDARD_TAGS = {_UNTAGGED} | {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}


@dataclass
class YScalar:
    value: Any
    mark: Mark
    raw: str = ""


@dataclass
class YSeq:
    items: list["YNode"]
    mark: Mark


@dataclass
class YMap:
    items: dict[str, "YNode"]
    mark: Mark
    key_marks: dict[str, Mark] = field(default_factory=dict)

    def get(self, key: str) -> "YNode | None":
        return self.items.get(key)

    def key_mark(self, key: str) -> Mark:
        return self.key_marks.get(key, self.mark)


YNode = Union[YScalar, YSeq, YMap]


@dataclass(frozen=True)
class YamlBudget:
    """How much YAML a spec may hold: bytes before decoding, nodes (after alias expansion), nesting depth."""

    max_layers: int = DEFAULT_MAX_LAYERS

    @property
    def nodes(self) -> int:
        return NODES_PER_LAYER * self.max_layers + SLACK

    @property
    def bytes(self) -> int:
        return BYTES_PER_LAYER * self.max_layers + SLACK

    def describe(self, per_layer: int, unit: str) -> str:
        return f"{per_layer} {unit} per layer of --max-layers {self.max_layers:,}"


BUDGET_HINT = ("raise --max-layers (Limits.max_nodes) if the spec really is this large; "
               "a file this large is almost always generated or an alias bomb")


def encoded_size(text: str, budget: YamlBudget) -> int:
    """The UTF-8 size of `text` in bytes; its length when that alone is over the budget (no need to encode a
    huge paste to refuse it: a character is at least one byte)."""
    return len(text) if len(text) > budget.bytes else len(text.encode("utf-8", "replace"))


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def to_plain(node: YNode) -> Any:
    """Strip marks: the plain Python value of a located node."""
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [to_plain(item) for item in node.items]
    return {key: to_plain(value) for key, value in node.items.items()}


class _Converter:
    def __init__(self, sink: DiagnosticSink, budget: YamlBudget):
        self.sink, self.budget = sink, budget
        self.count = 0
        self.active: set[int] = set()
        self.over_budget = False

    def convert(self, node: yaml.Node, depth: int = 0) -> YNode:
        self.count += 1
        nodes = self.budget.nodes
        if self.count > nodes or depth > MAX_DEPTH:
            if not self.over_budget:
                self.over_budget = True
                what = (f"more than {nodes:,} YAML nodes after alias expansion "
                        f"({self.budget.describe(NODES_PER_LAYER, 'nodes')})"
                        if self.count > nodes else f"nesting deeper than {MAX_DEPTH} levels (a fixed limit)")
                self.sink.error("yaml.budget", f"the spec has {what}", _mark(node), hint=BUDGET_HINT)
            return YScalar(None, _mark(node))
        if self._refuse_tag(node):
            return YScalar(None, _mark(node))
        if id(node) in self.active:
            self.sink.error("yaml.recursive", "recursive YAML alias", _mark(node))
            return YScalar(None, _mark(node))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return YSeq([self.convert(item, depth + 1) for item in node.value], _mark(node))
            return self._mapping(node, depth)
        finally:
            self.active.discard(id(node))

    def _refuse_tag(self, node: yaml.Node) -> bool:
        """Report a tag other than YAML's standard ones, on a value or on a key."""
        if node.tag in _STANDARD_TAGS:
            return False
        self.sink.error("yaml.tag", f"YAML tags are not allowed; found '{node.tag}'", _mark(node),
                        hint="netspec reads plain YAML only: remove the '!' tag")
        return True

    def _mapping(self, node: yaml.MappingNode, depth: int) -> YMap:
        result = YMap({}, _mark(node))
        for key_node, value_node in node.value:
            if self._refuse_tag(key_node):
                continue
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == "<<" and not key_node.style:
                self.sink.error("yaml.merge_key", "YAML merge keys ('<<') are not supported", _mark(key_node),
                                hint="use a block with parameters to share layers")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                got = "a sequence" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
                self.sink.error("yaml.key", f"expected a plain name as a mapping key; got {got}", _mark(key_node))
                continue
            key = key_node.value
            if key in result.items:
                first = result.key_marks[key]
                self.sink.error("yaml.duplicate_key",
                                f"duplicate key '{key}' (first defined on line {first.line})", _mark(key_node),
                                hint=f"remove one of the two '{key}' entries (lines {first.line} and "
                                     f"{key_node.start_mark.line + 1})")
                continue
            result.key_marks[key] = _mark(key_node)
            result.items[key] = self.convert(value_node, depth + 1)
        return result

    def _scalar(self, node: yaml.ScalarNode) -> YScalar:
        text, mark = node.value, _mark(node)
        if node.style or node.tag == _STR:
            return YScalar(text, mark, text)  # quoted, block or `!!str` scalars are always strings
        return YScalar(self._plain_value(text, mark), mark, text)

    def _plain_value(self, text: str, mark: Mark) -> Any:
        lowered = text.lower()
        if text in _NULL or lowered == "null":
            return None
        if lowered in _BOOL:
            return _BOOL[lowered]
        if _INT.fullmatch(text):
            return self._integer(text, mark)
        if _LEADING_ZERO_INT.fullmatch(text):
            self.sink.error("yaml.ambiguous_int", f"ambiguous number '{text}': expected a plain decimal number "
                            "(YAML 1.1 reads a leading 0 as octal: 010 is 8)", mark, hint=_decimal_hint(text))
            return UNRESOLVED  # reported here; later checks skip it
        if _FLOAT.fullmatch(text) and any(ch.isdigit() for ch in text):
            return float(text.replace("_", ""))
        if lowered in _SPECIAL_FLOAT:
            return _SPECIAL_FLOAT[lowered]
        return text


    def _integer(self, text: str, mark: Mark) -> int | object:
        """Every integer a spec holds is bounded here, where it is read: no later stage meets a 400-digit one."""
        digits = text.replace("_", "").lstrip("+-")
        value = int(digits) if len(digits) <= _MAX_DIGITS else None
        if value is None or value > MAX_MAGNITUDE:
            self.sink.error("yaml.number", f"expected a number of magnitude at most {MAX_MAGNITUDE:.0e}; "
                            f"got a {len(digits):,}-digit integer", mark,
                            hint="no layer size, count or setting needs more than 15 digits: is this a typo?")
            return UNRESOLVED  # reported here; later checks skip it
        return -value if text.startswith("-") else value


class _OverBudget(Exception):
    def __init__(self, message: str, mark: Mark):
        self.message, self.mark = message, mark


def _decimal_hint(text: str) -> str:
    digits = text.replace("_", "")
    if digits.lstrip("+-")[1:2].isdigit():
        return f"write {digits[0] if digits[0] in '+-' else ''}{digits.lstrip('+-0') or '0'} without the leading zero, " \
               f"or quote it if you mean a string"
    try:
        return f"write it in decimal ({int(digits, 0)}), or quote it if you mean a string"
    except ValueError:
        return "write it in decimal, or quote it if you mean a string"


class _BudgetedComposer(yaml.composer.Composer):
    """Composes with no implicit tags (plain scalars are typed by `_Converter`) and stops past
    MAX_DEPTH or the budget's node count: before Python's recursion limit, and before spending a
    minute on a huge file."""

    yaml_implicit_resolvers: dict = {}
    depth = 0
    nodes = 0
    budget = YamlBudget()

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and implicit[0]:
            return _UNTAGGED  # told apart from an explicit `!!str`, which must stay a string
        return super().resolve(kind, value, implicit)

    def compose_node(self, parent, index):
        self.depth += 1
        self.nodes += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _OverBudget(f"expected nesting at most {MAX_DEPTH} levels deep (a fixed limit); got deeper",
                                  _mark(self.peek_event()))
            if self.nodes > self.budget.nodes:
                raise _OverBudget(f"expected at most {self.budget.nodes:,} YAML nodes "
                                  f"({self.budget.describe(NODES_PER_LAYER, 'nodes')}); got more",
                                  _mark(self.peek_event()))
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _PlainLoader(_BudgetedComposer, yaml.SafeLoader):
    """Pure-Python scanning and parsing."""


if yaml.__with_libyaml__:
    class _FastPlainLoader(_BudgetedComposer, yaml.resolver.Resolver, yaml._yaml.CParser):
        """libyaml's C scanner and parser (iterative, so deep nesting cannot overflow the C stack)
        feeding the same Python composer: about 9x faster than pure-Python scanning."""

        def __init__(self, stream):
            yaml._yaml.CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    _LOADER = _FastPlainLoader
else:
    _LOADER = _PlainLoader


def _compose_with(loader_class, text: str, budget: YamlBudget) -> yaml.Node | None:
    loader = loader_class(text)
    loader.budget = budget
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def compose(text: str, budget: YamlBudget | None = None) -> yaml.Node | None:
    """PyYAML's node tree of `text` (marks on every node) within the budget; raises yaml.YAMLError."""
    budget = budget or YamlBudget()
    try:
        return _compose_with(_LOADER, text, budget)
    except yaml.YAMLError:
        if _LOADER is _PlainLoader:
            raise
        # the rare bad file is read again by pure PyYAML, whose messages name the offending character
        return _compose_with(_PlainLoader, text, budget)


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_yaml(text: str, sink: DiagnosticSink, budget: YamlBudget | None = None) -> YNode | None:
    """Parse YAML text into a located tree; problems go to `sink`, never raise."""
    budget = budget or YamlBudget()
    if _too_large(encoded_size(text, budget), budget, sink):
        return None
    surrogate = LONE_SURROGATE.search(text)  # only text given through the API can hold one: a file is decoded
    if surrogate:
        sink.error("file.encoding", f"expected text UTF-8 can encode; got the lone surrogate "
                   f"U+{ord(surrogate.group()):04X}", mark_at(text, surrogate.start()),
                   hint="decode the file with errors='strict' (or 'replace') before passing its text")
        return None
    try:
        node = compose(text, budget)
    except _OverBudget as exc:
        sink.error("yaml.budget", exc.message, exc.mark, hint=BUDGET_HINT)
        return None
    except yaml.MarkedYAMLError as exc:
        _syntax_error(exc, sink, text)
        return None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: located by its position
        sink.error("file.encoding", f"expected printable text; got the control character {exc.character!r}",
                   mark_at(text, exc.position), hint="remove the character (is this the right file?)")
        return None
    except yaml.YAMLError as exc:
        sink.error("yaml.syntax", f"invalid YAML: {exc}", Mark(1, 1))
        return None
    except RecursionError:
        sink.error("yaml.budget", f"the spec nests too deeply to read (limit {MAX_DEPTH} levels)", Mark(1, 1))
        return None
    if node is None:
        sink.error("spec.empty", "the spec is empty", Mark(1, 1),
                   hint="a spec needs at least `name`, `input` and `layers`")
        return None
    return _Converter(sink, budget).convert(node)


def _too_large(size: int, budget: YamlBudget, sink: DiagnosticSink) -> bool:
    if size <= budget.bytes:
        return False
    sink.error("yaml.too_large", f"expected a spec of at most {budget.bytes:,} bytes "
               f"({budget.describe(BYTES_PER_LAYER, 'bytes')}); got {size:,} bytes or more", Mark(1, 1),
               hint=BUDGET_HINT)
    return True


def mark_at(text: str | bytes, offset: int) -> Mark:
    """The line and column (in characters) of `offset` in `text` (bytes: a byte offset)."""
    newline = b"\n" if isinstance(text, bytes) else "\n"
    line_start = text.rfind(newline, 0, offset) + 1
    before = text[line_start:offset]
    width = len(before.decode("utf-8", "replace")) if isinstance(before, bytes) else len(before)
    return Mark(text.count(newline, 0, offset) + 1, width + 1)


def _syntax_error(exc: yaml.MarkedYAMLError, sink: DiagnosticSink, text: str) -> None:
    """PyYAML's problem at its position, with where the unfinished construct began; a misindented line
    is said as such, with the column that fits."""
    from .mistakes import indentation_mistake  # it reads located nodes: imported here, after this module

    mark = exc.problem_mark or exc.context_mark
    where = Mark(mark.line + 1, mark.column + 1) if mark else None
    problem = exc.problem or exc.context or "invalid YAML"
    indentation = indentation_mistake(problem, where, text) if where and exc.problem else None
    if indentation:
        message, hint, at = indentation
        sink.error("yaml.indentation", message, at, hint=hint)
        return
    if exc.context and exc.problem and exc.context_mark and exc.context_mark is not mark:
        problem += (f" ({exc.context}, which starts on line {exc.context_mark.line + 1}, "
                    f"column {exc.context_mark.column + 1})")
    hint = "YAML does not allow tab characters for indentation: use spaces" if "\\t" in problem else None
    sink.error("yaml.syntax", f"invalid YAML: {problem}", where, hint=hint)


def read_source(path: str, sink: DiagnosticSink, budget: YamlBudget | None = None) -> str | None:
    """Read a spec file as UTF-8 text, reporting unreadable, oversized or binary files.

    The size budget counts bytes, before decoding: multi-byte characters cannot stretch it.
    """
    budget = budget or YamlBudget()
    try:
        with open(path, "rb") as handle:
            data = handle.read(budget.bytes + 1)
    except OSError as exc:
        sink.error("file.unreadable", f"cannot read spec: {exc.strerror or exc}",
                   hint="check the path and the file's permissions")
        return None
    if _too_large(len(data), budget, sink):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        sink.error("file.encoding", f"spec is not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x})",
                   mark_at(data, exc.start), hint="specs are YAML text files; is this the right file?")
        return None
    if "\x00" in text:
        sink.error("file.encoding", "spec contains NUL bytes; it looks like a binary file",
                   mark_at(text, text.index("\x00")), hint="specs are YAML text files; is this the right file?")
        return None
    return text
