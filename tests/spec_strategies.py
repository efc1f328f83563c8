"""Hypothesis strategies that write random valid netspec specs (as `spec_model.Spec` trees).

Valid by construction: the writer knows the shape at every step (each op computes it with
torch's formulas, see `spec_model`) and only emits layers that fit. It covers chains of every
shape-preserving and sliding-window kind, concat of branches that keep H x W (or all halve it),
residual adds with an identity `[]` shortcut or a strided 1x1 projection, named blocks with
parameters (required or defaulted, some shadowing a network parameter) called again with other
arguments, `repeat: N`, `from:` and `inputs:` references by name, every short form, network
parameters used in expressions, a flatten or global-pool head with linear layers, and MLPs on a
flat `input: [features]`.

Choices are ordered simplest first so Hypothesis shrinks a failure to a short, plain spec.
"""

from __future__ import annotations

from hypothesis import strategies as st

from spec_model import (EXPRESSIONS, BlockCall, BlockDef, Env, Expr, Invalid, Layer, Merge, Refs, Repeat, Spec,
                        run)

NAMES = ["a", "b", "stem", "conv1", "body", "skip", "proj", "fc", "x", "relu", "residual", "print"]
LABELS = ["left", "right", "body", "shortcut", "branch1x1", "branch3x3", "pool", "x", "relu"]
BLOCK_NAMES = ["residual", "inception", "unit", "stage"]
BLOCK_PARAMS = ["c", "width", "ch"]  # `width` shadows the network parameter of the same name
ACTIVATIONS = ["relu", "tanh", "sigmoid", "silu", "identity", "leaky_relu", "gelu", "softmax", "log_softmax", "relu6",
               "hardswish", "hardsigmoid", "mish"]
MAX_DEPTH = 2  # merges, blocks and repeats nest at most this deep


def expr(template: str, param: str, meaning) -> Expr:
    return Expr(template.format(param), param, meaning)


