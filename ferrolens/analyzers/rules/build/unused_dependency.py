"""unused_dependency: a dependency no source file of the package names."""

from __future__ import annotations

import re
import tomllib

from ferrolens.analyzers.manifest import ManifestContext
from ferrolens.analyzers.model import Applicability, Edit, Fix, Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import word_char

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

Never flagged: names listed in the `ignored` arrays of `[package.metadata.cargo-machete]` or
`[package.metadata.cargo-shear]` (or the same `workspace.metadata` tables of the workspace root), or
in ferrolens's own `ignore-dependencies` there (`[package.metadata.ferrolens]`, `[workspace.metadata.ferrolens]`),
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

## Compared with cargo-machete and cargo-shear
The same idea as cargo-machete (a text search for the names, fast and imprecise) with the same
ignore lists, live in the editor. Differences: build-dependencies are only looked for in the build
script; optional dependencies, `-sys` crates and dependencies named in `[features]` are left alone
(machete reports them); dev-dependencies are skipped when there is no `tests/` folder to read.
cargo-shear parses the files, so a path in a comment or a string does not count as a use for it;
here it does (the error is on the side of silence). cargo-shear also moves misplaced dependencies
between tables, which this rule does not do. Neither tool sees uses that only exist after macro expansion,
and neither does this rule.

## Fix safety
Unsafe: a macro of another crate can expand to `::name::..` and need the dependency although no file
names it, which no syntactic check can see. Run `cargo check --all-targets` after removing.
"""

_LINK_ONLY = re.compile(r"^(?:winapi|windows)[-_].*(?:gnu|msvc|gnullvm)$")  # import libraries, linked only
_FEATURE = re.compile(r"^(?:dep:)?([A-Za-z0-9_-]+)\??(?:/|$)")


_INTRO = re.compile(r"(?:\buse\s+|\bextern\s+crate\s+)(?:::)?$")


def is_named(name: str, text: str) -> bool:
    """Whether `text` uses `name` as a path's first segment (`name::`, `::name::`), after `use`, or
    after `extern crate`. Scans the occurrences of the name (str.find), not every position."""
    at = text.find(name)
    while at >= 0:
        end = at + len(name)
        if not (at and word_char(text[at - 1])) and not (end < len(text) and word_char(text[end])):
            k = end
            while k < len(text) and text[k] in " \t":
                k += 1
            if text.startswith("::", k):
                # a first segment, unless it follows `something::` (then it is an inner segment)
                if not (text[at - 2 : at] == "::" and at >= 3 and word_char(text[at - 3])):
                    return True
            elif _INTRO.search(text, max(0, at - 40), at):
                return True
        at = text.find(name, at + 1)
    return False


IGNORE_KEYS = (
    ("metadata", "cargo-machete", "ignored"),
    ("metadata", "cargo-shear", "ignored"),
    ("metadata", "ferrolens", "ignore-dependencies"),
)


def _ignored(ctx: ManifestContext) -> set[str]:
    """Names the package, or its workspace root, tells cargo-machete, cargo-shear or ferrolens to leave."""
    m = ctx.manifest
    tables = [m.get("package") or {}, m.get("workspace") or {}]
    if ctx.package.root_text:
        try:
            tables.append(tomllib.loads(ctx.package.root_text).get("workspace") or {})
        except tomllib.TOMLDecodeError:
            pass
    out: set[str] = set()
    for table in tables:
        for path in IGNORE_KEYS:
            value = table
            for p in path:
                value = value.get(p) if isinstance(value, dict) else None
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
    joined: dict[str, str] = {}
    for table, name, spec, entry in m.dependencies():
        if name in ignored or name in forwarded or name.endswith("-sys") or _LINK_ONLY.match(name):
            continue
        if isinstance(spec, dict) and spec.get("optional") is True:
            continue  # an optional dependency is also a feature of the package: removing it breaks users
        if isinstance(spec, dict) and isinstance(spec.get("package"), str) and spec["package"] in ignored:
            continue
        if table == "dev-dependencies" and not has_tests:
            continue
        group = "build" if table == "build-dependencies" else "other"
        if group not in joined:
            joined[group] = "\n".join(build_texts if group == "build" else other_texts)
        if is_named(name.replace("-", "_"), joined[group]):
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
