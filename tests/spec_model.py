"""A tiny model of the spec language for the property tests: ops that render and know their shapes.

The generator in `spec_strategies` builds a spec as a tree of these ops. Each op renders itself as
YAML data (in one of the language's written forms) and computes its output shape with PyTorch's
formulas, written out here independently of `netspec.kinds`: that is what lets the generator emit
only layers that fit, and gives the tests a third opinion next to the checker and torch.
`Invalid` is this model's refusal (a reused block or a repeated body that does not fit a new input).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Union

import yaml

Shape = tuple[int, ...]


class Invalid(Exception):
    """The reference rules refuse an op on this input."""


@dataclass(frozen=True)
class Expr:
    """A field written as arithmetic over one parameter, e.g. `2 * width` (text and meaning side by side)."""

    text: str
    param: str
    meaning: Callable[[int], int]

    def value(self, params: dict) -> int:
        return self.meaning(params[self.param])


EXPRESSIONS = [("{}", lambda v: v), ("2 * {}", lambda v: 2 * v), ("{} + 1", lambda v: v + 1),
               ("max({} // 2, 1)", lambda v: max(v // 2, 1)), ("({} + 3) // 2", lambda v: (v + 3) // 2)]


@dataclass(frozen=True)
class Raw:
    """Text pasted into the YAML as is (`no`, `010`, a tag): safe_dump would quote it."""

    text: str


def resolve(value: Any, params: dict) -> Any:
    if isinstance(value, Expr):
        return value.value(params)
    if isinstance(value, list):
        return [resolve(item, params) for item in value]
    if isinstance(value, dict):
        return {key: resolve(item, params) for key, item in value.items()}
    return value


def pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def sliding(size: int, kernel: int, stride: int, padding: int, dilation: int = 1, ceil: bool = False) -> int:
    """torch's output length of a conv or pool window along one axis."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if span < 0:
        raise Invalid(f"window {kernel} does not fit {size}")
    out = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (out - 1) * stride >= size + padding:
        out -= 1  # the last window must start inside the input or the left padding
    return out


def _conv(x: Shape, f: dict) -> Shape:
    if len(x) != 3 or f.get("in_channels", x[0]) != x[0]:
        raise Invalid("conv input")
    groups = f.get("groups", 1)
    if x[0] % groups or f["out_channels"] % groups:
        raise Invalid("groups")
    padding = f.get("padding", 0)
    if padding == "same":
        return (f["out_channels"], x[1], x[2])
    padding = pair(0 if padding == "valid" else padding)
    kernel, stride, dilation = pair(f["kernel_size"]), pair(f.get("stride", 1)), pair(f.get("dilation", 1))
    return (f["out_channels"], *(sliding(x[1 + i], kernel[i], stride[i], padding[i], dilation[i]) for i in range(2)))


def _pool(x: Shape, f: dict) -> Shape:
    if len(x) != 3:
        raise Invalid("pool input")
    kernel, padding, dilation = pair(f["kernel_size"]), pair(f.get("padding", 0)), pair(f.get("dilation", 1))
    stride = pair(f.get("stride") or f["kernel_size"])
    return (x[0], *(sliding(x[1 + i], kernel[i], stride[i], padding[i], dilation[i], f.get("ceil_mode", False))
                    for i in range(2)))


def _linear(x: Shape, f: dict) -> Shape:
    if len(x) != 1 or f.get("in_features", x[0]) != x[0]:
        raise Invalid("linear input")
    return (f["out_features"],)


def _same(x: Shape, f: dict) -> Shape:
    if f.get("num_features", x[0]) != x[0]:
        raise Invalid("num_features")
    return x


def _map_only(rule):
    def checked(x: Shape, f: dict) -> Shape:
        if len(x) != 3:
            raise Invalid("needs (C, H, W)")
        return rule(x, f)
    return checked


SHAPE_RULES: dict[str, Callable[[Shape, dict], Shape]] = {
    "conv": _conv, "maxpool": _pool, "avgpool": _pool, "linear": _linear,
    "flatten": lambda x, f: (math.prod(x),),
    "adaptive_avgpool": _map_only(lambda x, f: (x[0], *pair(f["output_size"]))),
    "global_avgpool": _map_only(lambda x, f: (x[0],)),
    "lrn": _map_only(_same),
    **{kind: _same for kind in ("relu", "leaky_relu", "tanh", "sigmoid", "gelu", "silu", "identity",
                                "softmax", "log_softmax", "batchnorm", "dropout", "relu6", "hardswish",
                                "hardsigmoid", "mish", "layernorm", "groupnorm", "layer_scale",
                                "stochastic_depth")},
}


