"""vec_remove_in_loop: `Vec::remove(i)` inside a loop, quadratic overall."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import CALLS, Context, delete_statement, fix
from ferrolens.analyzers.model import Edit
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import LOOPS, descendants, element_name, enclosing_function, identifiers, is_method, method_chain, same_expr, unparen
from ferrolens.analyzers.types import find_binding, value_type

DOCS = """
## What it does
Flags `v.remove(i)` inside a loop that walks the vector, when `v` is evidently a `Vec` or `VecDeque`:
the index comes from the loop's own variable or condition, or the loop drains the vector with
`remove(0)` while testing it. The classic remove-or-advance loop

```rust
let mut i = 0;
while i < v.len() {
    if v[i] == 0 { v.remove(i); } else { i += 1; }
}
```

is rewritten to `v.retain(..)`. Other loops get a hint: `swap_remove` is O(1) when the order of the
elements does not matter, `VecDeque::pop_front` when the loop drains from the front, or collect the
indices and `retain` once.

## Why it matters
`remove(i)` shifts every element after `i` one place to the left: O(n) per call, so removing inside a
loop over the same vector is O(n^2). `retain` moves each kept element at most once, O(n) in total.

## Example
```rust
let mut i = 0;
while i < jobs.len() {
    if jobs[i].done {
        jobs.remove(i);
    } else {
        i += 1;
    }
}
```

## Use instead
```rust
jobs.retain(|job| !job.done);
```

## Fix safety
The `retain` rewrite is safe: the condition is evaluated once per element, in order, as before, and
the same elements are kept in the same order. It is offered only for that exact loop shape, when the
condition reads the vector only through `v[i]` and the counter is not used after the loop.
`swap_remove` changes the order of the remaining elements, so it is only named in the message.
"""

VECTORS = {"Vec", "VecDeque"}


def _stmts(block: Node) -> list[Node]:
    return [c for c in block.named_children if c.type not in ("line_comment", "block_comment")]


def _only(block: Node | None) -> Node | None:
    """The single expression of a block `{ expr; }`."""
    if block is None or block.type != "block":
        return None
    s = _stmts(block)
    if len(s) != 1:
        return None
    return s[0].named_children[0] if s[0].type == "expression_statement" and s[0].named_child_count == 1 else s[0]


def _is_advance(node: Node | None, i: str) -> bool:
    return (
        node is not None
        and node.type == "compound_assignment_expr"
        and node.child_by_field_name("left").text.decode() == i
        and node.child_by_field_name("right").text.decode() == "1"
        and node.child_by_field_name("operator").text.decode() == "+="
    )


def _retain(ctx: Context, loop: Node, v: Node, i: str) -> tuple[str, Node] | None:
    """(the retain call text, the `let mut i = 0` statement) for the remove-or-advance shape."""
    cond = loop.child_by_field_name("condition")
    if cond is None or cond.type != "binary_expression" or cond.child_by_field_name("operator").text.decode() != "<":
        return None
    if ctx.text(cond.child_by_field_name("left")) != i:
        return None
    length = is_method(unparen(cond.child_by_field_name("right")), "len")
    if length is None or not same_expr(unparen(length.receiver), v):
        return None
    inner = _only(loop.child_by_field_name("body"))
    if inner is None or inner.type != "if_expression":
        return None
    test = inner.child_by_field_name("condition")
    then = _only(inner.child_by_field_name("consequence"))
    alt = inner.child_by_field_name("alternative")
    other = _only(alt.named_children[0]) if alt is not None and alt.named_child_count == 1 else None
    if test is None or then is None or other is None or test.type == "let_condition":
        return None

    def removes(n: Node) -> bool:
        mc = is_method(n, "remove")
        return mc is not None and same_expr(unparen(mc.receiver), v) and len(mc.args) == 1 and ctx.text(mc.args[0]) == i

    if removes(then) and _is_advance(other, i):
        negate = True
    elif removes(other) and _is_advance(then, i):
        negate = False
    else:
        return None
    # the condition may read the vector only as v[i], and i only there
    data = ctx.src.data
    fn = enclosing_function(loop)
    x = element_name(ctx.text(v), {t for _, t in identifiers(fn, data)})
    pieces, last = [], test.start_byte
    for ident, text in identifiers(test, data):
        if text == i:
            parent = ident.parent
            if parent is None or parent.type != "index_expression" or not same_expr(unparen(parent.named_children[0]), v):
                return None
            pieces.append(data[last : parent.start_byte].decode())
            holder = parent.parent
            pieces.append(x if holder is not None and holder.type == "field_expression" else f"*{x}")
            last = parent.end_byte
    if not pieces:
        return None
    pieces.append(data[last : test.end_byte].decode())
    body = "".join(pieces)
    root = v
    while root.type == "field_expression":
        root = unparen(root.child_by_field_name("value"))
    spans = [(p.start_byte, p.end_byte) for p in _index_uses(test, v, i, data)]
    for ident, text in identifiers(test, data):
        if text == ctx.text(root) and not any(a <= ident.start_byte < b for a, b in spans):
            return None  # the condition reads the vector otherwise
    if any(d.type in ("return_expression", "try_expression", "break_expression", "continue_expression") for d in descendants(test)):
        return None
    decl = find_binding(ctx, i, loop)
    if decl is None or decl.type != "let_declaration" or decl.next_named_sibling != _statement(loop):
        return None
    if any(ident.start_byte >= loop.end_byte for ident, t in identifiers(fn, data) if t == i):
        return None
    if ctx.text(decl.child_by_field_name("value")) != "0":
        return None
    primary = unparen(test).type in ("field_expression", "call_expression", "identifier", "index_expression", "macro_invocation")
    cond_text = (f"!{body}" if primary else f"!({body})") if negate else body
    return f"{ctx.text(v)}.retain(|{x}| {cond_text})", decl


def _index_uses(test: Node, v: Node, i: str, data: bytes) -> list[Node]:
    return [
        ident.parent
        for ident, text in identifiers(test, data)
        if text == i and ident.parent is not None and ident.parent.type == "index_expression"
        and same_expr(unparen(ident.parent.named_children[0]), v)
    ]


def _statement(node: Node) -> Node:
    return node.parent if node.parent is not None and node.parent.type == "expression_statement" else node


def _walks(ctx: Context, loop: Node, v: Node, index: Node) -> bool:
    """The loop walks the vector: it drains it from the front while testing it, or the index comes
    from the loop's own variable or condition."""
    head = loop.child_by_field_name("condition") or loop.child_by_field_name("value")
    pattern = loop.child_by_field_name("pattern")
    names = {t for _, t in identifiers(index, ctx.src.data)}
    if ctx.text(unparen(index)) == "0":
        return head is not None and ctx.text(v) in {t for _, t in identifiers(head, ctx.src.data)} | {ctx.text(head)}
    loop_vars = {t for _, t in identifiers(pattern, ctx.src.data)} if pattern is not None else set()
    if head is not None and head.type == "let_condition":
        # `while let Some(i) = v.iter().position(..)`: a search of v then a removal, every round
        chain = method_chain(unparen(head.child_by_field_name("value")))
        if chain and same_expr(unparen(chain[0].receiver), v):
            loop_vars |= {t for _, t in identifiers(head.child_by_field_name("pattern"), ctx.src.data)}
    elif head is not None and loop.type == "while_expression":
        loop_vars |= {t for _, t in identifiers(head, ctx.src.data)} - {ctx.text(v)}
    return bool(names & loop_vars)


