"""The language server: LSP plumbing only; every finding comes from ferrolens.analyzers."""

from __future__ import annotations

import asyncio
from dataclasses import replace
import inspect
import json
import logging
import os
import select
import stat
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.exceptions import JsonRpcInternalError
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from ferrolens import __version__, config
from ferrolens.analyzers.dry.index import CloneIndex
from ferrolens.analyzers.engine import Engine, RuleSelection
from ferrolens.analyzers.fix import non_overlapping
from ferrolens.analyzers.registry import all_rules, is_assist
from ferrolens.analyzers.source import SourceFile, is_generated
from ferrolens.analyzers.rules.dry.duplicate_code import findings as duplicate_code_findings
from ferrolens.analyzers.crate_types import TypeFacts
from ferrolens.analyzers.manifest import KIND_CONFIG, KIND_MANIFEST, MANIFEST_SCOPES, Manifest, analyze_manifest
from ferrolens.crates import crate_of, manifest_of
from ferrolens.packages import package_of
from ferrolens.server import convert
from ferrolens.server.crate_index import CrateIndex
from ferrolens.server.documents import Document, apply_changes, open_document, shift_findings
from ferrolens.server.workspace import Workspace

log = logging.getLogger("ferrolens")


class FerrolensProtocol(LanguageServerProtocol):
    """Prefers utf-8 positions when the client offers them, and keeps documents out of pygls's
    workspace: on every didChange pygls would otherwise re-split and rebuild the whole text."""

    @lsp_method(lsp.INITIALIZE)
    def lsp_initialize(self, params: lsp.InitializeParams):
        general = params.capabilities.general
        if general is not None and general.position_encodings:
            offered = list(general.position_encodings)
            if lsp.PositionEncodingKind.Utf8 in offered:
                general.position_encodings = [lsp.PositionEncodingKind.Utf8] + [
                    e for e in offered if e != lsp.PositionEncodingKind.Utf8
                ]
        return (yield from super().lsp_initialize(params))

    def notify_json(self, method: str, params: str) -> None:
        """A notification whose params are JSON text already (`notify` would walk them with cattrs)."""
        self.send_json('{"jsonrpc":"2.0","method":%s,"params":%s}' % (json.dumps(method), params))

    def _send_response(self, msg_id, result=None, error=None):
        if error is None and isinstance(result, convert.RawJSON):
            self._result_types.pop(msg_id, None)
            self.send_json('{"jsonrpc":"2.0","id":%s,"result":%s}' % (json.dumps(msg_id), result))
            return
        super()._send_response(msg_id, result, error)

    def send_json(self, body: str) -> None:
        """Write one message of ready JSON text, as pygls's `_send_data` writes what it encodes."""
        if self.writer is None:
            log.error("unable to send data: no transport")
            return
        data = body.encode("utf-8")
        if self._include_headers:
            data = b"Content-Length: %d\r\nContent-Type: %s; charset=%s\r\n\r\n%s" % (len(data), self.CONTENT_TYPE.encode(), self.CHARSET.encode(), data)
        try:
            res = self.writer.write(data)
            if inspect.isawaitable(res):
                asyncio.ensure_future(res)
        except BrokenPipeError:
            log.exception("sending data failed: the pipe is broken")
            raise
        except Exception as error:
            log.exception("sending data failed")
            self._server._report_server_error(error, JsonRpcInternalError)

    def _user(self, method: str, params):
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    @lsp_method(lsp.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: lsp.DidOpenTextDocumentParams):
        yield from self._user(lsp.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: lsp.DidChangeTextDocumentParams):
        yield from self._user(lsp.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: lsp.DidCloseTextDocumentParams):
        yield from self._user(lsp.TEXT_DOCUMENT_DID_CLOSE, params)


INDEX_STATUS = "$/ferrolens/indexStatus"  # {indexing, done, total[, seconds]}: the workspace index's progress
KEEP_TREES = 16
DUPLICATE_CODE = "duplicate_code"
DRY_DELAY = 0.3  # seconds a document must be quiet before duplicate_code runs on it again
MANIFEST_DELAY = 1.0  # seconds of quiet in the Rust sources before open Cargo.toml files are checked again
INVALIDATE_DELAY = 0.1  # seconds before an open file whose clones changed elsewhere is re-run
PULL_WAIT_FOR_INDEX = 2.0  # seconds a first pull may wait for the start-up index (clients without refresh)  # documents whose parse tree stays in memory between analyses


class _PipeReader(asyncio.StreamReader):
    """stdin as pygls's message loop reads it: a message cut short by the client closing the pipe
    reads as the end of input, not as an exception."""

    def __init__(self) -> None:
        super().__init__(limit=1 << 30)

    async def readexactly(self, n: int) -> bytes:
        try:
            return await super().readexactly(n)
        except asyncio.IncompleteReadError:
            return b""


