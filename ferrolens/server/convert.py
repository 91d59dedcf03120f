"""Findings -> LSP: positions in the negotiated encoding, diagnostics, edits and code actions."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from lsprotocol import types as lsp
from lsprotocol.converters import get_converter

from ferrolens import __version__
from ferrolens.analyzers.model import Edit, FileEdit, Finding, Fix, Severity
from ferrolens.analyzers.registry import all_rules
from ferrolens.analyzers.source import SourceFile, units

SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
    Severity.HINT: lsp.DiagnosticSeverity.Hint,
}
FIX_ALL_KIND = "source.fixAll.ferrolens"
_DOC_URIS: dict[str, str] = {}


def encoding_name(enc) -> str:
    value = getattr(enc, "value", enc) or "utf-16"
    return {"utf-8": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}.get(str(value), "utf-16")


def to_range(src: SourceFile, start: int, end: int, enc: str) -> lsp.Range:
    sl, sc = src.position(start, enc)
    el, ec = src.position(end, enc)
    return lsp.Range(lsp.Position(sl, sc), lsp.Position(el, ec))


def to_offset(src: SourceFile, pos: lsp.Position, enc: str) -> int:
    return src.offset(pos.line, pos.character, enc)


def docs_uri(rule_name: str) -> str | None:
    """A file:// URI of the rule's docs as markdown, written once per version into the user cache."""
    if rule_name in _DOC_URIS:
        return _DOC_URIS[rule_name]
    rule = all_rules().get(rule_name)
    if rule is None:
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ferrolens" / "docs" / __version__
    target = base / f"{rule_name}.md"
    try:
        if not target.is_file():
            base.mkdir(parents=True, exist_ok=True)
            target.write_text(rule.docs_markdown(), encoding="utf-8")
        uri = target.as_uri()
    except OSError:
        uri = rule.source
    _DOC_URIS[rule_name] = uri
    return uri


def diagnostic_fields(src: SourceFile, uri: str, f: Finding, enc: str, uri_of=None, at: tuple | None = None) -> dict:
    """The diagnostic as the client reads it in JSON (fields in LSP's camelCase, empty ones left out).
    `uri_of` names the other files that related locations point into (default: a path as is); `at`:
    the (line, column) of its start and end, when the caller has them."""
    out: dict = {"range": _range_dict(*at) if at else _range_fields(src, f.start, f.end, enc), "message": f.message, "severity": SEVERITY[f.severity].value, "code": f.rule}
    href = docs_uri(f.rule)
    if href:
        out["codeDescription"] = {"href": href}
    out["source"] = "ferrolens"
    if f.related:
        out["relatedInformation"] = [
            {
                "location": {"uri": uri, "range": _range_fields(src, r.start, r.end, enc)}
                if r.path is None
                else {
                    "uri": uri_of(r.path) if uri_of else Path(r.path).absolute().as_uri(),
                    "range": {"start": {"line": r.start, "character": 0}, "end": {"line": r.end + 1, "character": 0}},
                },
                "message": r.message,
            }
            for r in f.related
        ]
    return out


def _range_fields(src: SourceFile, start: int, end: int, enc: str) -> dict:
    return _range_dict(src.position(start, enc), src.position(end, enc))


def _range_dict(start: tuple[int, int], end: tuple[int, int]) -> dict:
    return {"start": {"line": start[0], "character": start[1]}, "end": {"line": end[0], "character": end[1]}}


def problem_json(message: str) -> str:
    """The diagnostics of a document that is not analysed (not UTF-8, too large): one note at its start."""
    return json.dumps([{"range": _range_dict((0, 0), (0, 0)), "message": message, "severity": lsp.DiagnosticSeverity.Information.value, "source": "ferrolens"}])


def diagnostic(src: SourceFile, uri: str, f: Finding, enc: str, uri_of=None) -> lsp.Diagnostic:
    return _converter().structure(diagnostic_fields(src, uri, f, enc, uri_of), lsp.Diagnostic)


@lru_cache(maxsize=None)
def _converter():
    """lsprotocol's converter, made when a code action or lens first needs one (40 ms: not at start-up)."""
    return get_converter()


class RawJSON(str):
    """JSON text that goes to the client as it is (a result the protocol writes without pygls's
    converter)."""


