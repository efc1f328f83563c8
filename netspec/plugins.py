"""Kinds of your own, without forking: plugins add layer kinds to the registry.

A plugin is a Python module with `KINDS`, a list of `netspec.kinds.LayerKind` (schema, pure shape rule,
cost, builder). A spec names it under `plugins:` (a module on Python's path or a `NAME.py` beside the
spec), or an installed package declares it in the `netspec.kinds` entry point group, one entry point per
kind, named after the kind. Entry points are read only when a spec uses a kind netspec does not know, so
checking a spec of built-in kinds never scans the installed packages.

A plugin that is missing or broken is a located error, never a traceback: importing it, its `KINDS`, each
kind's schema and parts are checked when it loads, and its shape rule and cost run guarded, so a bug in
them is reported at the layer that used the kind. Builders import torch themselves (lazily), which keeps
`netspec check` torch-free.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import sys
import typing
from pathlib import Path

from .diagnostics import Diagnostic, SpecError
from . import receptive
from .kinds import REGISTRY, Cost, LayerKind, LayerSchema, Reach, ShapeError
from .names import name_problem

ENTRY_POINT_GROUP = "netspec.kinds"
ORIGINS: dict[str, str] = {}  # plugin kind -> the module that defined it


class PluginError(Exception):
    """A plugin that cannot be used: message says what was expected and received, hint what to do."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


def load_plugin(name: str, search: Path | None = None, place: str = "beside the spec") -> list[str]:
    """Import plugin module `name` (looking in `search` too, `place` in messages) and register its kinds;
    return their names."""
    module = _import(name, search, place)
    kinds = getattr(module, "KINDS", None)
    if not isinstance(kinds, (list, tuple)) or not kinds:
        raise PluginError(f"plugin '{name}': expected a non-empty list `KINDS` of netspec.kinds.LayerKind; "
                          f"got {type(kinds).__name__ if kinds is not None else 'no KINDS'}",
                          "add `KINDS = [LayerKind(...)]` to the module (see the README's Plugins section)")
    return [register(kind, name) for kind in kinds]


def kind_from_entry_points(kind: str) -> bool:
    """Load the installed plugin whose `netspec.kinds` entry point is named `kind`; False when none is."""
    entry = _entry_points().get(kind)
    if entry is None:
        return False
    try:
        target = entry.load()
    except Exception as exc:  # a plugin's import may fail any way at all
        raise PluginError(f"plugin '{entry.value}' (entry point '{kind}'): import failed "
                          f"({type(exc).__name__}: {_first_line(exc)})", _fix_hint(entry.value)) from None
    module_name = entry.value.split(":")[0]
    kinds = getattr(target, "KINDS", target)
    for item in kinds if isinstance(kinds, (list, tuple)) else [kinds]:
        register(item, module_name)
    if kind not in REGISTRY:
        raise PluginError(f"plugin '{entry.value}': expected its entry point '{kind}' to define kind '{kind}'; "
                          f"it defines {', '.join(name for name, origin in ORIGINS.items() if origin == module_name)}",
                          "name each entry point after the kind it provides")
    return True


def load_for_schema(modules=(), installed: bool = False) -> None:
    """Load plugin `modules` and, if `installed`, every installed plugin, so a schema can describe their kinds.

    A module is named as under `plugins:` (found on Python's path or as NAME.py in the current folder) or
    given as a path to NAME.py. Scanning every entry point is for `netspec schema` alone, which describes
    every kind; `netspec check` reads one only for a kind it does not know. Raises SpecError naming each
    plugin that fails to load.
    """
    loads = {f"<--plugin {module}>": functools.partial(_load_file_or_module, module) for module in modules}
    loads |= {f"<installed plugin {name}>": functools.partial(kind_from_entry_points, name)
              for name in (_entry_points() if installed else ())
              if name not in REGISTRY}  # one module may define several kinds; a built-in's name is never read
    problems = []
    for label, load in loads.items():
        try:
            load()
        except PluginError as exc:
            problems.append(Diagnostic("error", "plugin.load", exc.message, file=label, hint=exc.hint))
    problems += filter(None, (_describable_problem(name, module_name) for name, module_name in ORIGINS.items()))
    if problems:
        raise SpecError(problems)