class FerrolensServer(LanguageServer):
    def start_io(self, stdin=None, stdout=None) -> None:
        """Serve over stdio. pygls reads stdin through its thread pool, a thread hop for every header
        line and body (three per message, each a GIL hand-over while an analysis runs); here the event
        loop reads the pipe itself. Falls back to pygls's reader when stdin is not a pipe."""
        import threading

        from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

        stdin = stdin or sys.stdin.buffer
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

        async def serve() -> None:
            reader = _PipeReader()
            try:
                # only a pipe of its own: the event loop makes it non-blocking, which must not reach
                # stdout through a shared socket or terminal
                if not stat.S_ISFIFO(os.fstat(stdin.fileno()).st_mode):
                    raise ValueError("stdin is not a pipe")
                await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
                self._stdin_pipe = (reader, stdin.fileno())
            except (ValueError, OSError, AttributeError):
                reader = StdinAsyncReader(stdin, self.thread_pool)
            await run_async(stop_event=self._stop_event, reader=reader, protocol=self.protocol, logger=log, error_handler=self.report_server_error)

        try:
            asyncio.run(serve())
        except BrokenPipeError:
            log.error("the connection to the client is lost; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def input_pending(self, wait: float = 0.0) -> bool:
        """More of the client's messages are waiting, read from the pipe and not handled yet or not read
        yet, or come within `wait` seconds (the event loop blocks that long at most)."""
        reader, fd = self._stdin_pipe
        if reader._buffer:
            return True
        try:
            return bool(select.select([fd], [], [], wait)[0])
        except (OSError, ValueError):
            return False

    def __init__(self) -> None:
        super().__init__("ferrolens", __version__, protocol_cls=FerrolensProtocol, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self._stdin_pipe: tuple | None = None  # (the pipe's reader, its file descriptor): see input_pending
        self.documents: dict[str, Document] = {}
        self.ignored_uris: set[str] = set()  # open documents that are not Rust
        self.recent: dict[str, None] = {}  # uris of documents that keep their tree, least recent first
        self._workspace_refresh: asyncio.TimerHandle | None = None
        self.file_settings = config.Settings()
        self.client_settings: Any = None
        self.settings = config.Settings()
        self.generation = 0
        self.project = Workspace()
        self.engine, self.dry_engine = self._engines(config.selection(self.settings))
        self.pull = False
        self.refresh_support = False
        self.versioned_edits = False
        self.create_files = False  # the client applies CreateFile in a WorkspaceEdit
        self.config_pull = False
        self.progress_support = False
        self.watch_registration = False
        self.dry_queue: dict[str, float] = {}  # uri -> when duplicate_code may run on it
        self.dry_worker: asyncio.Task | None = None
        self.dry_wake = asyncio.Event()
        self.fast_pending = 0  # keystroke analyses scheduled and not yet published
        self.initialized = False
        self._reported: set[tuple[str, str]] = set()
        # the types of the open documents' crates, for the crate-wide rules
        self._manifest_timer: asyncio.TimerHandle | None = None
        self.crate_index = CrateIndex(lambda p: self.project.key(p.as_uri()), self._crate_changed, self.settings.max_file_size)

    # -- settings ----------------------------------------------------------------------------------
    @property
    def enc(self) -> str:
        return convert.encoding_name(self.workspace.position_encoding)

    def apply_settings(self, client: Any = None) -> None:
        if client is not None:
            self.client_settings = client
        raw = self.client_settings
        if isinstance(raw, dict) and isinstance(raw.get("ferrolens"), (dict, list)):
            raw = raw["ferrolens"]
        if raw == []:
            raw = {}  # Neovim sends an empty Lua table as a JSON array
        settings, warnings = config.merge(self.file_settings, raw, "editor settings")
        self._warn(warnings)
        self.settings = settings
        dry = config.dry_options(settings)
        reindex = dry != self.project.index.options
        if reindex:
            self.project.index = CloneIndex(dry)
            for doc in self.documents.values():
                doc.cache.fingerprints.items.clear()
        self.engine, self.dry_engine = self._engines(config.selection(settings))
        self.generation += 1
        if reindex and self.initialized:
            self.start_indexing()

    def _engines(self, selection: RuleSelection) -> tuple[Engine, Engine | None]:
        """The keystroke engine (every selected rule but duplicate_code) and the workspace one
        (duplicate_code alone, run when the document is quiet), or None when it is not selected."""
        fast = replace(selection, rules=tuple(r for r in selection.rules if r.name != DUPLICATE_CODE))
        dry = replace(selection, rules=tuple(r for r in selection.rules if r.name == DUPLICATE_CODE))
        index = self.project.index
        return (
            Engine(fast, on_error=self._rule_failed, workspace=index),
            Engine(dry, on_error=self._rule_failed, workspace=index) if dry.rules else None,
        )

    @property
    def dry_enabled(self) -> bool:
        return self.dry_engine is not None

    @property
    def crate_wide(self) -> bool:
        return any(r.crate_wide for r in self.engine.selection.rules)

    def _crate_changed(self, manifest: str, but: Document | None = None) -> None:
        """The types of a crate changed (a declaration edited in one of its files, or its files read
        from disk): re-analyse its other open documents."""
        docs = [d for d in self.documents.values() if d.manifest == manifest and d is not but]
        if not docs:
            return
        for d in docs:
            d.analyzed = None
        if self.pull:
            if self.refresh_support:
                self.workspace_diagnostic_refresh(None)
            return
        for d in docs:
            self.schedule(d)

    # -- the workspace index -----------------------------------------------------------------------
    def start_indexing(self) -> None:
        ws = self.project
        if ws.indexing is not None and not ws.indexing.done():
            ws.indexing.cancel()
        if not self.dry_enabled or not ws.roots:
            return
        ws.indexing = asyncio.ensure_future(self._index_workspace(ws.index))

    async def _index_workspace(self, index: CloneIndex) -> None:
        ws = self.project
        token = "ferrolens/index"
        progress = None
        if self.progress_support:
            try:
                await self.work_done_progress.create_async(token)
                progress = self.work_done_progress
            except Exception:
                progress = None
        if progress is not None:
            progress.begin(token, lsp.WorkDoneProgressBegin(title="ferrolens: indexing the workspace", message="finding Rust files", percentage=0, cancellable=False))

        def report(done: int, total: int) -> None:
            if progress is not None and total:
                progress.report(token, lsp.WorkDoneProgressReport(message=f"{done}/{total} files", percentage=int(100 * done / total)))
            # for status bars (`$/` methods may be ignored by clients that do not know them)
            self.protocol.notify(INDEX_STATUS, {"indexing": True, "done": done, "total": total})

        try:
            open_keys = lambda: {d.key for d in self.documents.values()}  # noqa: E731
            await ws.index_all(open_keys, index.options.include_tests, self.settings.max_file_size, report)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("indexing the workspace failed")
            self.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Error, message="ferrolens: indexing the workspace failed; duplicate_code sees the open files only (see the server log)"))
        finally:
            if progress is not None:
                progress.end(token, lsp.WorkDoneProgressEnd(message=f"indexed {ws.total_files} files in {ws.seconds:.1f} s"))
            self.protocol.notify(INDEX_STATUS, {"indexing": False, "done": ws.indexed_files, "total": ws.total_files, "seconds": round(ws.seconds, 2)})
        if index is ws.index:
            self.invalidate(d.key for d in self.documents.values())
            self.refresh_workspace()  # the closed files have their copies now

    def invalidate(self, keys) -> None:
        """The clone sets of these files changed: run duplicate_code on those that are open, soon (a
        burst of changes, such as many files opened at once, collapses into one run per file)."""
        by_key = {d.key: d for d in self.documents.values()}
        closed = False
        for key in keys:
            doc = by_key.get(key)
            if doc is not None:
                self.schedule_dry(doc, INVALIDATE_DELAY)
            else:
                closed = True
        if closed:
            self.refresh_workspace()

    def refresh_workspace(self) -> None:
        """Ask a pulling client to pull again, for the files that are not open (coalesced: one ask
        per INVALIDATE_DELAY)."""
        if not (self.pull and self.refresh_support) or self._workspace_refresh is not None:
            return

        def ask() -> None:
            self._workspace_refresh = None
            self.workspace_diagnostic_refresh(None)

        self._workspace_refresh = asyncio.get_event_loop().call_later(INVALIDATE_DELAY, ask)

    # -- duplicate_code, off the keystroke path -----------------------------------------------------
    def schedule_dry(self, doc: Document, delay: float = DRY_DELAY) -> None:
        """Run duplicate_code on `doc` once it has been quiet for `delay` seconds (a newer schedule
        replaces an older one); meanwhile its last findings move with the edits. One worker runs the
        queue, one document at a time, and only while no keystroke analysis is waiting."""
        if self.dry_engine is None:
            return
        self.dry_queue.pop(doc.uri, None)
        self.dry_queue[doc.uri] = asyncio.get_event_loop().time() + delay
        if self.dry_worker is None or self.dry_worker.done():
            self.dry_worker = asyncio.ensure_future(self._dry_worker())
        else:
            self.dry_wake.set()

    async def _dry_worker(self) -> None:
        loop = asyncio.get_event_loop()
        while self.dry_queue:
            uri, due = min(self.dry_queue.items(), key=lambda kv: kv[1])
            wait = due - loop.time()
            if wait > 0 or self.fast_pending:
                self.dry_wake.clear()
                try:
                    await asyncio.wait_for(self.dry_wake.wait(), max(wait, 0.01))
                except asyncio.TimeoutError:
                    pass
                continue
            del self.dry_queue[uri]
            doc = self.documents.get(uri)
            if doc is None:
                continue
            try:
                before = self.dry_findings(doc)
                self.compute_dry(doc)
                if self.dry_findings(doc) != before:
                    if self.pull:
                        if self.refresh_support:
                            self.workspace_diagnostic_refresh(None)
                    else:
                        self.publish(doc, dry=False)
            except Exception:
                log.exception("duplicate_code on %s failed", uri)
            await asyncio.sleep(0)  # let requests in between two documents

    def compute_dry(self, doc: Document) -> None:
        if self.dry_engine is None or doc.src is None:
            doc.dry_findings, doc.dry_edits = [], []
            return
        index = self.project.index
        index.last_affected = set()
        try:
            indexed = index.files.get(doc.key)
            if not doc.dry_dirty and doc.dry_edits is not None and indexed is not None and indexed.data == doc.src.data:
                # the text is what the index holds: only other files changed, so only the clone
                # relations are read again (no walk of the document)
                doc.dry_findings = self.dry_engine.finish(doc.src, duplicate_code_findings(index, doc.key))
            else:
                doc.dry_findings = self.dry_engine.analyze(doc.src, doc.dry_cache)
        except Exception:
            log.exception("duplicate_code on %s failed", doc.uri)
            doc.dry_findings = []
        doc.dry_edits = []
        doc.dry_dirty = False
        doc.dry_runs += 1
        if doc.uri not in self.recent:
            doc.src.drop_tree()  # a document analysed only because of another file's change
        others = index.last_affected - {doc.key}
        if others:
            self.invalidate(others)

    def dry_findings(self, doc: Document) -> list:
        if self.dry_engine is None or doc.kind != "rust":
            return []
        if doc.dry_edits is None:
            if self.pull:
                self.compute_dry(doc)  # a pull answer cannot be followed up: everything at once
            else:
                doc.dry_edits, doc.dry_dirty = [], True  # shown first without; runs in a moment
                self.schedule_dry(doc, INVALIDATE_DELAY)
                return []
        if doc.dry_edits:
            # move the findings through the edits once, so the list of edits never grows
            doc.dry_findings = shift_findings(doc.dry_findings, doc.dry_edits)
            doc.dry_edits = []
        return doc.dry_findings

    def findings_of(self, doc: Document) -> list:
        """What the document shows: the keystroke findings and duplicate_code's (moved to the text)."""
        self.analyze(doc)
        dry = self.dry_findings(doc) if doc.src is not None else []
        return sorted(doc.findings + dry, key=lambda f: (f.start, f.end, f.rule)) if dry else doc.findings

    def load_file_settings(self, root: Path | None) -> None:
        if root is None:
            return
        settings, warnings = config.load_files(config.find_root(root))
        self.file_settings = settings
        self._warn(warnings)

    def _warn(self, warnings: list[str]) -> None:
        for w in warnings:
            self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=f"ferrolens: {w}"))

    def _rule_failed(self, rule, exc: BaseException) -> None:
        key = (rule.name, repr(exc))
        log.exception("rule %s failed", rule.name, exc_info=exc)
        if key in self._reported:
            return
        self._reported.add(key)
        self.window_log_message(
            lsp.LogMessageParams(
                type=lsp.MessageType.Error,
                message=f"ferrolens: rule {rule.name} failed with {exc!r}; its findings are left out, the other rules still run",
            )
        )

    # -- analysis ----------------------------------------------------------------------------------
    def analyze(self, doc: Document) -> None:
        """Bring the findings of `doc` up to date with its text and the settings."""
        state = (doc.version, self.generation)
        if doc.analyzed == state:
            return
        if doc.src is None:
            doc.findings = []
        elif doc.kind != "rust":
            doc.findings = self.analyze_manifest(doc)
        elif not self.settings.include_generated and is_generated(doc.src.data):
            doc.findings = []  # codegen output: as `check`, no hints there (setting includeGenerated)
        else:
            try:
                external = None
                if self.crate_wide:
                    path = to_fs_path(doc.uri) if doc.uri.startswith("file:") else None
                    manifest = manifest_of(Path(path).resolve()) if path else None
                    doc.manifest = str(manifest) if manifest else ""
                    self.crate_index.max_size, self.crate_index.include_generated = self.settings.max_file_size, self.settings.include_generated
                    external = self.crate_index.external(doc.manifest) if doc.manifest else None
                doc.findings = self.engine.analyze(doc.src, doc.cache, self.crate_of(doc.uri), external)
                if external is not None and doc.cache.merged is not None and doc.cache.digest != doc.facts_digest:
                    # its declarations changed: the crate's other open documents may see them
                    doc.facts_digest = doc.cache.digest
                    if self.crate_index.set_open(doc.manifest, TypeFacts.of(doc.key, doc.cache.merged, doc.src.root, doc.src.data)):
                        self._crate_changed(doc.manifest, but=doc)
            except Exception:  # the engine itself failed: log it, keep serving
                log.exception("analysis of %s failed", doc.uri)
                self.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Error, message=f"ferrolens: analysis of {doc.uri} failed; see the server log"))
                doc.findings = []
        doc.analyzed = state
        self._keep_tree(doc)

    def analyze_manifest(self, doc: Document) -> list:
        """The `build` rules on an open Cargo.toml, with the package's sources (open documents as the
        editor has them)."""
        rules = [r for r in self.engine.selection.rules if r.scope in MANIFEST_SCOPES]
        path = to_fs_path(doc.uri) if doc.uri.startswith("file:") else None
        if not rules:
            return []
        try:
            manifest = Manifest(doc.src.data, doc.key, doc.kind)
            package = None
            if path and doc.kind == KIND_MANIFEST:
                overrides = {}
                for d in self.documents.values():
                    p = to_fs_path(d.uri) if d.kind == "rust" and d.src is not None and d.uri.startswith("file:") else None
                    if p:
                        overrides[Path(p).resolve()] = d.src.data.decode("utf-8", "replace")
                package = package_of(Path(path), overrides)
            return analyze_manifest(manifest, package, rules)
        except Exception:
            log.exception("the Cargo.toml rules failed on %s", doc.uri)
            return []

    def sources_changed(self) -> None:
        """A Rust document changed: the open Cargo.toml files see it once typing pauses."""
        if not any(d.kind == KIND_MANIFEST for d in self.documents.values()):
            return
        if self._manifest_timer is not None:
            self._manifest_timer.cancel()

        def rerun() -> None:
            self._manifest_timer = None
            for d in self.documents.values():
                if d.kind == KIND_MANIFEST:
                    d.analyzed = None
                    self.schedule(d)

        self._manifest_timer = asyncio.get_event_loop().call_later(MANIFEST_DELAY, rerun)

    def crate_of(self, uri: str):
        """The crate info of a document on disk (None for unsaved or non-file documents)."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if not path:
            return None
        try:
            return crate_of(Path(path))
        except OSError:
            return None

    def _keep_tree(self, doc: Document) -> None:
        """Keep the parse trees of the most recently analysed documents only: a tree costs ~25x its
        text, and the findings, fixes and positions of an idle document do not need one (its next edit
        parses it afresh)."""
        self.recent.pop(doc.uri, None)
        self.recent[doc.uri] = None
        while len(self.recent) > KEEP_TREES:
            uri = next(iter(self.recent))
            del self.recent[uri]
            other = self.documents.get(uri)
            if other is not None and other.src is not None:
                other.src.drop_tree()

    def _visible_findings(self, doc: Document) -> list:
        return [f for f in self.findings_of(doc) if not is_assist(f.rule)]

    def diagnostics(self, doc: Document, rule: str | None = None) -> list[lsp.Diagnostic]:
        """The document's diagnostics as lsprotocol objects (of one rule: `rule`), for code lenses."""
        if doc.src is None:
            return []
        return [convert.diagnostic(doc.src, doc.uri, f, self.enc, self.project.uri_of) for f in self._visible_findings(doc) if rule is None or f.rule == rule]

    def diagnostics_json(self, doc: Document) -> str:
        """The document's diagnostics as a JSON array (see `convert.diagnostics_json`)."""
        findings = self._visible_findings(doc)
        if doc.src is None:
            if doc.problem is None:
                return "[]"
            return convert.problem_json(doc.problem)
        return convert.diagnostics_json(doc.src, doc.uri, findings, self.enc, self.project.uri_of, doc.shown)

    def publish(self, doc: Document, dry: bool = True) -> None:
        """Publish the document's diagnostics; after an edit, duplicate_code runs again once the
        document is quiet (`dry`)."""
        if self.pull:
            return
        diags = self.diagnostics_json(doc)
        params = '{"uri":%s,"version":%s,"diagnostics":%s}' % (json.dumps(doc.uri), json.dumps(doc.version), diags)
        self.protocol.notify_json(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, params)
        if dry and doc.dry_dirty:
            self.schedule_dry(doc)

    def schedule(self, doc: Document) -> None:
        """Analyse soon; a burst of changes is coalesced into one analysis of the latest version."""
        if self.pull:
            return  # the client pulls; analysis happens on its request
        if doc.task is not None and not doc.task.done():
            return
        self.fast_pending += 1
        doc.task = asyncio.ensure_future(self._later(doc))
        doc.task.add_done_callback(self._fast_done)

    def _fast_done(self, _task) -> None:
        self.fast_pending -= 1
        if not self.fast_pending and self.dry_queue:
            self.dry_wake.set()

    async def _later(self, doc: Document) -> None:
        if self.settings.debounce_ms >= 0:
            await asyncio.sleep(self.settings.debounce_ms / 1000)
        elif self._stdin_pipe is not None:
            # adaptive (the default): analyse once the pipe has been quiet for 1 ms, which gathers a
            # burst still being written (at most 20 ms). The messages read so far were handled before
            # this task ran: the read loop does not yield while it has buffered data. A longer debounce
            # only adds latency: changes that arrive during an analysis queue up and the next one takes
            # them all.
            loop = asyncio.get_running_loop()
            until = loop.time() + 0.02
            await asyncio.sleep(0)
            while self.input_pending(0.001) and loop.time() < until:
                await asyncio.sleep(0)  # (the reader takes what came)
        else:
            # stdin is not a pipe of the event loop's: wait until no change has come for 2 ms
            waited, version = 0.0, None
            while version != doc.version and waited < 0.02:
                version = doc.version
                await asyncio.sleep(0.002)
                waited += 0.002
        if self.documents.get(doc.uri) is not doc:
            return
        try:
            self.publish(doc)
        except Exception:
            log.exception("publishing diagnostics for %s failed", doc.uri)

    def refresh_all(self) -> None:
        if self.pull:
            if self.refresh_support:
                self.workspace_diagnostic_refresh(None)
            return
        for doc in self.documents.values():
            self.publish(doc)


