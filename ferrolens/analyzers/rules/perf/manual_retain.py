"""manual_retain: a collection rebuilt from a filtered copy of itself."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import ASSIGNED_CALLS, Context, fix, replace_node
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import method_chain, same_expr, unparen
from ferrolens.analyzers.types import value_type

DOCS = """
## What it does
Flags `v = v.into_iter().filter(p).collect()` and `v = v.iter().filter(p).cloned().collect()` (or
`.copied()`): a `Vec`, `VecDeque`, `HashSet` or `BTreeSet` replaced by a filtered copy of itself.

## Why it matters
The iterator version builds a second collection (for `iter().cloned()`, a clone of every kept element)
and drops the first. `retain` removes the rejected elements in place: no new allocation, no clones.

## Example
```rust
names = names.into_iter().filter(|n| !n.is_empty()).collect();
ids = ids.iter().filter(|&&id| id != 0).copied().collect();
```

## Use instead
```rust
names.retain(|n| !n.is_empty());
ids.retain(|&id| id != 0);
```

## Fix safety
Safe when offered: `retain` visits the elements in order and keeps the same ones. The fix needs the
collection's type to be evident (a local annotation or constructor), since `HashMap::retain` takes a
different closure; and for the `iter()` form the closure's pattern must start with `&`, which is
dropped so its bindings keep their types. Otherwise the finding comes without a fix.
"""

RETAINERS = {"Vec", "VecDeque", "HashSet", "BTreeSet"}


def check(ctx: Context, item: Node):
    for m in ctx.matches(ASSIGNED_CALLS, item):
        assign, left, right = m["assign"][0], m["left"][0], m["right"][0]
        chain = method_chain(right)
        names = [c.name for c in chain]
        if names in (["into_iter", "filter", "collect"],):
            by_ref = False
        elif names in (["iter", "filter", "cloned", "collect"], ["iter", "filter", "copied", "collect"]):
            by_ref = True
        else:
            continue
        if not same_expr(unparen(chain[0].receiver), unparen(left)) or chain[0].args or chain[-1].args:
            continue
        filt = chain[1]
        if len(filt.args) != 1:
            continue
        pred = unparen(filt.args[0])
        ty = value_type(ctx, unparen(left))
        target = ctx.text(left)
        message = f"`{target}` is rebuilt from a filtered copy of itself; `retain` filters it in place"
        if ty not in RETAINERS:
            yield ctx.finding(assign, message + " (the collection's type is not evident here, so no fix is offered)")
            continue
        pred_text = ctx.text(pred)
        if by_ref:
            params = pred.child_by_field_name("parameters") if pred.type == "closure_expression" else None
            pats = [p for p in params.named_children] if params is not None else []
            if len(pats) != 1 or pats[0].type != "reference_pattern":
                yield ctx.finding(assign, message + " (the closure would see one reference less, so no fix is offered)")
                continue
            inner = pats[0].named_children[0]
            pred_text = (
                ctx.src.data[pred.start_byte : pats[0].start_byte].decode()
                + ctx.text(inner)
                + ctx.src.data[pats[0].end_byte : pred.end_byte].decode()
            )
        yield ctx.finding(
            assign,
            message,
            fix=fix("Use `retain`", replace_node(assign, f"{target}.retain({pred_text})")),
        )


RULE = Rule(
    name="manual_retain",
    group="perf",
    summary="`v = v.into_iter().filter(p).collect()`; `v.retain(p)` filters in place",
    docs=DOCS,
    check=check,
    fix=FixKind.SOMETIMES,
    clippy="manual_retain",
    source="https://nnethercote.github.io/perf-book/iterators.html",
    needles=(b"filter",),
    queries=(ASSIGNED_CALLS,),
)
