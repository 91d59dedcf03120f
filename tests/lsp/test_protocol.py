"""The language server through a real JSON-RPC client (pytest-lsp)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from lsp_support import SERVER, capabilities, wait_for, wait_for_diagnostics

URI = "file:///work/demo/src/lib.rs"

# The emoji is 2 UTF-16 units and 4 UTF-8 bytes; the CJK characters 1 unit and 3 bytes each.
SRC = (
    "fn greet(o: Option<String>) -> String {\n"
    '    let tag = "😀中文"; let s = o.unwrap_or(format!("{tag}!"));\n'
    "    s\n"
    "}\n"
)


def units(text: str, enc: str) -> int:
    if enc == "utf-8":
        return len(text.encode())
    if enc == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def pos(text: str, offset_chars: int, enc: str) -> lsp.Position:
    before = text[:offset_chars]
    line = before.count("\n")
    col_text = before[before.rfind("\n") + 1 :]
    return lsp.Position(line, units(col_text, enc))


def apply_text_edits(text: str, edits: list[lsp.TextEdit], enc: str) -> str:
    lines = text.split("\n")

    def to_index(p: lsp.Position) -> int:
        idx = sum(len(l) + 1 for l in lines[: p.line])
        line = lines[p.line] if p.line < len(lines) else ""
        n = 0
        for i, ch in enumerate(line):
            if n >= p.character:
                return idx + i
            n += units(ch, enc)
        return idx + len(line)

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        a, b = to_index(e.range.start), to_index(e.range.end)
        text = text[:a] + e.new_text + text[b:]
    return text


def edits_of(action: lsp.CodeAction, uri: str = URI) -> list[lsp.TextEdit]:
    edit = action.edit
    if edit.document_changes:
        return [e for dc in edit.document_changes if getattr(dc, "text_document", None) and dc.text_document.uri == uri for e in dc.edits]
    return list(edit.changes[uri])


async def open_doc(client, text=SRC, uri=URI, version=1):
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "rust", version, text)))
    return await wait_for_diagnostics(client, uri, version)


# -- initialize ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "offered, chosen",
    [(["utf-16", "utf-8"], "utf-8"), (["utf-16"], "utf-16"), (None, "utf-16"), (["utf-32", "utf-16"], "utf-32")],
)
async def test_initialize_negotiates_encoding(client, offered, chosen):
    result = await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(offered)))
    assert result.capabilities.position_encoding == chosen
    assert result.server_info.name == "ferrolens"
    sync = result.capabilities.text_document_sync
    assert sync.change == lsp.TextDocumentSyncKind.Incremental
    assert lsp.CodeActionKind.QuickFix in result.capabilities.code_action_provider.code_action_kinds


# -- push diagnostics with multibyte text, both encodings ------------------------------------------
@pytest.mark.parametrize("enc", ["utf-8", "utf-16"])
async def test_diagnostic_ranges_in_negotiated_encoding(client, enc):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities([enc])))
    diags = await open_doc(client)
    assert len(diags) == 1
    d = diags[0]
    assert d.source == "ferrolens" and d.code == "eager_fallback"
    assert d.code_description is not None and d.code_description.href.endswith("eager_fallback.md")
    start = SRC.index("unwrap_or")
    end = SRC.index("));") + 2
    assert d.range.start == pos(SRC, start, enc)
    assert d.range.end == pos(SRC, end, enc)


@pytest.mark.parametrize("enc", ["utf-8", "utf-16"])
async def test_incremental_edits_with_multibyte_text(client, enc):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities([enc])))
    await open_doc(client)
    text = SRC
    # 1. insert another emoji before the finding on the same line: the range must move by its width
    at = text.index('中文"')
    p = pos(text, at, enc)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=URI, version=2),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(p, p), text="🦀")],
        )
    )
    text = text[:at] + "🦀" + text[at:]
    diags = await wait_for_diagnostics(client, URI, 2)
    assert [d.range.start for d in diags] == [pos(text, text.index("unwrap_or"), enc)]
    # 2. replace `format!(..)` by a literal: the finding goes away
    a = text.index('format!("{tag}!")')
    b = a + len('format!("{tag}!")')
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=URI, version=3),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(pos(text, a, enc), pos(text, b, enc)), text="String::new()")],
        )
    )
    text = text[:a] + "String::new()" + text[b:]
    assert list(await wait_for_diagnostics(client, URI, 3)) == []
    # 3. two changes in one notification, the second depending on the first; a new line with a finding
    insert_at = text.index("    s\n")
    p = pos(text, insert_at, enc)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=URI, version=4),
            [
                lsp.TextDocumentContentChangePartial(range=lsp.Range(p, p), text="    let n = o2();\n"),
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(lsp.Position(p.line, 12), lsp.Position(p.line, 16)), text='Some(1).unwrap_or(n_of("ü"))'
                ),
            ],
        )
    )
    diags = await wait_for_diagnostics(client, URI, 4)
    assert [(d.code, d.range.start.line) for d in diags] == [("eager_fallback", p.line)]


async def test_burst_of_changes_publishes_latest_version_only_once_settled(client):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-16"])))
    await open_doc(client)
    line = 2
    for i in range(20):
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(uri=URI, version=2 + i),
                [lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(line, 4), lsp.Position(line, 4)), text="x")],
            )
        )
    await wait_for_diagnostics(client, URI, 21)
    versions = [p.version for p in client._ferrolens_published if p.uri == URI]
    assert versions == sorted(versions), "never a stale version after a newer one"
    assert len(versions) < 21, "a burst is coalesced"


async def test_full_document_change(client):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities()))
    await open_doc(client)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=URI, version=2), [lsp.TextDocumentContentChangeWholeDocument(text="fn main() {}\n")]
        )
    )
    assert list(await wait_for_diagnostics(client, URI, 2)) == []


# -- pull diagnostics ------------------------------------------------------------------------------
async def test_pull_diagnostics(client):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-16"], pull=True)))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(URI, "rust", 1, SRC)))
    report = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(lsp.TextDocumentIdentifier(URI)))
    assert report.kind == "full"
    assert [d.code for d in report.items] == ["eager_fallback"]
    again = await client.text_document_diagnostic_async(
        lsp.DocumentDiagnosticParams(lsp.TextDocumentIdentifier(URI), previous_result_id=report.result_id)
    )
    assert again.kind == "unchanged"
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(lsp.VersionedTextDocumentIdentifier(uri=URI, version=2), [lsp.TextDocumentContentChangeWholeDocument(text="fn main() {}\n")])
    )
    after = await client.text_document_diagnostic_async(
        lsp.DocumentDiagnosticParams(lsp.TextDocumentIdentifier(URI), previous_result_id=report.result_id)
    )
    assert after.kind == "full" and list(after.items) == []
    await asyncio.sleep(0.2)
    assert not client._ferrolens_published, "a pull client gets no pushed diagnostics"


# -- code actions ----------------------------------------------------------------------------------
LOOP_SRC = (
    "fn lens(rows: &[&str], o: Option<String>) -> usize {\n"
    "    let mut n = 0;\n"
    "    for r in rows {\n"
    "        let mut line = String::new();\n"
    "        line.push_str(r);\n"
    "        n += line.len();\n"
    "    }\n"
    "    n + o.unwrap_or(format!(\"ü😀{}\", 1)).len() + mystery().unwrap_or(vec![1]).len()\n"
    "}\n"
)


@pytest.mark.parametrize("enc,versioned", [("utf-16", True), ("utf-8", False)])
async def test_code_actions(client, enc, versioned):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities([enc], versioned=versioned)))
    diags = await open_doc(client, LOOP_SRC)
    assert sorted(d.code for d in diags) == ["alloc_in_loop", "eager_fallback", "eager_fallback"]
    whole = lsp.Range(lsp.Position(0, 0), lsp.Position(9, 0))
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(lsp.TextDocumentIdentifier(URI), whole, lsp.CodeActionContext(diagnostics=diags))
    )
    by_title = {a.title: a for a in actions}
    quick = [a for a in actions if a.kind == lsp.CodeActionKind.QuickFix and not a.title.startswith("Suppress")]
    preferred = [a for a in quick if a.is_preferred]
    # safe fixes are preferred; the Option/Result variants of the unknown receiver are not
    assert {a.diagnostics[0].code for a in preferred} == {"alloc_in_loop", "eager_fallback"}
    variants = [a for a in quick if "Option" in a.title or "Result" in a.title]
    assert len(variants) == 2 and not any(a.is_preferred for a in variants)
    assert all("[may change behaviour]" in a.title for a in variants)
    # the preferred eager_fallback fix rewrites exactly the call, multibyte text included
    fx = next(a for a in preferred if a.diagnostics[0].code == "eager_fallback")
    assert (fx.edit.document_changes is not None) == versioned
    fixed = apply_text_edits(LOOP_SRC, edits_of(fx), enc)
    assert 'o.unwrap_or_else(|| format!("ü😀{}", 1))' in fixed
    # suppress on this line
    sup = next(a for a in actions if a.title == "Suppress alloc_in_loop on this line")
    suppressed = apply_text_edits(LOOP_SRC, edits_of(sup), enc)
    assert "        // ferrolens: allow(alloc_in_loop)\n        let mut line = String::new();" in suppressed
    # fix all: every safe fix, nothing unsafe
    fix_all = [a for a in actions if a.kind == "source.fixAll.ferrolens"]
    assert len(fix_all) == 1
    all_fixed = apply_text_edits(LOOP_SRC, edits_of(fix_all[0]), enc)
    assert "let mut line = String::new();\n    for r in rows {\n        line.clear();" in all_fixed
    assert "mystery().unwrap_or(vec![1])" in all_fixed
    assert by_title  # keep the mapping around for failure output

    # the suppressed text really is suppressed once the client sends it
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(lsp.VersionedTextDocumentIdentifier(uri=URI, version=2), [lsp.TextDocumentContentChangeWholeDocument(text=suppressed)])
    )
    diags = await wait_for_diagnostics(client, URI, 2)
    assert "alloc_in_loop" not in [d.code for d in diags]


async def test_fix_all_only_kind(client):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-16"])))
    await open_doc(client, LOOP_SRC)
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(URI),
            lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)),
            lsp.CodeActionContext(diagnostics=[], only=["source.fixAll"]),
        )
    )
    assert [a.kind for a in actions] == ["source.fixAll.ferrolens"]


async def test_hover_shows_rule_docs(client):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-16"])))
    diags = await open_doc(client)
    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(URI), diags[0].range.start))
    assert "# eager_fallback" in hover.contents.value and "## Why it matters" in hover.contents.value
    none = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(URI), lsp.Position(0, 0)))
    assert none is None


# -- configuration -----------------------------------------------------------------------------------
async def test_configuration_changes_apply_live(client):
    await client.initialize_session(
        lsp.InitializeParams(capabilities=capabilities(["utf-16"]), initialization_options={"severity": {"eager_fallback": "error"}})
    )
    diags = await open_doc(client, LOOP_SRC)
    assert {d.severity for d in diags if d.code == "eager_fallback"} == {lsp.DiagnosticSeverity.Error}
    client._ferrolens_published.clear()
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"ferrolens": {"ignore": ["eager_fallback"]}}))
    diags = await wait_for_diagnostics(client, URI, 1)
    assert [d.code for d in diags] == ["alloc_in_loop"]
    client._ferrolens_published.clear()
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"ferrolens": {"select": ["all"], "bogusKey": 1}}))
    diags = await wait_for_diagnostics(client, URI, 1)
    assert sorted(d.code for d in diags) == ["alloc_in_loop", "eager_fallback", "eager_fallback"]
    await asyncio.sleep(0.1)
    assert any("bogusKey" in m.message for m in client.messages), "an unknown setting gets one clear warning"


async def test_configuration_pulled_from_client(client):
    client.set_configuration({"hideClippyMirrored": True}, section="ferrolens")
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-16"], config=True)))
    client.initialized(lsp.InitializedParams())
    await open_doc(client, LOOP_SRC)
    # the pulled settings may arrive after the document: the server then publishes again
    await wait_for(client, URI, lambda d: [x.code for x in d] == ["alloc_in_loop"])  # eager_fallback mirrors clippy::or_fun_call: hidden


# -- robustness --------------------------------------------------------------------------------------
async def test_a_crashing_rule_is_logged_and_others_still_publish(crashing_client):
    client = crashing_client
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-16"]), initialization_options={"select": ["all"]}))
    diags = await open_doc(client, LOOP_SRC)
    assert sorted(d.code for d in diags) == ["alloc_in_loop", "eager_fallback", "eager_fallback"]
    await asyncio.sleep(0.1)
    assert any("crash_test" in m.message and m.type == lsp.MessageType.Error for m in client.log_messages)


async def test_bad_input_keeps_serving(client):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-16"])))
    # a change for a document that was never opened
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(lsp.VersionedTextDocumentIdentifier(uri="file:///nope.rs", version=2), [lsp.TextDocumentContentChangeWholeDocument(text="x")])
    )
    # broken syntax: the broken item gets nothing, the intact one still does
    broken = "fn a(o: Option<String>) -> String { o.unwrap_or(format!(\"x\")) \n\nfn b(o: Option<String>) -> String {\n    o.unwrap_or(format!(\"y\"))\n}\n"
    diags = await open_doc(client, broken)
    assert all(d.range.start.line >= 2 for d in diags)
    # positions past the end are clamped, and the version may go backwards
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=URI, version=0),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(999, 5), lsp.Position(1999, 0)), text="\n// tail ü\n")],
        )
    )
    await wait_for_diagnostics(client, URI, 0)
    # lone surrogates cannot break position conversion
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=URI, version=5),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)), text="// \ud800 \U0001F600\n")],
        )
    )
    await wait_for_diagnostics(client, URI, 5)
    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(URI), lsp.Position(0, 3)))
    assert hover is None
    assert any("not open" in m.message for m in client.log_messages)


async def test_oversized_file_gets_one_clear_diagnostic(client):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-16"]), initialization_options={"maxFileSize": 1000}))
    diags = await open_doc(client, "// big\n" * 500)
    assert len(diags) == 1 and "size limit" in diags[0].message


async def test_a_generated_file_gets_no_hints_unless_asked(client):
    # codegen output (syn's `gen/` files carry the marker): a hint there cannot be acted on in place
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-16"])))
    diags = await open_doc(client, "// This file is @generated by a build script.\n" + LOOP_SRC)
    assert list(diags) == []
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"ferrolens": {"includeGenerated": True}}))
    await wait_for(client, URI, lambda d: "alloc_in_loop" in [x.code for x in d])


def _frame(obj) -> bytes:
    body = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_malformed_messages_do_not_stop_the_server():
    """Raw stdio: garbage JSON, an unknown method and a bad params object, then a real request."""
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
    stream = b"".join(
        [
            _frame(init),
            _frame(b"{this is not json"),
            _frame({"jsonrpc": "2.0", "id": 2, "method": "ferrolens/noSuchMethod", "params": {}}),
            _frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": 7}}),
            _frame({"jsonrpc": "2.0", "id": 3, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file:///x.rs"}, "position": {"line": 0, "character": 0}}}),
            _frame({"jsonrpc": "2.0", "id": 4, "method": "shutdown"}),
            _frame({"jsonrpc": "2.0", "method": "exit"}),
        ]
    )
    proc = subprocess.run(SERVER, input=stream, capture_output=True, timeout=60)
    out = proc.stdout.decode()
    assert '"id": 2' in out.replace('"id":2', '"id": 2') and "-32601" in out  # method not found
    assert '"id": 3' in out.replace('"id":3', '"id": 3')  # answered after the garbage
    assert '"id": 4' in out.replace('"id":4', '"id": 4')
    assert proc.returncode == 0


def test_a_client_that_closes_the_pipe_mid_message_ends_the_server_quietly():
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
    proc = subprocess.run(SERVER, input=_frame(init) + b"Content-Length: 100\r\n\r\n{\"jsonrpc\"", capture_output=True, timeout=60)
    assert '"id": 1' in proc.stdout.decode().replace('"id":1', '"id": 1')
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr


async def test_many_open_documents_keep_serving_after_their_trees_are_freed(client):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-16"])))
    uris = [f"file:///work/demo/src/m{i}.rs" for i in range(20)]
    for i, uri in enumerate(uris):
        diags = await open_doc(client, SRC, uri=uri)
        assert [d.code for d in diags] == ["eager_fallback"], i
    # the first documents' trees were freed (only the 16 most recent keep one); they still answer
    # code actions, and edits to them are parsed afresh
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(lsp.TextDocumentIdentifier(uris[0]), diags[0].range, lsp.CodeActionContext(diagnostics=list(diags)))
    )
    assert any(a.is_preferred for a in actions)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uris[0], version=2),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)), text="// x\n")],
        )
    )
    after = await wait_for_diagnostics(client, uris[0], 2)
    assert [d.range.start.line for d in after] == [2]


# -- companion edits to another file: std_hash writes Clippy's disallowed-types --------------------
HASH_SRC = "use std::collections::HashMap;\n\nfn main() {\n    let mut m: HashMap<u32, u32> = HashMap::new();\n    m.insert(1, 2);\n    println!(\"{}\", m.len());\n}\n"


def _hash_crate(root: Path, deps: str = '[dependencies]\nrustc-hash = "1"\n') -> str:
    (root / "src").mkdir(exist_ok=True)
    (root / "Cargo.toml").write_text(f'[package]\nname = "hashy"\nversion = "0.1.0"\nedition = "2021"\n\n{deps}')
    (root / "src" / "main.rs").write_text(HASH_SRC)
    return (root / "src" / "main.rs").as_uri()


async def _clippy_action(client, uri):
    diags = await open_doc(client, HASH_SRC, uri)
    (diag,) = [d for d in diags if d.code == "std_hash"]
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(lsp.TextDocumentIdentifier(uri), diag.range, lsp.CodeActionContext(diagnostics=[diag]))
    )
    return [a for a in actions if "clippy.toml" in a.title]


@pytest.mark.parametrize("versioned", [True, False])
async def test_std_hash_offers_to_create_clippy_toml(client, tmp_path, versioned):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-16"], versioned=versioned)))
    uri = _hash_crate(tmp_path)
    actions = await _clippy_action(client, uri)
    if not versioned:
        assert actions == []  # creating a file needs documentChanges
        return
    (action,) = actions
    assert action.title.startswith("Add clippy.toml: forbid std's HashMap and HashSet") and not action.is_preferred
    create, edit = action.edit.document_changes
    target = tmp_path / "clippy.toml"
    assert isinstance(create, lsp.CreateFile) and create.uri == target.as_uri()
    assert edit.text_document.uri == target.as_uri()
    text = apply_text_edits("", edit.edits, "utf-16")
    assert tomllib.loads(text)["disallowed-types"][0]["path"] == "std::collections::HashMap"
    target.write_text(text)
    # Clippy itself enforces what was written (a crate without dependencies, so no registry is needed)
    if shutil.which("cargo"):
        (tmp_path / "Cargo.toml").write_text('[package]\nname = "hashy"\nversion = "0.1.0"\nedition = "2021"\n')
        out = subprocess.run(["cargo", "clippy", "--offline", "--quiet"], cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "CARGO_TARGET_DIR": str(tmp_path / "target")})
        assert out.returncode == 0, out.stderr
        assert "clippy::disallowed_types" in out.stderr or "disallowed_types" in out.stderr, out.stderr


async def test_std_hash_updates_an_existing_clippy_toml_in_place(client, tmp_path):
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities(["utf-16"], versioned=False)))
    uri = _hash_crate(tmp_path)
    old = "# project lints\nmsrv = \"1.70\"   # oldest supported\n\ndisallowed-types = [\"std::sync::Mutex\"]\ntoo-many-arguments-threshold = 9\n"
    (tmp_path / ".clippy.toml").write_text(old)
    (action,) = await _clippy_action(client, uri)
    assert action.title.startswith("Update .clippy.toml")
    (edit,) = action.edit.changes[(tmp_path / ".clippy.toml").as_uri()]
    new = apply_text_edits(old, [edit], "utf-16")
    data = tomllib.loads(new)
    assert data["disallowed-types"][0] == "std::sync::Mutex"
    assert [e["path"] for e in data["disallowed-types"][1:]] == ["std::collections::HashMap", "std::collections::HashSet"]
    assert new.startswith("# project lints\nmsrv = \"1.70\"   # oldest supported\n") and new.endswith("too-many-arguments-threshold = 9\n")
    # once the types are listed, the action is not offered again
    (tmp_path / ".clippy.toml").write_text(new)
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
    assert await _clippy_action(client, uri) == []


def _read_frame(stream) -> dict | None:
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(stream.read(length))


def test_a_burst_written_at_once_over_the_pipe_is_analysed_once():
    """Raw stdio, as an editor writes: ten changes in one write get one publishDiagnostics, for the
    last version (the server waits for the pipe to go quiet before it analyses)."""
    uri = "file:///tmp/burst.rs"
    proc = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}))
        proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": SRC}}}))
        proc.stdin.flush()
        published = []

        def until(version):
            while True:
                msg = _read_frame(proc.stdout)
                assert msg is not None, "the server ended"
                if msg.get("method") == "textDocument/publishDiagnostics":
                    published.append(msg["params"]["version"])
                    if msg["params"]["version"] == version:
                        return msg["params"]["diagnostics"]

        opened = until(1)
        burst = b"".join(
            _frame(
                {
                    "jsonrpc": "2.0",
                    "method": "textDocument/didChange",
                    "params": {
                        "textDocument": {"uri": uri, "version": v},
                        "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": " "}],
                    },
                }
            )
            for v in range(2, 12)
        )
        proc.stdin.write(burst)
        proc.stdin.flush()
        last = until(11)
        assert published == [1, 11]
        assert [d["code"] for d in last] == [d["code"] for d in opened]
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}) + _frame({"jsonrpc": "2.0", "method": "exit"}))
        proc.stdin.flush()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
