from lsprotocol import types as lsp

from lsp_support import capabilities, wait_for_diagnostics

SRC = "fn f(o: Option<String>) -> String {\n    o.unwrap_or(format!(\"x{}\", 1))\n}\n"


async def test_smoke(client):
    result = await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-8", "utf-16"])))
    assert result.capabilities.position_encoding == "utf-8"
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem("file:///t/a.rs", "rust", 1, SRC)))
    diags = await wait_for_diagnostics(client, "file:///t/a.rs", 1)
    assert [d.code for d in diags] == ["eager_fallback"]
