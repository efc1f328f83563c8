"""A small Language Server Protocol client: runs `python -m netspec lsp` as a subprocess and speaks
JSON-RPC to it over its stdin/stdout, as an editor does."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 20  # seconds; a healthy server answers in milliseconds, a slow shared CI machine in seconds


class ServerError(Exception):
    """The server answered a request with a JSON-RPC error."""


class LspClient:
    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-m", "netspec", "lsp"], cwd=REPO, env=dict(os.environ),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.next_id = 0
        self.responses: dict[int, queue.Queue] = {}
        self.notifications: queue.Queue = queue.Queue()
        self.stderr: list[bytes] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read_messages, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True).start()

    # -- the wire ------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        with self.lock:
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def _send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def _read_messages(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return  # the server exited
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                if line in (b"\r\n", b"\n"):
                    break
            message = json.loads(stream.read(length))
            if "id" in message and "method" not in message:
                self.responses.setdefault(message["id"], queue.Queue()).put(message)
            elif "id" in message:  # a request from the server (e.g. registerCapability): accept it
                self._send({"id": message["id"], "result": None})
            else:
                self.notifications.put(message)

    # -- requests and notifications -----------------------------------------

    def request(self, method: str, params) -> object:
        self.next_id += 1
        ident = self.next_id
        waiting = self.responses.setdefault(ident, queue.Queue())
        self._send({"id": ident, "method": method, "params": params})
        try:
            answer = waiting.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"{method}: no answer in {TIMEOUT} s; server stderr:\n{self.log()}") from None
        if "error" in answer:
            raise ServerError(answer["error"])
        return answer["result"]

    def notify(self, method: str, params) -> None:
        self._send({"method": method, "params": params})

    def diagnostics(self, uri: str, version: int) -> list[dict]:
        """The diagnostics the server publishes for `uri` at `version` (earlier ones are skipped)."""
        while True:
            try:
                message = self.notifications.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no diagnostics for {uri} v{version}; stderr:\n{self.log()}") from None
            params = message.get("params", {})
            if (message["method"] == "textDocument/publishDiagnostics" and params["uri"] == uri
                    and params.get("version") == version):
                return params["diagnostics"]

    def log(self) -> str:
        return b"".join(self.stderr).decode(errors="replace")[-4000:]

    # -- the session ---------------------------------------------------------

    def initialize(self) -> dict:
        capabilities = {"textDocument": {"hover": {"contentFormat": ["markdown", "plaintext"]},
                                         "completion": {}, "definition": {}, "inlayHint": {},
                                         "publishDiagnostics": {"versionSupport": True}}}
        result = self.request("initialize", {"processId": os.getpid(), "rootUri": REPO.as_uri(),
                                             "capabilities": capabilities})
        self.notify("initialized", {})
        return result

    def open(self, uri: str, text: str) -> list[dict]:
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                              "text": text}})
        return self.diagnostics(uri, 1)

    def change(self, uri: str, version: int, text: str, range_: dict | None = None) -> list[dict]:
        """Replace `range_` (the whole text when None) with `text`; return the new diagnostics."""
        change = {"text": text} if range_ is None else {"range": range_, "text": text}
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                               "contentChanges": [change]})
        return self.diagnostics(uri, version)

    def at(self, method: str, uri: str, line: int, character: int, **extra) -> object:
        return self.request(method, {"textDocument": {"uri": uri},
                                     "position": {"line": line, "character": character}, **extra})

    def close(self) -> int:
        """Shut the server down as an editor does; return its exit status."""
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            return self.process.wait(timeout=TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
