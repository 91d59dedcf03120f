"""The workspace clone index over LSP: background indexing with progress, cross-file duplicates with
related locations, re-publishing when another file changes, and the refactoring actions."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

from lsprotocol import types as lsp

from lsp_support import capabilities, wait_for

ORIGINAL = """pub struct Item {
    pub price: u64,
    pub count: u64,
    pub in_stock: bool,
    pub name: String,
}

pub fn total_price(items: &[Item]) -> u64 {
    let mut sum = 0;
    for item in items {
        if item.in_stock && !item.name.is_empty() {
            sum += item.price * item.count;
        } else {
            println!("skipping {}", item.name);
        }
    }
    sum
}
"""
COPY = """use crate::Item;

pub fn stock_value(goods: &[Item]) -> u64 {
    let mut total = 0;
    for g in goods {
        if g.in_stock && !g.name.is_empty() {
            total += g.price * g.count;
        } else {
            println!("skipping {}", g.name);
        }
    }
    total
}
"""


def make_crate(root: Path) -> None:
    (root / "src").mkdir()
    (root / "Cargo.toml").write_text('[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n')
    (root / "src" / "main.rs").write_text("mod report;\n" + ORIGINAL + "\nfn main() {}\n")
    (root / "src" / "report.rs").write_text(COPY)
    (root / "src" / "other.rs").write_text("pub fn unrelated() -> u32 {\n    7\n}\n")
    # never indexed: build output, and test code (unless dryIncludeTests)
    (root / "target").mkdir()
    (root / "target" / "copy.rs").write_text(COPY)
    (root / "tests").mkdir()
    (root / "tests" / "copy.rs").write_text(COPY)


def dup(diags):
    return [d for d in diags if d.code == "duplicate_code"]


async def start(client, root: Path):
    caps = capabilities(["utf-16"])
    caps.window = lsp.WindowClientCapabilities(work_done_progress=True)
    caps.workspace.did_change_watched_files = lsp.DidChangeWatchedFilesClientCapabilities(dynamic_registration=False)
    await client.initialize_session(
        lsp.InitializeParams(capabilities=caps, workspace_folders=[lsp.WorkspaceFolder(root.as_uri(), "demo")])
    )




def open_file(client, path: Path) -> str:
    """didOpen of a file as it is on disk; returns its URI."""
    uri = path.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "rust", 1, path.read_text())))
    return uri


async def actions_for(client, uri: str, diag: lsp.Diagnostic) -> list:
    """The code actions the server offers for one diagnostic."""
    return await client.text_document_code_action_async(
        lsp.CodeActionParams(lsp.TextDocumentIdentifier(uri), diag.range, lsp.CodeActionContext(diagnostics=[diag]))
    )


async def test_cross_file_duplicate_found_by_the_background_index(client, tmp_path: Path):
    make_crate(tmp_path)
    await start(client, tmp_path)
    main = (tmp_path / "src" / "main.rs").as_uri()
    text = (tmp_path / "src" / "main.rs").read_text()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(main, "rust", 1, text)))
    diags = await wait_for(client, main, lambda d: bool(dup(d)))
    (d,) = dup(diags)
    assert "src/report.rs:3-13" in d.message and "identifiers renamed" in d.message
    assert d.range.start.line == 8  # `pub fn total_price` (after `mod report;`)
    (rel,) = d.related_information
    assert rel.location.uri == (tmp_path / "src" / "report.rs").as_uri()
    assert (rel.location.range.start.line, rel.location.range.end.line) == (2, 13)
    # indexing reported its progress, begin to end
    reports = client.progress_reports["ferrolens/index"]
    assert reports[0].kind == "begin" and reports[-1].kind == "end"
    assert "indexed 3 files" in reports[-1].message  # src/ only: target/ and tests/ are left out


async def test_an_edit_in_one_file_republishes_the_other(client, tmp_path: Path):
    make_crate(tmp_path)
    await start(client, tmp_path)
    main = (tmp_path / "src" / "main.rs").as_uri()
    report = (tmp_path / "src" / "report.rs").as_uri()
    text = (tmp_path / "src" / "main.rs").read_text()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(main, "rust", 1, text)))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(report, "rust", 1, COPY)))
    await wait_for(client, report, lambda d: bool(dup(d)))
    # rewrite the copy in main.rs: report.rs loses its finding without being touched
    body_start = text.index("let mut sum = 0;")
    body_end = text.index("    sum\n") + len("    sum")

    def pos(at):
        return lsp.Position(text[:at].count("\n"), at - text.rfind("\n", 0, at) - 1)

    edit = lsp.TextDocumentContentChangePartial(range=lsp.Range(pos(body_start), pos(body_end)), text="items.iter().map(|i| i.price).sum()")
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(lsp.VersionedTextDocumentIdentifier(uri=main, version=2), [edit]))
    await wait_for(client, report, lambda d: not dup(d))
    await wait_for(client, main, lambda d: not dup(d))


async def test_a_file_changed_on_disk_is_read_again(client, tmp_path: Path):
    make_crate(tmp_path)
    await start(client, tmp_path)
    main = (tmp_path / "src" / "main.rs").as_uri()
    text = (tmp_path / "src" / "main.rs").read_text()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(main, "rust", 1, text)))
    await wait_for(client, main, lambda d: len(dup(d)) == 1 and len(dup(d)[0].related_information) == 1)
    other = tmp_path / "src" / "other.rs"
    other.write_text(COPY.replace("stock_value", "inventory_value"))
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams([lsp.FileEvent(other.as_uri(), lsp.FileChangeType.Changed)]))
    diags = await wait_for(client, main, lambda d: len(dup(d)) == 1 and len(dup(d)[0].related_information) == 2)
    assert "and 1 other place" in dup(diags)[0].message
    other.unlink()
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams([lsp.FileEvent(other.as_uri(), lsp.FileChangeType.Deleted)]))
    await wait_for(client, main, lambda d: len(dup(d)) == 1 and len(dup(d)[0].related_information) == 1)


async def test_copied_function_in_one_file_offers_the_call_action(client, tmp_path: Path):
    (tmp_path / "lib.rs").write_text("")
    await start(client, tmp_path)
    uri = (tmp_path / "lib.rs").as_uri()
    text = ORIGINAL + "\n" + COPY.replace("use crate::Item;\n\n", "")
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "rust", 1, text)))
    diags = await wait_for(client, uri, lambda d: len(dup(d)) == 2)
    second = max(dup(diags), key=lambda d: d.range.start.line)
    actions = await actions_for(client, uri, second)
    (call,) = [a for a in actions if a.title.startswith("make `stock_value`")]
    assert call.title.startswith("make `stock_value` call `total_price` (its body is a copy) (duplicate_code)")
    assert call.is_preferred is not True  # unsafe: never the preferred fix
    edits = call.edit.document_changes[0].edits
    assert [e.new_text for e in edits] == ["{\n    total_price(goods)\n}"]


async def test_a_workspace_big_enough_for_worker_processes(client, tmp_path: Path):
    """Past two batches the index is built in spawned worker processes (the path a real workspace
    takes); their results arrive and the copy in one of 80 files is found."""
    make_crate(tmp_path)
    for i in range(80):
        (tmp_path / "src" / f"m{i}.rs").write_text(f"pub fn f{i}(x: u32) -> u32 {{\n    x + {i}\n}}\n")
    await start(client, tmp_path)
    main = (tmp_path / "src" / "main.rs").as_uri()
    text = (tmp_path / "src" / "main.rs").read_text()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(main, "rust", 1, text)))
    diags = await wait_for(client, main, lambda d: bool(dup(d)), timeout=60)
    assert "src/report.rs:3-13" in dup(diags)[0].message
    assert "indexed 83 files" in client.progress_reports["ferrolens/index"][-1].message


async def test_go_to_the_other_copy(client, tmp_path: Path):
    """A duplicate offers "Go to the copy at ..."; running it makes the server ask the client to show
    that place (window/showDocument)."""
    make_crate(tmp_path)
    await start(client, tmp_path)
    main = open_file(client, tmp_path / "src" / "main.rs")
    (d,) = dup(await wait_for(client, main, lambda d: bool(dup(d))))
    actions = await actions_for(client, main, d)
    (go,) = [a for a in actions if a.title.startswith("Go to the copy")]
    assert go.title == "Go to the copy at src/report.rs:3-13"
    # pytest-lsp's converter reads a CodeAction that carries a command as a Command whose `command` is
    # the repr of the nested command: undo that here (VS Code and Neovim read the JSON as it is)
    nested = go.command if isinstance(go.command, lsp.Command) else ast.literal_eval(go.command)
    name, arguments = (nested.command, nested.arguments) if isinstance(nested, lsp.Command) else (nested["command"], nested["arguments"])
    assert name == "ferrolens.goToCopy"
    await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command=name, arguments=arguments))
    shown = client.shown_documents  # pytest-lsp answers window/showDocument and records it
    assert shown and shown[0].uri == (tmp_path / "src" / "report.rs").as_uri()
    assert shown[0].selection.start.line == 2


CRATE = Path(__file__).resolve().parents[1] / "fixtures" / "crates" / "actors"


async def test_crate_wide_rules_see_the_other_files_and_follow_their_edits(client, tmp_path: Path):
    import shutil

    crate = tmp_path / "actors"
    shutil.copytree(CRATE, crate)
    await start(client, crate)
    main = crate / "src" / "main.rs"
    uri = main.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "rust", 1, main.read_text())))

    def codes(diags):
        return sorted((d.code, d.range.start.line) for d in diags if d.code in ("large_enum_variant", "bounded_channel_cycle"))

    # once the crate's files are read (in the background), Big's size and the referee's channels are known
    diags = await wait_for(client, uri, lambda d: codes(d) == [("bounded_channel_cycle", 19), ("large_enum_variant", 7)])
    cycle = next(d for d in diags if d.code == "bounded_channel_cycle")
    (rel,) = cycle.related_information
    assert rel.location.uri == (crate / "src" / "referee.rs").as_uri() and rel.location.range.start.line == 6
    # shrink Big in its own file, unsaved: the enum in main.rs is no longer flagged
    types = crate / "src" / "types.rs"
    turi = types.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(turi, "rust", 1, types.read_text())))
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=turi, version=2),
            [lsp.TextDocumentContentChangeWholeDocument(text=types.read_text().replace("[u8; 256]", "[u8; 4]"))],
        )
    )
    await wait_for(client, uri, lambda d: codes(d) == [("bounded_channel_cycle", 19)])


async def test_cargo_toml_diagnostics_follow_the_sources(client, tmp_path: Path):
    import shutil

    crate = tmp_path / "deps"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "build" / "unused_dependency" / "crate", crate, ignore=shutil.ignore_patterns("Cargo.fixed.toml"))
    await start(client, crate)
    manifest = crate / "Cargo.toml"
    muri = manifest.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(muri, "toml", 1, manifest.read_text())))

    def unused(diags):
        return sorted(d.range.start.line for d in diags if d.code == "unused_dependency")

    await wait_for(client, muri, lambda d: unused(d) == [7, 15, 20, 24])
    # the library starts using regex, unsaved: the manifest loses that finding once typing pauses
    lib = crate / "src" / "lib.rs"
    luri = lib.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(luri, "rust", 1, lib.read_text())))
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(lsp.VersionedTextDocumentIdentifier(uri=luri, version=2), [lsp.TextDocumentContentChangeWholeDocument(text="use regex::Regex;\n" + lib.read_text())])
    )
    await wait_for(client, muri, lambda d: unused(d) == [15, 20, 24])
    # a broken manifest: one clear error, and the server keeps serving
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(lsp.VersionedTextDocumentIdentifier(uri=muri, version=2), [lsp.TextDocumentContentChangeWholeDocument(text="[package\nname = 1\n")])
    )
    diags = await wait_for(client, muri, lambda d: [x.code for x in d] == ["manifest_syntax"])
    assert diags[0].severity == lsp.DiagnosticSeverity.Error and diags[0].range.start.line == 0


async def test_code_lens_lists_the_other_copies(client, tmp_path: Path):
    make_crate(tmp_path)
    await start(client, tmp_path)
    main = (tmp_path / "src" / "main.rs").as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(main, "rust", 1, (tmp_path / "src" / "main.rs").read_text())))
    (d,) = dup(await wait_for(client, main, lambda d: bool(dup(d))))
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(lsp.TextDocumentIdentifier(main)))
    assert [(lens.range.start.line, lens.command.title, lens.command.command) for lens in lenses] == [
        (d.range.start.line, "duplicated: src/report.rs:3-13", "ferrolens.goToCopy")
    ]
    assert lenses[0].command.arguments[0] == (tmp_path / "src" / "report.rs").as_uri()


async def test_closed_files_get_their_copies_through_the_workspace_pull(client, tmp_path: Path):
    """A pulling client asks workspace/diagnostic: duplicate_code for the files that are not open, an
    unchanged report when nothing changed, and an empty one once the copy is gone or the file opened."""
    make_crate(tmp_path)
    caps = capabilities(["utf-16"], pull=True)
    await client.initialize_session(lsp.InitializeParams(capabilities=caps, workspace_folders=[lsp.WorkspaceFolder(tmp_path.as_uri(), "demo")]))
    main = (tmp_path / "src" / "main.rs").as_uri()
    report = (tmp_path / "src" / "report.rs").as_uri()
    first = await client.workspace_diagnostic_async(lsp.WorkspaceDiagnosticParams(previous_result_ids=[]))
    by_uri = {item.uri: item for item in first.items}
    assert set(by_uri) == {main, report}  # other.rs has no copy; tests/ and target/ are not indexed
    (d,) = by_uri[report].items
    assert d.code == "duplicate_code" and "src/main.rs" in d.message and d.range.start.line == 2
    assert d.related_information[0].location.uri == main
    ids = [lsp.PreviousResultId(uri=i.uri, value=i.result_id) for i in first.items]
    again = await client.workspace_diagnostic_async(lsp.WorkspaceDiagnosticParams(previous_result_ids=ids))
    assert {i.kind for i in again.items} == {"unchanged"}
    # open main.rs and rewrite its copy: report.rs has no copy left, main.rs is pulled on its own now
    text = (tmp_path / "src" / "main.rs").read_text()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(main, "rust", 1, text)))
    start, end = text.index("let mut sum = 0;"), text.index("    sum\n") + len("    sum")

    def pos(at):
        return lsp.Position(text[:at].count("\n"), at - text.rfind("\n", 0, at) - 1)

    edit = lsp.TextDocumentContentChangePartial(range=lsp.Range(pos(start), pos(end)), text="items.iter().map(|i| i.price).sum()")
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(lsp.VersionedTextDocumentIdentifier(uri=main, version=2), [edit]))
    for _ in range(100):
        doc = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(lsp.TextDocumentIdentifier(main)))
        later = await client.workspace_diagnostic_async(lsp.WorkspaceDiagnosticParams(previous_result_ids=ids))
        by_uri = {item.uri: item for item in later.items}
        if by_uri[report].kind == "full" and not by_uri[report].items:
            break
        await asyncio.sleep(0.1)
    assert by_uri[report].kind == "full" and not by_uri[report].items
    assert by_uri[main].kind == "full" and not by_uri[main].items
    assert not dup(doc.items)


async def test_copies_in_two_modules_are_extracted_into_their_parent(client, tmp_path: Path):
    """The action edits three files: the copy here, the copy in the other module (whole-file edit) and
    main.rs, which gets the shared function."""
    import shutil

    crate = tmp_path / "dry_across"
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / "crates" / "dry_across", crate)
    await start(client, crate)
    billing = open_file(client, crate / "src" / "billing.rs")
    (diag,) = dup(await wait_for(client, billing, lambda d: bool(dup(d))))
    actions = await actions_for(client, billing, diag)
    (extract,) = [a for a in actions if "shared_report_invoices" in a.title]
    assert extract.title.endswith("[may change behaviour]") and not extract.is_preferred
    changes = {c.text_document.uri: c.edits for c in extract.edit.document_changes}
    assert set(changes) == {billing, (crate / "src" / "shipping.rs").as_uri(), (crate / "src" / "main.rs").as_uri()}
    (main_edit,) = changes[(crate / "src" / "main.rs").as_uri()]
    assert "pub(crate) fn shared_report_invoices(" in main_edit.new_text
    # while the other copy is open with unsaved text the index has not seen, the action waits
    shipping = open_file(client, crate / "src" / "shipping.rs")
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=shipping, version=2),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)), text="// note\n")],
        )
    )
    await asyncio.sleep(0.05)
    actions = await actions_for(client, billing, diag)
    assert not [a for a in actions if "shared_report_invoices" in a.title]
