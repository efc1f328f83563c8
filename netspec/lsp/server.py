"""The language server's wiring (pygls): open documents, their analyses, and the features.

Every edit is checked after a short pause (typing a word costs one check, not one per key); a
request that arrives first runs the check at once, so answers always describe the current text.
A handler that fails logs the error and gives the empty answer: no input may stop the server.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import traceback
from dataclasses import dataclass

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .. import __version__
from ..diagnostics import Diagnostic
from ..expand import Limits
from .analysis import Analysis, analyse
from .completion import completion_items, outline_for_completion
from .hover import hover_text
from .navigation import definition, inlay_hints
from .outline import Pos, split_lines
from .protocol import Positions

DEBOUNCE_SECONDS = 0.15
STALE_NOTE = "\n\n---\n\n_shapes from the last text that parsed as YAML_"
log = logging.getLogger("netspec.lsp")


@dataclass
class Document:
    uri: str
    version: int | None = None
    analysis: Analysis | None = None  # of the current text; None while a check is due
    good: Analysis | None = None  # the latest whose text parsed: its shapes stay while the YAML is broken
    timer: asyncio.TimerHandle | None = None

    @property
    def shapes(self) -> Analysis | None:
        return self.analysis if self.analysis and self.analysis.outline else self.good


class NetspecServer(LanguageServer):
    def __init__(self, limits: Limits | None = None):
        super().__init__("netspec", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.limits = limits or Limits()
        self.documents: dict[str, Document] = {}

    def positions(self, uri: str) -> Positions:
        text_document = self.workspace.get_text_document(uri)
        return Positions(split_lines(text_document.source), text_document.position_codec)

    def current(self, uri: str) -> Document | None:
        """The open document with its current text checked (now, if an edit's check was still due)."""
        document = self.documents.get(uri)
        if document is not None and document.analysis is None:
            self.check_now(uri)
        return document

    def check_now(self, uri: str) -> None:
        document = self.documents.setdefault(uri, Document(uri))
        if document.timer is not None:
            document.timer.cancel()
            document.timer = None
        text_document = self.workspace.get_text_document(uri)
        document.version = text_document.version
        document.analysis = _analyse_safely(text_document.source, to_fs_path(uri) or uri, self.limits)
        if document.analysis.outline is not None:
            document.good = document.analysis
        positions = self.positions(uri)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri, [positions.diagnostic(d) for d in document.analysis.diagnostics], version=document.version))

    def check_soon(self, uri: str) -> None:
        document = self.documents.setdefault(uri, Document(uri))
        document.analysis = None
        if document.timer is not None:
            document.timer.cancel()
        document.timer = asyncio.get_running_loop().call_later(DEBOUNCE_SECONDS, self._check_if_open, uri)

    def _check_if_open(self, uri: str) -> None:
        if uri in self.documents:
            _logged(self.check_now)(uri)

    def forget(self, uri: str) -> None:
        document = self.documents.pop(uri, None)
        if document and document.timer:
            document.timer.cancel()
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    def locate(self, uri: str, position: types.Position) -> tuple[Document, Positions, Pos] | None:
        """The document, its positions and the request's position; None outside an open document."""
        document = self.current(uri)
        if document is None:
            return None
        positions = self.positions(uri)
        pos = positions.pos(position)
        return (document, positions, pos) if pos is not None else None

    def shapes_at(self, uri: str, position: types.Position) -> tuple[Analysis, Positions, Pos] | None:
        """Like `locate`, with the analysis that has shapes: the current one, else the last that parsed."""
        found = self.locate(uri, position)
        if found is None or found[0].shapes is None:
            return None
        return found[0].shapes, found[1], found[2]


def _analyse_safely(text: str, path: str, limits: Limits) -> Analysis:
    """The checker never raises for a spec's problems; a bug in it becomes a diagnostic, not a dead server."""
    try:
        return analyse(text, path, limits)
    except Exception as exc:  # noqa: BLE001 - the server must outlive any bug
        log.error("netspec lsp: internal error checking %s\n%s", path, traceback.format_exc())
        return Analysis(text, split_lines(text), [Diagnostic(
            "error", "internal", f"netspec could not check this text: {type(exc).__name__}: {exc}", path,
            hint="this is a bug in netspec; please report it with the spec")])


def _logged(function):
    """`function`, answering None, the protocol's empty answer (and logging why), instead of raising."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Exception:  # noqa: BLE001 - the server must outlive any bug
            log.error("netspec lsp: internal error in %s\n%s", function.__name__, traceback.format_exc())
            return None
    return wrapper


def _on_document(action):
    """A handler of a document notification (opened, changed, closed) that calls `action(ls, uri)`."""
    @_logged
    def handler(ls: NetspecServer, params):
        action(ls, params.text_document.uri)
    return handler


def create_server(limits: Limits | None = None) -> NetspecServer:
    server = NetspecServer(limits)

    for event, action in ((types.TEXT_DOCUMENT_DID_OPEN, NetspecServer.check_now),
                          (types.TEXT_DOCUMENT_DID_CHANGE, NetspecServer.check_soon),
                          (types.TEXT_DOCUMENT_DID_CLOSE, NetspecServer.forget)):
        server.feature(event)(_on_document(action))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @_logged
    def hover(ls: NetspecServer, params: types.HoverParams):
        found = ls.shapes_at(params.text_document.uri, params.position)
        text = hover_text(found[0], found[2]) if found else None
        if not text:
            return None
        stale = found[0] is not ls.documents[params.text_document.uri].analysis
        return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text + (STALE_NOTE if stale else "")))

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[" ", "[", ","]))
    @_logged
    def completion(ls: NetspecServer, params: types.CompletionParams):
        found = ls.locate(params.text_document.uri, params.position)
        if found is None:
            return []
        document, positions, pos = found
        good = document.good.outline if document.good else None
        outline = (document.analysis.outline if document.analysis and document.analysis.outline else
                   outline_for_completion(document.analysis.text, positions.lines, pos, good, ls.limits.reading))
        return completion_items(positions.lines, outline, pos)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @_logged
    def go_to_definition(ls: NetspecServer, params: types.DefinitionParams):
        found = ls.shapes_at(params.text_document.uri, params.position)
        if found is None:
            return None
        analysis, positions, pos = found
        target = definition(analysis.outline, pos)
        return types.Location(params.text_document.uri, positions.node_range(target)) if target else None

    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions())
    @_logged
    def inlay_hint(ls: NetspecServer, params: types.InlayHintParams):
        document = ls.current(params.text_document.uri)
        if document is None or document.shapes is None:
            return []
        positions = ls.positions(params.text_document.uri)
        hints = inlay_hints(document.shapes, params.range.start.line, params.range.end.line)
        return [types.InlayHint(positions.position(pos), label, kind=types.InlayHintKind.Type, padding_left=True)
                for pos, label in hints]

    return server


def serve(limits: Limits | None = None) -> None:
    """Run the server on stdin/stdout until the client says exit."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")  # stderr: the client's server log
    create_server(limits).start_io()
