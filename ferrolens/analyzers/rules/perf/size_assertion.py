"""size_assertion (an assist): pin a type's size with a compile-time assertion."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context
from ferrolens.analyzers.layout import file_resolver, size_assertion
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
An action, not a diagnostic: on a struct or enum whose size ferrolens knows exactly, "Add a static
size assertion" inserts, right after the type,
`#[cfg(target_arch = "x86_64")] const _: () = assert!(std::mem::size_of::<T>() == N);`
with `N` the current size. It is offered only when every field's size is known for certain (see
`large_enum_variant` for what is counted); generic types, `#[repr]` types and types with foreign
fields get no action.

## Why it matters
For a type that is created or copied in hot code, its size is part of its performance: a field
added in passing can push it over a cache line or over the 128 bytes above which moves become
`memcpy` calls, and nobody notices until a profile does. The assertion turns that regression into a
compile error at the moment it happens. It is restricted to x86_64 because sizes differ between
targets (pointer width, alignment of 128-bit integers).

## Example
```rust
struct Token {
    kind: u8,
    start: u32,
    len: u32,
}
```

## Use instead
```rust
struct Token {
    kind: u8,
    start: u32,
    len: u32,
}

#[cfg(target_arch = "x86_64")]
const _: () = assert!(std::mem::size_of::<Token>() == 12);
```
"""


def check(ctx: Context, item: Node):
    name_node = item.child_by_field_name("name")
    name = ctx.text(name_node)
    if item.child_by_field_name("type_parameters") is not None:
        return
    if name in ctx.summary.asserted:
        return  # a `const` of the file asserts its size already
    layout = file_resolver(ctx.summary)(name, 0)
    if layout is None or layout.size == 0:
        return
    yield ctx.finding(name_node, f"`{name}` is {layout.size} bytes", fix=size_assertion(ctx, item, name, layout))


RULE = Rule(
    name="size_assertion",
    group="perf",
    summary="An action that pins a type's size with a compile-time assertion",
    docs=DOCS,
    check=check,
    fix=FixKind.ALWAYS,
    source="https://nnethercote.github.io/perf-book/type-sizes.html",
    node_types=frozenset({"struct_item", "enum_item"}),
    assist=True,
    crate_wide=True,
)
