"""Hypothesis strategies that break valid specs on purpose, each break with the error it must cause.

`broken_specs()` draws a valid spec (spec_strategies) and applies one mutation: a misspelled kind,
field, block, name or top-level key, a value of the wrong type, a YAML 1.1 boolean or octal, a
`!!python` tag, a tab, a duplicate key or name, a reserved name, a kernel larger than its input,
a concat or add that does not line up, an in_channels that does not match, a recursive block, a
missing or unknown block argument, a bad repeat count or an unknown parameter in an expression.
It returns a `Broken`: the checker must report an error with one of `codes` on a line containing
`token`. `garbage()` draws inputs that may or may not be valid: truncated, garbled, random bytes.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from hypothesis import strategies as st

from netspec.kinds import REGISTRY
from spec_model import BlockCall, BlockDef, Env, Layer, Merge, Raw, Refs, Repeat, Spec, layer_lists, run
from spec_strategies import NAMES, Writer

TOP_LEVEL = ["name", "input", "params", "blocks", "layers", "description", "train"]
BAD_VALUES = {
    "out_channels": ["sixteen", 2.5, True, 0, -3], "kernel_size": ["big", 0, 1.5], "stride": [0, "two"],
    "padding": ["full", -1], "bias": [1, "false"], "p": [1.5, "half"], "size": [0, "five"],
    "out_features": [0, "ten"], "ceil_mode": [2], "affine": ["sure"], "negative_slope": ["steep"],
    "dim": ["last"], "approximate": ["fast"], "output_size": [0], "trainable": [0, "never"],
}
HINTS = {"unknown_kind": "did you mean", "unknown_top_key": "did you mean",
         "unknown_expression": "did you mean 'width'?", "wrong_type": None,
         "train_out_of_bounds": None}  # "expected A; got B" says it all
YAML11_BOOLEANS = ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "Off"]
AMBIGUOUS_INTS = ["010", "0x10", "0o7", "007", "0b11"]
# train: values the schema must refuse because torch's optimizers and schedulers do (issue 12)
TRAIN_OUT_OF_BOUNDS = [("lr", -0.5), ("lr", 0), ("momentum", -3), ("momentum", 1), ("weight_decay", -1),
                       ("label_smoothing", 1.5), ("schedule", {"kind": "onecycle", "warmup": 7}),
                       ("schedule", {"kind": "plateau", "factor": 5}), ("schedule", {"kind": "step", "gamma": 0}),
                       ("schedule", {"max_lr": -1})]
RESERVED = ["forward", "training", "class", "self", "_hidden", "eval", "input", "my-layer", "2fast"]


@dataclass
class Broken:
    text: str
    codes: tuple[str, ...]  # the error code must start with one of these...
    token: str | None  # ...on a line that contains this text (None: any located line)...
    hint: str | None  # ...with a hint containing this ("": any hint; None: a hint is optional)
    what: str  # the mutation, for the failure message


def fields_of(kind: str) -> set[str]:
    schema = REGISTRY[kind].schema
    return {f.alias or name for name, f in schema.model_fields.items()}


def full(layer: Layer) -> Layer:
    """Switch a bare or short layer to the full form so fields can be added."""
    if layer.style in ("bare", "short"):
        layer.style = "full"
    return layer


class Mutator(Writer):
    """A Writer that, after writing a valid spec, breaks it; `text` is set by mutations of the text itself."""

    text: str | None = None

    def misspell(self, word: str, avoid) -> str:
        for _ in range(5):
            at = self.int(0, len(word) - 1)
            edit = self.pick(["drop", "swap", "double", "replace"])
            if edit == "drop" and len(word) > 2:
                typo = word[:at] + word[at + 1:]
            elif edit == "swap" and at + 1 < len(word):
                typo = word[:at] + word[at + 1] + word[at] + word[at + 2:]
            elif edit == "double":
                typo = word[:at] + word[at] + word[at:]
            else:
                typo = word[:at] + self.pick("aeiouxz") + word[at + 1:]
            if typo != word and typo not in avoid and typo.isidentifier():
                return typo
        return word + "zz"

    def layer(self, spec: Spec, having: str | None = None) -> Layer | None:
        """A layer to break (one with field `having`, if given); a spec of merges alone gets a relu to break."""
        layers = [op for op in spec.all_ops()
                  if isinstance(op, Layer) and (having is None or having in fields_of(op.kind))]
        if not layers and having is None:
            layers = [Layer("relu", {}, "bare")]
            spec.layers.append(layers[0])
        return self.pick(layers) if layers else None

    def some_list(self, spec: Spec) -> list:
        lists = [ops for body in [spec.layers, *(b.body for b in spec.blocks.values())] for ops in layer_lists(body)]
        return self.pick(lists)

    def insert(self, ops: list, *new) -> None:
        at = self.int(0, len(ops))
        ops[at:at] = list(new)

    def top_level_shape(self, spec: Spec):
        """A position in the top-level list and the shape that flows into it."""
        at = self.int(0, len(spec.layers))
        shape = run(spec.layers[:at], spec.input_shape, Env(spec.param_values(), {"input": spec.input_shape}))
        return at, shape

    # -- mutations: each edits `spec` and returns (codes, token) ------------

    def unknown_kind(self, spec):
        layer = self.layer(spec)
        layer.kind = self.misspell(layer.kind, set(REGISTRY) | set(spec.blocks) | {"block", "repeat"})
        return ("layer.unknown_kind",), layer.kind

    def unknown_field(self, spec):
        layer = full(self.layer(spec))
        known = fields_of(layer.kind) | {"kind"}
        word = self.pick(sorted(layer.fields) or sorted(known - {"kind", "from", "name"}))
        typo = self.misspell(word, known)
        layer.fields = {(typo if key == word else key): value for key, value in layer.fields.items()}
        layer.fields.setdefault(typo, 1)
        return ("schema.unknown_field",), typo

    def wrong_type(self, spec):
        field = self.pick(sorted(BAD_VALUES))
        layer = self.layer(spec, field) or full(self.layer(spec))
        field = field if field in fields_of(layer.kind) else "trainable"
        full(layer).fields[field] = self.pick(BAD_VALUES[field])
        return ("schema.type",), field

    def yaml11(self, spec):
        if self.chance(2):
            layer = full(self.layer(spec))
            field = self.pick(sorted({"bias", "ceil_mode", "affine", "count_include_pad"} & fields_of(layer.kind))
                              or ["trainable"])
            word = self.pick(YAML11_BOOLEANS)
            layer.fields[field] = Raw(word)
            return ("schema.type",), f"{field}: {word}"
        field = self.pick(["out_channels", "kernel_size", "size", "out_features"])
        layer = self.layer(spec, field) or self.layer(spec)
        word = self.pick(AMBIGUOUS_INTS)
        full(layer).fields[field if field in fields_of(layer.kind) else "trainable"] = Raw(word)
        return ("yaml.ambiguous_int",), word

    def python_tag(self, spec):
        full(self.layer(spec)).fields["trainable"] = Raw("!!python/object/apply:os.system [echo]")
        return ("yaml.tag",), "!!python"

    def unknown_expression(self, spec):
        layer = self.layer(spec, "out_channels") or self.layer(spec, "out_features") or self.layer(spec)
        field = next((f for f in ("out_channels", "out_features") if f in layer.fields), "trainable")
        full(layer).fields[field] = Raw("2 * widht")
        return ("spec.expression",), "widht"

    def kernel_too_large(self, spec):
        at, shape = self.top_level_shape(spec)
        kind = self.pick(["conv", "maxpool", "avgpool"])
        size = max(shape[1:] or (1,)) + self.int(1, 4)
        fields = {"kernel_size": size, **({"out_channels": 2} if kind == "conv" else {})}
        spec.layers.insert(at, Layer(kind, fields))
        return (f"shape.{kind}",), "kernel_size" if len(shape) == 3 else kind

    def mismatched_merge(self, spec):
        at, shape = self.top_level_shape(spec)
        if len(shape) == 3 and self.chance(2):
            grow = Layer("conv", {"out_channels": 2, "kernel_size": 1, "padding": 1})  # H + 2, W + 2
            spec.layers.insert(at, Merge("concat", [[grow], []]))
            return ("shape.concat",), "concat"
        other = (Layer("conv", {"out_channels": shape[0] + 1, "kernel_size": 1}) if len(shape) == 3 else
                 Layer("linear", {"out_features": shape[0] + 1}))
        spec.layers.insert(at, Merge("add", [[other], []]))
        return ("shape.add",), "add"

    def wrong_in_channels(self, spec):
        at, shape = self.top_level_shape(spec)
        if len(shape) == 3:
            spec.layers.insert(at, Layer("conv", {"out_channels": 2, "kernel_size": 1, "in_channels": shape[0] + 1}))
            return ("shape.conv",), "in_channels"
        spec.layers.insert(at, Layer("linear", {"out_features": 2, "in_features": shape[0] + 1}))
        return ("shape.linear",), "in_features"

    def unknown_block(self, spec):
        name = self.misspell(self.pick(sorted(spec.blocks) or ["residual"]), spec.blocks)
        self.insert(self.some_list(spec), BlockCall(BlockDef(name, {}, []), {}))
        return ("block.unknown",), name

    def unknown_name(self, spec):
        name = self.misspell(self.pick(["stem", "skip", "conv1"]), set(NAMES))
        ref = self.pick([Layer("relu", {}, source=name), Refs("add", ["input", name]), Refs("concat", [name, name])])
        self.insert(self.some_list(spec), ref)
        return ("layer.unknown_name",), name

    def recursive_block(self, spec):
        loop = BlockDef("loop", {}, [Layer("relu", {}, "bare")])
        partner = BlockDef("partner", {}, [BlockCall(loop, {})])
        loop.body.append(BlockCall(partner if self.chance(2) else loop, {}))
        self.insert(self.some_list(spec), BlockCall(loop, {}, self.pick(["full", "bare"])))
        spec.blocks.update({"loop": loop, "partner": partner})
        return ("block.recursive",), "loop"

    def block_arguments(self, spec):
        calls = [op for op in spec.all_ops() if isinstance(op, BlockCall) and op.block.params]
        if not calls:
            return self.unknown_block(spec)
        call = self.pick(calls)
        required = [p for p, default in call.block.params.items() if default is None]
        if required and self.chance(2):
            call.args.pop(self.pick(required), None)
            call.style = "full"
            return ("block.missing_param",), call.block.name
        typo = self.misspell(self.pick(sorted(call.block.params)), call.block.params)
        call.args[typo] = 1
        call.style = "full"
        return ("block.unknown_param",), typo

    def duplicate_key(self, spec):
        if self.chance(2):
            key = self.pick(["name", "input", "layers"])
            spec.extra[Raw(key)] = {"name": "again", "input": [1, 8, 8], "layers": ["relu"]}[key]
            return ("yaml.duplicate_key",), key
        layer = full(self.layer(spec))
        key = self.pick(sorted(k for k in layer.fields if isinstance(k, str)) or ["trainable"])
        layer.fields.setdefault(key, True)
        layer.fields[Raw(key)] = layer.fields[key]
        return ("yaml.duplicate_key",), key

    def duplicate_name(self, spec):
        name = self.pick(["twin", "again"])
        self.insert(self.some_list(spec), Layer("relu", {}, name=name), Layer("identity", {}, name=name))
        return ("layer.duplicate_name",), name

    def reserved_name(self, spec):
        word = self.pick(RESERVED)
        merges = [op for op in spec.all_ops() if isinstance(op, Merge) and op.labels]
        if merges and self.chance(2) and word.isidentifier() and word != "input":
            merge = self.pick(merges)
            merge.labels[self.int(0, len(merge.labels) - 1)] = word
            return ("merge.label",), word
        full(self.layer(spec)).name = word
        return ("layer.name",), word

    def unknown_top_key(self, spec):
        typo = self.misspell(self.pick(TOP_LEVEL), TOP_LEVEL)
        spec.extra[typo] = 1
        return ("spec.unknown_key",), typo

    def bad_repeat(self, spec):
        repeats = [op for op in spec.all_ops() if isinstance(op, Repeat)]
        target = self.pick(repeats) if repeats else Repeat(1, [Layer("relu", {}, "bare")])
        if not repeats:
            self.insert(self.some_list(spec), target)
        target.times = self.pick([-1, 10**6, "many", 2.5])
        return ("repeat.",), "repeat"

    def huge_integer(self, spec):
        field = self.pick(["out_channels", "out_features", "kernel_size", "size"])
        layer = self.layer(spec, field) or full(self.layer(spec))
        digits = self.pick(["1" + "0" * 16, "9" * 401, "7" * 5_001])
        full(layer).fields[field if field in fields_of(layer.kind) else "trainable"] = Raw(digits)
        return ("yaml.number",), digits[:40]

    def tag_on_key(self, spec):
        tag = self.pick(["!!python/name:os.system", "!!python/object/apply:os.system", "!custom"])
        full(self.layer(spec)).fields[Raw(f"{tag} trainable")] = True
        return ("yaml.tag",), tag

    def train_out_of_bounds(self, spec):
        field, value = self.pick(TRAIN_OUT_OF_BOUNDS)
        spec.extra["train"] = {field: value}
        inner = [key for key in value if key != "kind"] if isinstance(value, dict) else []
        return ("schema.type",), inner[0] if inner else field

    def tab(self, spec):
        lines = spec.text().splitlines()
        indented = [i for i, line in enumerate(lines) if line.startswith("  ")]
        if not indented:
            return None
        at = self.pick(indented)
        lines[at] = "\t" + lines[at].lstrip(" ")
        self.text = "\n".join(lines) + "\n"
        return ("yaml.syntax",), lines[at].strip()


MUTATIONS = ["unknown_kind", "unknown_field", "wrong_type", "yaml11", "python_tag", "unknown_expression",
             "kernel_too_large", "mismatched_merge", "wrong_in_channels", "unknown_block", "unknown_name",
             "recursive_block", "block_arguments", "duplicate_key", "duplicate_name", "reserved_name",
             "unknown_top_key", "bad_repeat", "tab", "huge_integer", "tag_on_key", "train_out_of_bounds"]


@st.composite
def broken_specs(draw, what: str) -> Broken:
    """A valid spec with one mistake of kind `what` (one of MUTATIONS), and the error it must cause."""
    mutator = Mutator(draw)
    spec = mutator.spec()
    expected = getattr(mutator, what)(spec)
    if expected is None:  # this spec offers no spot for that mutation
        what, expected = "unknown_kind", mutator.unknown_kind(spec)
    return Broken(mutator.text or spec.text(), *expected, HINTS.get(what, ""), what)


JUNK = string.ascii_letters + string.digits + " \t\n:-{}[],#&*!|>'\"%@`"


@st.composite
def garbage(draw) -> str | bytes:
    """A valid spec truncated or garbled, or random text or bytes: any outcome but a crash is fine."""
    how = draw(st.sampled_from(["truncate", "garble", "bytes", "text"]))
    if how == "bytes":
        return draw(st.binary(max_size=300))
    if how == "text":
        return draw(st.text(max_size=300))
    text = Writer(draw).spec().text()
    if how == "truncate":
        return text[:draw(st.integers(0, len(text)))]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(JUNK, max_size=3)) + text[at + draw(st.integers(0, 3)):]
    return text