server = FerrolensServer()


def _capability(obj, *path, default=None):
    for name in path:
        obj = getattr(obj, name, None)
        if obj is None:
            return default
    return obj


@server.feature(lsp.INITIALIZE)
def initialize(ls: FerrolensServer, params: lsp.InitializeParams) -> None:
    caps = params.capabilities
    ls.pull = _capability(caps, "text_document", "diagnostic") is not None
    ls.refresh_support = bool(_capability(caps, "workspace", "diagnostics", "refresh_support", default=False))
    ls.versioned_edits = bool(_capability(caps, "workspace", "workspace_edit", "document_changes", default=False))
    ops = _capability(caps, "workspace", "workspace_edit", "resource_operations", default=None) or []
    ls.create_files = ls.versioned_edits and lsp.ResourceOperationKind.Create in ops
    ls.config_pull = bool(_capability(caps, "workspace", "configuration", default=False))
    ls.progress_support = bool(_capability(caps, "window", "work_done_progress", default=False))
    ls.watch_registration = bool(_capability(caps, "workspace", "did_change_watched_files", "dynamic_registration", default=False))
    roots = [to_fs_path(f.uri) for f in params.workspace_folders or []]
    root = None
    if params.workspace_folders:
        root = to_fs_path(params.workspace_folders[0].uri)
    elif params.root_uri:
        root = to_fs_path(params.root_uri)
    elif params.root_path:
        root = params.root_path
    ls.project.roots = [Path(r).resolve() for r in (roots or [root]) if r]
    try:
        ls.load_file_settings(Path(root) if root else None)
    except Exception:
        log.exception("reading the project settings failed")
    ls.apply_settings(params.initialization_options)


