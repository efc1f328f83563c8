"""The one error the exporters raise for problems a user can fix. Torch-free."""

from __future__ import annotations


class ExportError(Exception):
    """`str(error)` says what went wrong, then what to do."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message
