"""missing_size_hint: a local iterator that never tells `collect` how many items to expect."""

from __future__ import annotations

import re

from tree_sitter import Node, QueryCursor

from ferrolens.analyzers.context import Context, compile_query
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


# every `self.field` in the body of `next`: what `_bound_evidence` looks for is read from where each sits
# (one pattern compiles in 6 ms; the five patterns of that evidence, as one query, in 45 ms in every
# process that meets an iterator)
SELF_FIELDS = "(field_expression value: (self) field: (_) @f) @fe"


class _Uses:
    """The `self.field`s of a body by what they do there."""

    def __init__(self, body: Node) -> None:
        self.fields: list[Node] = []  # every field read or written
        self.calls: list[Node] = []  # `self.f(..)`: a closure field called, or a method taken for one
        self.assigns: list[Node] = []  # `self.f = ..`
        self.tests: list[Node] = []  # `self.f == 0` (any comparison with an integer literal)
        # (where tree-sitter finishes the match, what it found): `self.f.m(..)` {f, m}; `self.f op= v`
        # {f, op, v}; `self.f = &self.g[range]` {f, g, r}
        found: list[tuple[int, dict[str, Node]]] = []
        for fe in QueryCursor(compile_query(SELF_FIELDS)).captures(body).get("fe", ()):
            f = fe.child_by_field_name("field")
            self.fields.append(f)
            parent = fe.parent
            kind = parent.type if parent is not None else ""
            if kind == "call_expression" and parent.child_by_field_name("function") == fe:
                if f.type == "field_identifier":
                    self.calls.append(f)
            elif kind == "field_expression" and parent.child_by_field_name("value") == fe:
                m, call = parent.child_by_field_name("field"), parent.parent
                if m is not None and m.type == "field_identifier" and call is not None and call.type == "call_expression" and call.child_by_field_name("function") == parent:
                    found.append((m.start_byte, {"f": f, "m": m}))
            elif kind == "compound_assignment_expr" and parent.child_by_field_name("left") == fe:
                op, v = parent.child_by_field_name("operator"), parent.child_by_field_name("right")
                if op is not None and v is not None:
                    found.append((v.start_byte, {"f": f, "op": op, "v": v}))
            elif kind == "assignment_expression" and parent.child_by_field_name("left") == fe:
                self.assigns.append(f)
                sliced = _reslice(parent.child_by_field_name("right"))
                if sliced is not None:
                    found.append((sliced[1].start_byte, {"f": f, "g": sliced[0], "r": sliced[1]}))
            elif kind == "binary_expression" and parent.child_by_field_name("left") == fe:
                right = parent.child_by_field_name("right")
                if right is not None and right.type == "integer_literal":
                    self.tests.append(f)
        found.sort(key=lambda e: e[0])
        self.evidence = [m for _, m in found]


def _reslice(value: Node | None) -> tuple[Node, Node] | None:
    """(g, range) of `&self.g[range]`."""
    index = value.child_by_field_name("value") if value is not None and value.type == "reference_expression" else None
    if index is None or index.type != "index_expression":
        return None
    parts = [c for c in index.named_children if "comment" not in c.type]
    if len(parts) != 2 or parts[1].type != "range_expression" or parts[0].type != "field_expression":
        return None
    owner = parts[0].child_by_field_name("value")
    field = parts[0].child_by_field_name("field")
    return (field, parts[1]) if owner is not None and owner.type == "self" and field is not None else None


def _bound_evidence(ctx: Context, next_fn: Node) -> tuple[str, str | None] | None:
    """How `next` shows that the number of remaining items is knowable, if it does (and the inner
    iterator field it pulls from, if any)."""
    body = next_fn.child_by_field_name("body")
    if body is None:
        return None
    walked = steps = None
    uses = _Uses(body)
    evidence = uses.evidence
    pulls = [m for m in evidence if "m" in m and ctx.text(m["m"]) in ("next", "next_back")]
    if len(pulls) > 1 or _SELF_METHOD.search(ctx.text(body)):
        # several inner items per item (a decoder), or the stepping hides in a helper method: the
        # count is not evident
        return None
    for call in uses.calls:
        if ctx.text(call) == "next":
            return None  # recursion: `next` skips items
    for m in evidence:
        field = ctx.text(m["f"])
        if any(a.type in LOOPS for a in _up_to(m["f"], body)):
            # pulled or stepped in a loop: `next` skips items, so only an upper bound is known, which
            # does not help `collect` (it reserves the lower bound)
            return None
        if "g" in m:
            step = m["r"].named_children[0] if m["r"].named_child_count else None
            fields = {ctx.text(f) for f in uses.fields}
            if ctx.text(m["g"]) == field and step is not None and step.type == "integer_literal" and fields == {field}:
                return f"it advances through the slice `self.{field}`, whose length is known", None
            continue
        if "m" in m:
            method = ctx.text(m["m"])
            if method in ("next", "next_back"):
                return f"it pulls from `self.{field}`, whose `size_hint` it can pass on", field
            if method == "len":
                walked = walked or field
        elif ctx.text(m["op"]) == "-=" and any(ctx.text(t) == field for t in uses.tests):  # `self.field == 0`: a counter
            return f"it counts `self.{field}` down", None
        elif ctx.text(m["op"]) == "+=" and ctx.text(m["v"]) == "1":
            steps = steps or field
    jumps = {ctx.text(f) for f in uses.assigns}
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
