"""`netspec lsp`: a Language Server Protocol server, so an editor shows the checker's shapes, costs
and errors while a spec is typed.

- outline.py: the text's layer entries with their ranges, the names each entry can use;
- analysis.py: the checker's report on an unsaved buffer, indexed by those entries;
- hover.py, completion.py, navigation.py (definition, inlay hints): the features;
- protocol.py: netspec positions and diagnostics in the protocol's terms;
- server.py: the pygls wiring.

Only `netspec lsp` imports this package (pygls is an optional dependency: `pip install netspec[lsp]`).
"""

from __future__ import annotations


def serve(limits=None) -> None:
    """Serve the Language Server Protocol on stdin/stdout until the client exits."""
    from .server import serve as serve_stdio

    serve_stdio(limits)
