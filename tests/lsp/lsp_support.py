"""Protocol tests drive `python -m ferrolens serve` with pytest-lsp's real JSON-RPC client."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER = [sys.executable, "-m", "ferrolens", "serve"] + (["--log-file", os.environ["FERROLENS_TEST_LOG"]] if os.environ.get("FERROLENS_TEST_LOG") else [])


def capabilities(encodings=None, pull=False, versioned=True, config=False) -> lsp.ClientCapabilities:
    return lsp.ClientCapabilities(
        general=lsp.GeneralClientCapabilities(position_encodings=encodings) if encodings else None,
        text_document=lsp.TextDocumentClientCapabilities(
            diagnostic=lsp.DiagnosticClientCapabilities() if pull else None,
            publish_diagnostics=lsp.PublishDiagnosticsClientCapabilities(version_support=True),
        ),
        workspace=lsp.WorkspaceClientCapabilities(
            workspace_edit=lsp.WorkspaceEditClientCapabilities(
                document_changes=versioned, resource_operations=[lsp.ResourceOperationKind.Create] if versioned else None
            ),
            configuration=config,
            diagnostics=lsp.DiagnosticWorkspaceClientCapabilities(refresh_support=True) if pull else None,
        ),
    )


async def wait_for_diagnostics(client: LanguageClient, uri: str, version: int | None = None, timeout: float = 10.0):
    """Wait until publishDiagnostics for `uri` (and `version`, if given) has arrived."""
    async def poll():
        while True:
            for params in reversed(getattr(client, "_ferrolens_published", [])):
                if params.uri == uri and (version is None or params.version == version):
                    return params.diagnostics
            await asyncio.sleep(0.01)

    return await asyncio.wait_for(poll(), timeout)


async def wait_for(client: LanguageClient, uri: str, predicate, timeout: float = 10.0):
    """Wait until the last publishDiagnostics for `uri` satisfies `predicate` (later ones may replace
    earlier ones: a refresh after settings arrive)."""
    async def poll():
        while True:
            for params in reversed(getattr(client, "_ferrolens_published", [])):
                if params.uri == uri:
                    if predicate(params.diagnostics):
                        return params.diagnostics
                    break
            await asyncio.sleep(0.02)

    try:
        return await asyncio.wait_for(poll(), timeout)
    except (TimeoutError, asyncio.TimeoutError):
        last = [p.diagnostics for p in getattr(client, "_ferrolens_published", []) if p.uri == uri]
        raise AssertionError(f"no matching diagnostics for {uri}; last published: {last[-1:] }") from None


def _record(client: LanguageClient) -> None:
    """Keep every publishDiagnostics (pytest-lsp keeps only the last, without its version)."""
    client._ferrolens_published = []
    features = client.protocol.fm.features
    original = features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def recording(params):
        client._ferrolens_published.append(params)
        return original(params)

    features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = recording


def make_client_fixture(env=None):
    @pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=env))
    async def _client(lsp_client: LanguageClient):
        _record(lsp_client)
        yield lsp_client
        await lsp_client.shutdown_session()

    return _client


client = make_client_fixture()
crashing_client = make_client_fixture({"FERROLENS_EXTRA_RULES": "crash_rule", "PYTHONPATH": str(__import__("pathlib").Path(__file__).parent)})
