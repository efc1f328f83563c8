"""A `netspec lsp` subprocess per test module, initialised and shut down as an editor does."""

from __future__ import annotations

import pytest

from .client import NetspecLspClient


@pytest.fixture(scope="module")
def server():
    client = NetspecLspClient()
    yield client
    assert client.shut_down() == 0, client.log()
    assert "internal error" not in client.log(), client.log()  # no netspec handler failed, not even quietly
