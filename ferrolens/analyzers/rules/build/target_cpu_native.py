"""target_cpu_native: `-C target-cpu=native` in a project's .cargo/config.toml."""

from __future__ import annotations

from ferrolens.analyzers.manifest import ManifestContext
from ferrolens.analyzers.model import Severity
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
Flags `target-cpu=native` in the `rustflags` of a project's `.cargo/config.toml` (`[build]` or
`[target.<triple>]`). Off by default.

## Why it matters
`native` tells the compiler to use every instruction the building machine has (AVX-512, BMI2...). That
can make hot loops faster, but the binary then dies with an illegal instruction on any CPU that lacks
one of them. In a config file that is committed, every build picks it up: CI, release builds, a
colleague's older laptop. Keep it for builds that run where they were made: `RUSTFLAGS="-C
target-cpu=native" cargo build --release` locally, or `~/.cargo/config.toml`, or name a baseline
such as `x86-64-v3` that you know your machines have.

## Example
```toml
[build]
rustflags = ["-C", "target-cpu=native"]
```

## Use instead
```toml
[build]
rustflags = ["-C", "target-cpu=x86-64-v3"]  # every machine we deploy to has AVX2
```
"""


def check(ctx: ManifestContext, _root):
    for entry, text in ctx.manifest.rustflags():
        if "target-cpu=native" not in "".join(text.split()).replace('","', "").replace('"', ""):
            continue
        yield ctx.finding(
            entry.node,
            "`target-cpu=native` in a shared config: every build (CI, releases) only runs on CPUs like the one that built it;"
            " set it for local builds only (RUSTFLAGS, ~/.cargo/config.toml) or name a baseline CPU",
        )


RULE = Rule(
    name="target_cpu_native",
    group="build",
    summary="`-C target-cpu=native` in a project's .cargo/config.toml: binaries that only run on the build machine's CPU",
    docs=DOCS,
    check=check,
    severity=Severity.HINT,
    default_enabled=False,
    fix=FixKind.NONE,
    source="https://nnethercote.github.io/perf-book/build-configuration.html",
    scope="cargo-config",
)