@server.feature(lsp.INITIALIZED)
async def initialized(ls: FerrolensServer, params: lsp.InitializedParams) -> None:
    # indexing starts before anything is awaited, so the first diagnostic pull can wait for it; settings
    # pulled from the client that change the dry options restart it
    ls.initialized = True
    ls.start_indexing()
    if ls.config_pull:
        await _pull_configuration(ls)
    if ls.watch_registration:
        try:
            await ls.client_register_capability_async(
                lsp.RegistrationParams(
                    registrations=[
                        lsp.Registration(
                            id="ferrolens-watch-rs",
                            method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=lsp.DidChangeWatchedFilesRegistrationOptions(watchers=[lsp.FileSystemWatcher(glob_pattern="**/*.rs")]),
                        )
                    ]
                )
            )
        except Exception:
            log.info("the client did not register the file watcher")


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: FerrolensServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    """A Rust file changed on disk (another tool, a git checkout): closed files are read again; an open
    document keeps the editor's text."""
    open_keys = {d.key for d in ls.documents.values()}
    by_crate: dict[str, list] = {}
    for change in params.changes:
        path = to_fs_path(change.uri) if change.uri.endswith(".rs") else None
        key = ls.project.key(change.uri)
        manifest = manifest_of(Path(path).resolve()) if path and key not in open_keys else None
        if manifest is not None:
            by_crate.setdefault(str(manifest), []).append((Path(path), key))
    for manifest, files in by_crate.items():
        ls.crate_index.refresh(manifest, files)
    if any(c.uri.endswith(".rs") for c in params.changes):
        ls.sources_changed()  # open Cargo.toml files read the sources again
    if not ls.dry_enabled:
        return
    affected: set[str] = set()
    for change in params.changes:
        if not change.uri.endswith(".rs"):
            continue
        key = ls.project.key(change.uri)
        if key in open_keys:
            continue
        if change.type == lsp.FileChangeType.Deleted:
            affected |= ls.project.index.remove(key)
        else:
            affected |= ls.project.refresh_from_disk(key, ls.project.index.options.include_tests, ls.settings.max_file_size)
    ls.invalidate(affected)


