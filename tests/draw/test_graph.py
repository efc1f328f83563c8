"""The network pictures: DOT and Mermaid for every spec, SVG/PNG through Graphviz, GoogLeNet's branches visible."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

import netspec
from netspec.draw.graph import dot_source, mermaid_source
from netspec.exporters.errors import ExportError
from netspec.ir import BLOCK

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "specs").glob("*.yaml"))
SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed")


def dot_edges(source: str) -> list[tuple[str, str, str]]:
    """Labelled edges (tail, head, shape); a frame's entry point fans out through unlabelled ones."""
    return re.findall(r'^\s*(\w+) -> (\w+) \[label="([^"]*)"[^\]]*\];$', source, re.MULTILINE)


def through_entries(source: str) -> set[tuple[str, str]]:
    """(tail, head) of every edge, with each frame's entry point short-circuited."""
    labelled = [(tail, head) for tail, head, _ in dot_edges(source)]
    fan_out = re.findall(r'^\s*(\w+) -> (\w+) \[arrowhead=none[^\]]*\];$', source, re.MULTILINE)
    into_entry = {}
    for tail, head in labelled:
        into_entry.setdefault(head, []).append(tail)
    direct = {(tail, head) for tail, head in labelled if "_in" not in head}
    return direct | {(tail, head) for entry, head in fan_out for tail in into_entry[entry]}


@pytest.mark.parametrize("spec", SPECS)
def test_every_layer_is_drawn_with_the_shape_on_every_edge(spec):
    graph = netspec.check(ROOT / spec).graph
    drawn = [node for node in graph.nodes if node.kind != BLOCK]
    for source in (dot_source(graph), mermaid_source(graph)):
        for node in drawn:
            assert re.search(rf"^\s*n{node.index}\b", source, re.MULTILINE), f"{spec}: {node.path} not drawn"
    dot = dot_source(graph)
    shapes = {f"n{node.index}": "×".join(map(str, node.out_shape)) for node in drawn}
    for tail, head, label in dot_edges(dot):
        assert label == shapes[tail], f"{spec}: edge {tail} -> {head}"

    def value(index):
        while graph.nodes[index].kind == BLOCK:
            index = graph.nodes[index].inputs[0]
        return f"n{index}"
    expected = {(value(index), f"n{node.index}") for node in drawn for index in node.inputs}
    assert through_entries(dot) == expected | {(value(graph.output), "output")}
    mermaid_labelled = re.findall(r'^\s*(\w+) -->\|"([^"]*)"\| (\w+)$', mermaid_source(graph), re.MULTILINE)
    assert sorted((t, h, label) for t, label, h in mermaid_labelled) == sorted(dot_edges(dot))


def test_an_identity_shortcut_enters_its_own_frame():
    dot = dot_source(netspec.check("specs/resnet_mini.yaml").graph)
    frame = dot[dot.index('label="rblock1: residual"'):]
    frame = frame[:frame.index("\n  }")]
    entry = re.search(r"(\w+_in0) \[shape=point", frame).group(1)
    add = next(f"n{node.index}" for node in netspec.check("specs/resnet_mini.yaml").graph.nodes
               if node.module_name == "rblock1.0")
    assert re.search(rf"^\s*{entry} -> {add} ", dot, re.MULTILINE)  # the shortcut starts inside the frame


def test_collapse_folds_each_block_into_one_box_with_its_shapes(tmp_path):
    graph = netspec.check("specs/resnet_mini.yaml").graph
    dot = dot_source(graph, depth=0, rankdir="LR")
    assert "rankdir=LR" in dot and "subgraph cluster" not in dot
    assert "rblock1: residual\\n16×12×12 → 16×12×12\\n5 layers, 4,640 params" in dot
    assert not any(f"n{node.index} [" in dot for node in graph.nodes if (node.module_name or "").startswith("rblock"))
    assert len(re.findall(r" -> b\d+ ", dot)) == 2  # one edge into each folded block
    assert mermaid_source(graph, depth=0, rankdir="LR").startswith("flowchart LR")


def test_dropout_shows_its_probability_even_at_the_default():
    graph = netspec.check("specs/alexnet_fashion.yaml").graph
    assert "dropout\\np=0.5" in dot_source(graph)


@needs_dot
def test_googlenet_svg_shows_both_inception_blocks_with_four_branches_merging(tmp_path):
    path = netspec.draw_graph("specs/googlenet_mini.yaml", tmp_path / "g.svg")
    svg = ElementTree.parse(path).getroot()
    clusters = {group.findtext(f"{SVG}text"): group for group in svg.iter(f"{SVG}g")
                if group.get("class") == "cluster"}
    assert set(clusters) == {"incep1: inception_a", "incep2: inception_a"}
    titles = {group.findtext(f"{SVG}title"): group for group in svg.iter(f"{SVG}g") if group.get("class") == "edge"}
    graph = netspec.check("specs/googlenet_mini.yaml").graph
    concats = [node for node in graph.nodes if node.kind == "concat"]
    assert len(concats) == 2
    for concat in concats:
        into = [title for title in titles if title.endswith(f"->n{concat.index}")]
        assert len(into) == 4  # the four branches join at the concat
        fork = graph.nodes[concat.index].path  # and the four branches start from one node
        starts = {node.inputs[0] for node in graph.nodes if node.path.startswith(fork + ".branches.")
                  and node.path.endswith("[0]")}
        assert len(starts) == 1
    labels = " ".join(text.text or "" for text in svg.iter(f"{SVG}text"))
    assert "88×12×12" in labels and "88×4×4" in labels


@needs_dot
def test_png_is_a_png(tmp_path):
    path = netspec.draw_graph("specs/resnet_mini.yaml", tmp_path / "r.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_svg_without_graphviz_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ExportError, match="Graphviz") as caught:
        netspec.draw_graph("specs/resnet_mini.yaml", tmp_path / "r.svg")
    assert "apt install graphviz" in str(caught.value) and ".dot or .mmd" in str(caught.value)
    assert not (tmp_path / "r.svg").exists()
    assert netspec.draw_graph("specs/resnet_mini.yaml", tmp_path / "r.mmd").read_text().startswith("flowchart TB")


@needs_dot
def test_a_collapsed_resnet50_fits_on_one_screen(tmp_path):
    svg = ElementTree.parse(netspec.draw_graph("zoo:resnet50", tmp_path / "r.svg", depth=0)).getroot()
    width, height = (float(svg.get(side).removesuffix("pt")) * 96 / 72 for side in ("width", "height"))
    assert width <= 1920 and height <= 1080, (width, height)  # pixels at 96 dpi
    titles = [text.text for text in svg.iter(f"{SVG}text")]
    assert "layer3: stage" in titles and "1024×14×14" in titles
