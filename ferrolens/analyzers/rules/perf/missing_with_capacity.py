"""missing_with_capacity: a collection grown one element per iteration of a loop of known length."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import LETS, Context, fix, lets, replace_node
from ferrolens.analyzers.model import Edit
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import descendants, enclosing_function, identifiers, method_call, unparen
from ferrolens.analyzers.types import value_type

DOCS = """
## What it does
Flags `let mut v = Vec::new()` (also `VecDeque`, `HashMap`, `HashSet` and `String`) directly followed
by a `for` loop over something whose length is known before the loop (a `Vec`, slice or array, a
`0..n` range, or those through `iter()`, `enumerate()`, `map()`, `rev()`, `copied()` or `cloned()`)
that adds exactly one element per iteration (`push`, `push_back`, `insert`), with no `break` or
`continue` that could skip it.

## Why it matters
A collection that starts empty reallocates as it grows: it doubles its buffer and copies everything
over about log2(n) times. When the final size is known up front, `with_capacity(n)` makes one
allocation of the right size. When the loop does nothing but push a value computed from each item,
`map(..).collect()` says the same thing in one expression and gets the capacity from the iterator.

## Example
```rust
let mut lengths = Vec::new();
for w in words.iter() {
    lengths.push(w.len());
}
```

## Use instead
```rust
let lengths: Vec<_> = words.iter().map(|w| w.len()).collect();
```

