"""chunks_exact: `chunks(N)` where every chunk is full, or could be handled as such."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import CALLS, Context, fix, replace_node
from ferrolens.analyzers.model import Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import enclosing_function, identifiers, is_method, method_call, unparen
from ferrolens.analyzers.types import find_binding, value_type

DOCS = """
## What it does
Flags `chunks(N)`, `rchunks(N)`, `chunks_mut(N)` and `rchunks_mut(N)` with a constant chunk size.
When the length is provably a multiple of `N` (an array whose declared length `N` divides, or an
`assert!(x.len() % N == 0)` earlier in the function), it offers the `_exact` variant as a fix.
Otherwise, when the receiver is evidently a slice, `Vec` or array and the chunks are indexed with
constants where they are consumed (`c[0]`), it is a hint: `chunks_exact(N)` plus `remainder()` for the
tail.

## Why it matters
With `chunks`, every chunk may be shorter than `N`, so the compiler cannot drop bounds checks on
`chunk[i]` or unroll loops over the chunk. `chunks_exact` promises exactly `N` elements per chunk and
hands the leftover over separately, which usually turns the loop body into straight-line code.

## Example
```rust
let pixels: [u8; 12] = read();
for px in pixels.chunks(4) {
    sum += px[0] as u32 + px[3] as u32;
}
```

## Use instead
```rust
for px in pixels.chunks_exact(4) {
    sum += px[0] as u32 + px[3] as u32;
}
```

## Fix safety
The rename is offered only when no chunk can be short, so the same chunks come out: safe. Without that
proof, `chunks_exact` would skip a short tail, so only the hint is given.
"""

METHODS = {"chunks": "chunks_exact", "rchunks": "rchunks_exact", "chunks_mut": "chunks_exact_mut", "rchunks_mut": "rchunks_exact_mut"}
_ARRAY_LEN = re.compile(r"^\[.*;\s*(\d+)(?:_?usize)?\s*\]$", re.S)


def _constant(ctx: Context, node: Node) -> str | None:
    node = unparen(node)
    text = ctx.text(node)
    if node.type == "integer_literal":
        return text
    if node.type in ("identifier", "scoped_identifier") and text.split("::")[-1].isupper():
        return text
    return None


def _int(text: str) -> int | None:
    m = re.match(r"^(\d+)(?:_?usize)?$", text.replace("_", ""))
    return int(m.group(1)) if m else None


def _known_length(ctx: Context, recv: Node) -> int | None:
    recv = unparen(recv)
    if recv.type == "reference_expression":
        recv = unparen(recv.child_by_field_name("value"))
    if recv.type != "identifier":
        return None
    decl = find_binding(ctx, ctx.text(recv), recv)
    ty = decl.child_by_field_name("type") if decl is not None else None
    if ty is None:
        return None
    text = ctx.text(ty).lstrip("&").strip()
    if text.startswith("mut "):
        text = text[4:]
    m = _ARRAY_LEN.match(text)
    return int(m.group(1)) if m else None


def _asserted_multiple(ctx: Context, call: Node, recv: Node, size: str) -> bool:
    """An `assert!(recv.len() % size == 0)` before the call in the same function."""
    fn = enclosing_function(call)
    if fn is None:
        return False
    want = re.sub(r"\s+", "", f"{ctx.text(recv)}.len()%{size}==0")
    for m in ctx.matches('(macro_invocation macro: (identifier) @m (#match? @m "^(debug_)?assert$")) @a', fn):
        a = m["a"][0]
        if a.end_byte > call.start_byte:
            continue
        body = re.sub(r"\s+", "", ctx.text(a.named_children[-1]))[1:-1]
        if body == want or body == f"0=={want.rsplit('==', 1)[0]}":
            return True
    return False


def _indexes_chunk(ctx: Context, call: Node) -> bool:
    """The chunks are indexed with constants (`c[0]`) where they are consumed: what `_exact` speeds up."""
    parent = call.parent
    name = body = None
    if parent is not None and parent.type == "for_expression" and parent.child_by_field_name("value") == call:
        pat, body = parent.child_by_field_name("pattern"), parent.child_by_field_name("body")
        name = ctx.text(pat) if pat is not None and pat.type == "identifier" else None
    else:
        consumer = method_call(parent.parent) if parent is not None and parent.type == "field_expression" else None
        clo = unparen(consumer.args[0]) if consumer is not None and consumer.args else None
        if clo is not None and clo.type == "closure_expression":
            params = clo.child_by_field_name("parameters")
            pats = params.named_children if params is not None else []
            name = ctx.text(pats[0]) if len(pats) == 1 and pats[0].type == "identifier" else None
            body = clo.child_by_field_name("body")
    if name is None or body is None:
        return False
    for ident, text in identifiers(body, ctx.src.data):
        p = ident.parent
        if text == name and p is not None and p.type == "index_expression" and p.named_children[0] == ident:
            if unparen(p.named_children[-1]).type == "integer_literal":
                return True
    return False


def check(ctx: Context, item: Node):
    for m in ctx.matches(CALLS, item):
        call = m["call"][0]
        mc = is_method(call, *METHODS)
        if mc is None or len(mc.args) != 1:
            continue
        size = _constant(ctx, mc.args[0])
        if size is None:
            continue
        n = _int(ctx.summary.consts.get(size, "") if size[:1].isalpha() else size)
        if n == 0:
            continue
        exact = METHODS[mc.name]
        length = _known_length(ctx, mc.receiver)
        proven = (n is not None and length is not None and length % n == 0) or _asserted_multiple(ctx, call, mc.receiver, size)
        if proven:
            yield ctx.finding(
                mc.name_node,
                f"every chunk has exactly {size} elements here; `{exact}` lets the compiler drop bounds checks",
                fix=fix(f"Use `{exact}`", replace_node(mc.name_node, exact)),
            )
        elif _slice_like(ctx, mc.receiver) and _indexes_chunk(ctx, call):
            yield ctx.finding(
                mc.name_node,
                f"the chunks are indexed, and each bounds check stays because the last chunk may be short; "
                f"`{exact}({size})` plus `remainder()` for the tail lets the compiler drop them",
                severity=Severity.HINT,
            )


def _slice_like(ctx: Context, recv: Node) -> bool:
    recv = unparen(recv)
    if is_method(recv, "as_bytes", "as_slice", "as_mut_slice", "as_bytes_mut") is not None:
        return True
    return value_type(ctx, recv) in ("Vec", "array", "slice")


RULE = Rule(
    name="chunks_exact",
    group="perf",
    summary="`chunks(N)` with a constant `N`; `chunks_exact` gives full chunks and cheaper indexing",
    docs=DOCS,
    check=check,
    fix=FixKind.SOMETIMES,
    source="https://nnethercote.github.io/perf-book/bounds-checks.html",
    needles=(b"chunks",),
    queries=(CALLS,),
)
