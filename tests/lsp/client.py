"""The test suite's LSP client (tests/editor/lsp_client.py) on `python -m netspec lsp`, run as a
subprocess as an editor runs it; with the server's stderr kept, diagnostics waited for by document
version, and raw bytes for malformed messages."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path

from editor.lsp_client import LspClient

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 20  # seconds; a healthy server answers in milliseconds, a slow shared CI machine in seconds


class NetspecLspClient(LspClient):
    def __init__(self, *flags: str):
        self.published: queue.Queue = queue.Queue()  # before the reader starts
        self.stderr: list[bytes] = []
        super().__init__([sys.executable, "-m", "netspec", "lsp", *flags], {}, REPO, stderr=subprocess.PIPE)
        threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True).start()

    def _dispatch(self, message: dict) -> None:
        super()._dispatch(message)
        if message.get("method") == "textDocument/publishDiagnostics":
            self.published.put(message["params"])

    def send_bytes(self, data: bytes) -> None:
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def diagnostics_at(self, uri: str, version: int) -> list[dict]:
        """The diagnostics the server publishes for `uri` at `version` (earlier ones are skipped)."""
        while True:
            try:
                params = self.published.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no diagnostics for {uri} v{version}; stderr:\n{self.log()}") from None
            if params["uri"] == uri and params.get("version") == version:
                return params["diagnostics"]

    def log(self) -> str:
        return b"".join(self.stderr).decode(errors="replace")[-4000:]

    def open(self, uri: str, text: str) -> list[dict]:
        super().open(uri, text)
        return self.diagnostics_at(uri, 1)

    def change(self, uri: str, version: int, text: str, range_: dict | None = None) -> list[dict]:
        """Replace `range_` (the whole text when None) with `text`; return the new diagnostics."""
        change = {"text": text} if range_ is None else {"range": range_, "text": text}
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                               "contentChanges": [change]})
        return self.diagnostics_at(uri, version)

    def at(self, method: str, uri: str, line: int, character: int) -> object:
        return self.request(method, {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}},
                            timeout=TIMEOUT)

    def shut_down(self) -> int:
        """Shut the server down as an editor does; return its exit status."""
        try:
            self.request("shutdown", None, timeout=TIMEOUT)
            self.notify("exit", None)
            return self.process.wait(timeout=TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()

