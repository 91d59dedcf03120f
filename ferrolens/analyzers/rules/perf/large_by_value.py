"""large_by_value: a big value copied into a function that only reads it."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context
from ferrolens.analyzers.layout import MEMCPY, file_resolver, layout_of
from ferrolens.analyzers.model import Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.summary import impl_trait_name
from ferrolens.analyzers.syntax import identifiers, path_last, in_test_code

DOCS = """
## What it does
Flags a function parameter taken by value whose type is known to be 128 bytes or more (an array,
or a struct or enum of the same file whose size is known, see `large_enum_variant`) when the function
only reads it: it indexes it, reads fields of plain types, calls read-only methods (`len`, `iter`,
`get`, ...), borrows it or prints it. Trait methods (whose signature is the trait's) and `mut`
parameters are left alone.

## Why it matters
Passing by value copies the whole value at each call; above 128 bytes that copy is a `memcpy` call
rather than a few register moves, paid on every call, for a function that never needed its own copy.
A reference costs one word whatever the size.

## Example
```rust
fn checksum(block: [u8; 512]) -> u32 {
    block.iter().map(|&b| b as u32).sum()
}
```

## Use instead
```rust
fn checksum(block: &[u8; 512]) -> u32 {
    block.iter().map(|&b| b as u32).sum()
}
```

## No fix
Every caller must change too (`checksum(&block)`), so ferrolens leaves the edit to you (or to
rust-analyzer's "change signature" support).
"""

READ_METHODS = {
    "len", "is_empty", "iter", "get", "contains", "first", "last", "as_ref", "as_slice", "to_vec", "to_owned",
    "clone", "to_string", "starts_with", "ends_with", "eq", "ne", "cmp", "partial_cmp", "hash", "fmt", "chars",
    "bytes", "as_str", "as_bytes", "keys", "values", "contains_key", "windows", "chunks", "binary_search",
    "is_some", "is_none", "is_ok", "is_err", "as_ptr",
}
BORROWING_MACROS = {
    "println", "print", "eprintln", "eprint", "format", "write", "writeln", "assert", "assert_eq",
    "assert_ne", "debug_assert", "debug_assert_eq", "debug_assert_ne", "panic", "format_args",
}
PLAIN = {
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32", "f64",
    "char", "bool",
}


def _reads_only(ctx: Context, ident: Node, type_name: str) -> bool:
    parent = ident.parent
    if parent is None:
        return False
    pt = parent.type
    if pt == "index_expression" and parent.named_children and parent.named_children[0] == ident:
        return True
    if pt == "reference_expression" and not any(c.type == "mutable_specifier" for c in parent.children):
        return True
    if pt == "token_tree":
        macro = parent
        while macro is not None and macro.type == "token_tree":
            macro = macro.parent
        return macro is not None and macro.type == "macro_invocation" and path_last(ctx.text(macro.child_by_field_name("macro"))) in BORROWING_MACROS
    if pt == "field_expression" and parent.child_by_field_name("value") == ident:
        call = parent.parent
        field = ctx.text(parent.child_by_field_name("field"))
        if call is not None and call.type == "call_expression" and call.child_by_field_name("function") == parent:
            return field in READ_METHODS
        if call is not None and (
            (call.type == "index_expression" and call.named_children[0] == parent)
            or (call.type == "reference_expression" and not any(c.type == "mutable_specifier" for c in call.children))
        ):
            return True  # `m.cells[i]` (a move out of an index does not compile), `&m.cells`
        return ctx.summary.fields.get((type_name, field), "").strip() in PLAIN
    return False


def check(ctx: Context, item: Node):
    params = item.child_by_field_name("parameters")
    body = item.child_by_field_name("body")
    if params is None or body is None:
        return
    candidates = []  # parameters taken by value under a plain name
    for p in params.named_children:
        if p.type != "parameter":
            continue
        pattern, ty = p.child_by_field_name("pattern"), p.child_by_field_name("type")
        if pattern is None or ty is None or pattern.type != "identifier" or ty.type in ("reference_type", "pointer_type", "primitive_type"):
            continue
        candidates.append((p, pattern, ty))
    if not candidates or impl_trait_name(item, ctx.src.data) is not None or in_test_code(ctx.src, item):
        return
    if item.parent is not None and item.parent.type == "declaration_list" and item.parent.parent is not None and item.parent.parent.type == "trait_item":
        return
    resolve = None
    for p, pattern, ty in candidates:
        if resolve is None:
            resolve = file_resolver(ctx.summary)
        layout = layout_of(ctx.text(ty), resolve, ctx.summary.consts)
        if layout is None or layout.size < MEMCPY:
            continue
        name = ctx.text(pattern)
        uses = [n for n, text in identifiers(body, ctx.src.data) if text == name]
        if not uses or not all(_reads_only(ctx, u, ctx.text(ty)) for u in uses):
            continue
        yield ctx.finding(
            p,
            f"`{name}` is {layout.size} bytes, copied on every call, and the function only reads it; take `&{ctx.text(ty)}`",
        )


RULE = Rule(
    name="large_by_value",
    group="perf",
    summary="A parameter of 128 bytes or more is passed by value to a function that only reads it",
    docs=DOCS,
    check=check,
    severity=Severity.HINT,
    fix=FixKind.NONE,
    clippy="large_types_passed_by_value",
    source="https://nnethercote.github.io/perf-book/type-sizes.html",
    node_types=frozenset({"function_item"}),
    crate_wide=True,
)