def _describable_problem(name: str, module_name: str) -> Diagnostic | None:
    """A plugin kind whose schema pydantic cannot write as JSON Schema (a field typed Callable, say)."""
    try:
        REGISTRY[name].schema.model_json_schema(by_alias=True)
    except Exception as exc:  # pydantic refuses in many ways
        return Diagnostic("error", "plugin.schema", f"plugin '{module_name}': expected kind '{name}''s fields to "
                          f"have a JSON Schema ({type(exc).__name__}: {_first_line(exc)})", f"<plugin {module_name}>",
                          hint=_fix_hint(module_name))
    return None


def _load_file_or_module(module: str) -> list[str]:
    path = Path(module)
    if path.suffix != ".py":
        return load_plugin(module, Path.cwd(), "in the current folder")
    if not path.is_file():
        raise PluginError(f"expected a plugin file NAME.py; got {module}, which does not exist",
                          "give the path of a plugin file NAME.py, or the name of an installed plugin module")
    return load_plugin(path.stem, path.parent.resolve(), "in its folder")


@functools.cache
def _entry_points() -> dict:
    from importlib.metadata import entry_points

    return {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}


def _import(name: str, search: Path | None, place: str):
    if not isinstance(name, str) or any(name_problem(part) for part in name.split(".")):
        raise PluginError(f"plugins: expected a module name such as my_kinds; got {name!r}",
                          "list importable module names under `plugins:`")
    path = [str(search)] if search is not None and (search / f"{name.split('.')[0]}.py").is_file() else []
    sys.path[:0] = path  # a plugin file beside the spec imports without installing it
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name.split(".")[0] or exc.name == name:
            where = f" or as {name}.py {place} ({search})" if search is not None else ""
            raise PluginError(f"plugins: no module named '{name}' on Python's path{where}",
                              f"install the plugin package, or put {name}.py {place}") from None
        raise PluginError(f"plugin '{name}': import failed (ModuleNotFoundError: {exc})",
                          f"install '{exc.name}', which the plugin imports") from None
    except Exception as exc:  # a plugin's import may fail any way at all
        raise PluginError(f"plugin '{name}': import failed ({type(exc).__name__}: {_first_line(exc)})",
                          _fix_hint(name)) from None
    finally:
        for entry in path:  # by value: the plugin's own import may have put paths in front of it
            sys.path.remove(entry)


def register(kind, module_name: str) -> str:
    """Check one plugin kind and add it, its shape rule and cost guarded, to the registry; return its name."""
    problem = kind_problem(kind)
    name = getattr(kind, "name", None)
    if problem is None and name in REGISTRY and ORIGINS.get(name) != module_name:
        owner = f"plugin '{ORIGINS[name]}'" if name in ORIGINS else "netspec"
        problem = f"a kind name of its own; got '{name}', which {owner} already defines"
    if problem is not None:
        raise PluginError(f"plugin '{module_name}': expected {problem}", _fix_hint(module_name))
    if name not in REGISTRY:
        REGISTRY[name] = dataclasses.replace(kind, infer_output_shape=_guarded(kind, module_name),
                                             build=_guarded_build(kind, module_name))
        ORIGINS[name] = module_name
    return name


def kind_problem(kind) -> str | None:
    """What is wrong with a LayerKind, said as what was expected; None when it is complete."""
    if not isinstance(kind, LayerKind):
        return f"netspec.kinds.LayerKind items in KINDS; got {type(kind).__name__}"
    schema = kind.schema
    if not (isinstance(schema, type) and issubclass(schema, LayerSchema)):
        return f"kind '{kind.name}' to have a schema subclassing netspec.kinds.LayerSchema"
    field = schema.model_fields.get("kind")
    if field is None or typing.get_args(field.annotation) != (kind.name,) or field.default != kind.name:
        return f"kind '{kind.name}''s schema to have `kind: Literal[\"{kind.name}\"] = \"{kind.name}\"`"
    if name_problem(kind.name) or kind.name in ("block", "repeat"):
        return f"a kind name that is an identifier other than block and repeat; got '{kind.name}'"
    for part in ("infer_output_shape", "count", "build", "window"):
        if not callable(getattr(kind, part)):
            return f"kind '{kind.name}' to have a callable {part}"
    if kind.shorthand is not None and kind.shorthand not in schema.model_fields:
        return f"kind '{kind.name}''s shorthand to name one of its fields; got '{kind.shorthand}'"
    if kind.merges != ("branches" in schema.model_fields):
        return f"kind '{kind.name}' to have `branches` exactly when merges=True"
    try:
        schema.model_rebuild(force=True)
    except Exception as exc:  # pydantic refuses a malformed schema in many ways
        return f"kind '{kind.name}' to have a valid pydantic schema ({type(exc).__name__}: {_first_line(exc)})"
    return None