def diagnostics_json(src: SourceFile, uri: str, findings, enc: str, uri_of, texts: dict) -> str:
    """The JSON array of the findings' diagnostics. `texts` holds the JSON text of each diagnostic the
    document showed last, by what it shows (rule, message, severity, the lines and columns of its range
    and of its related locations); it is replaced by this call's. A keystroke changes a few findings
    and moves the others by bytes, not by what the client sees: their text is sent again as it was,
    without building lsprotocol objects, walking them with cattrs and encoding them (on a 52k-line
    file with 265 findings, those took about two thirds of a keystroke's 30 ms)."""
    position = src.position
    fresh: dict = {}
    out = []
    for f in findings:
        at = (position(f.start, enc), position(f.end, enc))
        key = (
            f.rule,
            f.message,
            f.severity,
            at,
            tuple((r.message, r.path, r.start, r.end) if r.path is not None else (r.message, position(r.start, enc), position(r.end, enc)) for r in f.related)
            if f.related
            else (),
        )
        text = texts.get(key) or fresh.get(key)
        if text is None:
            text = json.dumps(diagnostic_fields(src, uri, f, enc, uri_of, at), separators=(",", ":"))
        fresh[key] = text
        out.append(text)
    texts.clear()
    texts.update(fresh)
    return "[" + ",".join(out) + "]"


def text_edits(src: SourceFile, edits: tuple[Edit, ...] | list[Edit], enc: str) -> list[lsp.TextEdit]:
    return [lsp.TextEdit(range=to_range(src, e.start, e.end, enc), new_text=e.content) for e in edits]


def workspace_edit(uri: str, version: int | None, edits: list[lsp.TextEdit], versioned: bool, files: tuple[FileEdit, ...] = (), enc: str = "utf-16", uri_of=None) -> lsp.WorkspaceEdit:
    """Edits to the document, plus whole-file rewrites of other files (`files`, named by path or by
    workspace key: `uri_of` turns them into URIs); a file to create needs `documentChanges` (the caller
    offers such fixes only then)."""
    uri_of = uri_of or (lambda path: Path(path).as_uri())
    if versioned:
        changes: list = [lsp.TextDocumentEdit(text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=edits)] if edits else []
        for fe in files:
            other = uri_of(fe.path)
            if fe.old is None:
                changes.append(lsp.CreateFile(uri=other, options=lsp.CreateFileOptions(ignore_if_exists=True)))
            ident = lsp.OptionalVersionedTextDocumentIdentifier(uri=other, version=None)
            changes.append(lsp.TextDocumentEdit(text_document=ident, edits=[_whole_file(fe, enc)]))
        return lsp.WorkspaceEdit(document_changes=changes)
    out = {uri: edits} if edits else {}
    out.update({uri_of(fe.path): [_whole_file(fe, enc)] for fe in files if fe.old is not None})
    return lsp.WorkspaceEdit(changes=out)


def _whole_file(fe: FileEdit, enc: str) -> lsp.TextEdit:
    old = fe.old or ""
    last = old.rsplit("\n", 1)[-1]
    end = lsp.Position(old.count("\n"), units(last, enc))
    return lsp.TextEdit(range=lsp.Range(lsp.Position(0, 0), end), new_text=fe.new)


def can_apply(fx: Fix, create_files: bool) -> bool:
    """Whether the client can take this fix: creating a file needs `documentChanges` with the
    `create` resource operation."""
    return create_files or all(fe.old is not None for fe in fx.files)


def fix_action(src, uri, version, f: Finding, diag: lsp.Diagnostic, fx: Fix, enc, versioned, preferred: bool, uri_of=None) -> lsp.CodeAction:
    return lsp.CodeAction(
        title=f"{fx.message} ({f.rule})" + ("" if fx.is_safe else " [may change behaviour]"),
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diag],
        is_preferred=preferred,
        edit=workspace_edit(uri, version, text_edits(src, fx.edits, enc), versioned, fx.files, enc, uri_of),
    )


def assist_action(src, uri, version, f: Finding, fx: Fix, enc, versioned) -> lsp.CodeAction:
    """An assist's fix: a refactoring offered where the cursor is, with no diagnostic."""
    return lsp.CodeAction(
        title=fx.message,
        kind=lsp.CodeActionKind.RefactorRewrite,
        edit=workspace_edit(uri, version, text_edits(src, fx.edits, enc), versioned),
    )


def suppress_action(src: SourceFile, uri, version, f: Finding, diag: lsp.Diagnostic, enc, versioned) -> lsp.CodeAction:
    line, _ = src.position(f.start)
    line_start = src.offset(line, 0)
    text = src.line_text(line)
    indent = text[: len(text) - len(text.lstrip())]
    edit = Edit(line_start, line_start, f"{indent}// ferrolens: allow({f.rule})\n")
    return lsp.CodeAction(
        title=f"Suppress {f.rule} on this line",
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diag],
        edit=workspace_edit(uri, version, text_edits(src, [edit], enc), versioned),
    )
