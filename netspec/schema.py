"""The JSON Schema of the spec format, for editors (VS Code's YAML extension, any yaml-language-server) and docs.

Built from the same pydantic models the checker validates with, so the two cannot drift
apart. Integer fields also accept a string: an expression over `params` such as `2 * width`.

Its shape is chosen for editors, not only for validators: a layer is dispatched with
if/then on the key it has (`kind`, `block`, `repeat`, or one kind name for a short form)
instead of a union of every kind, so an editor completes `kind: ` with every kind, checks
`{maxpool: {kernal_size: 3}}` against maxpool's own fields, and says "Property kernal_size
is not allowed" rather than "is not of type string" from a 30-way union. Bounds are JSON
Schema keywords (minimum, exclusiveMaximum, ...) and every field has a description
(netspec/kinds/glossary.py, or the field's own). Inside a block's body `kind:` may also be one of
the block's parameters (`{kind: act}`), so the layer forms there are a copy that allows it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from .kinds import REGISTRY
from .kinds.glossary import LAYER_FIELDS, TRAIN_FIELDS
from .names import IDENTIFIER
from .plugins import load_for_schema
from .train_config import TrainConfig

EXPRESSION = {"type": "string", "description": "an expression over params, e.g. '2 * width'"}
# Where a word is also a value (padding: same), a lone word is taken as a misspelt value, not a param name.
WORDLESS_EXPRESSION = {"type": "string", "pattern": "[^A-Za-z_]",
                       "description": "an expression over params, e.g. 'k // 2' (a lone param name: write '(name)')"}
CONDITION = {"anyOf": [{"type": "boolean"}, {"type": "string"}],
             "description": "Keep this entry only where the condition holds, e.g. 'stride > 1 or in_channels != out'."}
VALUE = [{"type": "number"}, {"type": "boolean"}, EXPRESSION]
DEFS = "#/$defs/"
BLOCK_BODY = "block_body_"  # names the layer forms of block bodies (see _block_body_forms)
BOUNDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}


def json_schema(plugins: Iterable[str] = (), *, installed_plugins: bool = False) -> dict[str, Any]:
    """The schema of every kind netspec knows, with those of `plugins` and (if asked) of installed plugins.

    `plugins` are module names as under a spec's `plugins:`, or paths to NAME.py. A plugin that cannot be
    loaded raises SpecError, one diagnostic per plugin.
    """
    load_for_schema(plugins, installed_plugins)
    defs: dict[str, Any] = {}
    for name, kind in REGISTRY.items():
        properties, required = _fields(kind.schema, defs, LAYER_FIELDS)
        properties["if"] = CONDITION
        kind_property = {"const": name, "description": kind.summary}
        defs[f"layer_{name}"] = _object(name, kind.summary, {"kind": kind_property, **properties}, ["kind", *required])
        defs[f"fields_{name}"] = _object(name, kind.summary, properties, required)
    defs.update(_layer_forms())
    defs.update(_block_body_forms(defs))
    train = TrainConfig.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(train.pop("$defs", {}))
    defs["TrainConfig"] = train
    for model in ("TrainConfig", "Schedule", "Augment"):
        _describe(defs[model].get("properties", {}), TRAIN_FIELDS)
    train["properties"]["schedule"] = {"description": TRAIN_FIELDS["schedule"], "anyOf": [
        defs["Schedule"]["properties"]["kind"] | {"type": "string"}, {"$ref": "#/$defs/Schedule"}]}
    defs = copy.deepcopy(defs)  # the pass below rewrites in place: never the module's shared constants
    _json_schema_keywords(defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "netspec network spec",
        "type": "object",
        "anyOf": [{"required": ["name", "input", "layers"]},  # a network, or a file of blocks for `imports:`
                  {"required": ["blocks"], "not": {"required": ["layers"]}}],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "description": "The network's name (the built module's class name)."},
            "imports": {"type": "array", "items": {"type": "string"},
                        "description": "Spec files (relative to this one) or zoo:NAME whose `blocks:` this spec uses."},
            "scales": {"type": "object", "description": "Named presets of params, chosen with --scale NAME or "
                                                        "spec.yaml@NAME.",
                       "additionalProperties": {"type": "object", "additionalProperties": {
                           "anyOf": [{"type": "number"}, {"type": "boolean"}, EXPRESSION]}}},
            "description": {"type": "string", "description": "Free text about the network."},
            "input": {"type": "array", "minItems": 1, "maxItems": 3,
                      "description": "The input shape per sample: [channels, height, width], or [features].",
                      "items": {"anyOf": [{"type": "integer", "minimum": 1}, EXPRESSION]}},
            "params": {"type": "object", "description": "Network-level numbers (or true/false switches) any field "
                                                        "may use by name.",
                       "additionalProperties": {"anyOf": [{"type": "number"}, {"type": "boolean"}, EXPRESSION]}},
            "defaults": _defaults(defs),
            "blocks": _blocks(),
            "layers": {"$ref": "#/$defs/Layers"},
            "train": {"$ref": "#/$defs/TrainConfig", "description": "Defaults for `netspec train` (flags override)."},
            "plugins": {"type": "array", "items": {"type": "string"},
                        "description": "Modules that add layer kinds: NAME.py beside the spec, or installed."},
        },
        "$defs": defs,
    }


def _blocks() -> dict[str, Any]:
    block = {"type": "object", "required": ["layers"], "additionalProperties": False, "properties": {
        "description": {"type": "string", "description": "Free text about the block."},
        "params": {"description": "The block's parameters: [names], or {name: default}.",
                   "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]},
        "layers": {"$ref": DEFS + BLOCK_BODY + "Layers"}}}
    return {"type": "object", "description": "Reusable, parameterised layer lists.", "additionalProperties": block}


def _defaults(defs: dict[str, Any]) -> dict[str, Any]:
    """`defaults:`: per kind, any of its fields but those that say what a layer is."""
    from .spec_defaults import NOT_DEFAULTABLE

    kinds = {name: _object(name, f"fields every {name} layer starts from", {
        key: value for key, value in defs[f"fields_{name}"]["properties"].items() if key not in NOT_DEFAULTABLE}, [])
        for name in REGISTRY}
    return {"type": "object", "additionalProperties": False, "properties": kinds,
            "description": "Fields per layer kind that every layer of the kind starts from (a layer's own win), "
                           "e.g. {batchnorm: {eps: 0.001}}."}


def _fields(model, defs: dict[str, Any], glossary: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """A kind's own fields (all but `kind`) as JSON Schema properties, described, branches typed."""
    schema = model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    defs.update(schema.pop("$defs", {}))
    properties = {key: value for key, value in schema["properties"].items() if key != "kind"}
    if "branches" in properties:
        properties["branches"] = {"anyOf": [
            {"type": "array", "items": {"$ref": "#/$defs/Branch"}},
            {"type": "object", "additionalProperties": {"$ref": "#/$defs/Branch"}}]}
    _describe(properties, glossary)
    return properties, [key for key in schema.get("required", []) if key != "kind"]