async def _pull_configuration(ls: FerrolensServer) -> None:
    try:
        result = await ls.workspace_configuration_async(lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="ferrolens")]))
    except Exception:
        log.info("the client did not answer workspace/configuration")
        return
    if result and isinstance(result[0], dict) and result[0]:
        ls.apply_settings(result[0])
        ls.refresh_all()


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: FerrolensServer, params: lsp.DidChangeConfigurationParams) -> None:
    settings = params.settings
    if isinstance(settings, dict) and settings:
        ls.apply_settings(settings)
        ls.refresh_all()
    elif ls.config_pull:
        await _pull_configuration(ls)


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: FerrolensServer, params: lsp.DidOpenTextDocumentParams) -> None:
    td = params.text_document
    kind = KIND_MANIFEST if td.uri.endswith("/Cargo.toml") else KIND_CONFIG if td.uri.endswith("/.cargo/config.toml") else "rust"
    if kind == "rust" and td.language_id != "rust" and not td.uri.endswith(".rs"):
        # other files a client may send: no rules for them, so nothing to publish
        ls.ignored_uris.add(td.uri)
        return
    doc = open_document(td.uri, td.version, td.text, ls.settings.max_file_size, ls.project.key(td.uri), kind)
    ls.documents[td.uri] = doc
    ls.schedule(doc)
    if doc.key in ls.project.index.files:
        ls.refresh_workspace()  # the workspace report leaves it to its own pull now


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: FerrolensServer, params: lsp.DidChangeTextDocumentParams) -> None:
    td = params.text_document
    doc = ls.documents.get(td.uri)
    if doc is None and td.uri in ls.ignored_uris:
        return
    if doc is None:
        ls.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Warning, message=f"ferrolens: didChange for {td.uri}, which is not open; ignored"))
        return
    if td.version is not None and td.version < doc.version:
        log.warning("version of %s went backwards (%s -> %s)", td.uri, doc.version, td.version)
    apply_changes(doc, params.content_changes, ls.enc, ls.settings.max_file_size)
    doc.version = td.version
    ls.schedule(doc)
    if doc.kind == "rust":
        ls.sources_changed()


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: FerrolensServer, params: lsp.DidCloseTextDocumentParams) -> None:
    ls.ignored_uris.discard(params.text_document.uri)
    ls.recent.pop(params.text_document.uri, None)
    doc = ls.documents.pop(params.text_document.uri, None)
    if doc is not None and doc.task is not None:
        doc.task.cancel()
    if doc is not None and doc.manifest:
        path = to_fs_path(doc.uri)
        if path:
            ls.crate_index.close(doc.manifest, Path(path), doc.key)
    ls.dry_queue.pop(params.text_document.uri, None)
    if not ls.pull:
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))
    if doc is not None and doc.key in ls.project.index.files:
        # the editor may drop unsaved text: the file on disk is what the workspace holds now
        ls.invalidate(ls.project.refresh_from_disk(doc.key, ls.project.index.options.include_tests, ls.settings.max_file_size))


