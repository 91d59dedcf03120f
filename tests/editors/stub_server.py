"""A stand-in for rust-analyzer: a second language server on the same Rust files, publishing its own
diagnostic (source "stub-ra") and answering hover, so the editor tests can check that ferrolens's
diagnostics and code actions survive beside another server."""

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

server = LanguageServer("stub-ra", "0")


def publish(ls: LanguageServer, uri: str, version: int | None) -> None:
    diag = lsp.Diagnostic(
        range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 1)),
        message="stub: a diagnostic from another server",
        source="stub-ra",
        severity=lsp.DiagnosticSeverity.Hint,
    )
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[diag], version=version))


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    publish(ls, params.text_document.uri, params.text_document.version)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    publish(ls, params.text_document.uri, params.text_document.version)


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: lsp.HoverParams):
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.PlainText, value="stub hover"))


if __name__ == "__main__":
    server.start_io()
