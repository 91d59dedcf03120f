"""zeroed_vec: a zero-filled Vec built in two steps instead of with `vec![0; n]`."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import LETS, Context, delete_statement, fix, lets, replace_node
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import is_method, is_pure, method_call, named_args, path_last, unparen

DOCS = """
## What it does
Flags a `Vec` that is created empty (`Vec::new()`, `Vec::with_capacity(..)`) and then, in the very next
statement, filled with zeros: `v.resize(n, 0)`, `v.extend(repeat(0).take(n))`, or a
`for _ in 0..n { v.push(0); }` loop.

## Why it matters
`vec![0; n]` asks the allocator for zeroed memory in one call (`calloc`), which on most systems hands out
pages that are already zero, so nothing has to be written at all. The two-step version allocates,
then writes every element, and the push loop also checks the capacity on every iteration.

## Example
```rust
let mut counts = Vec::with_capacity(n);
counts.resize(n, 0);
```

## Use instead
```rust
let mut counts = vec![0; n];
```

## Fix safety
Safe: the vector holds the same elements and capacity. The rule only fires when the capacity asked for
is the length filled (a larger capacity is usually reserved on purpose, for pushes that follow), the
capacity expression has no side effects (a name, a literal, a field, a `len()`), and the length does not
read the vector.
"""

ZERO = re.compile(r"^(?:0(?:\.0*)?|0\.)(?:_?(?:u8|u16|u32|u64|u128|usize|i8|i16|i32|i64|i128|isize|f32|f64))?$")


def _zero(ctx: Context, node: Node) -> str | None:
    node = unparen(node)
    text = ctx.text(node)
    return text if node.type in ("integer_literal", "float_literal") and ZERO.match(text.replace("_", "")) else None


def _fill(ctx: Context, stmt: Node, name: str) -> tuple[str, str] | None:
    """(zero, length) when `stmt` fills the empty vector `name` with n zeros."""
    if stmt.type == "expression_statement" and stmt.named_child_count == 1 and stmt.named_children[0].type == "call_expression":
        expr = stmt.named_children[0]
        mc = method_call(expr)
        if mc is None or ctx.text(unparen(mc.receiver)) != name:
            return None
        if mc.name == "resize" and len(mc.args) == 2:
            zero = _zero(ctx, mc.args[1])
            return (zero, ctx.text(mc.args[0])) if zero else None
        if mc.name == "extend" and len(mc.args) == 1:
            arg = unparen(mc.args[0])
            take = is_method(arg, "take")
            if take is not None and len(take.args) == 1:
                rep = unparen(take.receiver)
                if rep.type == "call_expression" and path_last(ctx.text(rep.child_by_field_name("function"))) == "repeat":
                    rargs = named_args(rep.child_by_field_name("arguments"))
                    zero = _zero(ctx, rargs[0]) if len(rargs) == 1 else None
                    return (zero, ctx.text(take.args[0])) if zero else None
            if arg.type == "call_expression" and path_last(ctx.text(arg.child_by_field_name("function"))) == "repeat_n":
                rargs = named_args(arg.child_by_field_name("arguments"))
                zero = _zero(ctx, rargs[0]) if len(rargs) == 2 else None
                return (zero, ctx.text(rargs[1])) if zero else None
        return None
    loop = stmt.named_children[0] if stmt.type == "expression_statement" and stmt.named_child_count == 1 else stmt
    if loop.type != "for_expression":
        return None
    pat, rng, body = (loop.child_by_field_name(f) for f in ("pattern", "value", "body"))
    if pat is None or ctx.text(pat) != "_" or rng is None or rng.type != "range_expression" or body is None:
        return None
    parts = rng.named_children
    if len(parts) != 2 or ctx.text(parts[0]) != "0" or rng.child(1) is None or rng.child(1).type != "..":
        return None
    stmts = [c for c in body.named_children if c.type not in ("line_comment", "block_comment")]
    if len(stmts) != 1:
        return None
    inner = stmts[0].named_children[0] if stmts[0].type == "expression_statement" and stmts[0].named_child_count else stmts[0]
    mc = is_method(inner, "push")
    if mc is None or ctx.text(unparen(mc.receiver)) != name or len(mc.args) != 1:
        return None
    zero = _zero(ctx, mc.args[0])
    return (zero, ctx.text(parts[1])) if zero else None


def _next_statement(node: Node) -> Node | None:
    sib = node.next_named_sibling
    # a trailing comment on the same line is fine; a comment line in between: leave the code as written
    while sib is not None and sib.type in ("line_comment", "block_comment") and sib.start_point[0] == node.end_point[0]:
        sib = sib.next_named_sibling
    return None if sib is None or sib.type in ("line_comment", "block_comment") else sib


def check(ctx: Context, item: Node):
    for m in lets(ctx, item, mutable=True, value="call_expression"):
        let, value, name = m["let"][0], m["value"][0], ctx.text(m["name"][0])
        func = value.child_by_field_name("function")
        path = ctx.text(func).replace(" ", "")
        if path not in ("Vec::new", "Vec::with_capacity", "std::vec::Vec::new", "std::vec::Vec::with_capacity"):
            continue
        args = named_args(value.child_by_field_name("arguments"))
        if args and not is_pure(args[0], forbid=("closure_expression", "block")):
            continue
        stmt = _next_statement(let)
        filled = _fill(ctx, stmt, name) if stmt is not None else None
        if filled is None:
            continue
        zero, length = filled
        if args and re.sub(r"\s+", "", ctx.text(args[0])) != re.sub(r"\s+", "", length):
            continue  # a larger capacity reserved on purpose would be lost
        if _mentions_text(length, name):
            continue
        replacement = f"vec![{zero}; {length}]"
        yield ctx.finding(
            (let.start_byte, stmt.end_byte),
            f"`{name}` is allocated, then filled with zeros element by element; `{replacement}` gets zeroed memory in one step",
            fix=fix(
                f"Use `{replacement}`",
                replace_node(value, replacement),
                delete_statement(ctx.src, stmt),
            ),
        )


def _mentions_text(expr: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", expr) is not None


RULE = Rule(
    name="zeroed_vec",
    group="perf",
    summary="A Vec filled with zeros after allocation; `vec![0; n]` allocates zeroed memory directly",
    docs=DOCS,
    check=check,
    fix=FixKind.ALWAYS,
    clippy="slow_vector_initialization",
    source="https://nnethercote.github.io/perf-book/heap-allocations.html#vec",
    needles=(b"Vec::",),
    queries=(LETS,),
)
