"""Hover latency of `netspec lsp` on a generated 1,000-layer spec, against re-checking that spec.

The server runs as an editor runs it (`python -m netspec lsp`, a subprocess on stdio) and pygls'
own LanguageClient talks to it. Once the document is open and checked (warm), each round times
  - hover: one textDocument/hover round trip, on a different layer each round (a layer's name,
    a `from:`/`inputs:` name, a block use, a parameter), answered from the server's index;
  - check: `netspec.check(text=...)` of the same text in this process, what a hover would cost
    if the server re-checked the spec to answer it;
interleaved (hover, check, check, hover, ...). Then it times edits: a one-character change to
the publishDiagnostics that follows (this includes the server's 0.15 s pause after typing).
Goal: hover under 50 ms.

Examples:
  .venv/bin/python bench/lsp_hover.py
  .venv/bin/python bench/lsp_hover.py --layers 2000 --rounds 101 --no-record
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from harness import REPO, Spread, add_common_arguments, interleaved, markdown_table, ratios, report

GOAL_MS = 50.0
URI = "file:///tmp/netspec-bench/generated.yaml"


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=1000, help="top-level layers of the generated spec (1000)")
    parser.add_argument("--rounds", type=int, default=61, help="interleaved hover/check rounds (default 61)")
    parser.add_argument("--edits", type=int, default=11, help="timed edits (default 11)")
    add_common_arguments(parser, device=False)  # the server is CPU work
    return parser.parse_args()


def generated_spec(layers: int) -> str:
    """`layers` top-level entries: conv, batchnorm, relu, a residual add by name; a block use every 50th."""
    lines = ["name: generated", "input: [3, 32, 32]", "params: {width: 16}", "blocks:", "  unit:",
             "    params: {channels: 16}",
             "    layers: [{kind: conv, out_channels: channels, kernel_size: 3, padding: 1}, relu]", "layers:",
             "  - {kind: conv, name: stem, out_channels: width, kernel_size: 3, padding: 1}"]
    for index in range(1, layers - 3):
        if index % 50 == 0:
            lines.append(f"  - {{block: unit, name: u{index}, channels: width}}")
        elif index % 4 == 1:
            lines.append(f"  - {{kind: conv, name: c{index}, out_channels: width, kernel_size: 3, padding: 1}}")
        elif index % 4 == 2:
            lines.append(f"  - {{kind: batchnorm, name: b{index}}}")
        elif index % 4 == 3:
            lines.append(f"  - {{kind: relu, name: r{index}}}")
        else:
            lines.append(f"  - {{kind: add, name: a{index}, inputs: [r{index - 1}, c{index - 3}]}}")
    lines += ["  - global_avgpool", "  - flatten", "  - {kind: linear, name: fc, out_features: 10}"]
    return "\n".join(lines) + "\n"


def hover_targets(text: str) -> list[tuple[int, int]]:
    """Positions on a name, an `inputs:` name, a block use or a parameter, spread over the document."""
    targets = []
    for number, line in enumerate(text.split("\n")):
        for needle in ("name: ", "inputs: [", "block: ", "out_channels: width"):
            if line.startswith("  - ") and needle in line and number % 7 == 0:
                targets.append((number, line.index(needle) + len(needle) + 1))
    return targets


async def measure(args) -> tuple[dict[str, list[float]], list[float], int]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    import netspec

    text = generated_spec(args.layers)
    targets = hover_targets(text)
    client = LanguageClient("netspec-bench", "1")
    published: asyncio.Queue = asyncio.Queue()
    client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(lambda params: published.put_nowait(params))
    await client.start_io(sys.executable, "-m", "netspec", "lsp", cwd=str(REPO))
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(URI, "yaml", 1, text)))
    first = await asyncio.wait_for(published.get(), 120)
    if first.diagnostics:
        raise SystemExit(f"the generated spec should check clean; got {first.diagnostics[0].message}")
    report_nodes = len(netspec.check("generated.yaml", text=text).graph.layers)
    loop = asyncio.get_running_loop()
    answers = []

    def hover() -> float:
        line, character = targets[len(answers) % len(targets)]
        start = time.perf_counter()
        answer = asyncio.run_coroutine_threadsafe(client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(URI), types.Position(line, character))), loop)
        answers.append(answer.result())
        return time.perf_counter() - start

    def check() -> float:
        start = time.perf_counter()
        netspec.check("generated.yaml", text=text)
        return time.perf_counter() - start

    samples = await asyncio.to_thread(interleaved, {"hover": hover, "check": check}, args.rounds)
    if any(answer is None for answer in answers):
        raise SystemExit("a hover on a layer got no answer")
    edits = []
    lines = text.split("\n")
    line = lines.index("  - {kind: linear, name: fc, out_features: 10}")
    column = lines[line].index("10")
    for version in range(2, 2 + args.edits):
        digit = str(version % 2 + 1)  # `out_features: 10` <-> `out_features: 20`
        where = types.Range(types.Position(line, column), types.Position(line, column + 1))
        start = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version, URI), [types.TextDocumentContentChangePartial(where, digit)]))
        while (await asyncio.wait_for(published.get(), 120)).version != version:
            pass
        edits.append(time.perf_counter() - start)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return samples, edits, report_nodes


def main() -> None:
    args = parse_arguments()
    import torch

    samples, edits, nodes = asyncio.run(measure(args))
    hover = Spread.of(samples["hover"])
    verdict = "meets" if hover.median * 1e3 < GOAL_MS else "MISSES"
    spec = f"generated, {args.layers} layers ({nodes} IR nodes)"
    rows = [[spec, "hover round trip (warm, stdio)", hover.format(2, 1e3), f"{verdict} < {GOAL_MS:g} ms"],
            [spec, "netspec.check of the same text (in-process)", Spread.of(samples["check"]).format(1, 1e3),
             f"check/hover {ratios(samples['check'], samples['hover']).format(0)}"],
            [spec, "edit -> publishDiagnostics (incl. 150 ms pause)", Spread.of(edits).format(0, 1e3), ""]]
    notes = ["ms: median [25th-75th percentile]; check/hover: median of per-round ratios [25th-75th pct].",
             f"{args.rounds} interleaved rounds; each hover on another layer, `inputs:` name, block use or param; "
             f"{args.edits} edits.",
             f"slowest hover: {max(samples['hover']) * 1e3:.1f} ms."]
    report("LSP hover: netspec lsp on a generated spec", torch.device("cpu"),
           markdown_table(["spec", "measure", "ms", "goal"], rows), notes, record=not args.no_record)


if __name__ == "__main__":
    main()