@server.feature(lsp.TEXT_DOCUMENT_DIAGNOSTIC, lsp.DiagnosticOptions(identifier="ferrolens", inter_file_dependencies=True, workspace_diagnostics=True))
async def pull_diagnostics(ls: FerrolensServer, params: lsp.DocumentDiagnosticParams):
    doc = ls.documents.get(params.text_document.uri)
    if doc is None:
        return lsp.RelatedFullDocumentDiagnosticReport(items=[])
    indexing = ls.project.indexing
    if indexing is not None and not indexing.done() and not ls.refresh_support:
        # a client that cannot be asked to pull again (no workspace/diagnostic/refresh) would show no
        # cross-file duplicates until the next edit: give the start-up index a moment to finish
        try:
            await asyncio.wait_for(asyncio.shield(indexing), timeout=PULL_WAIT_FOR_INDEX)
        except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
            pass
        if ls.documents.get(params.text_document.uri) is not doc:
            return lsp.RelatedFullDocumentDiagnosticReport(items=[])
    result_id = f"{ls.generation}:{doc.version}:{doc.dry_runs}"
    if params.previous_result_id == result_id and doc.analyzed == (doc.version, ls.generation):
        return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
    items = ls.diagnostics_json(doc)
    if doc.dry_dirty:
        ls.schedule_dry(doc)
    result_id = f"{ls.generation}:{doc.version}:{doc.dry_runs}"
    return convert.RawJSON('{"kind":"full","resultId":%s,"items":%s}' % (json.dumps(result_id), items))


