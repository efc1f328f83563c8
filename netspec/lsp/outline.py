"""The spec as the editor sees it: every layer entry with its text range, and the names each can use.

The checker's located tree keeps start marks only, but an editor asks "which layer holds the
cursor?", which needs where each entry ends. So the text is composed once more here, by the
checker's own parser (its positions agree with the checker's marks, and its budgets apply), and
walked in the forms `expand` reads: a kind or block name, `{kind: ...}`, `{block: ...}`,
`{repeat: N, layers: [...]}`, the short forms `{maxpool: 2}` / `{my_block: {...}}`, and the
`branches` of a merge.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

import yaml

from ..adapt import CONDITION, SHAPE_NAMES
from ..kinds import REGISTRY
from ..yamlsrc import YamlBudget, compose, encoded_size  # the checker's parser: same marks, same budgets

Pos = tuple[int, int]  # 0-based line and column, in code points (as YAML marks count)
Pair = tuple[yaml.Node, yaml.Node]  # a mapping's key node and value node
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def start(node: yaml.Node) -> Pos:
    return node.start_mark.line, node.start_mark.column


def end(node: yaml.Node) -> Pos:
    return node.end_mark.line, node.end_mark.column


def pairs(node: yaml.Node | None) -> dict[str, Pair]:
    """A mapping node's scalar keys, each with its key and value node (the first of duplicates)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    found: dict[str, Pair] = {}
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            found.setdefault(key.value, (key, value))
    return found


def scalar_text(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) and node.value else None


@dataclass(eq=False)
class Entry:
    """One item of a layer list: a layer, a block use or a repeat."""

    node: yaml.Node
    layers: "LayerList"  # the list that holds it
    index: int
    kind: str | None = None  # the registry kind it names
    block: str | None = None  # the block it uses
    head: yaml.ScalarNode | None = None  # the scalar that names the kind or block
    fields: dict[str, Pair] = field(default_factory=dict)  # name, from, inputs, block arguments, layer fields
    bodies: list["LayerList"] = field(default_factory=list)  # a merge's branches or a repeat's layers

    @property
    def start(self) -> Pos:
        return start(self.node)

    @property
    def name(self) -> str | None:
        return scalar_text(self.value("name"))

    @property
    def is_repeat(self) -> bool:
        return "repeat" in self.fields and self.kind is None and self.block is None

    def value(self, key: str) -> yaml.Node | None:
        return self.fields[key][1] if key in self.fields else None


@dataclass(eq=False)
class LayerList:
    entries: list[Entry]
    parent: Entry | None = None  # the merge or repeat whose body this is; None at the top of a layer list
    block: str | None = None  # the block definition it lies in


@dataclass
class BlockDef:
    key: yaml.ScalarNode
    params: dict[str, Pair | tuple[yaml.Node, None]]  # name -> (name node, default node or None)
    layers: LayerList | None


