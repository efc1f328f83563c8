"""A `netspec lsp` subprocess per test module, initialised and shut down as an editor does."""

from __future__ import annotations

import pytest

from .client import LspClient


@pytest.fixture(scope="module")
def server():
    client = LspClient()
    client.initialize()
    yield client
    assert client.close() == 0, client.log()
    assert "internal error" not in client.log(), client.log()  # no netspec handler failed, not even quietly
