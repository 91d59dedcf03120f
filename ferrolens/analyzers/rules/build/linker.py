"""linker: a project's .cargo/config.toml that picks a slow linker (GNU ld.bfd or gold)."""

from __future__ import annotations

import re

from ferrolens.analyzers.context import fix
from ferrolens.analyzers.manifest import ManifestContext
from ferrolens.analyzers.model import Edit, Severity
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
Flags `-fuse-ld=bfd` or `-fuse-ld=gold` in the `rustflags` of a project's `.cargo/config.toml` and
offers `-fuse-ld=lld` instead. Off by default.

## Why it matters
After a small change most of an incremental build is linking. GNU ld (bfd) and gold are the slowest
linkers around; lld (the default on x86_64 Linux since Rust 1.90) and mold link the same objects many
times faster, and the choice of linker does not change the program.

## Example
```toml
[target.x86_64-unknown-linux-gnu]
rustflags = ["-C", "link-arg=-fuse-ld=gold"]
```

## Use instead
```toml
[target.x86_64-unknown-linux-gnu]
rustflags = ["-C", "link-arg=-fuse-ld=lld"]
```

## Fix safety
Unsafe: lld has to be installed where the project is built (`mold` works the same way with
`-fuse-ld=mold`).
"""

_SLOW = re.compile(r"-fuse-ld=(bfd|gold)\b")


def check(ctx: ManifestContext, _root):
    for entry, text in ctx.manifest.rustflags():
        found = _SLOW.search(text)
        if found is None:
            continue
        at = entry.value.start_byte + len(text[: found.start()].encode("utf-8"))
        yield ctx.finding(
            entry.node,
            f"`{found.group(0)}` links with {'GNU ld' if found.group(1) == 'bfd' else 'gold'}, among the slowest linkers: lld or mold link many times faster",
            fix=fix("Link with lld", Edit(at, at + len(found.group(0).encode("utf-8")), "-fuse-ld=lld"), safe=False),
        )


RULE = Rule(
    name="linker",
    group="build",
    summary="A .cargo/config.toml that links with GNU ld (bfd) or gold; lld and mold are much faster",
    docs=DOCS,
    check=check,
    severity=Severity.HINT,
    default_enabled=False,
    fix=FixKind.UNSAFE,
    source="https://nnethercote.github.io/perf-book/build-configuration.html",
    scope="cargo-config",
)
