"""Which crate a file belongs to: its Cargo.toml's package name, dependencies and targets.

Read with tomllib and cached per manifest (size and mtime); a manifest that does not parse gives no
crate info (the Cargo.toml rules report it), never an exception.
"""

from __future__ import annotations

import os
import re
import tomllib
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from ferrolens.analyzers.model import CrateInfo

_MANIFESTS: dict[Path, tuple[tuple[int, int], dict | None]] = {}
_DIRS: dict[Path, Path | None] = {}
DEP_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")


def manifest_of(path: Path) -> Path | None:
    """The nearest Cargo.toml with a [package] above `path`."""
    start = path.parent
    if start in _DIRS:
        return _DIRS[start]
    found = None
    for folder in (start, *start.parents):
        candidate = folder / "Cargo.toml"
        if candidate.is_file() and _read(candidate).get("package") is not None:
            found = candidate
            break
    _DIRS[start] = found
    return found


def _read(manifest: Path) -> dict:
    stamp = _file_stamp(manifest)
    if stamp is None:
        return {}
    hit = _MANIFESTS.get(manifest)
    if hit is not None and hit[0] == stamp:
        return hit[1] or {}
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = None
    _MANIFESTS[manifest] = (stamp, data)
    return data or {}


def stamp(path: Path) -> str:
    """Changes when the crate info of `path` may have changed (for result caches)."""
    manifest = manifest_of(path)
    st = _file_stamp(manifest) if manifest is not None else None
    return f"{st[0]}:{st[1]}" if st else "-"


def dependency_names(manifest: dict) -> set[str]:
    names: set[str] = set()
    tables = [manifest.get(t) for t in DEP_TABLES]
    for target in (manifest.get("target") or {}).values():
        if isinstance(target, dict):
            tables += [target.get(t) for t in DEP_TABLES]
    for table in tables:
        if not isinstance(table, dict):
            continue
        for key, spec in table.items():
            names.add(key.replace("-", "_"))
            if isinstance(spec, dict) and isinstance(spec.get("package"), str):
                names.add(spec["package"].replace("-", "_"))
    return names


_INFO: dict[tuple, CrateInfo | None] = {}

# While a batch run (`check`) reads a tree that does not change under it, a file's crate info and
# resolved path are looked up once (the server asks again on every analysis: files change there).
_FROZEN: dict[tuple[str, object], object] | None = None


@contextmanager
def frozen():
    """Within it, this process (and the workers it forks) takes the files it asks about as unchanging."""
    global _FROZEN
    _FROZEN = {}
    try:
        yield
    finally:
        _FROZEN = None


def _frozen(kind: str, path: Path, compute):
    if _FROZEN is None:
        return compute(path)
    key = (kind, path)
    hit = _FROZEN.get(key, _FROZEN)
    if hit is _FROZEN:
        hit = _FROZEN[key] = compute(path)
    return hit


_REAL_DIRS: dict[str, Path] = {}


def real_path(path: Path) -> Path:
    """`path.resolve()`, with the folder's resolution remembered (one lstat per file instead of one per
    component of its path; a file that is itself a symlink is resolved in full)."""
    return _frozen("real", path, _real_path)


def _real_path(path: Path) -> Path:
    # (os.path on the path's text: `check` resolves every file it reads in its parent process before
    # any worker starts, and pathlib's objects took 40 ms of that on 700 files)
    text = os.fspath(path)
    if os.path.islink(text):
        return path.resolve()
    # the folder as written, made absolute but not normalised (`a/..` is resolved through the links);
    # a relative folder means another one after a chdir
    folder = os.path.join(os.getcwd(), os.path.dirname(text))
    real = _REAL_DIRS.get(folder)
    if real is None:
        if len(_REAL_DIRS) > 4096:
            _REAL_DIRS.clear()
        real = _REAL_DIRS[folder] = Path(folder).resolve()
    return real / os.path.basename(text)


