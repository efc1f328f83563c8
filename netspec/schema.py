"""The JSON Schema of the spec format, for editors (VS Code's YAML extension) and docs.

Built from the same pydantic models the checker validates with, so the two
cannot drift apart. Integer fields also accept a string: an expression over
`params` such as `2 * width`.
"""

from __future__ import annotations

from typing import Any

from .kinds import REGISTRY
from .train_config import TrainConfig

EXPRESSION = {"type": "string", "description": "an expression over params, e.g. '2 * width'"}
CONDITION = {"anyOf": [{"type": "boolean"}, {"type": "string"}],
             "description": "keep this entry only where the condition holds, e.g. 'stride > 1 or in_channels != out'"}


def json_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for name, kind in REGISTRY.items():
        defs[f"layer_{name}"] = _kind_schema(name, kind, defs)
    defs["Layer"] = {"anyOf": [
        {"type": "string", "description": "a kind with default fields, e.g. relu, or a block without parameters"},
        *({"$ref": f"#/$defs/layer_{name}"} for name in REGISTRY),
        {"type": "object", "required": ["block"], "description": "use of a block defined under `blocks:`",
         "properties": {"block": {"type": "string"}, "name": {"type": "string"}, "from": {"type": "string"},
                        "if": CONDITION},
         "additionalProperties": {"anyOf": [{"type": "number"}, {"type": "boolean"}, EXPRESSION]}},
        {"type": "object", "required": ["repeat", "layers"], "additionalProperties": False,
         "description": "repeat a list of layers N times (0: the identity)",
         "properties": {"repeat": {"anyOf": [{"type": "integer", "minimum": 0}, EXPRESSION]},
                        "index": {"type": "string", "description": "names the copy number 0, 1, ... in expressions"},
                        "name": {"type": "string"}, "if": CONDITION, "layers": {"$ref": "#/$defs/Layers"}}},
        {"type": "object", "minProperties": 1, "maxProperties": 1,
         "description": "short form: `maxpool: 2` (the kind's main field) or `conv: {...}`",
         "propertyNames": {"enum": sorted(REGISTRY)}},
    ]}
    defs["Layers"] = {"type": "array", "items": {"$ref": "#/$defs/Layer"}}
    defs["Branch"] = {"anyOf": [{"$ref": "#/$defs/Layers"}, {"$ref": "#/$defs/Layer"}, {
        "type": "object", "required": ["if", "layers"], "additionalProperties": False,
        "description": "a branch kept only where its condition holds (dropped from the merge otherwise)",
        "properties": {"if": CONDITION, "layers": {"$ref": "#/$defs/Layers"}}}]}
    train = TrainConfig.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(train.pop("$defs", {}))
    defs["TrainConfig"] = train
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "netspec network spec",
        "type": "object",
        "required": ["name", "input", "layers"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "input": {"type": "array", "minItems": 1, "maxItems": 3, "description": "[channels, height, width]",
                      "items": {"anyOf": [{"type": "integer", "minimum": 1}, EXPRESSION]}},
            "params": {"type": "object", "additionalProperties": {"anyOf": [{"type": "number"}, {"type": "boolean"},
                                                                             EXPRESSION]}},
            "defaults": _defaults_schema(defs),
            "blocks": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["layers"], "additionalProperties": False,
                "properties": {"description": {"type": "string"},
                               "params": {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                                    {"type": "object"}]},
                               "layers": {"$ref": "#/$defs/Layers"}}}},
            "layers": {"$ref": "#/$defs/Layers"},
            "train": {"$ref": "#/$defs/TrainConfig"},
        },
        "$defs": defs,
    }


def _defaults_schema(defs: dict[str, Any]) -> dict[str, Any]:
    """`defaults:`: per kind, any of its fields but those that say what a layer is."""
    from .spec_defaults import NOT_DEFAULTABLE

    kinds = {}
    for name in REGISTRY:
        properties = defs[f"layer_{name}"]["properties"]
        kinds[name] = {"type": "object", "additionalProperties": False,
                       "properties": {key: value for key, value in properties.items() if key not in NOT_DEFAULTABLE}}
    return {"type": "object", "additionalProperties": False, "properties": kinds,
            "description": "fields per layer kind that every layer of the kind starts from, e.g. "
                           "{batchnorm: {eps: 0.001}}"}


def _kind_schema(name: str, kind, defs: dict[str, Any]) -> dict[str, Any]:
    """One kind's pydantic schema, tagged by `kind`, with expressions allowed and branches typed."""
    schema = kind.schema.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    defs.update(schema.pop("$defs", {}))
    schema["description"] = kind.summary
    schema["properties"]["kind"] = {"const": name}
    schema["properties"]["if"] = CONDITION
    schema["required"] = sorted(set(schema.get("required", [])) | {"kind"})
    if "branches" in schema["properties"]:
        schema["properties"]["branches"] = {"anyOf": [
            {"type": "array", "items": {"$ref": "#/$defs/Branch"}},
            {"type": "object", "additionalProperties": {"$ref": "#/$defs/Branch"}}]}
    _allow_expressions(schema)
    return schema


def _allow_expressions(node: Any) -> None:
    """Let every integer or number in the schema also be an expression string."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(children):
        if isinstance(value, dict) and value.get("type") in ("integer", "number"):
            node[key] = {"anyOf": [value, EXPRESSION]}
        else:
            _allow_expressions(value)