@dataclass
class Outline:
    lines: list[str]
    sections: dict[str, Pair]  # top-level key -> (key, value)
    blocks: dict[str, BlockDef]
    params: dict[str, Pair]
    entries: list[Entry] = field(default_factory=list)  # in document order
    _starts: list[Pos] = field(default_factory=list)

    def entry_at(self, pos: Pos) -> Entry | None:
        """The innermost layer entry whose text holds `pos` (entries nest, so the latest start wins)."""
        index = bisect.bisect_right(self._starts, pos) - 1
        while index >= 0:
            entry = self.entries[index]
            if self.holds(entry.node, pos):
                return entry
            index -= 1
        return None

    def holds(self, node: yaml.Node, pos: Pos) -> bool:
        """`pos` lies in `node`'s text, or after it on its last line with only spaces between."""
        if not start(node) <= pos:
            return False
        last = end(node)
        if pos <= last:
            return True
        line = self.lines[last[0]] if last[0] < len(self.lines) else ""
        return pos[0] == last[0] and not line[last[1]:pos[1]].strip()

    def visible_names(self, entry: Entry) -> dict[str, Entry | None]:
        """The names `from:`/`inputs:` of `entry` may use, as `expand`'s scopes give them.

        The earlier entries of its own list, then of every list around it (a branch sees the
        layers before its merge), up to the top of `layers:` or of the block, plus `input`.
        """
        names: dict[str, Entry | None] = {}
        layers, index = entry.layers, entry.index
        while True:
            for earlier in layers.entries[:index]:
                if earlier.name:
                    names.setdefault(earlier.name, earlier)
            if layers.parent is None:
                break
            layers, index = layers.parent.layers, layers.parent.index
        names.setdefault("input", None)
        return names

    def block_of(self, entry: Entry) -> BlockDef | None:
        """The block definition `entry` lies in."""
        return self.blocks.get(entry.layers.block) if entry.layers.block else None

    def param_definition(self, name: str, entry: Entry | None) -> yaml.Node | None:
        """Where parameter `name` is defined for an expression in `entry`: its block's params, then `params:`."""
        block = self.block_of(entry) if entry else None
        if block and name in block.params:
            return block.params[name][0]
        return self.params[name][0] if name in self.params else None

    def expression_names(self, entry: Entry | None) -> dict[str, str]:
        """The names an expression in `entry` may use, each with what it is: the copy numbers of the
        repeats around it, its block's parameters, the network's, and its input's shape."""
        names: dict[str, str] = {}
        around = entry.layers.parent if entry else None
        while around is not None:
            index = scalar_text(around.value("index")) if around.is_repeat else None
            if index:
                names.setdefault(index, "the copy number of the repeat around it")
            around = around.layers.parent
        block = self.block_of(entry) if entry else None
        for name in block.params if block else ():
            names.setdefault(name, f"parameter of block {block.key.value}")
        for name in self.params:
            names.setdefault(name, "network parameter")
        for name in SHAPE_NAMES:
            names.setdefault(name, "of this layer's input shape")
        return names

    def uses_of(self, block: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.block == block]


def read_outline(text: str, budget: YamlBudget | None = None) -> Outline | None:
    """The outline of `text`, or None when it is not a YAML mapping the checker would read within `budget`."""
    budget = budget or YamlBudget()
    if encoded_size(text, budget) > budget.bytes:
        return None
    try:
        root = compose(text, budget)
    except Exception:  # bad YAML, or over the parser's budgets: the checker's diagnostics say which
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    return _Walker(text, pairs(root), budget.nodes).outline


class _Walker:
    def __init__(self, text: str, sections: dict[str, Pair], max_entries: int):
        self.block_names = set(pairs(sections["blocks"][1])) if "blocks" in sections else set()
        params = pairs(sections["params"][1]) if "params" in sections else {}
        self.outline = Outline(split_lines(text), sections, {}, params)
        self.count, self.max_entries = 0, max_entries
        if "layers" in sections:
            self.layer_list(sections["layers"][1], None, None)
        for name, (key, body) in (pairs(sections["blocks"][1]) if "blocks" in sections else {}).items():
            fields = pairs(body)
            layers = self.layer_list(fields["layers"][1], None, name) if "layers" in fields else None
            self.outline.blocks[name] = BlockDef(key, _block_params(fields.get("params")), layers)
        self.outline.entries.sort(key=lambda entry: entry.start)
        self.outline._starts = [entry.start for entry in self.outline.entries]

    def layer_list(self, node: yaml.Node, parent: Entry | None, block: str | None) -> LayerList:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        layers = LayerList([], parent, block)
        for index, item in enumerate(items):
            if self.count >= self.max_entries:  # aliases can repeat a list; the checker reports the budget
                break
            self.count += 1
            layers.entries.append(self.entry(item, layers, index))
        return layers

    def entry(self, node: yaml.Node, layers: LayerList, index: int) -> Entry:
        entry = Entry(node, layers, index)
        self.outline.entries.append(entry)
        if isinstance(node, yaml.ScalarNode):
            self.named_form(entry, node)
            return entry
        entry.fields = pairs(node)
        fields = entry.fields
        if "kind" in fields:
            entry.head = _scalar(fields["kind"][1])
            entry.kind = scalar_text(entry.head) if scalar_text(entry.head) in REGISTRY else None
        elif "block" in fields:
            entry.head = _scalar(fields["block"][1])
            entry.block = scalar_text(entry.head)
        elif "repeat" in fields:
            if "layers" in fields:
                entry.bodies.append(self.layer_list(fields["layers"][1], entry, layers.block))
        elif len(fields) == 1:  # a short form: {maxpool: 2}, {conv: {...}}, {my_block: {...}}
            ((key, value),) = fields.values()
            self.named_form(entry, key)
            entry.fields = pairs(value)
        self.branches(entry)
        return entry

    def named_form(self, entry: Entry, node: yaml.ScalarNode) -> None:
        entry.head = node
        if node.value in self.block_names:
            entry.block = node.value
        elif node.value in REGISTRY:
            entry.kind = node.value

    def branches(self, entry: Entry) -> None:
        body = entry.value("branches")
        if isinstance(body, yaml.SequenceNode):
            bodies = body.value
        elif isinstance(body, yaml.MappingNode):
            bodies = [value for _, value in body.value]
        else:
            return
        entry.bodies = [self.layer_list(_branch_layers(branch), entry, entry.layers.block) for branch in bodies]


