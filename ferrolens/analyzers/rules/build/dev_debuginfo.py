"""dev_debuginfo: full debug info in dev builds of a workspace that builds a lot."""

from __future__ import annotations

from ferrolens.analyzers.context import fix
from ferrolens.analyzers.manifest import ManifestContext, insert_in_table
from ferrolens.analyzers.model import Edit, Severity
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
At the workspace root, flags a `[profile.dev]` that asks for full debug info (`debug = true`, `2` or
`"full"`), and a workspace of ten or more packages that keeps the default (full debug info) for its dev
builds. Actions: `debug = "line-tables-only"`, `debug = false`, and, for the dependencies only,
`[profile.dev.package."*"] debug = false`.

## Why it matters
Generating and linking full debug info is a large share of a dev build: turning it off has cut dev
build times by 20-40% in measured projects. If you rarely step through code in a debugger, keep only
line tables (panics and backtraces still show file and line) or none; your dependencies seldom need it.

## Example
```toml
[profile.dev]
debug = true
```

## Use instead
```toml
[profile.dev]
debug = "line-tables-only"
```

## Fix safety
The actions change what the debugger can show, never what the program does; they are offered, not
applied by `--fix`.
"""

FULL = (True, 2, "full", "2")
LARGE = 10


def check(ctx: ManifestContext, _root):
    m, pkg = ctx.manifest, ctx.package
    if pkg.root_manifest is not None or m.get("workspace") is None and not m.get("package"):
        return
    debug = m.get("profile", "dev", "debug")
    entry = m.entries.get(("profile", "dev", "debug"))
    if debug in FULL and entry is not None and entry.value is not None:
        v = entry.value
        yield ctx.finding(
            entry.node,
            "full debug info makes every dev build slower (often 20-40%); `debug = \"line-tables-only\"` keeps file and line in backtraces",
            alternatives=[
                fix('Use `debug = "line-tables-only"`', Edit(v.start_byte, v.end_byte, '"line-tables-only"')),
                fix("Use `debug = false`", Edit(v.start_byte, v.end_byte, "false")),
            ],
        )
    elif debug is None and pkg.members >= LARGE and m.tables.get(("workspace",)) is not None:
        yield ctx.finding(
            m.tables[("workspace",)].key,
            f"this workspace of {pkg.members} packages builds full debug info in dev builds; line tables only would make them faster",
            alternatives=[
                fix('Add `debug = "line-tables-only"` to [profile.dev]', insert_in_table(m, ("profile", "dev"), 'debug = "line-tables-only"  # backtraces keep file and line; debuggers see less')),
                fix("Drop debug info of dependencies", insert_in_table(m, ("profile", "dev", "package", "*"), "debug = false  # your own crates keep it")),
            ],
        )


RULE = Rule(
    name="dev_debuginfo",
    group="build",
    summary="Full debug info in dev builds (explicit, or by default in a large workspace)",
    docs=DOCS,
    check=check,
    severity=Severity.HINT,
    fix=FixKind.SOMETIMES,
    source="https://nnethercote.github.io/perf-book/build-configuration.html",
    scope="manifest",
)
