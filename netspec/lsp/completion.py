"""Completion: kinds and their fields (from the registry), block names, the names `from:`/`inputs:`
can use at the cursor, parameters in expressions, and the values of enumerated fields.

What to offer is read from the text before the cursor on its line, which half-typed YAML still
has; the outline (of this text, of this text with the line's brackets closed, or of the last
text that parsed) supplies the layer around the cursor and the names in scope.
"""

from __future__ import annotations

import re
import typing

from lsprotocol import types

from ..adapt import CONDITION
from ..kinds import REGISTRY
from ..spec import TOP_LEVEL_KEYS
from ..spec_defaults import NOT_DEFAULTABLE
from ..train_config import TrainConfig
from ..yamlsrc import YamlBudget
from .outline import Entry, Outline, Pos, pairs, read_outline, start

Kind = types.CompletionItemKind
STRUCTURAL_KEYS = {"block": "use a block defined under `blocks:`", "repeat": "stack copies of `layers:`"}
LAYER_LISTS = ("layers", "branches")  # their flow lists hold layers, not values
ENTRY_FIELDS = {"name", "from", "trainable", CONDITION}  # every layer's; a block use takes name, from and if

_KIND_VALUE = re.compile(r"(?:^|[\s{,])kind\s*:\s*\w*$")
_BLOCK_VALUE = re.compile(r"(?:^|[\s{,])block\s*:\s*\w*$")
_FROM_VALUE = re.compile(r"(?:^|[\s{,])from\s*:\s*\w*$")
_INPUTS_VALUE = re.compile(r"(?:^|[\s{,])inputs\s*:\s*\[(?P<listed>[^\]]*?)\w*$")
_LIST_VALUE = re.compile(r"(?:^|[\s{,])(?P<key>\w+)\s*:\s*\[[^\]]*$")
_FIELD_VALUE = re.compile(r"(?:^|[\s{,])(?P<key>\w+)\s*:\s*[^,{}\[\]:#]*$")
_NEW_ENTRY = re.compile(r"^\s*-\s+\w*$")
_FLOW_ITEM = re.compile(r"[{\[,]\s*\w*$")  # a new key of a flow mapping, or a new item of a flow list
_BLOCK_KEY = re.compile(r"^(?P<indent>\s*)(-\s+)?\w*$")
_SECTION = re.compile(r"^(\w+)\s*:")


def completion_items(text_lines: list[str], outline: Outline | None, pos: Pos) -> list[types.CompletionItem]:
    """What fits at `pos`, by what the line says before it: after `kind: `, `block: `, `from: `, in
    `inputs: [`, after another field's `key: `, at a new list item, or where a key goes."""
    prefix = text_lines[pos[0]][:pos[1]]
    section = _section(text_lines, pos[0])
    entry = outline.entry_at(pos) if outline else None
    if _KIND_VALUE.search(prefix):
        return _schedule_kinds() if section == "train" else _kinds()
    if _BLOCK_VALUE.search(prefix):
        return _blocks(outline)
    reference = _FROM_VALUE.search(prefix) or _INPUTS_VALUE.search(prefix)
    if reference:
        return _names(outline, entry, set(re.findall(r"\w+", reference.groupdict().get("listed") or "")))
    value = _FIELD_VALUE.search(prefix) or _LIST_VALUE.search(prefix)
    if value and value.group("key") not in LAYER_LISTS:
        return _values(outline, entry, section, value.group("key"), pos)
    innermost = (_unclosed(prefix) or [None])[-1]
    new_item = _NEW_ENTRY.match(prefix) or (innermost == "]" and _FLOW_ITEM.search(prefix))
    if new_item and section in ("layers", "blocks"):
        return _kinds() + _blocks(outline)
    key = _BLOCK_KEY.match(prefix)
    if key and not key.group("indent") and not key.group(2):
        present = set(outline.sections) if outline else set()
        return [_item(name, Kind.Keyword, insert=f"{name}: ") for name in TOP_LEVEL_KEYS if name not in present]
    if key or (innermost == "}" and _FLOW_ITEM.search(prefix)):
        return _keys(outline, entry, section, pos)
    return []


def _unclosed(prefix: str) -> list[str]:
    """The closing brackets that the flow collections still open in `prefix` need, innermost last."""
    closers = []
    for char in prefix:
        if char in "{[":
            closers.append("}" if char == "{" else "]")
        elif char in "}]" and closers:
            closers.pop()
    return closers


def outline_for_completion(text: str, lines: list[str], pos: Pos, fallback: Outline | None,
                           budget: YamlBudget | None = None) -> Outline | None:
    """An outline for half-typed text: as it is; else with the cursor's line cut there and its brackets
    closed (`- {kind: conv, from: ` -> `- {kind: conv, from: }`); else the last one that parsed."""
    outline = read_outline(text, budget)
    if outline is not None:
        return outline
    prefix = lines[pos[0]][:pos[1]]
    repaired = lines[:pos[0]] + [prefix + "".join(reversed(_unclosed(prefix)))] + lines[pos[0] + 1:]
    return read_outline("\n".join(repaired), budget) or fallback


def _section(lines: list[str], line: int) -> str | None:
    """The top-level key the line belongs to: the nearest unindented `key:` at or above it."""
    for index in range(line, -1, -1):
        match = _SECTION.match(lines[index])
        if match:
            return match.group(1)
    return None


def _item(label: str, kind, detail: str | None = None, doc: str | None = None, insert: str | None = None,
          order: str = "1") -> types.CompletionItem:
    return types.CompletionItem(label, kind=kind, detail=detail, documentation=doc, insert_text=insert,
                                sort_text=f"{order}{label}")


