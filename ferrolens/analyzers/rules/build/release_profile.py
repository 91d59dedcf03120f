"""release_profile: a binary's workspace root with no release tuning."""

from __future__ import annotations

from ferrolens.analyzers.context import fix
from ferrolens.analyzers.manifest import ManifestContext, insert_in_table
from ferrolens.analyzers.model import Severity
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
Flags the manifest at the root of a workspace (or of a lone package) that builds a binary (and no
library: a library's own profile only matters to its developers; nor a fuzzing or benchmark harness
kept inside another package's folder) and whose
`[profile.release]` sets none of `codegen-units`, `lto` and `panic`. It offers one action per setting,
each with a comment saying what it trades.

## Why it matters
Cargo reads profiles from the workspace root only, and its release defaults balance build time against
speed. For a program you ship, three lines usually buy more speed for a slower release build:
`codegen-units = 1` lets the optimiser see a whole crate at once, `lto = "fat"` lets it optimise across
crates (commonly 10-20% faster, smaller binaries), and `panic = "abort"` drops the unwinding code.
Measure with your benchmarks: each setting costs release build time.

## Example
```toml
[package]
name = "server"

[dependencies]
```

## Use instead
```toml
[profile.release]
codegen-units = 1  # one unit per crate: better code, slower release builds
lto = "fat"  # optimise across crates: faster, smaller binaries, much slower linking
```

## Fix safety
The actions are refactorings you pick (none is applied by `--fix`). `codegen-units` and `lto` change
only how the program is built. `panic = "abort"` is marked unsafe: a panic then ends the process at
once, so `catch_unwind` and unwinding destructors stop working.
"""

SETTINGS = (
    ("codegen-units", "codegen-units = 1  # one codegen unit: better optimised code, slower release builds", True),
    ("lto", 'lto = "fat"  # link-time optimisation across crates: faster, smaller binaries, slower linking', True),
    ("panic", 'panic = "abort"  # no unwinding: smaller and a little faster; catch_unwind stops working', False),
)


def check(ctx: ManifestContext, _root):
    m, pkg = ctx.manifest, ctx.package
    if pkg.root_manifest is not None or not pkg.bin_targets or pkg.lib_target or pkg.inside_package:
        return
    if m.get("package", "metadata", "cargo-fuzz") is True:
        return  # fuzz targets are built by cargo-fuzz with its own settings
    release = m.get("profile", "release") or {}
    if not isinstance(release, dict) or any(k in release for k, _, _ in SETTINGS):
        return
    anchor = m.tables.get(("profile", "release")) or m.tables.get(("package",))
    if anchor is None:
        return
    actions = [
        fix(f"Add `{line.split('  #')[0]}` to [profile.release]", insert_in_table(m, ("profile", "release"), line), safe=safe)
        for _key, line, safe in SETTINGS
    ]
    yield ctx.finding(
        anchor.key,
        "release builds of this binary use Cargo's default profile: `codegen-units = 1`, `lto` and `panic = \"abort\"`"
        " can make it faster (measure; each costs release build time)",
        alternatives=actions,
    )


RULE = Rule(
    name="release_profile",
    group="build",
    summary="A binary's workspace-root Cargo.toml with no release tuning (codegen-units, lto, panic)",
    docs=DOCS,
    check=check,
    severity=Severity.INFO,
    fix=FixKind.SOMETIMES,
    source="https://nnethercote.github.io/perf-book/build-configuration.html",
    scope="manifest",
)
