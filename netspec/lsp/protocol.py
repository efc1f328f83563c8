"""netspec positions and diagnostics in the Language Server Protocol's terms.

netspec counts lines and columns in code points (YAML marks, 1-based in diagnostics); a client
counts columns in the position encoding agreed at start-up (UTF-16 unless it offers another).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types

from ..diagnostics import Diagnostic
from .outline import Pos, end, start

SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}
_TOKEN = re.compile(r"[^,{}\[\]#]*")


@dataclass
class Positions:
    lines: list[str]
    codec: object  # pygls' PositionCodec for the document

    def pos(self, position: types.Position) -> Pos | None:
        """The client's position in code points; None when it lies outside the document."""
        if position.line >= len(self.lines):
            return None
        line = self.lines[position.line]
        if position.character > self.codec.client_num_units(line):
            return None
        found = self.codec.position_from_client_units(self.lines, types.Position(position.line, position.character))
        return found.line, found.character

    def position(self, pos: Pos) -> types.Position:
        line = min(max(pos[0], 0), max(len(self.lines) - 1, 0))
        text = self.lines[line] if self.lines else ""
        return types.Position(line, self.codec.client_num_units(text[:max(pos[1], 0)]))

    def range(self, first: Pos, last: Pos) -> types.Range:
        return types.Range(self.position(first), self.position(last))

    def node_range(self, node) -> types.Range:
        return self.range(start(node), end(node))

    def diagnostic(self, diag: Diagnostic) -> types.Diagnostic:
        """The checker's diagnostic on the text it points at, with its path and hint."""
        if diag.line is None:
            where = self.range((0, 0), (0, len(self.lines[0]) if self.lines else 0))
        else:
            line, column = diag.line - 1, max((diag.column or 1) - 1, 0)
            text = self.lines[line] if line < len(self.lines) else ""
            where = self.range((line, column), (line, _token_end(text, column)))
        message = diag.message + (f"\nin {diag.path}" if diag.path else "") + (f"\nhint: {diag.hint}" if diag.hint else "")
        return types.Diagnostic(where, message, severity=SEVERITY.get(diag.severity, types.DiagnosticSeverity.Error),
                                code=diag.code, source="netspec", data={"path": diag.path, "hint": diag.hint})


def _token_end(line: str, column: int) -> int:
    """Where the construct that starts at `column` ends on its line: a flow collection or a value."""
    if column >= len(line):
        return len(line)
    if line[column] in "{[":
        depth = 0
        for index in range(column, len(line)):
            depth += {"{": 1, "[": 1, "}": -1, "]": -1}.get(line[index], 0)
            if depth == 0:
                return index + 1
        return len(line.rstrip())
    token = _TOKEN.match(line, column).group().rstrip()
    return column + len(token) if token else len(line)
