"""Turning pydantic validation errors into located diagnostics."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationError

from .diagnostics import DiagnosticSink, Mark, nearest
from .expr import UNRESOLVED
from .yamlsrc import YMap, YNode, YSeq

YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}


def validate_into(model: type[BaseModel], data: dict, where: YMap | None, sink: DiagnosticSink, path: str,
                  mark: Mark | None, what: str, names_in_scope=()) -> BaseModel | None:
    """Validate `data` into `model`, reporting each problem at its YAML position.

    Fields holding an UNRESOLVED expression were reported when they were evaluated.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        reported = {key for key, value in data.items() if _unresolved(value)}
        grouped = _group_by_field(exc.errors(), data)
        for field in _misspelled(grouped):
            del grouped[field]  # the unknown field's "did you mean" says it
        for field, errors in grouped.items():
            if not field or field[0] not in reported:
                _report(model, field, errors, data, where, sink, path, mark, what, names_in_scope)
        return None


def _unresolved(value: Any) -> bool:
    return value is UNRESOLVED or (isinstance(value, list) and any(item is UNRESOLVED for item in value))


def _group_by_field(errors: list[dict], data: dict) -> dict[tuple, list[dict]]:
    """One report per field: a union type's several errors become one 'expected A or B'.

    A field is the part of an error's location that exists in the data: a nested
    section's field (`schedule.kind`) stays itself, a union's member tags are dropped.
    """
    grouped: dict[tuple, list[dict]] = {}
    for error in errors:
        field = tuple(error["loc"]) if error["type"] == "missing" else _data_path(error["loc"], data)
        grouped.setdefault(field, []).append(error)
    return grouped


def _misspelled(grouped: dict[tuple, list[dict]]) -> list[tuple]:
    """The missing fields an unknown field of the same section is a misspelling of."""
    missing = {field for field, errors in grouped.items() if field and errors[0]["type"] == "missing"}
    found = []
    for field, errors in grouped.items():
        if field and errors[0]["type"] == "extra_forbidden":
            siblings = {other[-1]: other for other in missing if other[:-1] == field[:-1] and other not in found}
            guess = nearest(str(field[-1]), siblings)
            if guess:
                found.append(siblings[guess])
    return found


def _data_path(loc: tuple, data: Any) -> tuple:
    path, value = [], data
    for part in loc:
        if isinstance(value, dict) and part in value or (
                isinstance(value, list) and isinstance(part, int) and part < len(value)):
            path.append(part)
            value = value[part]
        else:
            break
    return tuple(path) if path else tuple(loc[:1])


def _value_at(data: Any, field: tuple) -> Any:
    for part in field:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _owner(model, field: tuple):
    """The (possibly nested) model whose field is the last part of `field`."""
    for part in field[:-1]:
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _report(model, field, errors, data, where, sink, path, mark, what, names_in_scope) -> None:
    owner = _owner(model, field) if field else model
    name = field[-1] if field else None
    section = ".".join([what, *map(str, field[:-1])])
    at = _mark_of(where, field, mark, errors[0]["type"] == "extra_forbidden")
    value = _value_at(data, field) if field else None
    kind = errors[0]["type"]
    if kind == "extra_forbidden":
        known = [f.alias or key for key, f in owner.model_fields.items()] if owner else []
        guess = nearest(str(name), known)
        hint = f"did you mean '{guess}'?" if guess else f"known fields: {', '.join(known)}" if known else None
        sink.error("schema.unknown_field", f"{section}: unknown field '{name}'", at, path, hint)
    elif kind == "missing":
        sink.error("schema.missing_field", f"{section}: missing required field '{name}'", at, path,
                   f"add `{name}: ...` ({_describe(owner, name)})")
    else:
        name = ".".join(map(str, field))
        expected = " or ".join(dict.fromkeys(_expected(error) for error in errors))
        wants_bool = any(error["type"].startswith("bool") for error in errors)
        sink.error("schema.type", f"{name}: expected {expected}; got {_show(value)}", at, path,
                   _choice_hint(value, errors) or _type_hint(value, names_in_scope, wants_bool))


def _expected(error: dict) -> str:
    message = error["msg"]
    for prefix in ("Input should be ", "Value should be ", "Value error, "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    message = re.sub(r" after validation, not \d+$", "", message)
    return message.replace("List should have", "a list with")


def _show(value: Any, limit: int = 80) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _choice_hint(value: Any, errors: list[dict]) -> str | None:
    """Did you mean, for a misspelt or miscased choice: `optimizer: SGD`, `schedule: {kind: cosin}`."""
    choices = [choice for error in errors if error["type"] == "literal_error"
               for choice in re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", ""))]
    if not isinstance(value, str) or not choices:
        return None
    guess = next((choice for choice in choices if choice.lower() == value.lower()), None) \
        or nearest(value.lower(), choices)
    return f"did you mean '{guess}'?" if guess else None


def _type_hint(value: Any, names_in_scope, wants_bool: bool) -> str | None:
    if wants_bool and isinstance(value, str) and value.lower() in YAML11_BOOLEANS:
        return f"YAML 1.1 would read '{value}' as a boolean; netspec does not guess: write true or false"
    if isinstance(value, str) and value.isidentifier():
        guess = nearest(value, names_in_scope)
        if guess:
            return f"'{value}' is not a parameter; did you mean '{guess}'?"
    if isinstance(value, float) and value.is_integer():
        return f"write {int(value)} without a decimal point"
    return None


def _describe(model, name) -> str:
    field = model.model_fields.get(name) if model is not None else None
    return field.description if field is not None and field.description else "see `netspec schema`"


def _mark_of(where: YNode | None, loc: tuple, fallback: Mark | None, key: bool) -> Mark | None:
    node = where
    for index, part in enumerate(loc):
        if isinstance(node, YMap) and isinstance(part, str) and part in node.items:
            if key and index == len(loc) - 1:
                return node.key_mark(part)
            node = node.items[part]
        elif isinstance(node, YSeq) and isinstance(part, int) and part < len(node.items):
            node = node.items[part]
        else:
            break
    return node.mark if node is not None else fallback
