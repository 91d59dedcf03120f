"""integration_test_layout: many top-level files in tests/, each its own crate and link."""

from __future__ import annotations

from pathlib import Path

from ferrolens.analyzers.manifest import ManifestContext
from ferrolens.analyzers.model import Related, Severity
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
Flags a package with three or more `.rs` files directly in `tests/` (with `autotests` left on): Cargo
builds each of them as a separate test crate.

## Why it matters
Every integration test file is compiled as its own crate and linked into its own executable, against
the library and all its dependencies. Linking is slow and mostly single-threaded, so ten test files
mean ten links on every change; projects that merged theirs into one test crate have reported test
builds about twice as fast.

## Example
```text
tests/api.rs
tests/cli.rs
tests/parse.rs
```

## Use instead
```text
tests/it/main.rs      // mod api; mod cli; mod parse;
tests/it/api.rs
tests/it/cli.rs
tests/it/parse.rs
```

## Fix safety
No fix: moving files is for you to do (shared helpers in `tests/common/mod.rs` become a module of the
one crate).
"""

MIN_FILES = 3


def check(ctx: ManifestContext, _root):
    m, pkg = ctx.manifest, ctx.package
    package = m.tables.get(("package",))
    if package is None or m.get("package", "autotests") is False:
        return
    tests = sorted(p for p in pkg.sources if p.startswith("tests/") and p.count("/") == 1 and p.endswith(".rs"))
    if len(tests) < MIN_FILES:
        return
    yield ctx.finding(
        package.key,
        f"{len(tests)} files in tests/ build {len(tests)} test crates, each linked separately: one test crate with a module per file links once",
        related=[Related(0, 0, "a test crate of its own", str(Path(pkg.root) / t)) for t in tests],
    )


RULE = Rule(
    name="integration_test_layout",
    group="build",
    summary="Three or more files in tests/: one test crate and one link each",
    docs=DOCS,
    check=check,
    severity=Severity.HINT,
    fix=FixKind.NONE,
    source="https://corrode.dev/blog/tips-for-faster-rust-compile-times/",
    scope="manifest",
)