def crate_of(path: Path) -> CrateInfo | None:
    """The crate info of a file; cached until its Cargo.toml or the crate's src/lib.rs changes (the
    server asks on every analysis)."""
    return _frozen("crate", path, _crate_info)


def _crate_info(path: Path) -> CrateInfo | None:
    path = real_path(path)
    manifest = manifest_of(path)
    if manifest is None:
        return None
    shared = _frozen("shared", manifest, _crate_stamps)  # (one look per crate in a batch run)
    key = (path, *shared)
    if key not in _INFO:
        if len(_INFO) > 4096:
            _INFO.clear()
        info = _crate_of(path, manifest)
        clippy = shared[2]
        if info is not None:
            try:
                text = clippy.read_text(encoding="utf-8") if _is_file(clippy) else None
            except (OSError, UnicodeDecodeError):
                text = None
                clippy = Path()  # unreadable: no companion edits
            info = replace(info, clippy_toml=str(clippy) if clippy != Path() else "", clippy_toml_text=text)
        _INFO[key] = info
    return _INFO[key]


def _crate_stamps(manifest: Path) -> tuple:
    """What a file's crate info depends on besides the file's path: the manifest's and lib.rs's stamps,
    and Clippy's config file with its stamp."""
    root = manifest.parent
    clippy = clippy_config(root)
    return _file_stamp(manifest), (_file_stamp(root / "src" / "lib.rs") or (0, 0))[0], clippy, _file_stamp(clippy)


CLIPPY_CONFIGS = (".clippy.toml", "clippy.toml")


def clippy_config(crate_root: Path) -> Path:
    """The config file Clippy reads for a crate: like Clippy, the first `.clippy.toml`/`clippy.toml` found
    at the crate root or above; where none exists, `clippy.toml` beside Cargo.toml."""
    hit = _CLIPPY.get(crate_root)
    if hit is not None and (_is_file(hit) or hit == crate_root / "clippy.toml"):
        return hit  # a found file that still exists, or the default (which Clippy would read first)
    found = crate_root / "clippy.toml"
    for folder in (crate_root, *crate_root.parents):
        if any(_is_file(folder / name) for name in CLIPPY_CONFIGS):
            found = next(folder / name for name in CLIPPY_CONFIGS if _is_file(folder / name))
            break
    _CLIPPY[crate_root] = found
    return found


_CLIPPY: dict[Path, Path] = {}


def _file_stamp(path: Path) -> tuple[int, int] | None:
    return _frozen("stamp", path, _stamp_now)


def _is_file(path: Path) -> bool:
    return _frozen("file", path, Path.is_file)