def _object(title: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "title": title, "description": description, "properties": properties,
            "required": required, "additionalProperties": False}


def _describe(properties: dict[str, Any], glossary: dict[str, str]) -> None:
    for key, value in properties.items():
        value.pop("title", None)  # pydantic's "Out Channels": the description says more
        if "description" not in value and key in glossary:
            value["description"] = glossary[key]


def _layer_forms() -> dict[str, Any]:
    """The four ways to write a layer, told apart by their keys, so each is checked as what it is."""
    kinds = list(REGISTRY)
    short = {}
    for name, kind in REGISTRY.items():
        fields = {"$ref": f"#/$defs/fields_{name}"}
        main = f"`{{{name}: value}}` sets {kind.shorthand}; or " if kind.shorthand else ""
        short[name] = {"description": f"{kind.summary}: {main}`{{{name}: {{fields}}}}`",
                       "if": {"type": "object"}, "then": fields,
                       "else": {"$ref": f"#/$defs/fields_{name}/properties/{kind.shorthand}"}
                       if kind.shorthand else {"type": "object"}}
    return {
        "Layer": {"if": {"type": "object"}, "then": {"$ref": "#/$defs/LayerMapping"},
                  "else": {"type": "string", "description": "a kind with default fields (relu, flatten), or a "
                                                            "block without parameters"}},
        "LayerMapping": {"if": {"required": ["kind"]}, "then": {"$ref": "#/$defs/KindLayer"},
                         "else": {"if": {"required": ["block"]}, "then": {"$ref": "#/$defs/BlockUse"},
                                  "else": {"if": {"required": ["repeat"]}, "then": {"$ref": "#/$defs/Repeat"},
                                           "else": {"$ref": "#/$defs/ShortForm"}}}},
        "KindLayer": {"type": "object", "required": ["kind"],
                      "properties": {"kind": {"enum": kinds, "description": LAYER_FIELDS["kind"]}},
                      "allOf": [{"if": {"properties": {"kind": {"const": name}}},
                                 "then": {"$ref": f"#/$defs/layer_{name}"}} for name in kinds]},
        "ShortForm": {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": short,
                      "description": "short form: `{maxpool: 2}` (the kind's main field), `{conv: {fields}}`, or a "
                                     "block `{name: {params}}`",
                      "additionalProperties": {"type": ["object", "null"], "description": "a block's short form"}},
        "BlockUse": {"type": "object", "required": ["block"], "description": "use of a block defined under `blocks:`",
                     "properties": {"block": {"type": "string", "description": "The block's name under `blocks:`."},
                                    "name": {"type": "string", "description": "Name of this instance."},
                                    "from": {"type": "string", "description": "Take input from this named layer."},
                                    "trainable": {"type": "boolean", "description": "False freezes the block."},
                                    "if": CONDITION},
                     "additionalProperties": {"anyOf": [  # an argument: a value, or a list of them (kernel_size: [1, 7])
                         *VALUE, {"type": "array", "items": {"anyOf": VALUE}}]}},
        "Repeat": {"type": "object", "required": ["repeat", "layers"], "additionalProperties": False,
                   "description": "repeat a list of layers N times (0: the identity)",
                   "properties": {"repeat": {"anyOf": [{"type": "integer", "minimum": 0}, EXPRESSION],
                                             "description": "How many copies (0: none, the input passes through)."},
                                  "index": {"type": "string", "description": "Names the copy number (0, 1, ...) "
                                                                             "in the copies' expressions."},
                                  "if": CONDITION,
                                  "name": {"type": "string", "description": "Name of the repeat (its copies are "
                                                                            "name.0, name.1, ...)."},
                                  "layers": {"$ref": "#/$defs/Layers"}}},
        "Layers": {"type": "array", "items": {"$ref": "#/$defs/Layer"}},
        "Branch": {"anyOf": [{"$ref": "#/$defs/Layers"}, {"$ref": "#/$defs/Layer"}, {
            "type": "object", "required": ["if", "layers"], "additionalProperties": False,
            "description": "a branch kept only where its condition holds (dropped from the merge elsewhere)",
            "properties": {"if": CONDITION, "layers": {"$ref": "#/$defs/Layers"}}}]},
    }


