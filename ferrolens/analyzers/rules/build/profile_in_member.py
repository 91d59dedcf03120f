"""profile_in_member: a [profile.*] table in a workspace member, which Cargo ignores."""

from __future__ import annotations

from ferrolens.analyzers.manifest import ManifestContext
from ferrolens.analyzers.model import Applicability, Edit, FileEdit, Fix, Related
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.tomledit import has_table

DOCS = """
## What it does
Flags `[profile.*]` tables in the Cargo.toml of a workspace member. Cargo reads profiles from the
workspace root manifest only and warns that it ignores these.

## Why it matters
The settings look active and are not: a `[profile.release] lto = true` in a member builds exactly as
without it. Either move the table to the root (where it applies to the whole workspace) or delete it.

## Example
```toml
# crates/server/Cargo.toml
[profile.release]
lto = true
```

## Use instead
```toml
# Cargo.toml (the workspace root)
[profile.release]
lto = true
```

## Fix safety
Unsafe: moving the table makes its settings take effect, for every package of the workspace. Offered
when the root has no table of that name yet; the table's text moves unchanged.
"""


def check(ctx: ManifestContext, _root):
    m, pkg = ctx.manifest, ctx.package
    if pkg.root_manifest is None:
        return
    for path, entry in sorted(m.tables.items()):
        if len(path) < 2 or path[0] != "profile":
            continue
        name = ".".join(path)
        start, end = m.line_span(entry.node)
        moved = m.data[start:end].decode("utf-8")
        actions = []
        if pkg.root_text is not None and not has_table(pkg.root_text, path):
            sep = "" if pkg.root_text.endswith("\n\n") or not pkg.root_text else ("\n" if pkg.root_text.endswith("\n") else "\n\n")
            actions.append(
                Fix(
                    Applicability.UNSAFE,
                    f"Move [{name}] to the workspace root",
                    (Edit(start, end, ""),),
                    (FileEdit(pkg.root_manifest, pkg.root_text, pkg.root_text + sep + moved.rstrip("\n") + "\n"),),
                )
            )
        yield ctx.finding(
            entry.key,
            f"Cargo ignores [{name}] here: profiles count only in the workspace root's Cargo.toml",
            alternatives=actions,
            related=[Related(0, 0, "the workspace root", pkg.root_manifest)],
        )


RULE = Rule(
    name="profile_in_member",
    group="build",
    summary="A [profile.*] table in a workspace member's Cargo.toml (Cargo ignores it)",
    docs=DOCS,
    check=check,
    fix=FixKind.UNSAFE,
    source="https://nnethercote.github.io/perf-book/build-configuration.html",
    scope="manifest",
)