def merged(kind: str, shapes: list[Shape]) -> Shape:
    """Output of concat (channels add up, the rest must agree) or add and mul (all shapes agree)."""
    if kind in ("add", "mul"):
        if len(set(shapes)) != 1:
            raise Invalid(f"{kind} of different shapes")
        return shapes[0]
    if len({s[1:] for s in shapes}) != 1 or len({len(s) for s in shapes}) != 1:
        raise Invalid("concat of different sizes")
    return (sum(s[0] for s in shapes), *shapes[0][1:])


@dataclass
class Env:
    """Names visible at a point of the spec (scoped as netspec scopes them) and the parameter values."""

    params: dict
    names: dict = field(default_factory=dict)
    parent: "Env | None" = None
    network: dict | None = None  # the spec's own params: what a block body sees besides its arguments

    def __post_init__(self):
        if self.network is None:
            self.network = self.params

    def lookup(self, name: str) -> Shape:
        env = self
        while env is not None:
            if name in env.names:
                return env.names[name]
            env = env.parent
        raise Invalid(f"no name {name}")

    def visible(self) -> dict[str, Shape]:
        outer = self.parent.visible() if self.parent else {}
        return {**outer, **self.names}

    def child(self) -> "Env":
        return Env(self.params, {}, self, self.network)

    def define(self, name: str | None, shape: Shape) -> Shape:
        if name:
            self.names[name] = shape
        return shape


def _named(name: str | None, source: str | None = None) -> dict:
    return {key: value for key, value in (("name", name), ("from", source)) if value}


@dataclass
class Layer:
    """One layer; `style` picks the written form: bare `relu`, short `{maxpool: 2}`, nested or full."""

    kind: str
    fields: dict = field(default_factory=dict)
    style: str = "full"
    name: str | None = None
    source: str | None = None
    condition: bool | None = None  # `if:`; false makes the layer the identity on its input

    def render(self) -> Any:
        if self.style == "bare":
            return self.kind
        if self.style == "short":
            return {self.kind: next(iter(self.fields.values()))}
        condition = {} if self.condition is None else {"if": self.condition}
        if self.style == "nested":
            return {self.kind: {**_named(self.name, self.source), **condition, **self.fields}}
        return {"kind": self.kind, **_named(self.name, self.source), **condition, **self.fields}

    def apply(self, x: Shape, env: Env) -> Shape:
        given = env.lookup(self.source) if self.source else x
        if self.condition is False:  # removed: the next layer reads `x`; a name names the layer's input
            env.define(self.name, given)
            return x
        return env.define(self.name, SHAPE_RULES[self.kind](given, resolve(self.fields, env.params)))


@dataclass
class Merge:
    """concat or add over `branches` (a list, or named when `labels` is given); [] is the identity."""

    kind: str
    branches: list[list]
    labels: list[str] | None = None
    name: str | None = None
    source: str | None = None  # `from:`: the branches start from this named layer

    def render(self) -> Any:
        bodies = [[op.render() for op in branch] for branch in self.branches]
        return {"kind": self.kind, **_named(self.name, self.source),
                "branches": dict(zip(self.labels, bodies)) if self.labels else bodies}

    def apply(self, x: Shape, env: Env) -> Shape:
        given = env.lookup(self.source) if self.source else x
        return env.define(self.name, merged(self.kind, [run(b, given, env.child()) for b in self.branches]))


@dataclass
class Refs:
    """concat or add of earlier layers named in `inputs:`."""

    kind: str
    inputs: list[str]
    name: str | None = None

    def render(self) -> Any:
        return {"kind": self.kind, **_named(self.name), "inputs": list(self.inputs)}

    def apply(self, x: Shape, env: Env) -> Shape:
        return env.define(self.name, merged(self.kind, [env.lookup(n) for n in self.inputs]))


@dataclass
class BlockDef:
    name: str
    params: dict  # parameter -> default, or None where the caller must pass it
    body: list

    def render(self) -> Any:
        layers = [op.render() for op in self.body]
        if not self.params:
            return {"layers": layers}
        required = all(value is None for value in self.params.values())  # a list, or a mapping of defaults
        return {"params": list(self.params) if required else dict(self.params), "layers": layers}


