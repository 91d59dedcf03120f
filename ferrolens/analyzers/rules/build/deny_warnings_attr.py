"""deny_warnings_attr: `#![deny(warnings)]` in the sources."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context, delete_statement, fix
from ferrolens.analyzers.model import Severity
from ferrolens.analyzers.syntax import nodes_containing
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
Flags an inner attribute `#![deny(warnings)]` (or `forbid(warnings)`), usually at the top of
`lib.rs` or `main.rs`, and offers to remove it.

## Why it matters
It turns every warning, including the new ones each compiler release adds, into an error: a crate
that built yesterday stops building after a `rustup update`, for users and dependents too. Cargo also
cannot reuse its cached build when you toggle it. Keep warnings as warnings while you work, and make
CI strict instead: `RUSTFLAGS="-D warnings"` in the CI job, or per-lint levels in a `[lints]` table of
Cargo.toml.

## Example
```rust
#![deny(warnings)]
```

## Use instead
```toml
# Cargo.toml
[lints.rust]
unsafe_code = "forbid"
```
and `RUSTFLAGS="-D warnings" cargo build` in CI.

## Fix safety
Safe: the program is the same; only the build stops failing on warnings.
"""


def check(ctx: Context, root: Node):
    for attr in nodes_containing(ctx.src.data, root, b"warnings", "inner_attribute_item"):
        if attr.has_error or attr.parent is None or attr.parent.type != "source_file":
            continue
        text = "".join(ctx.text(attr).split())
        if text not in ("#![deny(warnings)]", "#![forbid(warnings)]"):
            continue
        yield ctx.finding(
            attr,
            "`#![deny(warnings)]` turns tomorrow's new compiler warnings into build errors; deny warnings in CI (`-D warnings`) instead",
            fix=fix("Remove `#![deny(warnings)]`", delete_statement(ctx.src, attr)),
        )


RULE = Rule(
    name="deny_warnings_attr",
    group="build",
    summary="`#![deny(warnings)]` in the sources: new compiler warnings break the build",
    docs=DOCS,
    check=check,
    severity=Severity.WARNING,
    fix=FixKind.ALWAYS,
    source="https://corrode.dev/blog/tips-for-faster-rust-compile-times/",
    scope="file",
    needles=(b"warnings",),
)
