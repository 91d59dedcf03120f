"""inline_always_large: `#[inline(always)]` on a function too big or recursive to inline well."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix, replace_node
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.summary import impl_trait_name, impl_type_name
from ferrolens.analyzers.syntax import attribute_text, is_generic_fn, nodes_containing, outer_attributes, subtree

DOCS = """
## What it does
Flags `#[inline(always)]` on a function that calls itself, or on one whose body has more than 30
statements (counted through nested blocks) and that is called from two or more places in its file.
Deliberate uses are left alone: an attribute with an explaining comment on its line, `unsafe` and
generic functions (SIMD kernels and specialisation through inlining rely on it), trait methods, and
functions with a single call site (inlining those copies nothing).

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


def _recursive(ctx: Context, fn: Node, name: str, method: bool) -> bool:
    """A free fn calling `name(..)`, or a method calling `Self::name(..)`. (`self.name(..)` in an impl
    is often a delegation to another impl's method of the same name, so it does not count.)"""
    wanted = f"Self::{name}" if method else name
    for n in subtree(fn.child_by_field_name("body")):
        if n.type == "call_expression" and ctx.text(n.child_by_field_name("function")).replace(" ", "") == wanted:
            return True
    return False


def _call_sites(data: bytes, name: str) -> int:
    return len(re.findall(rb"(?<![A-Za-z0-9_])" + re.escape(name.encode()) + rb"\s*(?:::<[^>]*>)?\s*\(", data)) - len(
        re.findall(rb"\bfn\s+" + re.escape(name.encode()) + rb"\b", data)
    )


def _inline_always_fns(data: bytes, root: Node):
    """The functions an `#[inline(always)]` stands before, found from the text's occurrences (a file
    rule runs on every keystroke: no walk over every function of a big file)."""
    seen = set()
    for attr in nodes_containing(data, root, b"inline(always)", "attribute_item"):
        item = attr.next_named_sibling
        while item is not None and item.type in ("attribute_item", "line_comment", "block_comment"):
            item = item.next_named_sibling
        body = item.child_by_field_name("body") if item is not None and item.type == "function_item" else None
        if body is not None and item.id not in seen:
            seen.add(item.id)
            yield item, body


def check(ctx: Context, root: Node):
    data = ctx.src.data
    for item, body in _inline_always_fns(data, root):
        attr = next((a for a in outer_attributes(item) if attribute_text(a) == "inline(always)"), None)
        if attr is None:
            continue
        name = ctx.text(item.child_by_field_name("name"))
        method = impl_type_name(item, data) is not None
        if _recursive(ctx, item, name, method):
            why = f"`{name}` calls itself, so it cannot be inlined into itself"
        else:
            statements = sum(1 for n in subtree(body) if n.type in STATEMENTS)
            if statements <= MAX_STATEMENTS or not _plain_copy(ctx, item, attr, method):
                continue
            sites = _call_sites(data, name)
            if sites < 2:
                continue  # one call site: inlining it duplicates nothing
            why = f"`{name}` has {statements} statements and {sites} call sites in this file"
        yield ctx.finding(
            attr,
            f"`#[inline(always)]` on a large or recursive function: {why}; every caller gets a copy of the body."
            " Use `#[inline]` and let the compiler decide",
            fix=fix("Use `#[inline]`", replace_node(attr, "#[inline]")),
        )


def _plain_copy(ctx: Context, item: Node, attr: Node, method: bool) -> bool:
    """Not one of the deliberate uses: an explained attribute (`#[inline(always)] // const-prop`), an
    `unsafe` or generic fn (SIMD kernels, specialisation through inlining), a trait method."""
    data = ctx.src.data
    line_end = data.find(b"\n", attr.end_byte)
    rest = data[attr.end_byte : line_end if line_end >= 0 else len(data)]
    if b"//" in rest and b"//~" not in rest:  # (`//~` marks a test fixture's expected finding)
        return False
    mods = next((c for c in item.children if c.type == "function_modifiers"), None)
    if mods is not None and any(c.type == "unsafe" for c in mods.children):
        return False
    return not is_generic_fn(item) and not (method and impl_trait_name(item, data) is not None)


RULE = Rule(
    name="inline_always_large",
    group="perf",
    summary="`#[inline(always)]` on a large or recursive function bloats every caller; use `#[inline]`",
    docs=DOCS,
    check=check,
    fix=FixKind.ALWAYS,
    clippy="inline_always",
    source="https://nnethercote.github.io/perf-book/inlining.html",
    scope="file",
    needles=(b"inline(always)",),
)
