"""inline_always_large: `#[inline(always)]` on a function too big or recursive to inline well."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix, replace_node
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import attribute_text, outer_attributes, subtree

DOCS = """
## What it does
Flags `#[inline(always)]` on a function whose body has more than 30 statements (counted through
nested blocks), or on a function that calls itself.

## Why it matters
`#[inline(always)]` copies the body into every caller. For a small function on a hot path that
removes the call and lets the optimiser see through it; for a large one it multiplies the code
size (every call site grows by the whole body, in every crate that calls it), which costs
instruction cache, compile time and often speed, and it can stop the compiler from inlining the
small functions that would have paid off. A recursive function cannot be inlined into itself at all.
Plain `#[inline]` still makes the body available across crates and leaves the decision to the
compiler's cost model.

## Example
```rust
#[inline(always)]
fn parse_packet(buf: &[u8]) -> Packet {
    // ... 60 lines ...
}
```

## Use instead
```rust
#[inline]
fn parse_packet(buf: &[u8]) -> Packet {
    // ... 60 lines ...
}
```

## Fix safety
Safe: inline attributes are hints that never change what the program does.
"""

MAX_STATEMENTS = 30
STATEMENTS = {"expression_statement", "let_declaration"}


def _recursive(ctx: Context, fn: Node, name: str) -> bool:
    for n in subtree(fn.child_by_field_name("body")):
        if n.type != "call_expression":
            continue
        callee = ctx.text(n.child_by_field_name("function")).replace(" ", "")
        if callee in (name, f"Self::{name}", f"self.{name}"):
            return True
    return False


def check(ctx: Context, item: Node):
    attr = next((a for a in outer_attributes(item) if attribute_text(a) == "inline(always)"), None)
    body = item.child_by_field_name("body")
    if attr is None or body is None:
        return
    name = ctx.text(item.child_by_field_name("name"))
    statements = sum(1 for n in subtree(body) if n.type in STATEMENTS)
    if statements > MAX_STATEMENTS:
        why = f"`{name}` has {statements} statements"
    elif _recursive(ctx, item, name):
        why = f"`{name}` calls itself, so it cannot be inlined into itself"
    else:
        return
    yield ctx.finding(
        attr,
        f"`#[inline(always)]` on a large or recursive function: {why}; every caller gets a copy of the body."
        " Use `#[inline]` and let the compiler decide",
        fix=fix("Use `#[inline]`", replace_node(attr, "#[inline]")),
    )


RULE = Rule(
    name="inline_always_large",
    group="perf",
    summary="`#[inline(always)]` on a large or recursive function bloats every caller; use `#[inline]`",
    docs=DOCS,
    check=check,
    fix=FixKind.ALWAYS,
    clippy="inline_always",
    source="https://nnethercote.github.io/perf-book/inlining.html",
    node_types=frozenset({"function_item"}),
)
