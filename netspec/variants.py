"""One spec, many networks: `--set NAME=VALUE` overrides and named `scales:` presets.

A variant is applied to the located YAML tree before the spec is read, so an
overridden value goes through exactly what a value in the file goes through:
YAML 1.2 typing, the safe expression evaluator, the schema. A value that comes
from an override carries marks naming the override (`<--set width=abc>`), so a
problem with it is reported there, not at a line of the file. A scale's values
are nodes of the file itself and are reported at their lines.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .diagnostics import Diagnostic, DiagnosticSink, Mark, SpecError, nearest
from .located import from_plain, relocated
from .train_config import TrainConfig
from .yamlsrc import YMap, YNode, YScalar, parse_yaml, to_plain

OVERRIDE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
TRAIN = "train."
SCALE_SUFFIX = re.compile(r"(?P<spec>.+)@(?P<scale>[A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Override:
    """One `NAME=VALUE`: a `params:` name or `train.KEY`, and its value located at the override."""

    name: str
    node: YNode
    label: str  # the pseudo-file its diagnostics name, e.g. "<--set width=0.5>"

    @property
    def value(self) -> Any:
        return to_plain(self.node)

    @property
    def is_training(self) -> bool:
        return self.name.startswith(TRAIN)


@dataclass(frozen=True)
class Variant:
    """Which member of a spec's family: a scale's name and the overrides on top of it."""

    scale: str | None = None
    overrides: tuple[Override, ...] = ()
    scale_label: str = "<--scale>"
    sources: dict[str, str] = field(default_factory=dict, compare=False)  # label -> text shown in diagnostics

    def record(self) -> dict:
        """The plain form a checkpoint keeps, so a later command rebuilds this network."""
        return {"scale": self.scale, "overrides": {o.name: o.value for o in self.overrides}}


def split_scale(name: str) -> tuple[str, str | None]:
    """`spec.yaml@s` -> ('spec.yaml', 's'); a name that is an existing file keeps its '@'."""
    match = SCALE_SUFFIX.fullmatch(name)
    if match is None or os.path.exists(name):
        return name, None
    return match["spec"], match["scale"]


def variant_for(sink: DiagnosticSink, spec_name: str, scale: str | None = None,
                overrides: "Mapping[str, Any] | Iterable[str] | None" = None, origin: str = "--set") -> Variant:
    """The variant a caller asked for: `scale` or a `@scale` suffix of `spec_name`, and `overrides`.

    `overrides` is a mapping of name to Python value (the API) or `NAME=VALUE` strings (the CLI),
    whose values are read as YAML.
    """
    path, suffix = split_scale(spec_name)
    label = f"<--scale {scale}>" if scale is not None else f"<{spec_name}>"
    if scale is not None and suffix is not None and scale != suffix:
        sink.error("variant.scale_twice", f"expected one scale; got --scale {scale} and {path}@{suffix}",
                   scale_mark(label), hint="name the scale once")
    chosen = scale if scale is not None else suffix
    sources: dict[str, str] = {label: label[1:-1]} if chosen is not None else {}
    parsed = tuple(_parse_all(overrides, sink, origin, sources))
    return Variant(chosen, parsed, label, sources)


def _parse_all(overrides, sink: DiagnosticSink, origin: str, sources: dict) -> Iterable[Override]:
    if overrides is None:
        return
    if isinstance(overrides, Mapping):
        for name, value in overrides.items():
            label = f"<{'overrides' if origin == '--set' else origin}: {name}={value!r}>"
            if _valid_name(str(name), label, sink):
                yield Override(str(name), from_plain(value, Mark(1, 1, label)), label)
        return
    for text in overrides:
        override = _parse_text(str(text), sink, origin, sources)
        if override is not None:
            yield override


def _parse_text(text: str, sink: DiagnosticSink, origin: str, sources: dict) -> Override | None:
    label = f"<{origin} {text}>"
    sources[label] = f"{origin} {text}"
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not value.strip():
        sink.error("override.form", f"{origin}: expected NAME=VALUE; got '{text}'", name_mark(label),
                   hint="e.g. --set width=0.5 or --set train.lr=0.1")
        return None
    if not _valid_name(name, label, sink):
        return None
    offset = len(origin) + 1 + text.index("=") + 1  # the value's column in `--set NAME=VALUE`, less one
    value_sink = DiagnosticSink(label)
    node = parse_yaml(value, value_sink)
    for problem in value_sink.items:  # positions in the value become positions in the override
        line, column = (problem.line, problem.column) if problem.line is not None else (1, 1)
        sink.add(problem.severity, problem.code, problem.message,
                 Mark(line, column + (offset if line == 1 else 0), label), problem.path, problem.hint)
    return Override(name, relocated(node, label, offset), label) if node is not None else None


def _valid_name(name: str, label: str, sink: DiagnosticSink) -> bool:
    if OVERRIDE_NAME.fullmatch(name):
        return True
    sink.error("override.name", f"expected a parameter name or train.KEY before '='; got '{name}'",
               name_mark(label), hint="e.g. --set num_classes=100 or --set train.epochs=5")
    return False


def apply_variant(root: YMap, variant: Variant, sink: DiagnosticSink) -> YMap:
    """The spec's tree with the variant's scale and then its overrides written into `params:` and `train:`."""
    params = root.get("params")
    param_items = dict(params.items) if isinstance(params, YMap) else {}
    scales = read_scales(root.get("scales"), param_items, sink)
    if variant.scale is not None:
        if variant.scale in scales:
            param_items.update(scales[variant.scale].items)
        else:
            _unknown_scale(variant, scales, sink)
    train = root.get("train")
    seen: dict[str, Override] = {}
    for override in variant.overrides:
        if override.name in seen:
            sink.error("override.twice", f"'{override.name}' is set twice ({seen[override.name].label[1:-1]} "
                       f"and {override.label[1:-1]})", override.node.mark, hint="keep one of them")
        elif override.is_training:
            section = train if isinstance(train, YMap) else YMap({}, root.mark)  # a bad section is reported as such
            train = _with_setting(section, override.name[len(TRAIN):].split("."), override)
        elif override.name in param_items:
            param_items[override.name] = override.node
        else:
            _unknown_override(override, param_items, sink)
        seen[override.name] = override
    items = dict(root.items)
    if isinstance(params, YMap):  # a `params:` that is no mapping stays, to be reported as such
        items["params"] = YMap(param_items, params.mark, params.key_marks)
    if train is not None:
        items["train"] = train
    return YMap(items, root.mark, root.key_marks)


def read_scales(node: YNode | None, params: dict, sink: DiagnosticSink) -> dict[str, YMap]:
    """`scales: {n: {width: 0.25}, ...}`: each a mapping of some of the spec's params to values."""
    if node is None:
        return {}
    example = "e.g. `scales: {n: {width: 0.25, depth: 1}, s: {width: 0.5, depth: 2}}`"
    if not isinstance(node, YMap):
        sink.error("scales.type", "scales: expected a mapping of scale name to {param: value}", node.mark, hint=example)
        return {}
    scales = {}
    for name, preset in node.items.items():
        if not isinstance(preset, YMap):
            sink.error("scales.type", f"scales.{name}: expected a mapping of param: value; got {to_plain(preset)!r}",
                       preset.mark, hint=example)
            continue
        for key in preset.items:
            if key not in params:
                guess = nearest(key, params)
                sink.error("scales.unknown_param", f"scales.{name}: '{key}' is not one of the spec's params",
                           preset.key_mark(key), hint=f"did you mean '{guess}'?" if guess else
                           "a scale sets values of `params:`; declare it there with its default")
        scales[name] = YMap({k: v for k, v in preset.items.items() if k in params}, preset.mark, preset.key_marks)
    return scales


