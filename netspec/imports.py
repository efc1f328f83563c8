"""`imports:` other spec files (relative paths or `zoo:NAME`) whose `blocks:` the spec may use.

Each imported file is read and parsed once, however many files import it; its
nodes keep their own file:line:col, so a problem inside an imported block is
reported in that file. A cycle (a.yaml imports b.yaml imports a.yaml) is one
error at the import that closes it, naming where the cycle began. The byte and
YAML-node budgets count the spec and all of its imports together, so a chain of
files cannot get around them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .diagnostics import DiagnosticSink, Mark
from .located import count_nodes, relocated, reporting_for
from .yamlsrc import YamlBudget, YMap, YNode, YScalar, YSeq, parse_yaml, read_source, to_plain
from .zoo import is_zoo_reference, resolve

EXAMPLE = "e.g. `imports: [blocks/residual.yaml, zoo:resnet18]`"


@dataclass
class Library:
    """One imported file: its name as diagnostics show it, its text and its located tree."""

    file: str
    text: str
    root: YMap
    imported_at: Mark  # the `imports:` entry that first brought it in (in the importing file)


@dataclass
class _Reading:
    sink: DiagnosticSink
    total_bytes: int
    total_nodes: int
    budget: YamlBudget = field(default_factory=YamlBudget)
    libraries: list[Library] = field(default_factory=list)
    done: dict[str, Library] = field(default_factory=dict)  # real path -> library
    chain: list[tuple[str, str, Mark | None]] = field(default_factory=list)  # (real path, shown name, where imported)


def spec_path(name: str, importer: str | None = None) -> str:
    """The file a spec name refers to: `zoo:NAME` from the zoo, other names relative to the importing file."""
    if is_zoo_reference(name):
        return resolve(name)  # netspec.zoo.UnknownZooModel (a FileNotFoundError) for an unknown name
    if importer is None or os.path.isabs(name):
        return name
    return os.path.normpath(os.path.join(os.path.dirname(importer), name))


def read_imports(root: YMap, file: str, text: str, sink: DiagnosticSink,
                 budget: YamlBudget | None = None) -> list[Library]:
    """Every file `root` imports, directly or through other imports, each once, in first-use order."""
    if root.get("imports") is None:
        return []
    reading = _Reading(sink, len(text.encode()), count_nodes(root), budget or YamlBudget())
    reading.chain.append((os.path.realpath(file), file, None))
    _read_entries(root, file, reading)
    return reading.libraries


def _read_entries(root: YMap, file: str, reading: _Reading) -> None:
    node = root.get("imports")
    if node is None:
        return
    entries = node.items if isinstance(node, YSeq) else None
    if entries is None:
        reading.sink.error("imports.type", "imports: expected a list of spec files", node.mark, hint=EXAMPLE)
        return
    for entry in entries:
        if not isinstance(entry, YScalar) or not isinstance(entry.value, str) or not entry.value:
            reading.sink.error("imports.type", f"imports: expected a file name or zoo:NAME; got {to_plain(entry)!r}",
                               entry.mark, hint=EXAMPLE)
            continue
        _read_one(entry.value, entry.mark, file, reading)


def _read_one(name: str, at: Mark, importer: str, reading: _Reading) -> None:
    sink = reading.sink
    try:
        path = spec_path(name, importer)
    except FileNotFoundError as error:  # an unknown zoo:NAME
        sink.error("imports.not_found", f"imports: {error}", at, hint=getattr(error, "hint", None))
        return
    real = os.path.realpath(path)
    cycle = [index for index, (seen, _, _) in enumerate(reading.chain) if seen == real]
    if cycle:
        _report_cycle(reading, cycle[0], name, path, at)
        return
    if real in reading.done:
        return
    if not os.path.isfile(path):
        sink.error("imports.not_found", f"imports: no spec file '{name}' (looked for {path})", at,
                   hint="paths are relative to the importing file")
        return
    with reporting_for(sink, path):
        text = read_source(path, sink, reading.budget)
        tree = parse_yaml(text, sink, reading.budget) if text is not None else None
    if tree is None:
        return
    if not _within_budgets(reading, text, tree, path, at):
        return
    if not isinstance(tree, YMap):
        sink.error("imports.not_mapping", f"imports: expected '{name}' to be a spec (a mapping with `blocks:`)", at)
        return
    library = Library(path, text, relocated(tree, path), at)
    reading.done[real] = library
    reading.chain.append((real, path, at))
    _read_entries(library.root, path, reading)  # its own imports first: they are what its blocks may use
    reading.chain.pop()
    reading.libraries.append(library)


def _report_cycle(reading: _Reading, start: int, name: str, path: str, at: Mark) -> None:
    files = [shown for _, shown, _ in reading.chain[start:]] + [path]
    began = reading.chain[start + 1][2] if start + 1 < len(reading.chain) else at
    first = reading.chain[start][1]
    where = f"{began.file or first}:{began.line}:{began.column}" if began is not None else first
    reading.sink.error("imports.cycle", f"import cycle: {' -> '.join(files)} (the cycle starts at {where})", at,
                       hint=f"remove the import of '{name}' here, or move the shared blocks into a file both import")


def _within_budgets(reading: _Reading, text: str, tree: YNode, path: str, at: Mark) -> bool:
    reading.total_bytes += len(text.encode())
    reading.total_nodes += count_nodes(tree)
    for verb, total, limit, unit in (("be", reading.total_bytes, reading.budget.bytes, "bytes"),
                                     ("have", reading.total_nodes, reading.budget.nodes, "YAML nodes")):
        if total > limit:
            reading.sink.error("imports.budget", f"expected the spec and its imports to {verb} at most {limit:,} "
                               f"{unit} together; got {total:,} with {path}", at, hint="import fewer or smaller files")
            return False
    return True
