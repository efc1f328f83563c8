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
    return re.findall(r'^\s*(\w+) -> (\w+) \[label="([^"]*)"\];$', source, re.MULTILINE)


@pytest.mark.parametrize("spec", SPECS)
def test_every_layer_is_drawn_with_the_shape_on_every_edge(spec):
    graph = netspec.check(ROOT / spec).graph
    drawn = [node for node in graph.nodes if node.kind != BLOCK]
    for source in (dot_source(graph), mermaid_source(graph)):
        for node in drawn:
            assert re.search(rf"^\s*n{node.index}\b", source, re.MULTILINE), f"{spec}: {node.path} not drawn"
    edges = dot_edges(dot_source(graph))
    shapes = {f"n{node.index}": "×".join(map(str, node.out_shape)) for node in drawn}
    assert len(edges) == sum(len(node.inputs) for node in drawn) + 1  # plus the edge into `output`
    for tail, head, label in edges:
        assert label == shapes[tail], f"{spec}: edge {tail} -> {head}"
    mermaid_edges = re.findall(r'^\s*(\w+) -->\|"([^"]*)"\| (\w+)$', mermaid_source(graph), re.MULTILINE)
    assert sorted((t, h, label) for t, label, h in mermaid_edges) == sorted(edges)


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