def _unknown_scale(variant: Variant, scales: dict, sink: DiagnosticSink) -> None:
    guess = nearest(variant.scale, scales)
    known = f"its scales: {', '.join(scales)}" if scales else "the spec has no `scales:` section"
    sink.error("variant.unknown_scale", f"unknown scale '{variant.scale}' ({known})", scale_mark(variant.scale_label),
               hint=f"did you mean '{guess}'?" if guess else "add it under `scales:`, or choose one of those")


def report_unknown_names(overrides, root: YMap, sink: DiagnosticSink) -> None:
    """Report each override whose name is not one of `root`'s params (training settings are judged later)."""
    params = root.get("params")
    names = params.items if isinstance(params, YMap) else {}
    for override in overrides:
        if not override.is_training and override.name not in names:
            _unknown_override(override, names, sink)


def _unknown_override(override: Override, params: dict, sink: DiagnosticSink) -> None:
    name = override.name
    if name in TrainConfig.model_fields:
        hint = f"did you mean 'train.{name}'? (training settings are set as train.KEY)"
    else:
        guess = nearest(name, params)
        hint = (f"did you mean '{guess}'?" if guess else
                f"its params: {', '.join(params)}" if params else "the spec has no `params:` to set")
    sink.error("override.unknown", f"'{name}' is not one of the spec's params", name_mark(override.label), hint=hint)


