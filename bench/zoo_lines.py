"""The model zoo's table for the README: params, MACs, and the spec's lines against torchvision's.

Lines are code lines: neither blank nor only a comment, and for Python not a docstring.
torchvision's side is the classes and functions of torchvision/models/*.py that define the
model (its blocks, the network class, the builder function with its configuration); the
shared helpers of torchvision.ops (Conv2dNormActivation, SqueezeExcitation, StochasticDepth)
are not counted, which favours torchvision.

Examples:
  .venv/bin/python bench/zoo_lines.py                  # prints the markdown table
  .venv/bin/python bench/zoo_lines.py --write-readme   # replaces the table in README.md
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from pathlib import Path

from netspec import zoo

REPO = Path(__file__).resolve().parents[1]

# zoo name -> the torchvision.models objects that define it ("module:object")
TORCHVISION_SOURCES = {
    "resnet18": ["resnet:conv3x3", "resnet:conv1x1", "resnet:BasicBlock", "resnet:ResNet", "resnet:_resnet",
                 "resnet:resnet18"],
    "resnet34": ["resnet:conv3x3", "resnet:conv1x1", "resnet:BasicBlock", "resnet:ResNet", "resnet:_resnet",
                 "resnet:resnet34"],
    "resnet50": ["resnet:conv3x3", "resnet:conv1x1", "resnet:Bottleneck", "resnet:ResNet", "resnet:_resnet",
                 "resnet:resnet50"],
    "vgg16": ["vgg:VGG", "vgg:make_layers", "vgg:cfgs", "vgg:_vgg", "vgg:vgg16"],
    "vgg16_bn": ["vgg:VGG", "vgg:make_layers", "vgg:cfgs", "vgg:_vgg", "vgg:vgg16_bn"],
    "densenet121": ["densenet:_DenseLayer", "densenet:_DenseBlock", "densenet:_Transition", "densenet:DenseNet",
                    "densenet:_densenet", "densenet:densenet121"],
    "googlenet": ["googlenet:GoogLeNet", "googlenet:Inception", "googlenet:BasicConv2d", "googlenet:googlenet"],
    "inception_v3": ["inception:Inception3", "inception:InceptionA", "inception:InceptionB", "inception:InceptionC",
                     "inception:InceptionD", "inception:InceptionE", "inception:BasicConv2d",
                     "inception:inception_v3"],
    "squeezenet1_0": ["squeezenet:Fire", "squeezenet:SqueezeNet", "squeezenet:_squeezenet",
                      "squeezenet:squeezenet1_0"],
    "mnasnet1_0": ["mnasnet:_InvertedResidual", "mnasnet:_stack", "mnasnet:_round_to_multiple_of",
                   "mnasnet:_get_depths", "mnasnet:MNASNet", "mnasnet:_mnasnet", "mnasnet:mnasnet1_0"],
    "regnet_x_400mf": ["regnet:SimpleStemIN", "regnet:BottleneckTransform", "regnet:ResBottleneckBlock",
                       "regnet:AnyStage", "regnet:BlockParams", "regnet:RegNet", "regnet:_regnet",
                       "regnet:regnet_x_400mf"],
    "mobilenet_v2": ["mobilenetv2:InvertedResidual", "mobilenetv2:MobileNetV2", "mobilenetv2:mobilenet_v2",
                     "_utils:_make_divisible"],
    "mobilenet_v3_small": ["mobilenetv3:InvertedResidualConfig", "mobilenetv3:InvertedResidual",
                           "mobilenetv3:MobileNetV3", "mobilenetv3:_mobilenet_v3_conf", "mobilenetv3:_mobilenet_v3",
                           "mobilenetv3:mobilenet_v3_small", "_utils:_make_divisible"],
    "mobilenet_v3_large": ["mobilenetv3:InvertedResidualConfig", "mobilenetv3:InvertedResidual",
                           "mobilenetv3:MobileNetV3", "mobilenetv3:_mobilenet_v3_conf", "mobilenetv3:_mobilenet_v3",
                           "mobilenetv3:mobilenet_v3_large", "_utils:_make_divisible"],
    "efficientnet_b0": ["efficientnet:_MBConvConfig", "efficientnet:MBConvConfig", "efficientnet:MBConv",
                        "efficientnet:EfficientNet", "efficientnet:_efficientnet_conf", "efficientnet:_efficientnet",
                        "efficientnet:efficientnet_b0", "_utils:_make_divisible"],
    "shufflenet_v2_x1_0": ["shufflenetv2:channel_shuffle", "shufflenetv2:InvertedResidual",
                           "shufflenetv2:ShuffleNetV2", "shufflenetv2:_shufflenetv2", "shufflenetv2:shufflenet_v2_x1_0"],
    "convnext_tiny": ["convnext:LayerNorm2d", "convnext:CNBlock", "convnext:CNBlockConfig", "convnext:ConvNeXt",
                      "convnext:_convnext", "convnext:convnext_tiny"],
}


# zoo name -> its hand-written PyTorch twin, where torchvision has none (counted whole)
HAND_WRITTEN = {"unet": "tests/zoo/unet_reference.py"}


def python_code_lines(source: str) -> int:
    """Lines of `source` that are code: not blank, not only a comment, not inside a docstring."""
    source = textwrap.dedent(source)
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(1 for number, line in enumerate(source.splitlines(), 1)
               if number not in docstrings and line.strip() and not line.strip().startswith("#"))


def torchvision_lines(name: str) -> int | str:
    if name in HAND_WRITTEN:
        return f"{python_code_lines((REPO / HAND_WRITTEN[name]).read_text())} (hand-written twin)"
    objects = TORCHVISION_SOURCES[name]
    total = 0
    for reference in objects:
        module_name, attribute = reference.split(":")
        module = importlib.import_module(f"torchvision.models.{module_name}")
        value = getattr(module, attribute)
        if inspect.isclass(value) or inspect.isfunction(value):
            total += python_code_lines(inspect.getsource(inspect.unwrap(value)))
        else:  # a module-level table such as vgg's cfgs: count its assignment
            source = inspect.getsource(module)
            (node,) = [n for n in ast.parse(source).body if isinstance(n, (ast.Assign, ast.AnnAssign)) and
                       attribute in {getattr(t, "id", None) for t in getattr(n, "targets", [getattr(n, "target", None)])}]
            total += python_code_lines("\n".join(source.splitlines()[node.lineno - 1:node.end_lineno]))
    return total


def spec_lines(name: str) -> int:
    return sum(1 for line in zoo.path(name).read_text().splitlines() if line.strip() and not line.strip().startswith("#"))


def table() -> str:
    rows = ["| model | input | params | MACs | spec lines | torchvision lines |", "|---|---|---|---|---|---|"]
    for entry in zoo.entries():
        theirs = torchvision_lines(entry.name)
        rows.append(f"| [{entry.name}](netspec/zoo/{entry.name}.yaml) | {'x'.join(map(str, entry.input_shape))} | "
                    f"{entry.params:,} | {entry.macs / 1e6:,.1f} M | {spec_lines(entry.name)} | "
                    f"{theirs} |")
    return "\n".join(rows)


def write_readme() -> None:
    """Replace README.md's zoo table (from its header row to the first line that is not a row) with table()."""
    readme = REPO / "README.md"
    lines = readme.read_text().split("\n")
    start = lines.index(table().split("\n")[0])
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    readme.write_text("\n".join(lines[:start] + [table()] + lines[end:]))


if __name__ == "__main__":
    import sys

    write_readme() if sys.argv[1:] == ["--write-readme"] else print(table())
