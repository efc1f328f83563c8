"""`defaults:`: fields per kind that every layer of that kind starts from.

    defaults:
      batchnorm: {eps: 0.001, momentum: 0.01}

A layer's own fields override them. The values stay YAML nodes, evaluated with
each layer's parameters and validated with its other fields, so a default may be
an expression; the field names are checked here, once.
"""

from __future__ import annotations

from .diagnostics import DiagnosticSink, nearest
from .kinds import REGISTRY
from .plugins import PluginError, kind_from_entry_points
from .yamlsrc import YMap, YNode

NOT_DEFAULTABLE = ("kind", "name", "from", "if", "branches", "inputs")  # what a layer is, not how it is set


def read_defaults(node: YNode | None, sink: DiagnosticSink) -> dict[str, YMap]:
    if node is None:
        return {}
    if not isinstance(node, YMap):
        sink.error("spec.type", "defaults: expected a mapping of layer kind to its fields", node.mark,
                   hint="e.g. `defaults: {batchnorm: {eps: 0.001, momentum: 0.01}}`")
        return {}
    defaults = {}
    for kind, fields in node.items.items():
        at = node.key_mark(kind)
        if not _plugin_loaded(kind, at, sink):
            continue
        if kind not in REGISTRY:
            guess = nearest(kind, REGISTRY)
            sink.error("defaults.kind", f"defaults: unknown layer kind '{kind}'", at, "defaults",
                       f"did you mean '{guess}'?" if guess else f"known kinds: {', '.join(sorted(REGISTRY))}")
        elif not isinstance(fields, YMap):
            sink.error("defaults.fields", f"defaults.{kind}: expected a mapping of field: value", fields.mark,
                       "defaults", f"e.g. `{kind}: {{...}}` with fields from `netspec schema`")
        else:
            defaults[kind] = _known_fields(kind, fields, sink)
    return defaults


def _plugin_loaded(kind: str, at, sink: DiagnosticSink) -> bool:
    """Load an installed plugin's kind before its defaults are checked; False when the plugin is broken (reported)."""
    if kind in REGISTRY:
        return True
    try:
        kind_from_entry_points(kind)
    except PluginError as exc:
        sink.error("plugin.load", exc.message, at, "defaults", exc.hint)
        return False
    return True


def _known_fields(kind: str, fields: YMap, sink: DiagnosticSink) -> YMap:
    model = REGISTRY[kind].schema.model_fields
    known = [field.alias or name for name, field in model.items() if (field.alias or name) not in NOT_DEFAULTABLE]
    kept = {}
    for key, value in fields.items.items():
        if key in known:
            kept[key] = value
            continue
        guess = None if key in NOT_DEFAULTABLE else nearest(key, known)
        sink.error("defaults.field", f"defaults.{kind}: " + (f"'{key}' cannot have a default" if key in NOT_DEFAULTABLE
                                                               else f"unknown field '{key}'"),
                   fields.key_mark(key), "defaults",
                   f"did you mean '{guess}'?" if guess else f"fields with defaults: {', '.join(known) or 'none'}")
    return YMap(kept, fields.mark, {key: fields.key_mark(key) for key in kept})