## Fix safety
Both fixes are safe: the same elements are added in the same order; only the allocation pattern
changes. The `collect` form is offered only when the loop body is that single `push` and the pushed
expression cannot leave the loop (`?`, `return`, `break`, `continue`, `.await`).
"""

GROWERS = {"Vec": ("push",), "VecDeque": ("push_back",), "HashMap": ("insert",), "HashSet": ("insert",), "String": ("push",)}
LENGTH_KEEPING = {"iter", "iter_mut", "into_iter", "enumerate", "map", "rev", "copied", "cloned", "keys", "values", "values_mut", "drain"}
SIZED = {"Vec", "array", "slice", "VecDeque", "HashMap", "HashSet", "BTreeMap", "BTreeSet"}
ESCAPES = ("return_expression", "try_expression", "break_expression", "continue_expression", "await_expression", "macro_invocation")


def _length(ctx: Context, iterable: Node) -> str | None:
    """A cheap expression for the number of items the loop will see, when it is evident."""
    node = unparen(iterable)
    while True:
        mc = method_call(node)
        if mc is None:
            break
        if mc.name not in LENGTH_KEEPING or (mc.name == "drain" and mc.args):
            return None
        node = unparen(mc.receiver)
    if node.type == "range_expression":
        parts = node.named_children
        if len(parts) == 2 and ctx.text(parts[0]) == "0" and node.child(1) is not None and node.child(1).type == "..":
            end = unparen(parts[1])
            return ctx.text(end) if end.type in ("identifier", "integer_literal", "field_expression", "call_expression") else None
        return None
    if node.type == "reference_expression":
        node = unparen(node.child_by_field_name("value"))
    if node.type in ("identifier", "field_expression") and value_type(ctx, node) in SIZED:
        return f"{ctx.text(node)}.len()"
    return None


def _iterator_text(ctx: Context, iterable: Node) -> str:
    node = unparen(iterable)
    if node.type == "reference_expression" and not any(c.type == "mutable_specifier" for c in node.children):
        return f"{ctx.text(node.child_by_field_name('value'))}.iter()"
    if node.type == "range_expression":
        return f"({ctx.text(node)})"
    if method_call(node) is not None:
        return ctx.text(node)
    return f"{ctx.text(node)}.into_iter()"


def check(ctx: Context, item: Node):
    data = ctx.src.data
    for m in lets(ctx, item, mutable=True, value="call_expression"):
        let, value, name = m["let"][0], m["value"][0], ctx.text(m["name"][0])
        path = ctx.text(value.child_by_field_name("function")).replace(" ", "")
        parts = path.split("::")
        if len(parts) < 2 or parts[-1] != "new" or method_call(value) is not None:
            continue
        ty = parts[-2].split("<", 1)[0]
        if ty not in GROWERS or value.child_by_field_name("arguments").named_child_count:
            continue
        stmt = let.next_named_sibling
        while stmt is not None and stmt.type in ("line_comment", "block_comment") and stmt.start_point[0] == let.end_point[0]:
            stmt = stmt.next_named_sibling
        loop = stmt.named_children[0] if stmt is not None and stmt.type == "expression_statement" and stmt.named_child_count else stmt
        if loop is None or loop.type != "for_expression":
            continue
        body = loop.child_by_field_name("body")
        iterable = loop.child_by_field_name("value")
        length = _length(ctx, iterable)
        if body is None or length is None:
            continue
        if any(d.type in ("break_expression", "continue_expression") for d in descendants(body)):
            continue
        grows = []
        for ident, text in identifiers(body, data):
            if text != name:
                continue
            mc = method_call(ident.parent.parent) if ident.parent is not None and ident.parent.type == "field_expression" else None
            if mc is not None and unparen(mc.receiver) == ident and mc.name in GROWERS[ty]:
                grows.append(mc)
            else:
                grows = []
                break
        if len(grows) != 1:
            continue
        push = grows[0]
        stmt_of_push = push.call.parent
        if stmt_of_push is None or stmt_of_push.type != "expression_statement" or stmt_of_push.parent != body:
            continue  # conditional or nested: not once per iteration
        statements = [c for c in body.named_children if c.type not in ("line_comment", "block_comment")]
        message = f"`{name}` grows by one element per iteration of a loop whose length is known; reserve it up front"
        if ty == "Vec" and statements == [stmt_of_push] and len(push.args) == 1 and not any(
            d.type in ESCAPES for d in [push.args[0], *descendants(push.args[0])]
        ):
            pattern = ctx.text(loop.child_by_field_name("pattern"))
            annotation = ctx.text(let.child_by_field_name("type")) or "Vec<_>"
            later = _used_mutably_later(ctx, name, loop, let)
            new = (
                f"let {'mut ' if later else ''}{name}: {annotation} = {_iterator_text(ctx, iterable)}"
                f".map(|{pattern}| {ctx.text(push.args[0])}).collect();"
            )
            yield ctx.finding(
                let,
                message + "; the loop only maps, so `collect` does it in one step",
                fix=fix("Collect the mapped iterator", Edit(let.start_byte, loop.end_byte + (1 if stmt != loop and data[loop.end_byte:stmt.end_byte] == b";" else 0), new)),
            )
            continue
        func = value.child_by_field_name("function")
        yield ctx.finding(
            let,
            message,
            fix=fix(
                f"Use `with_capacity({length})`",
                replace_node(value, f"{ctx.text(func)[: -len('new')]}with_capacity({length})"),
            ),
        )


def _used_mutably_later(ctx: Context, name: str, loop: Node, let: Node) -> bool:
    fn = enclosing_function(let)
    if fn is None:
        return True
    for ident, text in identifiers(fn, ctx.src.data):
        if text == name and ident.start_byte >= loop.end_byte:
            parent = ident.parent
            if parent is None or parent.type in ("field_expression", "assignment_expression", "compound_assignment_expr"):
                return True
            if parent.type == "reference_expression" and any(c.type == "mutable_specifier" for c in parent.children):
                return True
    return False


RULE = Rule(
    name="missing_with_capacity",
    group="perf",
    summary="A collection filled one element per iteration of a loop of known length; reserve it",
    docs=DOCS,
    check=check,
    fix=FixKind.ALWAYS,
    source="https://nnethercote.github.io/perf-book/heap-allocations.html#vec-growth",
    needles=(b"new()",),
    in_loops=True,
    queries=(LETS,),
)
