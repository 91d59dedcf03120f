"""missing_size_hint: a local iterator that never tells `collect` how many items to expect."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import Context, ItemQueries
from ferrolens.analyzers.model import Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.summary import impl_trait_name, impl_type_name
from ferrolens.analyzers.syntax import LOOPS, type_head

DOCS = """
## What it does
Flags the `next` of an `impl Iterator for T` that has no `size_hint`, when `T` is a struct or enum
declared in the same file (so its author can add one) and `next` shows that the count is knowable,
outside any loop:

- it pulls one item from an inner iterator field whose declared type is a std iterator with a useful
  hint (`slice::Iter`, `vec::IntoIter`, `Range`, `Enumerate`, `Chunks`, ...);
- it steps an index field by one through a field whose `len()` it reads;
- it counts a field down and tests it against a literal (`self.remaining -= 1`, `== 0`);
- it re-slices its only field by a constant step (`self.rest = &self.rest[2..]`).

A `next` that loops (or recurses) skips items, so only an upper bound is known, and that does not help
`collect`, which reserves the lower bound: such iterators are left alone.

## Why it matters
`collect`, `extend` and `Vec::from_iter` call `size_hint` first to reserve room. The default answer is
`(0, None)`: "no idea", so the collection starts small and reallocates as it grows, copying its
contents each time. An iterator that knows its bounds (it walks a slice, counts down a range, or
knows how many items remain) can report them, and the consumer then allocates once.

## Example
```rust
struct Countdown(u32);

impl Iterator for Countdown {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.0 == 0 { return None; }
        self.0 -= 1;
        Some(self.0)
    }
}
```

## Use instead
```rust
impl Iterator for Countdown {
    type Item = u32;
    fn next(&mut self) -> Option<u32> { /* as before */ }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.0 as usize, Some(self.0 as usize))
    }
}
```

## Fix safety
No fix: only the author knows the bounds. A lower bound that is too high or an upper bound that is
too low is a logic error, so report `(0, None)` for anything you cannot bound.
"""

EVIDENCE = """
(call_expression function: (field_expression value: (field_expression value: (self) field: (_) @f) field: (field_identifier) @m))
(compound_assignment_expr left: (field_expression value: (self) field: (_) @f) operator: _ @op right: (_) @v)
(assignment_expression
  left: (field_expression value: (self) field: (_) @f)
  right: (reference_expression value: (index_expression (field_expression value: (self) field: (_) @g) (range_expression) @r)))
