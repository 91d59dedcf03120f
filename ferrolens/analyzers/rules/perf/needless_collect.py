"""needless_collect: an iterator collected only to be counted, tested or iterated."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import CALLS, LETS, Context, delete_statement, fix, replace_node
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import descendants, enclosing_function, identifiers, is_method, is_pure, method_call, unparen
from ferrolens.analyzers.types import annotation_type, find_binding

DOCS = """
## What it does
Flags `collect()` into a collection that is then only asked for its `len()`, `is_empty()` or
`contains(..)`, or only iterated by a `for` loop: either in the same expression
(`it.collect::<Vec<_>>().len()`) or through a local binding used once, in the next statement.

## Why it matters
Collecting allocates and fills a collection that is thrown away right after. `count()`, `any()` and
`next().is_none()` answer the same questions from the iterator itself, and a `for` loop can take the
iterator directly. `is_empty` and `contains` can even stop at the first item.

## Example
```rust
let parts: Vec<&str> = line.split(',').collect();
if parts.len() > 3 { /* ... */ }
```

## Use instead
```rust
if line.split(',').count() > 3 { /* ... */ }
```

## Fix safety
`len()` becomes `count()`, which consumes the iterator just like `collect` did: safe. Only `Vec`,
`VecDeque`, `LinkedList` and `BinaryHeap` qualify, since a set or map would drop duplicates and a
`String` counts bytes. `is_empty()` and `contains(..)` stop early and a `for` loop now interleaves the
iterator with its body, so closures in the iterator run fewer times or in another order: those fixes
are unsafe, and those findings are only made when the closures cannot have visible effects (no calls
but a few pure std methods, no macros, no assignments). Spawning threads in a `map` and collecting the
handles before joining them is the classic case where collecting first is the point.
"""

SEQUENCES = {"Vec", "VecDeque", "LinkedList", "BinaryHeap"}
ANY_COLLECTION = SEQUENCES | {"HashSet", "BTreeSet", "HashMap", "BTreeMap", "String"}
SETS = SEQUENCES | {"HashSet", "BTreeSet"}


def _collect(ctx: Context, node: Node, annotation: str | None = None) -> tuple[Node, str] | None:
    """(iterator, collection type) for `iter.collect::<T>()` (or a plain collect with `annotation`)."""
    mc = is_method(unparen(node), "collect")
    if mc is None or mc.args:
        return None
    if mc.turbofish is not None:
        ty = annotation_type(ctx.text(mc.turbofish)[1:-1])
    elif annotation:
        ty = annotation_type(annotation)
    else:
        return None
    return mc.receiver, ty


def _rewrite(ctx: Context, use: Node, ty: str, iterator: str):
    """(what, replacement node, replacement text, safe) for one use of the collection."""
    parent = use.parent
    call = parent.parent if parent is not None and parent.type == "field_expression" else None
    mc = method_call(call) if call is not None else None
    if mc is not None and unparen(mc.receiver) == use:
        if mc.name == "len" and not mc.args and ty in SEQUENCES:
            return "counted", call, f"{iterator}.count()", True
        if mc.name == "is_empty" and not mc.args and ty in ANY_COLLECTION:
            return "tested for emptiness", call, f"{iterator}.next().is_none()", False
        if mc.name == "contains" and len(mc.args) == 1 and ty in SETS:
            arg = unparen(mc.args[0])
            if arg.type == "reference_expression" and not any(c.type == "mutable_specifier" for c in arg.children):
                probe = ctx.text(arg.child_by_field_name("value"))
                return "searched", call, f"{iterator}.any(|item| item == {probe})", False
            return None
        return None
    if parent is not None and parent.type == "for_expression" and parent.child_by_field_name("value") == use:
        return "iterated", use, iterator, False
    return None


def _closures_are_pure(iterator: Node) -> bool:
    """No closure in the chain can have a visible effect (spawn a thread, print, lock, send): then
    consuming it lazily, interleaved with the loop, or stopping early cannot be told apart."""
    return all(is_pure(d) for d in descendants(iterator) if d.type == "closure_expression")


def _statement_of(node: Node, block: Node) -> Node | None:
    cur = node
    while cur.parent is not None and cur.parent != block:
        cur = cur.parent
    return cur if cur.parent == block else None


def check(ctx: Context, item: Node):
    data = ctx.src.data
    # 1. the same expression: it.collect::<Vec<_>>().len()
    for m in ctx.matches(CALLS, item):
        call = m["call"][0]
        found = _collect(ctx, call)
        if found is None:
            continue
        iterator, ty = found
        rewrite = _rewrite(ctx, call, ty, ctx.text(iterator))
        if rewrite is None or rewrite[0] == "iterated" or (rewrite[0] != "counted" and not _closures_are_pure(iterator)):
            continue
        what, node, new, safe = rewrite
        yield ctx.finding(
            node,
            f"the collected `{ty}` is only {what}; ask the iterator instead",
            fix=fix(f"Use `{new[len(ctx.text(iterator)) + 1 :]}` on the iterator", replace_node(node, new), safe=safe),
        )
    # 2. a local used once, in the next statement
    for m in ctx.matches(LETS, item):
        let, name_node, value = m["let"][0], m["name"][0], m["value"][0]
        annotation = ctx.text(let.child_by_field_name("type")) or None
        found = _collect(ctx, value, annotation)
        block = let.parent
        fn = enclosing_function(let)
        if found is None or block is None or block.type != "block" or fn is None:
            continue
        iterator, ty = found
        name = ctx.text(name_node)
        uses = [n for n, t in identifiers(fn, data) if t == name and n != name_node and n.start_byte > let.start_byte]
        if len(uses) != 1:
            continue
        use = uses[0]
        stmt = _statement_of(use, block)
        nxt = let.next_named_sibling
        while nxt is not None and nxt.type in ("line_comment", "block_comment"):
            nxt = nxt.next_named_sibling
        if stmt is None or stmt != nxt or find_binding(ctx, name, use) != let:
            continue
        if any(p.type in ("closure_expression", "loop_expression", "while_expression") for p in _between(use, stmt)):
            continue  # the use would run more than once
        rewrite = _rewrite(ctx, use, ty, ctx.text(iterator))
        if rewrite is None or (rewrite[0] != "counted" and not _closures_are_pure(iterator)):
            continue  # e.g. threads spawned in a `map` and joined in the loop: collecting first is the point
        what, node, new, safe = rewrite
        yield ctx.finding(
            let,
            f"`{name}` is collected only to be {what}; use the iterator directly",
            fix=fix(
                "Drop the collect and use the iterator",
                delete_statement(ctx.src, let),
                replace_node(node, new),
                safe=safe,
            ),
        )


def _between(node: Node, top: Node):
    cur = node.parent
    while cur is not None and cur != top:
        yield cur
        cur = cur.parent


RULE = Rule(
    name="needless_collect",
    group="perf",
    summary="A collection built only to be counted, tested or iterated; use the iterator",
    docs=DOCS,
    check=check,
    fix=FixKind.SOMETIMES,
    clippy="needless_collect",
    source="https://nnethercote.github.io/perf-book/iterators.html#collect-and-extend",
    needles=(b"collect",),
    queries=(CALLS, LETS),
)
