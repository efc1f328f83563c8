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
        for field, errors in _group_by_field(exc.errors()).items():
            if not field or field[0] not in reported:
                _report(model, field, errors, data, where, sink, path, mark, what, names_in_scope)
        return None


def _unresolved(value: Any) -> bool:
    return value is UNRESOLVED or (isinstance(value, list) and any(item is UNRESOLVED for item in value))


def _group_by_field(errors: list[dict]) -> dict[tuple, list[dict]]:
    """One report per field: a union type's several errors become one 'expected A or B'."""
    grouped: dict[tuple, list[dict]] = {}
    for error in errors:
        grouped.setdefault(tuple(error["loc"][:1]), []).append(error)
    return grouped


def _report(model, field, errors, data, where, sink, path, mark, what, names_in_scope) -> None:
    name = field[0] if field else None
    at = _mark_of(where, field, mark, errors[0]["type"] == "extra_forbidden")
    value = data.get(name) if isinstance(name, str) else None
    kind = errors[0]["type"]
    if kind == "extra_forbidden":
        known = [f.alias or key for key, f in model.model_fields.items()]
        guess = nearest(str(name), known)
        hint = f"did you mean '{guess}'?" if guess else f"known fields: {', '.join(known)}"
        sink.error("schema.unknown_field", f"{what}: unknown field '{name}'", at, path, hint)
    elif kind == "missing":
        sink.error("schema.missing_field", f"{what}: missing required field '{name}'", at, path,
                   f"add `{name}: ...` ({_describe(model, name)})")
    else:
        expected = " or ".join(dict.fromkeys(_expected(error) for error in errors))
        wants_bool = any(error["type"].startswith("bool") for error in errors)
        sink.error("schema.type", f"{name}: expected {expected}; got {_show(value)}", at, path,
                   _type_hint(value, names_in_scope, wants_bool))


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
    field = model.model_fields.get(name)
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
