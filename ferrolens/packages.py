"""What the Cargo.toml rules know around a manifest (analyzers.manifest.Package), read from disk.

The package's Rust sources (its own folder, minus `target/` and nested packages), the workspace's
Cargo.lock, and the workspace root manifest when the package is a member. Source texts are cached
by size and mtime, so the server can re-run the rules after every source edit cheaply; `overrides`
(the editor's unsaved texts) win over the disk.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from ferrolens.analyzers.manifest import Package
from ferrolens.crates import real_path, relative_text
from ferrolens.files import walk

_TEXTS: dict[Path, tuple[tuple[int, int], str | None]] = {}
MAX_SOURCE = 4 << 20


def _text(path: Path) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _TEXTS.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    text = None
    if st.st_size <= MAX_SOURCE:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
    _TEXTS[path] = (stamp, text)
    return text


def _toml(path: Path) -> dict:
    text = _text(path)
    try:
        return tomllib.loads(text) if text is not None else {}
    except tomllib.TOMLDecodeError:
        return {}


def workspace_root(manifest: Path) -> Path | None:
    """The nearest Cargo.toml above `manifest`'s folder with a [workspace] table (None if `manifest`
    is its own root or stands alone)."""
    if "workspace" in _toml(manifest):
        return None
    for folder in manifest.parent.parents:
        candidate = folder / "Cargo.toml"
        if candidate.is_file() and "workspace" in _toml(candidate):
            return candidate
    return None


def package_of(manifest: Path, overrides: dict[Path, str] | None = None) -> Package:
    manifest = manifest.resolve()
    folder = manifest.parent
    data = _toml(manifest)
    overrides = overrides or {}
    nested: list[str] = []  # the folders of nested packages, relative, each with a trailing "/"
    sources: dict[str, str] = {}
    # (on path texts, not pathlib's objects: `check` reads every package this way)
    own = os.fspath(manifest)
    for path in walk([folder], (".rs", "Cargo.toml")):
        real = os.fspath(real_path(path))
        rel = relative_text(real, folder)
        if rel is None or (nested and rel.startswith(tuple(nested))):
            continue  # (a link out of the package, or a nested package's file)
        where, _, name = rel.rpartition("/")
        if name == "Cargo.toml":
            if real != own:
                nested.append(where + "/")
            continue
        if not rel.endswith(".rs"):
            continue
        text = (overrides.get(Path(real)) if overrides else None) or _text(path)
        if text is not None:
            sources[rel] = text
    # a nested package's sources were taken before its Cargo.toml was seen: drop them
    if nested:
        sources = {k: v for k, v in sources.items() if not k.startswith(tuple(nested))}
    root = workspace_root(manifest)
    lock_dir = (root or manifest).parent
    lock = _text(lock_dir / "Cargo.lock")
    root_data = _toml(root) if root else data
    members = (root_data.get("workspace") or {}).get("members") or []
    package = data.get("package") or {}
    bins = (folder / "src" / "main.rs").is_file() or (folder / "src" / "bin").is_dir() or bool(data.get("bin"))
    return Package(
        sources=sources,
        lock=lock,
        root_manifest=str(root) if root else None,
        root_text=_text(root) if root else None,
        members=max(1, len(members)),
        bin_targets=bins and bool(package),
        lib_target=(folder / "src" / "lib.rs").is_file() or isinstance(data.get("lib"), dict),
        inside_package=any("package" in _toml(p / "Cargo.toml") for p in folder.parents if (p / "Cargo.toml").is_file()),
        root=str(folder),
    )


def source_files(paths: list[Path]) -> list[Path]:
    """The Cargo.toml files `ferrolens check` looks at besides the Rust files."""
    return [p for p in walk(paths, ("Cargo.toml",)) if p.name == "Cargo.toml"]