def _with_setting(section: YMap, keys: list[str], override: Override) -> YMap:
    """`section` with `keys` (a path such as ['schedule', 'kind']) set to the override's value."""
    items, marks = dict(section.items), dict(section.key_marks)
    head = keys[0]
    marks[head] = name_mark(override.label)
    if len(keys) == 1:
        items[head] = override.node
    else:
        inner = items.get(head)
        if isinstance(inner, YScalar) and isinstance(inner.value, str):  # `schedule: cosine` is {kind: cosine}
            inner = YMap({"kind": inner}, inner.mark, {"kind": inner.mark})
        inner = inner if isinstance(inner, YMap) else YMap({}, override.node.mark)
        items[head] = _with_setting(inner, keys[1:], override)
    return YMap(items, section.mark, marks)


def scale_mark(label: str) -> Mark:
    """Where the scale's name is in `<--scale NAME>` or `<spec.yaml@NAME>`."""
    return name_mark(label) if label.startswith("<--scale ") else Mark(1, label.rindex("@") + 1, label)


def name_mark(label: str) -> Mark:
    """Where the name starts in an override's pseudo-file: `--set NAME=...` column 7."""
    return Mark(1, label.index(" ") + 1, label)


def reconcile(given: Variant, recorded: dict | None, checkpoint: str) -> tuple[str | None, dict[str, Any] | None]:
    """The scale and overrides a checkpoint was trained with; `given` may only repeat them.

    Raises SpecError naming each contradicting scale or override. A checkpoint without a
    record (a plain state dict) leaves the given variant as it is: returns (None, None).
    """
    if not isinstance(recorded, dict):
        return None, None
    scale, values = recorded.get("scale"), dict(recorded.get("overrides") or {})
    problems = []
    if given.scale is not None and given.scale != scale:
        trained = f"scale {scale}" if scale else "no scale"
        problems.append(_contradiction(f"scale '{given.scale}'", trained, checkpoint, given.scale_label,
                                       "drop the scale: the checkpoint's is used"))
    for override in given.overrides:
        if override.name not in values or values[override.name] != override.value:
            trained = (f"{override.name}={values[override.name]!r}" if override.name in values
                       else f"the spec's own {override.name}")
            problems.append(_contradiction(override.label[1:-1], trained, checkpoint, override.label,
                                           "drop it: the checkpoint's overrides are applied without repeating them"))
    if problems:
        raise SpecError(problems, given.sources)
    return scale, values


def _contradiction(what: str, trained: str, checkpoint: str, label: str, hint: str) -> Diagnostic:
    mark = scale_mark(label) if label.startswith("<--scale ") or "@" in label else name_mark(label)
    return Diagnostic("error", "variant.contradicts_checkpoint", f"{what} contradicts {checkpoint}, trained with "
                      f"{trained}", label, mark.line, mark.column, hint=hint)


def describe(spec) -> str | None:
    """`scale: s of n, s, m; overrides: num_classes=100`, or None for a spec without scales or overrides."""
    parts = []
    if spec.scales:
        chosen = spec.scale or "none (the params' own values)"
        parts.append(f"scale: {chosen} of {', '.join(spec.scales)}")
    if spec.overrides:
        parts.append("overrides: " + ", ".join(f"{name}={value!r}" for name, value in spec.overrides.items()))
    return "; ".join(parts) or None