@server.feature(lsp.WORKSPACE_DIAGNOSTIC)
async def workspace_diagnostics(ls: FerrolensServer, params: lsp.WorkspaceDiagnosticParams):
    """duplicate_code in the files of the workspace that are not open (the open ones are pulled one by
    one): every indexed file with copies, and an empty report for one that had some and has none now.
    Waits for the start-up index; yields to other messages between files."""
    if ls.dry_engine is None:
        return lsp.WorkspaceDiagnosticReport(items=[])
    indexing = ls.project.indexing
    if indexing is not None and not indexing.done():
        try:
            await asyncio.shield(indexing)
        except (asyncio.CancelledError, Exception):
            pass
    previous = {p.uri: p.value for p in params.previous_result_ids or []}
    index = ls.project.index
    items: list = []
    for n, key in enumerate(list(index.files)):
        if n % 16 == 15:
            await asyncio.sleep(0)  # keystrokes in open files go first
        units = index.files.get(key)
        if units is None:
            continue
        uri = ls.project.uri_of(key)
        if any(d.key == key for d in ls.documents.values()):
            if previous.get(uri, "open") != "open":  # opened since: its document pull shows it now
                items.append(lsp.WorkspaceFullDocumentDiagnosticReport(uri=uri, items=[], result_id="open", version=None))
            continue
        clones = index.clones(key)
        if not clones and uri not in previous:
            continue
        src = SourceFile(units.data, key, parsed=False)
        found = ls.dry_engine.finish(src, duplicate_code_findings(index, key, actions=False))
        diags = [convert.diagnostic(src, uri, f, ls.enc, ls.project.uri_of) for f in found]
        result_id = f"{ls.generation}:{hash(tuple((d.range.start.line, d.range.end.line, d.message) for d in diags)) & 0xFFFFFFFF:x}"
        if previous.get(uri) == result_id:
            items.append(lsp.WorkspaceUnchangedDocumentDiagnosticReport(uri=uri, result_id=result_id, version=None))
        else:
            items.append(lsp.WorkspaceFullDocumentDiagnosticReport(uri=uri, items=diags, result_id=result_id, version=None))
    return lsp.WorkspaceDiagnosticReport(items=items)


