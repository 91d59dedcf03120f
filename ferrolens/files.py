"""Finding and reading Rust files: directory walks that honour .gitignore, and safe decoding."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

SKIP_DIRS = {"target", "node_modules"}
BOM = b"\xef\xbb\xbf"


class _Ignore:
    """A small .gitignore matcher: globs, `/`-anchored and directory-only patterns, `!` negation."""

    def __init__(self, base: Path, lines: list[str]) -> None:
        self.base = base
        self.rules: list[tuple[str, bool, bool, bool]] = []  # pattern, negate, dir_only, anchored
        for raw in lines:
            line = raw.rstrip("\n").rstrip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.strip("/") if dir_only else line
            anchored = line.startswith("/") or "/" in line
            self.rules.append((line.lstrip("/"), negate, dir_only, anchored))

    def ignored(self, path: Path, is_dir: bool) -> bool | None:
        try:
            rel = path.relative_to(self.base).as_posix()
        except ValueError:
            return None
        verdict = None
        for pattern, negate, dir_only, anchored in self.rules:
            if dir_only and not is_dir:
                continue
            target = rel if anchored else path.name
            if fnmatch.fnmatchcase(target, pattern) or (anchored and fnmatch.fnmatchcase(rel, pattern + "/**")):
                verdict = not negate
        return verdict


def _load_ignore(folder: Path) -> _Ignore | None:
    gi = folder / ".gitignore"
    if gi.is_file():
        try:
            return _Ignore(folder, gi.read_text(encoding="utf-8", errors="replace").splitlines())
        except OSError:
            return None
    return None


def walk(paths: list[Path], suffixes: tuple[str, ...] = (".rs",)) -> Iterator[Path]:
    """Files named on the command line are taken as they are; folders are walked recursively for
    `suffixes`, skipping `target/`, hidden folders and what .gitignore files ignore."""
    seen: set[Path] = set()
    for top in paths:
        if top.is_file():
            if top not in seen:
                seen.add(top)
                yield top
            continue
        if not top.is_dir():
            continue
        ignores: list[_Ignore] = [i for i in (_load_ignore(p) for p in reversed([top, *top.resolve().parents])) if i]
        yield from _walk_dir(top, ignores, suffixes, seen)


def _is_ignored(path: Path, is_dir: bool, ignores: list[_Ignore]) -> bool:
    verdict = False
    for ig in ignores:
        v = ig.ignored(path.resolve(), is_dir)
        if v is not None:
            verdict = v
    return verdict


def _walk_dir(folder: Path, ignores: list[_Ignore], suffixes, seen) -> Iterator[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    if os.path.isfile(os.path.join(folder, ".gitignore")):  # (resolved only when there is one)
        own = _load_ignore(folder.resolve())
        if own is not None:
            ignores = ignores + [own]
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if entry.name.startswith(".") or entry.name in SKIP_DIRS:
                continue
            path = Path(entry.path)
            if not (ignores and _is_ignored(path, True, ignores)):
                yield from _walk_dir(path, ignores, suffixes, seen)
        elif entry.name.endswith(suffixes) and entry.is_file():
            path = Path(entry.path)
            if not (ignores and _is_ignored(path, False, ignores)) and path not in seen:
                seen.add(path)
                yield path


@dataclass
class Loaded:
    data: bytes | None  # None: skipped, see `problem`
    problem: str | None = None
    bom: bool = False


def check_bytes(data: bytes, max_size: int) -> Loaded:
    """Decide whether bytes are analysable Rust text; strips a UTF-8 BOM (reported through `bom`)."""
    if len(data) > max_size:
        return Loaded(None, f"skipped: {len(data):,} bytes is over the size limit ({max_size:,}; setting max_file_size)")
    if b"\x00" in data[:8192]:
        return Loaded(None, "skipped: binary file (NUL byte)")
    bom = data.startswith(BOM)
    if bom:
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Loaded(None, f"skipped: not valid UTF-8 (byte {exc.start + (3 if bom else 0)}: {exc.reason})")
    return Loaded(data, None, bom)