def _guarded(kind: LayerKind, module_name: str):
    """The plugin's shape rule, with its cost and window tried too: any failure becomes a ShapeError."""

    def infer_output_shape(layer, in_shapes, notes):
        try:
            out_shape = kind.infer_output_shape(layer, in_shapes, notes)
            cost = kind.count(layer, in_shapes, out_shape)
            reach = kind.window(layer, in_shapes, out_shape)
            receptive.through(receptive.INPUT, reach if isinstance(reach, Reach) else None, None)  # reads() runs too
        except ShapeError:
            raise
        except Exception as exc:  # a bug in the plugin, reported at the layer that uses it
            raise ShapeError(f"{kind.name}: plugin '{module_name}' failed ({type(exc).__name__}: {_first_line(exc)})",
                             hint=_fix_hint(module_name)) from None
        if not (isinstance(out_shape, tuple) and out_shape and all(type(s) is int and s > 0 for s in out_shape)):
            raise ShapeError(f"{kind.name}: expected plugin '{module_name}''s shape rule to return a tuple of "
                             f"positive ints; got {out_shape!r}", hint=_fix_hint(module_name))
        if not (isinstance(cost, Cost) and all(type(v) is int and v >= 0 for v in (cost.params, cost.macs))):
            raise ShapeError(f"{kind.name}: expected plugin '{module_name}''s count to return a Cost of "
                             f"non-negative ints; got {cost!r}", hint=_fix_hint(module_name))
        if not (reach is None or isinstance(reach, Reach)):
            raise ShapeError(f"{kind.name}: expected plugin '{module_name}''s window to return a netspec.kinds.Reach "
                             f"(a Window) or None; got {reach!r}", hint=_fix_hint(module_name))
        return out_shape

    return infer_output_shape


def _guarded_build(kind: LayerKind, module_name: str):
    """The plugin's builder; a failure is a SpecError naming the kind, the layer and the plugin."""

    def build(layer, in_shapes, out_shape):
        try:
            module = kind.build(layer, in_shapes, out_shape)
        except Exception as exc:  # a bug in the plugin's builder
            problem = f"failed ({type(exc).__name__}: {_first_line(exc)})"
        else:
            import torch.nn as nn

            if isinstance(module, nn.Module):
                return module
            problem = f"returned {type(module).__name__}, not a torch.nn.Module"
        where = f" for layer '{layer.name}'" if getattr(layer, "name", None) else ""
        raise SpecError([Diagnostic("error", "plugin.build", f"{kind.name}: plugin '{module_name}''s builder"
                                                             f"{where} {problem}", hint=_fix_hint(module_name))])

    return build


def _fix_hint(module_name: str) -> str:
    return f"a bug in plugin '{module_name}': fix it, or remove the kinds it provides from the spec"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no message"


def read_plugins(node, sink, source: str | None) -> tuple[str, ...]:
    """Load the modules a spec lists under `plugins:`; each problem is reported at its list item."""
    from .yamlsrc import YScalar, YSeq, to_plain

    if node is None:
        return ()
    if not isinstance(node, YSeq):
        sink.error("spec.type", f"plugins: expected a list of module names; got {to_plain(node)!r}", node.mark,
                   "plugins", "e.g. `plugins: [my_kinds]` for my_kinds.py beside the spec")
        return ()
    search = Path(source).resolve().parent if source else None
    loaded = []
    for item in node.items:
        name = item.value if isinstance(item, YScalar) else to_plain(item)
        try:
            load_plugin(name, search)
        except PluginError as exc:
            sink.error("plugin.load", exc.message, item.mark, "plugins", exc.hint)
            continue
        loaded.append(name)
    return tuple(loaded)