@server.feature(
    lsp.TEXT_DOCUMENT_CODE_ACTION,
    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.RefactorRewrite, convert.FIX_ALL_KIND], resolve_provider=False),
)
def code_action(ls: FerrolensServer, params: lsp.CodeActionParams):
    doc = ls.documents.get(params.text_document.uri)
    if doc is None or doc.src is None:
        return []
    findings = ls.findings_of(doc)
    src, enc = doc.src, ls.enc
    start = convert.to_offset(src, params.range.start, enc)
    end = convert.to_offset(src, params.range.end, enc)
    only = params.context.only
    want_quickfix = not only or any(str(k).startswith("quickfix") for k in only)
    want_fix_all = not only or any(convert.FIX_ALL_KIND.startswith(str(k)) for k in only)
    want_refactor = not only or any(lsp.CodeActionKind.RefactorRewrite.value.startswith(str(k)) for k in only)
    actions: list[lsp.CodeAction] = []
    assists = [f for f in findings if is_assist(f.rule)]
    findings = [f for f in findings if not is_assist(f.rule)]
    if want_refactor:
        for f in assists:
            if f.fix is not None and f.start <= end and f.end >= start:
                actions.append(convert.assist_action(src, doc.uri, doc.version, f, f.fix, enc, ls.versioned_edits))
    if want_quickfix:
        for f in findings:
            if f.start > end or f.end < start:
                continue
            diag = convert.diagnostic(src, doc.uri, f, enc, ls.project.uri_of)
            for k, fx in enumerate((f.fix, *f.alternatives) if f.fix is not None else f.alternatives):
                if convert.can_apply(fx, ls.create_files) and _other_files_as_seen(ls, fx):
                    preferred = k == 0 and f.fix is not None and fx.is_safe
                    actions.append(convert.fix_action(src, doc.uri, doc.version, f, diag, fx, enc, ls.versioned_edits, preferred, ls.project.uri_of))
            if doc.kind == "rust":
                actions.append(convert.suppress_action(src, doc.uri, doc.version, f, diag, enc, ls.versioned_edits))
            if f.rule == DUPLICATE_CODE:
                actions.extend(_go_to_copies(ls, diag))
    if want_fix_all:
        fixes = non_overlapping(f.fix for f in findings if f.fix is not None and f.fix.is_safe)
        if fixes:
            edits = convert.text_edits(src, [e for fx in fixes for e in fx.edits], enc)
            actions.append(
                lsp.CodeAction(
                    title="ferrolens: fix all safely fixable problems",
                    kind=convert.FIX_ALL_KIND,
                    edit=convert.workspace_edit(doc.uri, doc.version, edits, ls.versioned_edits),
                )
            )
    return actions


GO_TO_COPY = "ferrolens.goToCopy"


def _other_files_as_seen(ls: FerrolensServer, fx) -> bool:
    """A fix's whole-file edits to other files replace the text it was made from: not offered while
    such a file is open in the editor with other text (the index has not caught up with the typing)."""
    for fe in fx.files:
        doc = ls.documents.get(ls.project.uri_of(fe.path)) if fe.old is not None else None
        if doc is not None and doc.src is not None and doc.src.data.decode("utf-8", "surrogatepass") != fe.old:
            return False
    return True


def _copy_commands(ls: FerrolensServer, diag: lsp.Diagnostic, most: int = 5) -> list[tuple[str, lsp.Command]]:
    """(label, command) per other copy of a duplicate: `src/report.rs:15-25` and the command that
    asks the client to show it (window/showDocument, so any client can follow it)."""
    out = []
    for rel in (diag.related_information or [])[:most]:
        loc = rel.location
        path = ls.project.key(loc.uri)
        label = f"{path}:{loc.range.start.line + 1}-{max(loc.range.start.line, loc.range.end.line - (1 if loc.range.end.character == 0 else 0)) + 1}"
        out.append((label, lsp.Command(title=f"Go to the copy at {label}", command=GO_TO_COPY, arguments=[loc.uri, loc.range.start.line, loc.range.end.line])))
    return out


def _go_to_copies(ls: FerrolensServer, diag: lsp.Diagnostic) -> list[lsp.CodeAction]:
    """"Go to the copy at src/report.rs:15-25": one action per other copy (at most five)."""
    return [
        lsp.CodeAction(title=cmd.title, kind=lsp.CodeActionKind.QuickFix, diagnostics=[diag], command=cmd)
        for _label, cmd in _copy_commands(ls, diag)
    ]


@server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: FerrolensServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
    """Above each duplicated function or block: "duplicated: src/report.rs:15-25" lenses, one per
    other copy (at most three), each opening that copy."""
    doc = ls.documents.get(params.text_document.uri)
    if doc is None or doc.src is None or doc.kind != "rust":
        return []
    lenses = []
    for d in ls.diagnostics(doc, DUPLICATE_CODE):
        at = lsp.Range(d.range.start, d.range.start)
        for i, (label, cmd) in enumerate(_copy_commands(ls, d, 3)):
            lenses.append(lsp.CodeLens(range=at, command=lsp.Command(title=("duplicated: " if i == 0 else "") + label, command=cmd.command, arguments=cmd.arguments)))
    return lenses


@server.command(GO_TO_COPY)
async def go_to_copy(ls: FerrolensServer, uri: str, first: int, last: int) -> None:
    """Arguments: the copy's URI and its first and last line (0-based); pygls checks their count."""
    try:
        await ls.window_show_document_async(
            lsp.ShowDocumentParams(uri=str(uri), take_focus=True, selection=lsp.Range(lsp.Position(int(first), 0), lsp.Position(int(last), 0)))
        )
    except Exception:
        log.info("the client did not open %s", uri)
    return None


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: FerrolensServer, params: lsp.HoverParams):
    doc = ls.documents.get(params.text_document.uri)
    if doc is None or doc.src is None:
        return None
    findings = ls.findings_of(doc)
    at = convert.to_offset(doc.src, params.position, ls.enc)
    hits = [f for f in findings if f.start <= at <= f.end and not is_assist(f.rule)]
    if not hits:
        return None
    parts = []
    for name in dict.fromkeys(f.rule for f in hits):
        rule = all_rules().get(name)
        if rule is not None:
            parts.append(rule.docs_markdown())
    f = hits[0]
    return lsp.Hover(
        contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)),
        range=convert.to_range(doc.src, f.start, f.end, ls.enc),
    )


def run(log_file: Path | None = None) -> int:
    handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
    logging.basicConfig(level=logging.INFO if log_file else logging.WARNING, handlers=[handler], format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server.start_io()
    return 0