@dataclass
class BlockCall:
    block: BlockDef
    args: dict
    style: str = "full"  # full `{block: b, ...}`, nested `{b: {...}}` or bare `b`
    name: str | None = None
    source: str | None = None

    def render(self) -> Any:
        if self.style == "bare":
            return self.block.name
        fields = {**_named(self.name, self.source), **self.args}
        return {self.block.name: fields} if self.style == "nested" else {"block": self.block.name, **fields}

    def apply(self, x: Shape, env: Env) -> Shape:
        given = env.lookup(self.source) if self.source else x
        bound = {k: v for k, v in self.block.params.items() if v is not None}
        bound.update({k: resolve(v, env.params) for k, v in self.args.items()})
        missing = set(self.block.params) - set(bound)
        if missing:
            raise Invalid(f"missing {missing}")
        inner = Env({**env.network, **bound}, {"input": given}, None, env.network)
        return env.define(self.name, run(self.block.body, given, inner))


@dataclass
class Repeat:
    times: int
    body: list
    name: str | None = None

    def render(self) -> Any:
        return {"repeat": self.times, **_named(self.name), "layers": [op.render() for op in self.body]}

    def apply(self, x: Shape, env: Env) -> Shape:
        for _ in range(self.times):
            x = run(self.body, x, env.child())
        return env.define(self.name, x)


Op = Union[Layer, Merge, Refs, BlockCall, Repeat]


def run(ops: list, x: Shape, env: Env) -> Shape:
    for op in ops:
        x = op.apply(x, env)
    return x


def layer_lists(ops: list):
    """`ops` and every layer list nested in it (branches, repeat bodies), outermost first."""
    yield ops
    for op in ops:
        for branch in op.branches if isinstance(op, Merge) else [op.body] if isinstance(op, Repeat) else []:
            yield from layer_lists(branch)


def walk(ops: list):
    """Every op of a layer list, nested ones included (block bodies are walked via `Spec.all_ops`), but the layers
    a false `if:` removes: the checker never reads them, so a mutation there is no mistake it can see."""
    for op in ops:
        if getattr(op, "condition", None) is False:
            continue
        yield op
        if isinstance(op, Merge):
            for branch in op.branches:
                yield from walk(branch)
        elif isinstance(op, Repeat):
            yield from walk(op.body)


@dataclass
class Spec:
    name: str
    input_shape: Shape
    params: dict  # name -> int, or Expr over an earlier parameter
    blocks: dict[str, BlockDef]
    layers: list
    flow: bool = True  # one-line flow mappings for simple layers, or block style throughout
    extra: dict = field(default_factory=dict)  # more top-level entries (the mutations' unknown or duplicate keys)

    def param_values(self) -> dict:
        values: dict = {}
        for key, value in self.params.items():
            values[key] = resolve(value, values)
        return values

    def output_shape(self) -> Shape:
        return run(self.layers, self.input_shape, Env(self.param_values(), {"input": self.input_shape}))

    def all_ops(self):
        for block in self.blocks.values():
            yield from walk(block.body)
        yield from walk(self.layers)

    def text(self) -> str:
        data = {"name": self.name, "input": list(self.input_shape),
                "params": {k: v for k, v in self.params.items()}, "layers": [op.render() for op in self.layers]}
        if self.blocks:
            data = {**{k: data[k] for k in ("name", "input", "params")},
                    "blocks": {name: block.render() for name, block in self.blocks.items()},
                    "layers": data["layers"]}
        return dump({**data, **self.extra}, self.flow)


def dump(data: Any, flow: bool) -> str:
    """YAML text of `data`: Expr as its arithmetic, Raw pasted verbatim (unquoted)."""
    raws: dict[str, str] = {}

    def plain(value):
        if isinstance(value, Expr):
            return value.text
        if isinstance(value, Raw):
            token = f"RAWTOKEN{len(raws)}X"
            raws[token] = value.text
            return token
        if isinstance(value, dict):
            return {plain(k): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value

    text = yaml.safe_dump(plain(data), sort_keys=False, default_flow_style=None if flow else False, width=10**6)
    for token, raw in raws.items():
        text = text.replace(token, raw)
    return text