def check(ctx: Context, item: Node):
    for m in ctx.matches(CALLS, item):
        call = m["call"][0]
        mc = is_method(call, "remove")
        if mc is None or len(mc.args) != 1 or unparen(mc.args[0]).type == "reference_expression":
            continue
        v = unparen(mc.receiver)
        loop = None
        cur = call.parent
        while cur is not None and cur.type not in ("function_item", "closure_expression"):
            if cur.type in LOOPS:
                loop = cur
                break
            cur = cur.parent
        if loop is None or value_type(ctx, v) not in VECTORS:
            continue
        v_text = ctx.text(v)
        idx = ctx.text(mc.args[0])
        i = idx if unparen(mc.args[0]).type == "identifier" else None
        shape = _retain(ctx, loop, v, i) if i and loop.type == "while_expression" else None
        if shape is not None:
            new, decl = shape
            yield ctx.finding(
                call,
                f"`{v_text}.remove({idx})` in a loop shifts the tail every time (O(n^2) overall); `retain` does it in one pass",
                fix=fix("Use `retain`", delete_statement(ctx.src, decl), Edit(_statement(loop).start_byte, _statement(loop).end_byte, new + ";")),
            )
            continue
        if not _walks(ctx, loop, v, mc.args[0]):
            continue  # one removal at a computed place per round of other work: not the O(n^2) pattern
        if idx == "0":
            advice = "take items from the front of a `VecDeque` (`pop_front`) or walk the vector with an iterator"
        else:
            advice = "use `retain`, or `swap_remove` if the order does not matter"
        yield ctx.finding(call, f"`{v_text}.remove({idx})` in a loop shifts the tail every time (O(n^2) overall); {advice}")


RULE = Rule(
    name="vec_remove_in_loop",
    group="perf",
    summary="`Vec::remove` inside a loop is O(n) per call; use `retain` or `swap_remove`",
    docs=DOCS,
    check=check,
    fix=FixKind.SOMETIMES,
    source="https://nnethercote.github.io/perf-book/standard-library-types.html#vec",
    own_loops=1,
    needles=(b"remove(",),
    in_loops=True,
    queries=(CALLS,),
)
