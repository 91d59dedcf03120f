"""missing_inline_cross_crate: a tiny public function of a library, not inlinable by other crates."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix
from ferrolens.analyzers.model import Edit, Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.summary import impl_trait_name, impl_type_name
from ferrolens.analyzers.syntax import attribute_text, is_async_fn, is_generic_fn, outer_attributes, subtree

DOCS = """
## What it does
In a library crate (a file of the crate's `lib` target, known from its `Cargo.toml`; not a proc-macro
crate), in a module other crates can reach (`pub mod` from `lib.rs` down), flags a `pub fn` (free, or
in an inherent `impl` of a public type) whose body is a single short expression or statement, with no
inline attribute and no generic parameters. Off by default.

## Why it matters
Without link-time optimisation, the compiler can inline a function into another crate only if its
body is available there: generic functions (instantiated in the caller's crate) and functions
marked `#[inline]` are; a plain non-generic function is compiled once into the library and every call
from a dependent crate is a real call, even for a one-line getter. On a hot path in the caller, that
call costs more than the work it does. `#[inline]` exports the body, and the caller's compiler then
decides. Inside the crate nothing changes.

## Example
```rust
impl Point {
    pub fn x(&self) -> f64 {
        self.x
    }
}
```

## Use instead
```rust
impl Point {
    #[inline]
    pub fn x(&self) -> f64 {
        self.x
    }
}
```

## Fix safety
Safe: `#[inline]` is a hint; behaviour is unchanged (compile times of dependent crates grow slightly).
"""

MAX_BODY_NODES = 24  # named nodes in the body: a field read, a small expression, one call


def _private_type(data: bytes, name: str) -> bool:
    """The file declares `name` without `pub`."""
    n = re.escape(name.encode())
    declared = re.search(rb"\b(?:struct|enum|union|trait)\s+" + n + rb"\b", data)
    return bool(declared) and not re.search(rb"\bpub\s+(?:struct|enum|union|trait)\s+" + n + rb"\b", data)


def check(ctx: Context, item: Node):
    if ctx.crate is None or not ctx.crate.public:
        return
    vis = next((c for c in item.children if c.type == "visibility_modifier"), None)
    body = item.child_by_field_name("body")
    if vis is None or ctx.text(vis) != "pub" or body is None:
        return
    if is_generic_fn(item) or is_async_fn(item) or impl_trait_name(item, ctx.src.data) is not None:
        return
    if any(a.startswith(("inline", "cold", "test", "no_mangle", "export_name", "proc_macro")) for a in map(attribute_text, outer_attributes(item))):
        return
    parent = item.parent
    if parent is not None and parent.type == "declaration_list" and parent.parent is not None and parent.parent.type == "impl_item":
        if parent.parent.child_by_field_name("type_parameters") is not None:
            return  # a generic impl's methods are instantiated by the caller already
        owner = impl_type_name(item, ctx.src.data)
        if owner and _private_type(ctx.src.data, owner):
            return  # a method of a type other crates cannot name
    statements = [c for c in body.named_children if c.type not in ("line_comment", "block_comment")]
    if len(statements) != 1 or sum(1 for _ in subtree(body)) > MAX_BODY_NODES * 2:
        return
    if sum(1 for n in subtree(body) if n.is_named) > MAX_BODY_NODES:
        return
    name = ctx.text(item.child_by_field_name("name"))
    indent = ctx.line_indent(item.start_byte)
    yield ctx.finding(
        item.child_by_field_name("name"),
        f"`{name}` is a one-line public function of a library: without `#[inline]`, other crates cannot inline it",
        fix=fix("Add `#[inline]`", Edit(item.start_byte, item.start_byte, f"#[inline]\n{indent}")),
    )


RULE = Rule(
    name="missing_inline_cross_crate",
    group="perf",
    summary="A tiny non-generic `pub fn` of a library lacks `#[inline]`, so other crates cannot inline it",
    docs=DOCS,
    check=check,
    severity=Severity.HINT,
    default_enabled=False,
    fix=FixKind.ALWAYS,
    clippy="missing_inline_in_public_items",
    source="https://nnethercote.github.io/perf-book/inlining.html",
    node_types=frozenset({"function_item"}),
)
