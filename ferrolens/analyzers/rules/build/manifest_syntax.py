"""manifest_syntax: a Cargo.toml that is not valid TOML."""

from __future__ import annotations

from ferrolens.analyzers.manifest import ManifestContext
from ferrolens.analyzers.model import Severity
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
Reports a Cargo.toml that is not valid TOML, once, on the first broken spot,
with the parser's message. The other `build` rules do not run on such a file.

## Why it matters
Cargo refuses to build with a manifest it cannot read; the editor shows where while you type, before
`cargo` says it in a terminal.

## Example
```toml
[dependencies
serde = "1"
```

## Use instead
```toml
[dependencies]
serde = "1"
```
"""


def check(ctx: ManifestContext, _root):
    error = ctx.manifest.error
    if error is not None:
        start, end, message = error
        yield ctx.finding((start, end), f"this file is not valid TOML ({message}); Cargo cannot read it")


RULE = Rule(
    name="manifest_syntax",
    group="build",
    summary="A Cargo.toml that is not valid TOML",
    docs=DOCS,
    check=check,
    severity=Severity.ERROR,
    fix=FixKind.NONE,
    source="https://doc.rust-lang.org/cargo/reference/manifest.html",
    scope="toml",
)
