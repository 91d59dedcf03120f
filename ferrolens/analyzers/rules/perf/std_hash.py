"""std_hash: std's SipHash maps in a crate that chose a faster hasher."""

from __future__ import annotations

from pathlib import PurePath

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix
from ferrolens.analyzers.model import Applicability, Edit, FileEdit, Fix
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import ancestors, in_test_code
from ferrolens.analyzers.tomledit import add_disallowed_types

DOCS = """
## What it does
Flags `std::collections::HashMap` and `HashSet` (imported with `use`) in a crate whose `Cargo.toml`
already depends on a faster hasher (`rustc-hash`, `fxhash`, `ahash`, `foldhash`), or in a file that
already uses one. Elsewhere it stays quiet, unless you select it by name (`--select std_hash`, or
`"select": ["std_hash"]`), which flags every such import.

## Why it matters
The standard maps hash with SipHash 1-3 and a random key: solid protection against an attacker who
picks keys to make every insert collide (HashDoS), and slow, above all for the short keys (integers,
small strings) most maps hold. `FxHashMap` and `FxHashSet` from `rustc-hash` are drop-in replacements
whose hash is a few instructions; rustc measured up to twofold slowdowns when going back to the default.
Once a crate depends on a fast hasher, every std map left over is usually an oversight.

Keep SipHash for maps whose keys come from outside (network input, user-supplied names): there the
attack protection is the point. Clippy's `disallowed-types` setting in `clippy.toml` keeps the choice
enforced once made:
```toml
disallowed-types = [
    { path = "std::collections::HashMap", reason = "use rustc_hash::FxHashMap" },
    { path = "std::collections::HashSet", reason = "use rustc_hash::FxHashSet" },
]
```

## Example
```rust
use std::collections::HashMap;

let mut counts: HashMap<u32, usize> = HashMap::new();
```

## Use instead
```rust
use rustc_hash::FxHashMap;

let mut counts: FxHashMap<u32, usize> = FxHashMap::default();
```

## Fix safety
Unsafe: it changes the hash function (the HashDoS protection is gone and iteration order changes).
Offered when the crate depends on `rustc-hash` or `fxhash`: the import is replaced, every
`HashMap` of the file becomes `FxHashMap`, `new()` becomes `default()` and `with_capacity(n)` becomes
`with_capacity_and_hasher(n, Default::default())`. Files that call other constructors (`from`) get
the diagnostic without a fix.

A second action (editor only) adds both types to `disallowed-types` in the `clippy.toml` Clippy reads
for the crate (the nearest one at or above the crate root, else a new one beside `Cargo.toml`),
keeping the rest of the file as it was.
"""

FAST = {"rustc_hash": "rustc_hash", "fxhash": "fxhash", "ahash": "ahash", "foldhash": "foldhash"}
FIXABLE = ("rustc_hash", "fxhash")
STD = {"HashMap": "std::collections::HashMap", "HashSet": "std::collections::HashSet"}
CTORS = {"new": "default()", "default": "default()"}


ALTERNATIVE = {
    "rustc_hash": "`rustc_hash::Fx{name}`",
    "fxhash": "`fxhash::Fx{name}`",
    "ahash": "`ahash::A{name}`",
    "foldhash": "`foldhash::{name}`",
}
GENERICS = {"HashMap": 2, "HashSet": 1}  # type arguments of the default-hasher form


def _default_hasher_used(ctx: Context, root: Node, name: str) -> bool:
    """Some use of `name` takes the default hasher: `HashMap<K, V>`, `HashMap::new()`, ..."""
    for use in _uses_of(ctx, root, name):
        parent = use.parent
        if parent is None:
            continue
        if parent.type == "generic_type":
            args = parent.child_by_field_name("type_arguments")
            n = sum(1 for c in args.named_children if c.type not in ("lifetime", "line_comment", "block_comment")) if args is not None else 0
            if n <= GENERICS[name]:
                return True
        elif parent.type == "scoped_identifier" and ctx.text(parent.child_by_field_name("name")) in ("new", "with_capacity"):
            return True
    return False


def _fast_hasher(ctx: Context) -> str | None:
    if ctx.crate is not None and ctx.crate.name in FAST:
        return None  # the hasher crate itself
    deps = ctx.crate.dependencies if ctx.crate is not None else frozenset()
    for name in (*FIXABLE, "ahash", "foldhash"):
        if name in deps or name in ctx.summary.crates:
            return name
    return None


def _uses_of(ctx: Context, root: Node, name: str) -> list[Node]:
    out = []
    for m in ctx.matches(f'((type_identifier) @t (#eq? @t "{name}"))', root):
        out.extend(m["t"])
    for m in ctx.matches(f'((identifier) @t (#eq? @t "{name}"))', root):
        out.extend(m["t"])
    return [n for n in out if not any(a.type == "use_declaration" for a in ancestors(n))]


