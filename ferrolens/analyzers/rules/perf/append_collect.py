"""append_collect: an iterator collected into a temporary collection only to be appended."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import CALLS, Context, fix, replace_node
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import descendants, is_method, unparen

DOCS = """
## What it does
Flags `a.append(&mut iter.collect())`, `a.extend(iter.collect::<Vec<_>>())` and
`a.extend_from_slice(&iter.collect::<Vec<_>>())`: an iterator turned into a temporary `Vec` (or
`VecDeque`) whose only purpose is to be poured into another collection.

## Why it matters
The temporary costs an allocation (and the reallocations while it grows) and a second copy of every
element. `extend` takes the iterator directly, uses its `size_hint` to reserve once, and moves each
element straight into place.

## Example
```rust
out.append(&mut words.iter().map(|w| w.len()).collect());
```

## Use instead
```rust
out.extend(words.iter().map(|w| w.len()));
```

## Fix safety
Safe: the same elements arrive in the same order. The fix is not offered when the iterator reads the
collection being extended, which only compiles because the temporary is finished first.
"""

TEMPORARIES = ("Vec", "VecDeque")


def _collected(node: Node, need_turbofish: bool):
    """The iterator of `iter.collect()` (with a Vec/VecDeque turbofish when required)."""
    node = unparen(node)
    mc = is_method(node, "collect")
    if mc is None or mc.args:
        return None
    if mc.turbofish is not None:
        head = mc.turbofish.text.decode()[1:-1].strip().split("<", 1)[0].rsplit("::", 1)[-1].strip()
        if head not in TEMPORARIES:
            return None
    elif need_turbofish:
        return None
    return mc.receiver


def check(ctx: Context, item: Node):
    for m in ctx.matches(CALLS, item):
        call = m["call"][0]
        mc = is_method(call, "append", "extend", "extend_from_slice")
        if mc is None or len(mc.args) != 1:
            continue
        arg = unparen(mc.args[0])
        if mc.name in ("append", "extend_from_slice"):
            if arg.type != "reference_expression":
                continue
            mutable = any(c.type == "mutable_specifier" for c in arg.children)
            if mutable != (mc.name == "append"):
                continue
            iterator = _collected(arg.child_by_field_name("value"), need_turbofish=mc.name == "extend_from_slice")
        else:
            iterator = _collected(arg, need_turbofish=True)
        if iterator is None:
            continue
        target = unparen(mc.receiver)
        root = target
        while root.type in ("field_expression", "index_expression"):
            root = unparen(root.named_children[0])
        names = {d.text for d in descendants(iterator) if d.type in ("identifier", "self")} | (
            {iterator.text} if iterator.type in ("identifier", "self") else set()
        )
        if root.text in names:
            continue
        replacement = f"{ctx.text(mc.receiver)}.extend({ctx.text(iterator)})"
        yield ctx.finding(
            call,
            f"the iterator is collected into a temporary only to be passed to `{mc.name}`; `extend` takes it directly",
            fix=fix("Extend with the iterator directly", replace_node(call, replacement)),
        )


RULE = Rule(
    name="append_collect",
    group="perf",
    summary="`a.append(&mut it.collect())` builds a temporary; `a.extend(it)` does not",
    docs=DOCS,
    check=check,
    fix=FixKind.ALWAYS,
    source="https://nnethercote.github.io/perf-book/iterators.html#collect-and-extend",
    needles=(b"collect",),
    queries=(CALLS,),
)
