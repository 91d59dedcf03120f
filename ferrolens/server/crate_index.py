"""The type facts of the crates the open documents belong to, for the crate-wide rules.

The first document of a crate starts a background read of the crate's files from disk (in a thread
for a small crate, worker processes for a big one); until it is in, the document is analysed with the
facts of the open documents only. Open documents contribute the facts of their current text, taken
from the analysis they had anyway. Whenever a crate's facts change, `on_change(manifest)` is called so
the server re-analyses that crate's open documents (whose findings may have depended on them).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable

from ferrolens.analyzers.crate_types import CrateTypes, TypeFacts
from ferrolens.crates import facts_of_paths
from ferrolens.files import walk

log = logging.getLogger("ferrolens")
BATCH = 32
POOL_AT = 2 * BATCH  # files from which a crate is read in worker processes


class CrateIndex:
    def __init__(self, key_of: Callable[[Path], str], on_change: Callable[[str], None], max_size: int) -> None:
        self.key_of = key_of  # a file's name in findings (the workspace key)
        self.on_change = on_change
        self.max_size = max_size
        self.include_generated = False  # (the server sets both from its settings)
        self.disk: dict[str, dict[str, TypeFacts]] = {}  # manifest -> key -> facts read from disk
        self.open: dict[str, dict[str, TypeFacts]] = {}  # manifest -> key -> facts of open documents
        self.built: dict[str, CrateTypes] = {}
        self.loading: dict[str, asyncio.Task] = {}

    def external(self, manifest: str) -> CrateTypes:
        """The crate's types as known now (the disk read starts on the first call)."""
        if manifest not in self.disk and manifest not in self.loading:
            try:
                self.loading[manifest] = asyncio.ensure_future(self._load(manifest))
            except RuntimeError:  # no event loop (a test calling in directly)
                pass
        ct = self.built.get(manifest)
        if ct is None:
            facts = {**self.disk.get(manifest, {}), **self.open.get(manifest, {})}
            ct = self.built[manifest] = CrateTypes.build(facts.values())
        return ct

    def set_open(self, manifest: str, facts: TypeFacts) -> bool:
        """An open document's facts as of its current text; True when they changed."""
        mine = self.open.setdefault(manifest, {})
        old = mine.get(facts.path) or self.disk.get(manifest, {}).pop(facts.path, None)  # one copy per file
        mine[facts.path] = facts
        if old is not None and old.to_json() == facts.to_json():
            return False
        self.built.pop(manifest, None)
        return True

    def close(self, manifest: str, path: Path, key: str) -> None:
        """The document was closed: the file on disk counts again."""
        if self.open.get(manifest, {}).pop(key, None) is not None:
            self.built.pop(manifest, None)
            self.refresh(manifest, [(path, key)])

    def refresh(self, manifest: str, files: list[tuple[Path, str]]) -> None:
        """Files of the crate changed on disk (or were deleted): read them again, here (a few files)."""
        if manifest not in self.disk:
            return
        changed = False
        for (_path, key), facts in zip(files, facts_of_paths([(str(p), k) for p, k in files], self.max_size, self.include_generated)):
            old = self.disk[manifest].pop(key, None)
            if facts is not None:
                self.disk[manifest][key] = facts
            changed = changed or (old is None) != (facts is None) or (old is not None and facts is not None and old.to_json() != facts.to_json())
        if changed:
            self.built.pop(manifest, None)
            self.on_change(manifest)

    async def _load(self, manifest: str) -> None:
        root = Path(manifest).parent
        try:
            paths = await asyncio.to_thread(lambda: [(str(p), self.key_of(p)) for p in walk([root]) if p.suffix == ".rs"])
            if len(paths) < POOL_AT:
                found = await asyncio.to_thread(facts_of_paths, paths, self.max_size, self.include_generated)
            else:
                loop = asyncio.get_running_loop()
                workers = max(1, min(4, os.cpu_count() or 2))
                with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                    batches = [paths[i : i + BATCH] for i in range(0, len(paths), BATCH)]
                    results = await asyncio.gather(*(loop.run_in_executor(pool, facts_of_paths, b, self.max_size, self.include_generated) for b in batches))
                found = [f for batch in results for f in batch]
            self.disk[manifest] = {f.path: f for f in found if f is not None}
            log.info("crate types of %s: %d files", manifest, len(self.disk[manifest]))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reading the crate types of %s failed; crate-wide rules see the open files only", manifest)
            self.disk[manifest] = {}
        finally:
            self.loading.pop(manifest, None)
        self.built.pop(manifest, None)
        self.on_change(manifest)
