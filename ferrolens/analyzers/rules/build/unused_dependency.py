"""unused_dependency: a dependency no source file of the package names."""

from __future__ import annotations

import re

from ferrolens.analyzers.manifest import ManifestContext
from ferrolens.analyzers.model import Applicability, Edit, Fix, Severity
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
Flags an entry of `[dependencies]`, `[dev-dependencies]` or `[build-dependencies]` (target-specific
ones too) that no Rust file able to use it ever names:
- normal dependencies: any `.rs` file of the package (library, binaries, tests, benches, examples);
- dev-dependencies: the same (`#[cfg(test)]` code lives in `src/`);
- build-dependencies: the build script only (`build.rs`, or the `build = ".."` file).

A name counts as used when it appears as `name::`, `use name`, `extern crate name` (also with
`#[macro_use]`), or `name!` after a `use`. The code name is the dependency's key with `-` read as `_`
(a renamed dependency, `foo = { package = "bar" }`, is used as `foo`).

Never flagged: names listed in `[package.metadata.cargo-machete] ignored` or in ferrolens's own
`[package.metadata.ferrolens] ignore-dependencies` / `[workspace.metadata.ferrolens] ignore-dependencies`,
`-sys` crates (they are linked, not named), dependencies that a `[features]` entry turns on or
forwards features to (`name`, `dep:name`, `name/feature`: they may exist only for that, like
`compiler_builtins` for `rustc-dep-of-std`), optional dependencies (each is also a feature of the
package: removing one breaks users who enable it), the import-library crates of `winapi`/`windows`,
and dev-dependencies of a package without a `tests/` folder (published crates often ship without one,
so their integration tests cannot be read).

## Why it matters
Every dependency is downloaded, compiled and linked on every clean build and in CI, with everything it
pulls in. Dependencies outlive the code that used them: after a refactoring, nobody removes them.

## Example
```toml
[dependencies]
regex = "1"      # no file says `regex::` any more
```

## Use instead
Delete the line (cargo-machete and cargo-shear report the same thing from the command line).

## Fix safety
Unsafe: a macro of another crate can expand to `::name::..` and need the dependency although no file
names it, which no syntactic check can see. Run `cargo check --all-targets` after removing.
"""

_LINK_ONLY = re.compile(r"^(?:winapi|windows)[-_].*(?:gnu|msvc|gnullvm)$")  # import libraries, linked only
_FEATURE = re.compile(r"^(?:dep:)?([A-Za-z0-9_-]+)\??(?:/|$)")


def _used(name: str, texts) -> bool:
    n = re.escape(name)
    pattern = re.compile(rf"(?<!\w)(?<!\w::){n}\s*::|\buse\s+(?:::)?{n}\b|\bextern\s+crate\s+{n}\b")
    return any(pattern.search(t) for t in texts)


def _ignored(ctx: ManifestContext) -> set[str]:
    m = ctx.manifest
    out: set[str] = set()
    for path in (("package", "metadata", "cargo-machete", "ignored"), ("package", "metadata", "ferrolens", "ignore-dependencies"), ("workspace", "metadata", "ferrolens", "ignore-dependencies")):
        value = m.get(*path)
        if isinstance(value, list):
            out |= {str(v) for v in value}
    return out


def _forwarded(ctx: ManifestContext) -> set[str]:
    """Dependencies a feature turns on or forwards features to (`name`, `dep:name`, `serde/std`,
    `dep?/feat`): such a dependency may exist only for that (`rustc-dep-of-std = ["compiler_builtins"]`)."""
    out: set[str] = set()
    features = ctx.manifest.get("features")
    if isinstance(features, dict):
        for values in features.values():
            for v in values if isinstance(values, list) else ():
                m = _FEATURE.match(str(v))
                if m:
                    out.add(m.group(1))
    return out


def check(ctx: ManifestContext, _root):
    m, pkg = ctx.manifest, ctx.package
    if not m.get("package") or not pkg.sources:
        return
    ignored, forwarded = _ignored(ctx), _forwarded(ctx)
    build = m.get("package", "build")
    build_script = build.removeprefix("./") if isinstance(build, str) else "build.rs"
    # without test, bench or example files (a packaged crate often ships none), dev-dependencies
    # cannot be judged
    has_tests = any(p.startswith("tests/") for p in pkg.sources)
    build_texts = [t for p, t in pkg.sources.items() if p == build_script]
    other_texts = [t for p, t in pkg.sources.items() if p != build_script]
    for table, name, spec, entry in m.dependencies():
        if name in ignored or name in forwarded or name.endswith("-sys") or _LINK_ONLY.match(name):
            continue
        if isinstance(spec, dict) and spec.get("optional") is True:
            continue  # an optional dependency is also a feature of the package: removing it breaks users
        if isinstance(spec, dict) and isinstance(spec.get("package"), str) and spec["package"] in ignored:
            continue
        if table == "dev-dependencies" and not has_tests:
            continue
        texts = build_texts if table == "build-dependencies" else other_texts
        if _used(name.replace("-", "_"), texts):
            continue
        where = "the build script" if table == "build-dependencies" else "any source file of this package"
        start, end = m.line_span(entry.node)
        removable = entry.node.type == "table" or m.data[start : entry.node.start_byte].strip() == b""
        yield ctx.finding(
            entry.key,
            f"`{name}` is not used: {where} never names `{name.replace('-', '_')}`; it still costs a download and a compile",
            fix=Fix(Applicability.UNSAFE, f"Remove `{name}` from [{table}]", (Edit(start, end, ""),)) if removable else None,
        )


RULE = Rule(
    name="unused_dependency",
    group="build",
    summary="A Cargo.toml dependency that no source file of the package names",
    docs=DOCS,
    check=check,
    severity=Severity.WARNING,
    fix=FixKind.UNSAFE,
    source="https://corrode.dev/blog/tips-for-faster-rust-compile-times/",
    scope="manifest",
)
