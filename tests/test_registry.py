"""The closed registry of layer kinds: every kind complete, schemas tagged by name, the JSON Schema in step,
and the checker free of torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from netspec.kinds import REGISTRY, LayerKind, LayerSchema
from netspec.schema import json_schema

ROOT = Path(__file__).resolve().parent.parent
ISSUE_KINDS = {"conv", "maxpool", "avgpool", "adaptive_avgpool", "global_avgpool", "global_maxpool", "relu",
               "leaky_relu", "tanh", "sigmoid", "gelu", "silu", "lrn", "batchnorm", "dropout", "flatten", "linear", "softmax",
               "log_softmax", "identity", "concat", "add", "mul", "relu6", "hardswish", "hardsigmoid", "mish",
               "stochastic_depth", "layernorm", "groupnorm", "layer_scale", "channel_slice", "channel_shuffle",
               "upsample", "conv_transpose"}


def test_registry_has_every_kind_the_language_promises():
    assert set(REGISTRY) == ISSUE_KINDS


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_kind_is_complete(name):
    kind = REGISTRY[name]
    assert isinstance(kind, LayerKind) and kind.name == name
    assert issubclass(kind.schema, LayerSchema)
    for part in (kind.infer_output_shape, kind.count, kind.build, kind.window):
        assert callable(part)
    assert kind.summary.strip()
    assert kind.schema.model_config["extra"] == "forbid"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_schema_kind_literal_is_the_registry_name(name):
    field = REGISTRY[name].schema.model_fields["kind"]
    assert typing.get_args(field.annotation) == (name,)
    assert field.default == name


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_shorthand_fills_a_real_field(name):
    kind = REGISTRY[name]
    if kind.shorthand is not None:
        assert kind.shorthand in kind.schema.model_fields


def test_only_merges_take_branches():
    for name, kind in REGISTRY.items():
        assert kind.merges == ("branches" in kind.schema.model_fields), name


def _field_names(schema: type[LayerSchema]) -> set[str]:
    return {field.alias or key for key, field in schema.model_fields.items()}


def test_json_schema_layer_definitions_match_the_registry_exactly():
    defs = json_schema()["$defs"]
    layer_defs = {key[len("layer_"):]: value for key, value in defs.items() if key.startswith("layer_")}
    assert set(layer_defs) == set(REGISTRY)
    for name, definition in layer_defs.items():
        schema = REGISTRY[name].schema
        assert set(definition["properties"]) == _field_names(schema) | {"if"}, name  # `if:` is the expander's
        assert definition["properties"]["kind"] == {"const": name, "description": REGISTRY[name].summary}
        required = {field.alias or key for key, field in schema.model_fields.items() if field.is_required()}
        assert set(definition["required"]) == required | {"kind"}, name
        assert definition["additionalProperties"] is False
        assert definition["description"] == REGISTRY[name].summary
        assert set(defs[f"fields_{name}"]["properties"]) == _field_names(schema) - {"kind"} | {"if"}, name
    kind_layer = defs["KindLayer"]
    assert kind_layer["properties"]["kind"]["enum"] == list(REGISTRY)
    assert [rule["then"]["$ref"] for rule in kind_layer["allOf"]] == [f"#/$defs/layer_{name}" for name in REGISTRY]
    assert list(defs["ShortForm"]["properties"]) == list(REGISTRY)


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        own = {node["$ref"]} if "$ref" in node else set()
        return own.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node))
    return set()


def test_every_reference_in_the_json_schema_resolves():
    schema = json_schema()
    json.dumps(schema)  # plain JSON data throughout
    for ref in _refs(schema):
        node = schema
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, ref
            node = node[part]


def test_integer_fields_also_accept_expressions_in_the_json_schema():
    out_channels = json_schema()["$defs"]["layer_conv"]["properties"]["out_channels"]
    assert {"type": "string", "description": "an expression over params, e.g. '2 * width'"} in out_channels["anyOf"]


def _run_without_torch(code: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter where `import torch` fails, as on a machine without torch."""
    blocker = "import sys; sys.modules['torch'] = None\n"  # makes `import torch` raise ImportError
    return subprocess.run([sys.executable, "-c", blocker + code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_checking_a_spec_never_imports_torch():
    code = (
        "import sys, netspec\n"
        "from netspec.cli import cli\n"
        "report = netspec.check('specs/googlenet_mini.yaml')\n"
        "assert report.ok and report.params > 0, report.diagnostics\n"
        "modern = netspec.check('tests/data/modern_kinds.yaml')\n"
        "assert modern.ok and modern.params > 0, modern.diagnostics\n"
        "bad = netspec.check('no/such/file.yaml')\n"
        "assert not bad.ok\n"
        "netspec.json_schema()\n"
        "print(sorted(name for name in sys.modules if name == 'torch' or name.startswith('torch.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# what `netspec check` must not load: torch and the libraries of pictures, the language server and the viewer's
# browser tests, and the modules of the other commands (imported when they run or --help lists them)
NOT_FOR_CHECKING = ("torch", "matplotlib", "pygls", "playwright", "netspec.training", "netspec.draw",
                    "netspec.exporters", "netspec.lsp", "netspec.zoo.cli", "netspec.cli_outputs", "netspec.schema")


def test_the_check_command_imports_only_what_checking_needs():
    code = (
        "import atexit, importlib.metadata, sys\n"
        "from pydantic.json_schema import GenerateJsonSchema\n"
        "scans, schemas = [], []\n"
        "scan, generate = importlib.metadata.entry_points, GenerateJsonSchema.generate\n"
        "importlib.metadata.entry_points = lambda *args, **kwargs: scans.append(kwargs) or scan(*args, **kwargs)\n"
        "GenerateJsonSchema.generate = lambda *args, **kwargs: schemas.append(1) or generate(*args, **kwargs)\n"
        f"unwanted = {NOT_FOR_CHECKING!r}\n"
        "atexit.register(lambda: print('loaded:', sorted(name for name in sys.modules if name.startswith(unwanted)),"
        " 'scans:', scans, 'JSON schemas:', len(schemas)))\n"
        "sys.argv = ['netspec', 'check', 'specs/googlenet_mini.yaml']\n"
        "from netspec.cli import main\n"
        "main()\n"
    )
    environment = {name: value for name, value in os.environ.items() if name != "PYDANTIC_DISABLE_PLUGINS"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env=environment)
    assert result.returncode == 0, result.stderr
    assert "googlenet_mini" in result.stdout
    assert result.stdout.splitlines()[-1] == "loaded: [] scans: [] JSON schemas: 0"  # no plugin scan, no schema


def test_help_lists_every_command_though_they_load_when_used():
    from click.testing import CliRunner

    from netspec.cli import cli

    listed = CliRunner().invoke(cli, ["--help"]).stdout
    commands = cli.list_commands(None)
    assert {"check", "train", "eval", "predict", "export", "graph", "filters", "zoo", "schema", "lsp"} <= set(commands)
    for name in commands:
        opening = " ".join(cli.get_command(None, name).get_short_help_str().split()[:3])
        assert f"  {name} " in listed and f"{name} " + opening in " ".join(listed.split()), name


def test_check_works_when_torch_cannot_be_imported():
    result = _run_without_torch(
        "from click.testing import CliRunner\n"
        "from netspec.cli import cli\n"
        "result = CliRunner().invoke(cli, ['check', 'specs/resnet_mini.yaml'])\n"
        "print(result.exit_code)\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_built_in_kinds_pass_the_checks_a_plugin_kind_must_pass(name):
    from netspec.plugins import kind_problem

    assert kind_problem(REGISTRY[name]) is None


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_field_of_every_kind_is_described_in_the_json_schema(name):
    properties = json_schema()["$defs"][f"layer_{name}"]["properties"]
    for field, definition in properties.items():
        options = [definition, *definition.get("anyOf", [])]
        assert any("description" in option for option in options), f"{name}.{field}"


def test_the_json_schema_is_the_same_every_time_it_is_built():
    assert json_schema() == json_schema()