def _kinds() -> list[types.CompletionItem]:
    return [_item(name, Kind.Class, kind.summary, kind.schema.__doc__) for name, kind in REGISTRY.items()]


def _schedule_kinds() -> list[types.CompletionItem]:
    schedule = TrainConfig.model_fields["schedule"].annotation
    return [_item(value, Kind.EnumMember) for value in literal_values(schedule.model_fields["kind"].annotation)]


def _blocks(outline: Outline | None) -> list[types.CompletionItem]:
    blocks = outline.blocks if outline else {}
    return [_item(name, Kind.Module, "block: " + ", ".join(block.params) if block.params else "block")
            for name, block in blocks.items()]


def _names(outline: Outline | None, entry: Entry | None, listed: set[str]) -> list[types.CompletionItem]:
    if outline is None or entry is None:
        return [_item("input", Kind.Reference, "the input")]
    items = []
    for name, target in outline.visible_names(entry).items():
        if name in listed:
            continue
        where = (f"{target.kind or target.block or 'layer'}, line {target.start[0] + 1}" if target
                 else "the input")
        items.append(_item(name, Kind.Reference, where))
    return items


def _params(outline: Outline | None, entry: Entry | None) -> list[types.CompletionItem]:
    names = outline.expression_names(entry) if outline else {}
    return [_item(name, Kind.Constant, what, order="0") for name, what in names.items()]


def _values(outline: Outline | None, entry: Entry | None, section: str | None, key: str, pos: Pos):
    """A field's value: its enumerated values, else the parameters an expression may use."""
    if section == "train":
        return [_item(value, Kind.EnumMember) for value in _train_values(key)]
    if section == "params":
        return _params(outline, None)
    if section == "defaults":
        kind = _defaults_of(outline, pos)[0]
    elif section in ("layers", "blocks") and entry is not None:
        kind = entry.kind
    else:
        return []
    schema_fields = REGISTRY[kind].schema.model_fields if kind in REGISTRY else {}
    info = next((i for n, i in schema_fields.items() if key in (n, i.alias)), None)
    choices = literal_values(info.annotation) if info else []
    return [_item(value, Kind.EnumMember) for value in choices] + _params(outline, entry)


def _train_values(key: str) -> list[str]:
    models = [TrainConfig, *(info.annotation for info in TrainConfig.model_fields.values()
                             if isinstance(info.annotation, type) and hasattr(info.annotation, "model_fields"))]
    for model in models:
        if key in model.model_fields:
            return literal_values(model.model_fields[key].annotation)
    return []


def _keys(outline: Outline | None, entry: Entry | None, section: str | None, pos: Pos) -> list[types.CompletionItem]:
    """The fields a layer, block use, `defaults:` kind or train section can still take."""
    if section == "train":
        return [_item(name, Kind.Field, insert=f"{name}: ") for name in TrainConfig.model_fields]
    if section == "defaults":
        kind, present = _defaults_of(outline, pos)
        if kind is None:  # a kind to give defaults to
            return [_item(name, Kind.Class, REGISTRY[name].summary, insert=f"{name}: ") for name in REGISTRY]
        return _fields(kind, present, leave_out=NOT_DEFAULTABLE)
    if entry is None or section not in ("layers", "blocks"):
        return []
    present = set(entry.fields)
    if entry.block and outline and entry.block in outline.blocks:
        names = [*outline.blocks[entry.block].params, "name", "from", CONDITION]
        return [_item(n, Kind.Field, insert=f"{n}: ") for n in names if n not in present]
    if entry.kind:
        return _fields(entry.kind, present) + ([] if CONDITION in present else [_item(
            CONDITION, Kind.Keyword, "keep this layer only where the condition holds", insert="if: ", order="2")])
    if not present or present <= ENTRY_FIELDS:  # an entry that does not say what it is yet
        return ([_item("kind", Kind.Keyword, "a layer kind", insert="kind: ")]
                + [_item(key, Kind.Keyword, doc, insert=f"{key}: ") for key, doc in STRUCTURAL_KEYS.items()])
    return []


def _defaults_of(outline: Outline | None, pos: Pos) -> tuple[str | None, set[str]]:
    """In `defaults:`, the kind whose fields hold `pos`, and the fields it has."""
    section = outline.sections.get("defaults") if outline else None
    for kind, (_, fields) in pairs(section[1] if section else None).items():
        if outline.holds(fields, pos) and start(fields) < pos:
            return kind, set(pairs(fields))
    return None, set()


def _fields(kind: str, present: set[str], leave_out=("kind",)) -> list[types.CompletionItem]:
    items = []
    for name, info in REGISTRY[kind].schema.model_fields.items():
        name = info.alias or name
        if name not in leave_out and name not in present:
            order = "0" if info.is_required() else "1" if name not in ENTRY_FIELDS else "2"
            items.append(_item(name, Kind.Field, info.description, insert=f"{name}: ", order=order))
    return items


def literal_values(annotation) -> list[str]:
    """The strings (and booleans) a pydantic annotation allows by name: Literal[...] and bool, nested in
    Optional, Union and Annotated."""
    if annotation is bool:
        return ["true", "false"]
    if typing.get_origin(annotation) is typing.Literal:
        return [str(arg) for arg in typing.get_args(annotation)]
    found: list[str] = []
    for arg in typing.get_args(annotation):
        found += [value for value in literal_values(arg) if value not in found]
    return found
