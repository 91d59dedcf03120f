"""duplicate_dependency: Cargo.lock builds two versions of one crate; which direct dependency pulls the older."""

from __future__ import annotations

import tomllib

from ferrolens.analyzers.manifest import ManifestContext
from ferrolens.analyzers.model import Severity
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
Reads the workspace's `Cargo.lock` and finds crates locked in more than one version. For each older
copy, the finding sits on the direct dependency of this package that pulls it in, and the message
shows the chain (what `cargo tree --duplicates` would tell).

## Why it matters
Two versions of a crate are two crates to download, compile and link, and their types do not mix.
Usually one dependency lags behind: updating it (or asking its authors to) lets the whole tree share
one version.

## Example
```text
regex 1.7.1 -> aho-corasick 0.7.19
grep 0.2.0 -> aho-corasick 1.0.1
```

## Use instead
Update the dependency that pulls the older version (`cargo update -p`, a newer release), or pin
yours to the version the rest of the tree uses.

## Fix safety
A hint: choosing which side moves is yours.
"""


def _version_key(v: str) -> tuple:
    return tuple(int(x) if x.isdigit() else x for x in v.replace("-", ".").split("."))


def check(ctx: ManifestContext, _root):
    m, pkg = ctx.manifest, ctx.package
    name = m.get("package", "name")
    if not isinstance(name, str) or not pkg.lock:
        return
    try:
        lock = tomllib.loads(pkg.lock)
    except tomllib.TOMLDecodeError:
        return
    packages = [p for p in lock.get("package", []) if isinstance(p, dict) and "name" in p and "version" in p]
    versions: dict[str, list[str]] = {}
    for p in packages:
        versions.setdefault(p["name"], []).append(p["version"])
    dupes = {n: sorted(vs, key=_version_key) for n, vs in versions.items() if len(set(vs)) > 1}
    if not dupes:
        return
    by_id = {(p["name"], p["version"]): p for p in packages}

    def resolve(spec: str) -> tuple[str, str] | None:
        parts = spec.split()
        if len(parts) >= 2:
            return (parts[0], parts[1]) if (parts[0], parts[1]) in by_id else None
        vs = versions.get(parts[0], [])
        return (parts[0], vs[0]) if len(vs) == 1 else None

    me = next((p for p in packages if p["name"] == name and "source" not in p), None)
    if me is None:
        return
    deps = {}
    for table, dep_name, spec, entry in m.dependencies():
        real = spec.get("package", dep_name) if isinstance(spec, dict) else dep_name
        deps[real] = entry
    for start in me.get("dependencies", []):
        node = resolve(start)
        if node is None or node[0] not in deps:
            continue
        # breadth-first from this direct dependency: the older copies it reaches, with the chain
        seen, queue = {node: [node]}, [node]
        while queue:
            cur = queue.pop(0)
            for spec in by_id[cur].get("dependencies", []):
                nxt = resolve(spec)
                if nxt is not None and nxt not in seen:
                    seen[nxt] = seen[cur] + [nxt]
                    queue.append(nxt)
        for (dn, dv), chain in sorted(seen.items()):
            if dn in dupes and dv != dupes[dn][-1]:
                text = " -> ".join(f"{n} {v}" for n, v in chain)
                others = ", ".join(v for v in dupes[dn] if v != dv)
                yield ctx.finding(
                    deps[node[0]].key,
                    f"`{node[0]}` pulls {dn} {dv} ({text}) while the lock also has {dn} {others}: two copies to build",
                )


RULE = Rule(
    name="duplicate_dependency",
    group="build",
    summary="A direct dependency that pulls an older copy of a crate Cargo.lock also has in a newer version",
    docs=DOCS,
    check=check,
    severity=Severity.HINT,
    fix=FixKind.NONE,
    source="https://corrode.dev/blog/tips-for-faster-rust-compile-times/",
    scope="manifest",
)