def _rewrite(ctx: Context, root: Node, decl: Node, ident: Node, name: str, crate: str) -> list[Edit] | None:
    fast = "Fx" + name
    edits = []
    for use in _uses_of(ctx, root, name):
        parent = use.parent
        if parent is not None and parent.type == "scoped_identifier" and parent.child_by_field_name("path") == use:
            call = parent.parent
            method = ctx.text(parent.child_by_field_name("name"))
            if call is None or call.type != "call_expression":
                return None
            args = call.child_by_field_name("arguments")
            if method in CTORS:
                edits.append(Edit(call.start_byte, call.end_byte, f"{fast}::default()"))
            elif method == "with_capacity" and args is not None and args.named_child_count == 1:
                edits.append(Edit(parent.start_byte, args.end_byte, f"{fast}::with_capacity_and_hasher({ctx.text(args.named_children[0])}, Default::default())"))
            elif method == "from_iter":
                edits.append(Edit(use.start_byte, use.end_byte, fast))
            else:
                return None
        else:
            edits.append(Edit(use.start_byte, use.end_byte, fast))
    new_use = f"use {crate}::{fast};"
    lst = ident.parent
    items = [c for c in lst.named_children if c.type not in ("line_comment", "block_comment")] if lst is not None and lst.type == "use_list" else []
    if len(items) > 1:
        i = items.index(ident)
        cut = Edit(ident.start_byte, items[i + 1].start_byte, "") if i + 1 < len(items) else Edit(items[i - 1].end_byte, ident.end_byte, "")
        indent = ctx.line_indent(decl.start_byte)
        edits += [cut, Edit(decl.end_byte, decl.end_byte, f"\n{indent}{new_use}")]
    else:
        edits.append(Edit(decl.start_byte, decl.end_byte, new_use))
    return edits


def _clippy_companion(ctx: Context, crate: str | None) -> Fix | None:
    """Write the choice into Clippy's config, so new std maps are caught by `cargo clippy` too."""
    if ctx.crate is None or not ctx.crate.clippy_toml:
        return None
    use = ALTERNATIVE[crate or "rustc_hash"]
    entries = [(STD[name], f"SipHash is slow for short keys: use {use.format(name=name)} (keep std's for untrusted keys, with an allow)") for name in STD]
    new = add_disallowed_types(ctx.crate.clippy_toml_text, entries)
    if new is None:
        return None
    verb = "Add" if ctx.crate.clippy_toml_text is None else "Update"
    name = PurePath(ctx.crate.clippy_toml).name
    return Fix(Applicability.SAFE, f"{verb} {name}: forbid std's HashMap and HashSet (Clippy disallowed-types)", (), (FileEdit(ctx.crate.clippy_toml, ctx.crate.clippy_toml_text, new),))


def check(ctx: Context, root: Node):
    if ctx.src.path and in_test_code(ctx.src, root):
        return
    crate = _fast_hasher(ctx)
    if crate is None and ctx.rule not in ctx.explicit:
        return
    imports = ctx.summary.imports
    companion = None
    for decl in root.children:
        if decl.type != "use_declaration" or decl.has_error:
            continue
        for m in ctx.matches('((identifier) @id (#match? @id "^Hash(Map|Set)$"))', decl):
            ident = m["id"][0]
            name = ctx.text(ident)
            if imports.get(name) != STD[name] or (ident.parent is not None and ident.parent.type == "use_as_clause"):
                continue
            if not _default_hasher_used(ctx, root, name):
                continue  # every use names its own hasher (`HashMap<K, V, S>`)
            edits = _rewrite(ctx, root, decl, ident, name, crate) if crate in FIXABLE else None
            why = f"this crate already uses `{crate}`" if crate else "std_hash is selected"
            companion = companion or _clippy_companion(ctx, crate)
            yield ctx.finding(
                ident,
                f"std's `{name}` hashes with SipHash, slow for short keys ({why}); use {ALTERNATIVE[crate or 'rustc_hash'].format(name=name)}"
                " unless its keys come from untrusted input",
                fix=fix(f"Use `{crate}::Fx{name}` in this file", *edits, safe=False) if edits else None,
                alternatives=(companion,) if companion else (),
            )


RULE = Rule(
    name="std_hash",
    group="perf",
    summary="std's SipHash `HashMap`/`HashSet` in a crate that already depends on a faster hasher",
    docs=DOCS,
    check=check,
    fix=FixKind.UNSAFE,
    clippy="disallowed_types",
    source="https://nnethercote.github.io/perf-book/hashing.html",
    scope="file",
    needles=(b"HashMap", b"HashSet"),
)