"""
_SELF_METHOD = re.compile(r"\bself\s*\.\s*[A-Za-z_][A-Za-z0-9_]*\s*\(")
# std iterators (and adapters) with exact or useful lower bounds
SIZED_ITERATORS = {
    "Iter", "IterMut", "IntoIter", "Range", "RangeInclusive", "Enumerate", "Rev", "Zip", "Copied", "Cloned",
    "Chunks", "ChunksMut", "ChunksExact", "ChunksExactMut", "RChunks", "Windows", "Drain", "Keys", "Values",
    "ValuesMut", "IntoKeys", "IntoValues", "Take", "Skip", "StepBy", "Map", "Bytes", "Fuse", "Peekable",
}
STD_MODULES = {"std", "core", "alloc", "slice", "vec", "iter", "ops", "str", "collections", "btree_map", "hash_map", "vec_deque", "array", "option", "result", "string"}
# adapters whose lower bound is 0: their size_hint does not help `collect` reserve
SKIPPING = {"Filter", "FilterMap", "SkipWhile", "TakeWhile", "MapWhile", "Flatten", "FlatMap", "Scan"}


def _up_to(node: Node, top: Node):
    cur = node.parent
    while cur is not None and cur != top:
        yield cur
        cur = cur.parent


# what `_bound_evidence` looks for in the body of `next`, run as one query (`ItemQueries`): one walk of
# the body, and one compile of 45 ms instead of five of 70 ms in every process that meets an iterator
SELF_CALLS = "(call_expression function: (field_expression value: (self) field: (field_identifier) @f))"
SELF_FIELDS = "(field_expression value: (self) field: (_) @f)"
FIELD_ASSIGNS = "(assignment_expression left: (field_expression value: (self) field: (_) @f))"
COUNTDOWN_TESTS = "(binary_expression left: (field_expression value: (self) field: (_) @f) right: (integer_literal))"
_BODY = ItemQueries((EVIDENCE, SELF_CALLS, SELF_FIELDS, FIELD_ASSIGNS, COUNTDOWN_TESTS))


def _bound_evidence(ctx: Context, next_fn: Node) -> tuple[str, str | None] | None:
    """How `next` shows that the number of remaining items is knowable, if it does (and the inner
    iterator field it pulls from, if any)."""
    body = next_fn.child_by_field_name("body")
    if body is None:
        return None
    walked = steps = None
    evidence, self_calls, self_fields, assigns, tests = _BODY.ready().run(body)  # (in _BODY's order)
    pulls = [m for m in evidence if "m" in m and ctx.text(m["m"][0]) in ("next", "next_back")]
    if len(pulls) > 1 or _SELF_METHOD.search(ctx.text(body)):
        # several inner items per item (a decoder), or the stepping hides in a helper method: the
        # count is not evident
        return None
    for call in self_calls:
        if ctx.text(call["f"][0]) == "next":
            return None  # recursion: `next` skips items
    for m in evidence:
        field = ctx.text(m["f"][0])
        if any(a.type in LOOPS for a in _up_to(m["f"][0], body)):
            # pulled or stepped in a loop: `next` skips items, so only an upper bound is known, which
            # does not help `collect` (it reserves the lower bound)
            return None
        if "g" in m:
            step = m["r"][0].named_children[0] if m["r"][0].named_child_count else None
            fields = {ctx.text(f["f"][0]) for f in self_fields}
            if ctx.text(m["g"][0]) == field and step is not None and step.type == "integer_literal" and fields == {field}:
                return f"it advances through the slice `self.{field}`, whose length is known", None
            continue
        if "m" in m:
            method = ctx.text(m["m"][0])
            if method in ("next", "next_back"):
                return f"it pulls from `self.{field}`, whose `size_hint` it can pass on", field
            if method == "len":
                walked = walked or field
        elif ctx.text(m["op"][0]) == "-=" and any(ctx.text(t["f"][0]) == field for t in tests):  # `self.field == 0`: a counter
            return f"it counts `self.{field}` down", None
        elif ctx.text(m["op"][0]) == "+=" and ctx.text(m["v"][0]) == "1":
            steps = steps or field
    jumps = {ctx.text(m["f"][0]) for m in assigns}
    if walked and steps and steps not in jumps:  # an index that also jumps (`self.pos = m.end()`) skips items
        return f"it steps `self.{steps}` through `self.{walked}`, whose length is known", None
    return None


def check(ctx: Context, item: Node):
    # checked on `fn next` of an `impl Iterator for T`: the file summary says whether the impl also has
    # `size_hint` and whether `T` is declared here, so the finding is cached with the item and redone
    # when those declarations change
    if ctx.text(item.child_by_field_name("name")) != "next" or impl_trait_name(item, ctx.src.data) != "Iterator":
        return
    name = impl_type_name(item, ctx.src.data)
    summary = ctx.summary
    if name is None or name not in summary.types or (name, "size_hint") in summary.methods:
        return
    how = _bound_evidence(ctx, item)
    if how is None:
        return  # nothing shows the count is knowable: `(0, None)` may be the honest answer
    inner = how[1]
    if inner is not None:
        unhinted = {t for t in summary.iterators if (t, "size_hint") not in summary.methods}
        declared = summary.fields.get((name, inner), "")
        names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", declared))
        path = declared.split("<", 1)[0].replace(" ", "").lstrip("&").split("::")
        foreign = len(path) > 1 and path[0] not in STD_MODULES  # `walkdir::IntoIter` is not std's
        if type_head(declared) not in SIZED_ITERATORS or foreign or names & (unhinted | SKIPPING):
            return  # passing on a hint is only worth it when the inner one is known to be good
    body = item.child_by_field_name("body")
    yield ctx.finding(
        (item.start_byte, body.start_byte if body is not None else item.end_byte),
        f"`{name}` implements `Iterator` without `size_hint`: `collect` and `extend` cannot reserve room up front ({how[0]})",
    )


RULE = Rule(
    name="missing_size_hint",
    group="perf",
    summary="A local `Iterator` impl without `size_hint`; consumers cannot pre-allocate",
    docs=DOCS,
    check=check,
    severity=Severity.INFO,
    fix=FixKind.NONE,
    node_types=frozenset({"function_item"}),
    source="https://nnethercote.github.io/perf-book/iterators.html",
    needles=(b"fn next",),
)