class Writer:
    """Draws one spec; `keep` is the (H, W) a branch must preserve, `poly` marks bodies run on other inputs."""

    def __init__(self, draw):
        self.draw = draw
        self.blocks: dict[str, BlockDef] = {}
        self.pending: set[str] = set()  # blocks whose body is being written: not callable yet (no recursion)

    def int(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, max(low, high)))

    def pick(self, options):
        return self.draw(st.sampled_from(list(options)))

    def chance(self, one_in: int) -> bool:
        return self.int(0, one_in - 1) == 1 if one_in > 1 else True

    # -- the spec ----------------------------------------------------------

    def spec(self) -> Spec:
        height = self.int(8, 20)
        shape = (self.int(1, 3), height, height if self.chance(2) else self.int(8, 20))
        params = {"width": self.int(1, 4), "num_classes": self.int(2, 10)}
        if self.chance(2):
            params["wide"] = Expr("2 * width", "width", lambda v: 2 * v)
        spec = Spec(self.pick(["net", "tiny-net", "Net2"]), shape, params, self.blocks, [],
                    flow=self.chance(2) is False)
        if self.chance(8):  # a flat `input: [features]`: an MLP
            spec.input_shape = (self.int(4, 32),)
            spec.layers, _ = self.flat_chain(spec.input_shape, Env(spec.param_values(), {"input": spec.input_shape}),
                                             0, self.int(1, 5))
            return spec
        env = Env(spec.param_values(), {"input": shape})
        trunk, x = self.chain(shape, env, 0, None, False, self.int(1, 6))
        head, _ = self.head(x, env)
        spec.layers = trunk + head
        return spec

    def flat_chain(self, x, env: Env, depth: int, length: int):
        """Layers on (features,) inputs: linear, activations, dropout, batchnorm, and flat concat/add."""
        ops = []
        for _ in range(length):
            what = self.pick(["linear", "activation", "dropout", "batchnorm"] +
                             (["concat", "add"] if depth < MAX_DEPTH else []))
            if what == "linear":
                fields = {"out_features": self.channels(env)}
                if self.chance(3):
                    fields["in_features"] = x[0]
                op = Layer("linear", fields, "short" if len(fields) == 1 and self.chance(2) else "full")
            elif what == "activation":
                op = self.pick([Layer("relu", {}, "bare"), Layer("gelu", {}, "bare"),
                                Layer(self.pick(["softmax", "log_softmax"]), {"dim": self.pick([1, -1])}, "short")])
            elif what in ("dropout", "batchnorm"):
                op = Layer(what, {}, "bare")
            elif what == "concat":
                op = Merge("concat", [self.flat_chain(x, env.child(), depth + 1, self.int(0, 2))[0]
                                      for _ in range(self.int(2, 3))])
            else:
                op = Merge("add", [[Layer("linear", {"out_features": x[0]}, "short")], []])
            if self.chance(3):
                self.name(op, env)
            x = op.apply(x, env)
            ops.append(op)
        return ops, x

    def chain(self, x, env: Env, depth: int, keep, poly: bool, length: int):
        ops = []
        for _ in range(length):
            made = self.op(x, env, depth, keep, poly)
            for op in made if isinstance(made, list) else [made]:
                if op.name is None and self.chance(2):
                    self.name(op, env)
                if isinstance(op, Layer) and op.style in ("full", "nested") and self.chance(6):
                    op.condition = self.chance(2)  # a false `if:` removes the layer
                x = op.apply(x, env)
                ops.append(op)
        return ops, x

    def name(self, op, env: Env) -> None:
        name = self.pick(NAMES)
        while name in env.names:
            name += "_"
        op.name = name
        if getattr(op, "style", None) in ("bare", "short"):
            op.style = "full"

    def op(self, x, env: Env, depth: int, keep, poly: bool):
        choices = ["activation", "conv", "pool", "norm", "dropout"]
        if depth < MAX_DEPTH:
            choices += ["concat", "residual", "residual", "block", "block", "repeat", "refs", "refs"]
        if keep is None:
            choices += ["adaptive", "pool"]
        return getattr(self, self.pick(choices))(x, env, depth, keep, poly)

    # -- single layers -----------------------------------------------------

    def source(self, x, env: Env, keep):
        """Usually the previous layer; sometimes `from:` an earlier named layer of a fitting shape."""
        fitting = sorted(n for n, s in env.visible().items() if len(s) == 3 and (keep is None or s[1:] == keep))
        if fitting and self.chance(5):
            name = self.pick(fitting)
            return name, env.lookup(name)
        return None, x

    def channels(self, env: Env):
        """An int, or an expression over a parameter in scope (a block's own, inside a block body)."""
        if self.chance(2):
            param = self.pick(sorted(env.params))
            template, meaning = self.pick(EXPRESSIONS)
            value = expr(template, param, meaning)
            if 1 <= value.value(env.params) <= 12:
                return value
        return self.int(1, 8)

    def activation(self, x, env, depth, keep, poly):
        kind = self.pick(ACTIVATIONS)
        name, _ = self.source(x, env, keep)
        if kind == "leaky_relu" and self.chance(2):
            return Layer(kind, {"negative_slope": self.pick([0.2, 0.01])}, "short")
        if kind == "gelu" and self.chance(2):
            return Layer(kind, {"approximate": "tanh"})
        if kind in ("softmax", "log_softmax") and self.chance(2):
            return Layer(kind, {"dim": self.pick([1, -1, 2, -3, 3])}, "short")
        return Layer(kind, {}, "bare", source=name) if name is None else Layer(kind, {}, "full", source=name)

    def conv(self, x, env, depth, keep, poly):
        name, (c, h, w) = self.source(x, env, keep)
        fields = {"out_channels": self.channels(env)}
        if keep is not None:
            dilation = self.pick([1, 1, 2])
            kernel = self.pick([1, 3, 5])
            fields["kernel_size"] = kernel
            fields["padding"] = self.pick([dilation * (kernel - 1) // 2, "same", [dilation * (kernel - 1) // 2] * 2])
            if dilation > 1:
                fields["dilation"] = dilation
        else:
            kh = self.int(1, min(5, h))
            kw = kh if kh <= w and self.chance(2) else self.int(1, min(5, w))
            fields["kernel_size"] = kh if kh == kw else [kh, kw]
            fields["stride"] = self.int(1, 3)
            options = [self.int(0, min(kh, kw) // 2), "valid"] + (["same"] if fields["stride"] == 1 else [])
            fields["padding"] = self.pick(options)
            if self.chance(5):  # per-axis [h, w] pairs
                fields["stride"] = [fields["stride"], self.int(1, 3)]
                fields["padding"] = [self.int(0, kh), self.int(0, kw)]
            if self.chance(4) and 2 * (kh - 1) < h and 2 * (kw - 1) < w:
                fields["dilation"] = 2
        if not poly:
            out = fields["out_channels"]
            out = out.value(env.params) if isinstance(out, Expr) else out
            divisors = [g for g in range(2, min(c, out) + 1) if c % g == 0 and out % g == 0]
            if divisors and self.chance(3):
                fields["groups"] = self.pick(divisors)
            if self.chance(4):
                fields["in_channels"] = c
        if self.chance(4):
            fields["bias"] = False
        if self.chance(5):
            fields["trainable"] = False
        return Layer("conv", fields, self.pick(["full", "nested"]), source=name)

    def pool(self, x, env, depth, keep, poly):
        kind = self.pick(["maxpool", "avgpool"])
        name, (_, h, w) = self.source(x, env, keep)
        if keep is not None:
            kernel = self.pick([3, 1, 5])
            return Layer(kind, {"kernel_size": kernel, "stride": 1, "padding": kernel // 2}, source=name)
        kernel = self.int(1, min(4, h, w))
        if self.chance(4) and name is None:
            return Layer(kind, {"kernel_size": kernel}, "short")
        # ceil_mode with padding is where PyTorch's last-window rule bites: drawn often on purpose
        fields = {"kernel_size": kernel, "stride": self.pick([None, 2, 1, 3]), "ceil_mode": not self.chance(3)}
        dilation = 2 if kind == "maxpool" and self.chance(3) and 2 * (kernel - 1) < min(h, w) else 1
        fields["padding"] = kernel // 2 if self.chance(2) else self.int(0, kernel // 2)  # torch's limit
        if dilation > 1:
            fields["dilation"] = dilation
        if kind == "avgpool" and self.chance(3):
            fields["count_include_pad"] = False
        return Layer(kind, {k: v for k, v in fields.items() if v is not None}, self.pick(["full", "nested"]),
                     source=name)

    def norm(self, x, env, depth, keep, poly):
        if self.chance(3):
            return self.channel_norm(x, poly)
        if self.chance(2):
            size = self.int(1, 5)
            if self.chance(2):
                return Layer("lrn", {"size": size}, "short")
            return Layer("lrn", {"size": size, "alpha": 0.001, "beta": 0.5, "k": 2})
        if self.chance(2):
            return Layer("batchnorm", {}, "bare")
        fields = {"eps": 0.001, "momentum": self.pick([0.2, None]), "affine": self.chance(2),
                  "trainable": self.chance(2) is False}
        if not poly:
            fields["num_features"] = x[0]
        return Layer("batchnorm", fields, self.pick(["full", "nested"]))

    def channel_norm(self, x, poly: bool):
        """layernorm, groupnorm or layer_scale; in a polymorphic block only num_groups 1 fits every width."""
        groups = [g for g in range(1, x[0] + 1) if x[0] % g == 0] if not poly else [1]
        return self.pick([Layer("layernorm", {}, "bare"), Layer("layernorm", {"eps": 0.000001, "bias": False}),
                          Layer("groupnorm", {"num_groups": self.pick(groups)}, "short"),
                          Layer("groupnorm", {"num_groups": 1, "affine": False}),
                          Layer("layer_scale", {"init_value": 0.5}, "short")])

    def dropout(self, x, env, depth, keep, poly):
        return self.pick([Layer("dropout", {}, "bare"), Layer("dropout", {"p": 0.25}, "short"),
                          Layer("dropout", {"p": 0.1}), Layer("stochastic_depth", {"p": 0.2}, "short"),
                          Layer("stochastic_depth", {"p": 0.5, "mode": "batch"})])

    def adaptive(self, x, env, depth, keep, poly):
        # output_size may exceed the input: adaptive pooling then repeats pixels
        size = self.int(1, x[1] + 2) if self.chance(2) else [self.int(1, x[1]), self.int(1, x[2] + 2)]
        return Layer("adaptive_avgpool", {"output_size": size}, self.pick(["short", "full"]))

    # -- structure ---------------------------------------------------------

    def halving(self, env: Env) -> Layer:
        """A layer mapping H to floor((H - 1)/2) + 1, whatever H is, as every branch of a halving merge does."""
        return self.pick([
            Layer("conv", {"out_channels": self.channels(env), "kernel_size": 3, "stride": 2, "padding": 1}),
            Layer("conv", {"out_channels": self.channels(env), "kernel_size": 1, "stride": 2}),
            Layer("maxpool", {"kernel_size": 3, "stride": 2, "padding": 1}),
            Layer("avgpool", {"kernel_size": 3, "stride": 2, "padding": 1}),
        ])

    def branch(self, x, env: Env, depth: int, keep, poly: bool, halve: bool):
        ops, y = [], x
        if halve:
            ops.append(self.halving(env))
            y = ops[0].apply(y, env)
        more, y = self.chain(y, env, depth + 1, y[1:], poly, self.int(0, 2))
        return ops + more, y

    def labels(self, count: int):
        if self.chance(2):
            return None
        return self.draw(st.lists(st.sampled_from(LABELS), min_size=count, max_size=count, unique=True))

    def concat(self, x, env, depth, keep, poly):
        source, x = self.source(x, env, keep)
        halve = keep is None and self.chance(3)
        count = self.int(2, 3)
        branches = [self.branch(x, env.child(), depth, keep, poly, halve)[0] for _ in range(count)]
        return Merge("concat", branches, self.labels(count), source=source)

    def residual(self, x, env, depth, keep, poly):
        source, x = self.source(x, env, keep)
        halve = keep is None and self.chance(3)
        benv = env.child()
        out = x[0] if not halve and self.chance(2) else self.channels(env)  # x[0]: identity shortcut fits
        first = Layer("conv", {"out_channels": out, "kernel_size": 3, "stride": 2 if halve else 1, "padding": 1})
        body = [first] + self.pick([[], [Layer("batchnorm", {}, "bare"), Layer("relu", {}, "bare"),
                                         Layer("conv", {"out_channels": out, "kernel_size": 3, "padding": 1})]])
        y = run(body, x, benv)
        if y == x and self.chance(2):
            shortcut = []
        else:
            shortcut = [Layer("conv", {"out_channels": out, "kernel_size": 1, "stride": 2 if halve else 1})]
            shortcut += self.pick([[], [Layer("batchnorm", {}, "bare")]])
        return Merge("add", [body, shortcut], self.pick([None, ["body", "shortcut"]]), source=source)

    def refs(self, x, env, depth, keep, poly):
        kind = self.pick(["add", "concat", "mul"])  # mul of equal shapes, like add
        visible = env.visible()
        key = (lambda s: s) if kind != "concat" else (lambda s: (len(s), s[1:]))
        groups: dict = {}
        for name, shape in sorted(visible.items()):
            if len(shape) == 3 and (keep is None or shape[1:] == keep):
                groups.setdefault(key(shape), []).append(name)
        usable = [names for names in groups.values() if len(names) >= 2]
        if usable and self.chance(2):
            names = self.pick(usable)
            return Refs(kind, self.draw(st.lists(st.sampled_from(names), min_size=2, max_size=3, unique=True)))
        anchors = sorted(name for names in groups.values() for name in names)
        if not anchors:
            return self.activation(x, env, depth, keep, poly)
        anchor = self.pick(anchors)
        shape = visible[anchor]
        out = shape[0] if kind != "concat" else self.channels(env)
        side = Layer("conv", {"out_channels": out, "kernel_size": 3, "padding": 1}, source=anchor)
        self.name(side, env)
        return [side, Refs(kind, [anchor, side.name])]

    def block(self, x, env, depth, keep, poly):
        reusable = sorted(self.blocks)
        if reusable and self.chance(3) is False:
            call = self.call(self.blocks[self.pick(reusable)], x, env, keep)
            if call is not None:
                return call
        free = [name for name in BLOCK_NAMES if name not in self.blocks and name not in self.pending]
        if not free:
            return self.activation(x, env, depth, keep, poly)
        return self.define(free[0], x, env, depth, keep)

    def arguments(self, block: BlockDef, env: Env, keep) -> dict:
        args = {}
        for param, default in block.params.items():
            if param == "stride":
                value = 1 if keep is not None else self.int(1, 2)
            else:
                value = self.channels(env)
            if default is None or self.chance(3) is False:
                args[param] = value
        return args

    def call(self, block: BlockDef, x, env: Env, keep) -> BlockCall | None:
        name, given = self.source(x, env, keep)
        call = BlockCall(block, self.arguments(block, env, keep), source=name)
        try:
            y = call.apply(given, env.child())
        except Invalid:
            return None
        if keep is not None and y[1:] != keep:
            return None
        if not call.args and name is None and self.chance(2):
            call.style = "bare"
        elif self.chance(2):
            call.style = "nested"
        return call

    def define(self, block_name: str, x, env: Env, depth: int, keep) -> BlockCall:
        params = self.draw(st.lists(st.sampled_from(BLOCK_PARAMS), min_size=0, max_size=2, unique=True))
        if keep is None and self.chance(2):
            params.append("stride")
        required = self.chance(2)
        block = BlockDef(block_name, {p: None if required else (1 if p == "stride" else self.int(1, 4))
                                      for p in params}, [])
        self.pending.add(block_name)
        args = self.arguments(block, env, keep)
        bound = {k: v for k, v in block.params.items() if v is not None}
        bound.update({k: (v.value(env.params) if isinstance(v, Expr) else v) for k, v in args.items()})
        inner = Env({**env.network, **bound}, {"input": x}, None, env.network)
        body, y = [], x
        if "stride" in params:
            body.append(self.strided_residual(inner))
            y = body[0].apply(y, inner)
        more, _ = self.chain(y, inner, depth + 1, y[1:], True, self.int(1 if not body else 0, 3))
        block.body = body + more
        self.blocks[block_name] = block
        return BlockCall(block, args, self.pick(["full", "nested"]))

    def strided_residual(self, env: Env) -> Merge:
        out = self.channels(env)
        stride = Expr("stride", "stride", lambda v: v)
        body = [Layer("conv", {"out_channels": out, "kernel_size": 3, "stride": stride, "padding": 1}),
                Layer("relu", {}, "bare"), Layer("conv", {"out_channels": out, "kernel_size": 3, "padding": 1})]
        return Merge("add", [body, [Layer("conv", {"out_channels": out, "kernel_size": 1, "stride": stride})]],
                     ["body", "shortcut"])

    def repeat(self, x, env, depth, keep, poly):
        body, _ = self.chain(x, env.child(), depth + 1, x[1:], True, self.int(1, 2))
        if self.int(0, 4) == 0:
            return Repeat(0, body)  # the identity: nothing of the body is built
        times, y = 1, run(body, x, env.child())
        for _ in range(self.int(0, 2)):
            try:
                y = run(body, y, env.child())
            except Invalid:
                break
            times += 1
        return Repeat(times, body)

    # -- the classifier head -----------------------------------------------

    def head(self, x, env: Env):
        start = self.pick(["none", "flatten", "global_avgpool"])
        if start == "none":
            return [], x
        ops = [Layer(start, {}, "bare")]
        for _ in range(self.int(0, 3)):
            ops.append(self.pick([Layer("dropout", {"p": 0.5}, "short"), Layer("relu", {}, "bare"),
                                  Layer("batchnorm", {}, "bare"),
                                  Layer("linear", {"out_features": self.channels(env)}, "short")]))
        final = {"out_features": self.pick([Expr("num_classes", "num_classes", lambda v: v), self.int(1, 10)])}
        if self.chance(5):
            final["trainable"] = False
        if self.chance(3):
            final["in_features"] = run(ops, x, env.child())[0]
        ops.append(Layer("linear", final, "full" if len(final) > 1 else self.pick(["short", "full"])))
        if self.chance(3):
            ops.append(Layer(self.pick(["softmax", "log_softmax"]), {"dim": self.pick([1, -1])}, "short"))
        for op in ops:
            x = op.apply(x, env)
        return ops, x


@st.composite
def valid_specs(draw) -> Spec:
    """A random spec that netspec must accept, with its expected output shape via `Spec.output_shape()`."""
    return Writer(draw).spec()