def _stamp_now(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def relative_text(path: Path | str, folder: Path | str) -> str | None:
    """`path` relative to `folder`, `/`-separated; None when it is not inside. (On the paths' texts:
    pathlib's `relative_to` took a good part of `check`'s start, which asks for every file.)"""
    text, under = os.fspath(path), os.path.join(os.fspath(folder), "")
    return text[len(under) :].replace(os.sep, "/") if text.startswith(under) else None


def _crate_of(path: Path, manifest: Path) -> CrateInfo | None:
    package = _frozen("package", manifest, _package)
    if package is None:
        return None
    root, name, dependencies, lib_path, has_lib = package
    rel = relative_text(path, root) or ""
    not_lib = rel in ("src/main.rs", "build.rs") or rel.startswith(("src/bin/", "examples/", "tests/", "benches/"))
    lib = has_lib and not not_lib and rel.startswith("src/")
    return CrateInfo(name=name, dependencies=dependencies, lib=lib, public=lib and _publicly_reachable(root, lib_path, rel))


def _package(manifest: Path) -> tuple | None:
    """What every file of a crate shares: (root, name, dependencies, lib path, whether it has a lib)."""
    data = _read(manifest)
    package = data.get("package")
    if not isinstance(package, dict):
        return None
    root = manifest.parent
    lib_table = data.get("lib") if isinstance(data.get("lib"), dict) else {}
    lib_path = str(lib_table.get("path", "src/lib.rs"))
    has_lib = _is_file(root / lib_path) and not lib_table.get("proc-macro") and not lib_table.get("proc_macro")
    return root, str(package.get("name", "")).replace("-", "_"), _dependencies(data), lib_path, has_lib


_DEPS: dict[int, tuple[dict, frozenset[str]]] = {}


def _dependencies(data: dict) -> frozenset[str]:
    """`dependency_names` of a read manifest, worked out once per reading of it (not once per file)."""
    hit = _DEPS.get(id(data))
    if hit is None or hit[0] is not data:
        if len(_DEPS) > 256:
            _DEPS.clear()
        hit = _DEPS[id(data)] = (data, frozenset(dependency_names(data)))
    return hit[1]


def _publicly_reachable(root: Path, lib_path: str, rel: str) -> bool:
    """`src/a/b.rs` is `crate::a::b`: reachable from other crates when lib.rs says `pub mod a;` and
    a's file says `pub mod b;`. (Items re-exported from private modules with `pub use` are missed.)"""
    if rel == lib_path:
        return True
    parts = rel[len("src/") :].removesuffix(".rs").split("/")
    if parts[-1] == "mod":
        parts = parts[:-1]
    return not parts or parts[-1] in _public_mods(root, lib_path, tuple(parts[:-1]))


def _public_mods(root: Path, lib_path: str, parts: tuple[str, ...]) -> frozenset[str]:
    """The `pub mod` names of module `crate::parts` (none when it is not itself reachable); a
    module's answer is shared by its files in a batch run."""
    return _frozen("pub", (root, lib_path, parts), _public_mods_now)


def _public_mods_now(key: tuple) -> frozenset[str]:
    root, lib_path, parts = key
    if not parts:
        return _pub_mods(root / lib_path)
    if parts[-1] not in _public_mods(root, lib_path, parts[:-1]):
        return frozenset()
    base = root / "src" / Path(*parts)
    return _pub_mods(base.with_suffix(".rs") if _is_file(base.with_suffix(".rs")) else base / "mod.rs")


_PUB_MOD = re.compile(r"(?m)^\s*pub\s+mod\s+(?:r#)?(\w+)\s*;")
_PUB_MODS: dict[Path, tuple[tuple[int, int] | None, frozenset[str]]] = {}


def _pub_mods(path: Path) -> frozenset[str]:
    """The `pub mod name;` declarations of a module file (read again when it changes)."""
    st = _file_stamp(path)
    hit = _PUB_MODS.get(path)
    if hit is not None and hit[0] == st:
        return hit[1]
    try:
        names = frozenset(_PUB_MOD.findall(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        names = frozenset()
    if len(_PUB_MODS) > 4096:
        _PUB_MODS.clear()
    _PUB_MODS[path] = (st, names)
    return names


def facts_of_paths(paths: list[tuple[str, str]], max_size: int = 1 << 62, include_generated: bool = False) -> list:
    """The type facts (crate_types.TypeFacts) of files read from disk, named by `paths`' second item;
    None for a file that cannot be read, is not UTF-8, is too large or (unless `include_generated`) is
    generated code (source.is_generated), as `check` leaves it out. Runs in worker processes."""
    from ferrolens.analyzers.crate_types import TypeFacts
    from ferrolens.analyzers.source import SourceFile, is_generated
    from ferrolens.analyzers.summary import FileSummary
    from ferrolens.files import check_bytes

    out = []
    for path, key in paths:
        try:
            loaded = check_bytes(Path(path).read_bytes(), max_size)
        except OSError:
            out.append(None)
            continue
        if loaded.data is None or (not include_generated and is_generated(loaded.data)):
            out.append(None)
            continue
        src = SourceFile(loaded.data, key)
        out.append(TypeFacts.of(key, FileSummary.of(src), src.root, loaded.data))
    return out