def _block_body_forms(defs: dict[str, Any]) -> dict[str, Any]:
    """The layer forms again for block bodies, where `kind:` may also be a parameter of the block.

    A block may take a kind as an argument (`params: {act: relu}`, then `{kind: act}` in its body), and
    JSON Schema cannot compare a value with the block's parameter names (`$data` is no standard keyword).
    So every definition that reaches `Layers` is copied under a name starting with `block_body_`, its
    references to the others renamed, and there `kind:` takes any identifier: a known kind still has its
    fields checked and completion still offers every kind, while a parameter's layer waits for `netspec
    check`, which knows the argument. Outside blocks no parameter names a kind (a network's `params:` are
    numbers), so the strict enum stays there and a misspelt kind is flagged.
    """
    reaching = {"Layers"}
    while more := {name for name, node in defs.items() if name not in reaching and _references(node) & reaching}:
        reaching |= more
    copies = {BLOCK_BODY + name: _renamed(copy.deepcopy(defs[name]), reaching) for name in reaching}
    kind = copies[BLOCK_BODY + "KindLayer"]["properties"]["kind"]
    kind["anyOf"] = [{"enum": kind.pop("enum")}, {"type": "string", "pattern": f"^{IDENTIFIER.pattern}$"}]
    kind["description"] += " In a block, also a parameter of the block whose value is a kind (`{kind: act}`)."
    return copies


def _references(node: Any) -> set[str]:
    """The names of the definitions a schema node refers to (`#/$defs/NAME...`)."""
    if isinstance(node, dict):
        found = {node["$ref"].removeprefix(DEFS).split("/")[0]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*map(_references, node.values()))
    return set().union(*map(_references, node)) if isinstance(node, list) else set()


def _renamed(node: Any, names: set[str]) -> Any:
    """`node` with each reference to one of `names` pointed at its block-body copy, in place."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        name, slash, rest = node["$ref"].removeprefix(DEFS).partition("/")
        if name in names:
            node["$ref"] = DEFS + BLOCK_BODY + name + slash + rest
    for child in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
        _renamed(child, names)
    return node


def _json_schema_keywords(node: Any, wordless: bool = False) -> None:
    """pydantic's bounds as JSON Schema keywords, and every number also an expression string."""
    if isinstance(node, dict):
        for pydantic_name, keyword in BOUNDS.items():
            if pydantic_name in node and not isinstance(node[pydantic_name], dict):
                node[keyword] = node.pop(pydantic_name)
        wordless = wordless or any(isinstance(option.get("enum", option.get("const")), (list, str))
                                   for option in node.get("anyOf", ()) if isinstance(option, dict))
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(children):
        if isinstance(value, dict) and value.get("type") in ("integer", "number"):
            node[key] = {"anyOf": [value, WORDLESS_EXPRESSION if wordless else EXPRESSION]}
        else:
            _json_schema_keywords(value, wordless)