def _branch_layers(branch: yaml.Node) -> yaml.Node:
    """A branch's layer list; a conditional branch `{if: ..., layers: [...]}` holds it under `layers`."""
    fields = pairs(branch)
    if "layers" in fields and set(fields) <= {CONDITION, "layers"}:
        return fields["layers"][1]
    return branch


def _scalar(node: yaml.Node) -> yaml.ScalarNode | None:
    return node if isinstance(node, yaml.ScalarNode) else None


def _block_params(pair: Pair | None) -> dict:
    if pair is None:
        return {}
    node = pair[1]
    if isinstance(node, yaml.SequenceNode):
        return {item.value: (item, None) for item in node.value if isinstance(item, yaml.ScalarNode)}
    return pairs(node)


def split_lines(text: str) -> list[str]:
    """Lines as the Language Server Protocol counts them: split at \\n, \\r\\n and \\r."""
    return re.split(r"\r\n|\r|\n", text)


def word_at(line: str, column: int) -> tuple[str, int, int] | None:
    """The identifier under (or just before) `column` in `line`, with its start and end columns."""
    for match in IDENTIFIER.finditer(line):
        if match.start() <= column <= match.end():
            return match.group(), match.start(), match.end()
    return None


@dataclass
class Spot:
    """What the cursor is on, for hover and go-to-definition."""

    role: str  # "head" (the kind or block name), "key" or "value" of a field, "layer", "param", "block",
    # or "network" (the top-level name or input)
    entry: Entry | None = None
    key: str | None = None  # the field, the parameter or the block
    node: yaml.Node | None = None  # the scalar under the cursor
    word: str | None = None  # the identifier under the cursor
    block: str | None = None  # the block whose definition holds a "param" or "block" spot


def spot_at(outline: Outline, pos: Pos) -> Spot | None:
    """The entry, field and word under `pos`; or a `params:` or `blocks:` definition; or None."""
    entry = outline.entry_at(pos)
    line = outline.lines[pos[0]] if pos[0] < len(outline.lines) else ""
    word = word_at(line, pos[1])
    word = word[0] if word else None
    if entry is None:
        return _definition_spot(outline, pos, word)
    if entry.head is not None and _on(entry.head, pos):
        return Spot("head", entry, None, entry.head, word)
    for key, (key_node, value) in entry.fields.items():
        if _on(key_node, pos):
            return Spot("key", entry, key, key_node, word)
        items = value.value if isinstance(value, yaml.SequenceNode) else [value]
        for item in items:
            if isinstance(item, yaml.ScalarNode) and _on(item, pos):
                return Spot("value", entry, key, item, word)
    return Spot("layer", entry, None, None, word)


def _definition_spot(outline: Outline, pos: Pos, word: str | None) -> Spot | None:
    for name, (key, value) in outline.params.items():
        if _on(key, pos) or (_on(value, pos) and word):
            return Spot("param", None, name if _on(key, pos) else word, key, word)
    for name, block in outline.blocks.items():
        if _on(block.key, pos):
            return Spot("block", None, name, block.key, word, name)
        for param, (key, default) in block.params.items():
            if _on(key, pos) or (default is not None and _on(default, pos)):
                return Spot("param", None, param, key, word, name)
    for name in ("name", "input"):
        if name in outline.sections and any(_on(node, pos) for node in outline.sections[name]):
            return Spot("network", None, name, outline.sections[name][0], word)
    return None


def _on(node: yaml.Node, pos: Pos) -> bool:
    return start(node) <= pos <= end(node)
