"""The workspace side of the server: which files belong to the clone index, under what names, and the
background indexing of the files that are not open.

Files are named in the index by their path relative to the workspace folder that holds them (the
names the messages show: `src/report.rs:1-16`), or by their absolute path outside every folder. Open
documents are indexed from the editor's text by the analysis itself (duplicate_code); closed files from
disk: at start-up in worker processes, then on didChangeWatchedFiles and when a document is closed.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pygls.uris import from_fs_path, to_fs_path

from ferrolens import tune_gc
from ferrolens.analyzers.dry.fingerprint import fingerprint_path, fingerprint_paths, is_test_path
from ferrolens.analyzers.dry.index import CloneIndex
from ferrolens.files import walk

log = logging.getLogger("ferrolens")
BATCH = 24  # files per worker task: small enough for steady progress reports


class Workspace:
    def __init__(self) -> None:
        self.roots: list[Path] = []
        self.index = CloneIndex()
        self.indexing: asyncio.Task | None = None
        self.indexed_files = 0
        self.total_files = 0
        self.seconds = 0.0

    # -- names -------------------------------------------------------------------------------------
    def key(self, uri: str) -> str:
        path = to_fs_path(uri)
        if path is None:
            return uri
        p = Path(path)
        for root in self.roots:
            try:
                return p.relative_to(root).as_posix()
            except ValueError:
                continue
        return p.as_posix()

    def path_of(self, key: str) -> Path:
        p = Path(key)
        if p.is_absolute() or not self.roots:
            return p
        return self.roots[0] / p if len(self.roots) == 1 else next((r / p for r in self.roots if (r / p).exists()), self.roots[0] / p)

    def uri_of(self, key: str) -> str:
        return from_fs_path(str(self.path_of(key))) or key

    # -- indexing ----------------------------------------------------------------------------------
    def files(self) -> list[Path]:
        return list(walk(self.roots)) if self.roots else []

    async def index_all(self, open_keys, include_tests: bool, max_size: int, progress) -> None:
        """Fingerprint every Rust file of the workspace folders that is not open in the editor, in
        worker processes, feeding the index as batches come back. `progress(done, total)` is called
        after each batch."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        paths = await asyncio.to_thread(self.files)
        todo = [(str(p), self.key(from_fs_path(str(p)) or str(p)), include_tests, max_size) for p in paths]
        todo = [t for t in todo if include_tests or not is_test_path(t[1])]
        self.total_files, self.indexed_files = len(todo), 0
        progress(0, len(todo))
        batches = [todo[i : i + BATCH] for i in range(0, len(todo), BATCH)]
        workers = max(1, min(4, (os.cpu_count() or 2)))
        if len(todo) < 2 * BATCH:
            pool = None  # a small workspace: a process pool would cost more than it saves
        else:
            # spawned, not forked: the server has threads (pygls reads stdin in one), and a fork copies
            # their locks in whatever state they are
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=tune_gc)
        try:
            pending = [loop.run_in_executor(pool, fingerprint_paths, b) for b in batches]
            for fut in asyncio.as_completed(pending):
                results = await fut
                for units in results:
                    if units is not None and units.path not in open_keys():
                        self.index.update(units)
                self.indexed_files += BATCH
                progress(min(self.indexed_files, len(todo)), len(todo))
        finally:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self.indexed_files = len(todo)
        self.seconds = loop.time() - started
        log.info("indexed %d files in %.2f s", len(todo), self.seconds)

    def refresh_from_disk(self, key: str, include_tests: bool, max_size: int) -> set[str]:
        """Re-read one closed file (changed on disk, or its editor closed without saving)."""
        path = self.path_of(key)
        if not path.is_file():
            return self.index.remove(key)
        units = fingerprint_path(str(path), key, include_tests, max_size)
        if units is None:
            return self.index.remove(key)
        return self.index.update(units) - {key}
