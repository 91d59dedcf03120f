"""Which crate a file belongs to: its Cargo.toml's package name, dependencies and targets.

Read with tomllib and cached per manifest (size and mtime); a manifest that does not parse gives no
crate info (the Cargo.toml rules report it), never an exception.
"""

from __future__ import annotations

import tomllib
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
    try:
        st = manifest.stat()
    except OSError:
        return {}
    stamp = (st.st_mtime_ns, st.st_size)
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
    if manifest is None:
        return "-"
    try:
        st = manifest.stat()
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}"


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


def crate_of(path: Path) -> CrateInfo | None:
    manifest = manifest_of(path.resolve())
    if manifest is None:
        return None
    data = _read(manifest)
    package = data.get("package")
    if not isinstance(package, dict):
        return None
    root = manifest.parent
    try:
        rel = path.resolve().relative_to(root).as_posix()
    except ValueError:
        rel = ""
    lib_path = (data.get("lib") or {}).get("path", "src/lib.rs") if isinstance(data.get("lib"), dict) else "src/lib.rs"
    has_lib = (root / lib_path).is_file()
    not_lib = rel in ("src/main.rs", "build.rs") or rel.startswith(("src/bin/", "examples/", "tests/", "benches/"))
    return CrateInfo(
        name=str(package.get("name", "")).replace("-", "_"),
        dependencies=frozenset(dependency_names(data)),
        lib=has_lib and not not_lib and rel.startswith("src/"),
    )
