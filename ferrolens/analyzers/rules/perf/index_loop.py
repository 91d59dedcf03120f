"""index_loop: `for i in 0..v.len()` that indexes `v[i]` on every iteration."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context, delete_statement, fix
from ferrolens.analyzers.model import Edit
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import descendants, element_name, enclosing_function, identifiers, is_method, same_expr, unparen
from ferrolens.analyzers.types import find_binding, value_type

DOCS = """
## What it does
Flags `for i in 0..v.len()` (or `0..n` after `let n = v.len()`) whose body indexes `v[i]`. When `v` is
evidently a `Vec`, slice, array or `VecDeque` and is only used through `v[i]` in the loop, the loop is
rewritten to iterate: `for x in v.iter()` (`iter_mut()` when elements are assigned), or
`for (i, x) in v.iter().enumerate()` when `i` is needed for something else. Otherwise it explains how
to avoid the bounds checks: iterate and `zip` the other slices, or re-slice them to the loop's length
before the loop.

## Why it matters
Every `v[i]` checks `i < v.len()` and keeps a panic path in the loop body. The optimiser can remove the
check only when it can prove the bound, which it often cannot (for other slices, or when `v` might
change length). An iterator never checks: it knows where the data ends. Fewer checks also let the
loop be vectorised.

## Example
```rust
for i in 0..scores.len() {
    total += scores[i];
}
```

## Use instead
```rust
for score in scores.iter() {
    total += *score;
}
```

## Fix safety
Safe when offered: the loop visits the same elements in the same order, and `v` is not touched in the
body except through `v[i]` (so borrowing it for the whole loop compiles). Elements used as method
receivers are only rewritten for methods that cannot mutate them. Loops over several slices, where
`zip` would silently stop at the shorter one instead of panicking, get a hint and no fix.
"""

SEQUENCES = {"Vec", "array", "slice", "VecDeque"}
READ_ONLY = {
    "len", "is_empty", "clone", "to_string", "to_owned", "as_str", "as_bytes", "as_ref", "iter", "get",
    "contains", "starts_with", "ends_with", "abs", "min", "max", "cmp", "partial_cmp", "eq", "trim",
    "to_lowercase", "to_uppercase", "chars", "bytes", "first", "last", "is_some", "is_none", "unwrap_or",
    "powi", "powf", "sqrt", "pow", "count_ones", "as_slice", "fmt", "hash", "keys", "values", "split",
    "parse", "lines", "wrapping_add", "wrapping_mul", "checked_add", "saturating_sub", "saturating_add",
}
FORMAT_MACROS = {
    "println", "print", "eprintln", "eprint", "format", "write", "writeln", "assert", "assert_eq",
    "assert_ne", "debug_assert", "debug_assert_eq", "debug_assert_ne", "panic", "format_args", "dbg",
}


QUERY = "(for_expression pattern: (identifier) @i body: (block) @body) @loop"


def _range_target(ctx: Context, loop: Node) -> tuple[Node, Node | None] | None:
    """(v, the `let n = v.len()` it came through, if any) for `0..v.len()` / `0..n`."""
    rng = loop.child_by_field_name("value")
    if rng is None or rng.type != "range_expression" or rng.named_child_count != 2:
        return None
    if ctx.text(rng.named_children[0]) != "0" or rng.child(1) is None or rng.child(1).type != "..":
        return None
    end = unparen(rng.named_children[1])
    decl = None
    if end.type == "identifier":
        decl = find_binding(ctx, ctx.text(end), loop)
        if decl is None or decl.type != "let_declaration" or any(c.type == "mutable_specifier" for c in decl.children):
            return None
        end = unparen(decl.child_by_field_name("value")) if decl.child_by_field_name("value") else end
    mc = is_method(end, "len")
    if mc is None or mc.args:
        return None
    v = unparen(mc.receiver)
    root = v
    while root.type == "field_expression":
        root = unparen(root.child_by_field_name("value"))
    if root.type not in ("identifier", "self"):
        return None  # a path through calls or indexes: we cannot tell what the loop changes
    return v, decl


class Use:
    """One `v[i]`: the byte span to replace and how the element is used there."""

    __slots__ = ("start", "end", "kind")

    def __init__(self, node: Node | tuple[int, int], kind: str) -> None:
        self.start, self.end = (node.start_byte, node.end_byte) if isinstance(node, Node) else node
        self.kind = kind  # "read", "write", "ref", "mutref", "receiver", "field", "field_write", "macro"


def _classify(ctx: Context, index: Node) -> Use | None:
    parent = index.parent
    if parent is None:
        return None
    if parent.type == "reference_expression":
        mutable = any(c.type == "mutable_specifier" for c in parent.children)
        return Use(parent, "mutref" if mutable else "ref")
    if parent.type in ("assignment_expression", "compound_assignment_expr") and parent.child_by_field_name("left") == index:
        return Use(index, "write")
    if parent.type == "field_expression" and parent.child_by_field_name("value") == index:
        call = parent.parent
        if call is not None and call.type == "call_expression" and call.child_by_field_name("function") == parent:
            name = ctx.text(parent.child_by_field_name("field"))
            return Use(index, "receiver") if name in READ_ONLY else None
        outer = parent
        while outer.parent is not None and outer.parent.type == "field_expression":
            outer = outer.parent
        gp = outer.parent
        if gp is not None and gp.type in ("assignment_expression", "compound_assignment_expr") and gp.child_by_field_name("left") == outer:
            return Use(index, "field_write")
        if gp is not None and gp.type == "reference_expression" and any(c.type == "mutable_specifier" for c in gp.children):
            return Use(index, "field_write")
        return Use(index, "field")
    if parent.type == "index_expression" and parent.named_children[0] == index:
        return None  # v[i][j]: could be a write through the inner index
    return Use(index, "read")


def _rebinds(ctx: Context, body: Node, i: str) -> bool:
    """`let i = ...` inside the body: later `v[i]` index with another value."""
    return any(ctx.text(m["p"][0]) == i for m in ctx.matches("(let_declaration pattern: (identifier) @p)", body))


def _mutates(ctx: Context, d: Node, v: Node) -> bool:
    """Whether this mention of v's variable may change v: a non-read-only method call on v (or on the
    variable itself), `&mut`, or an assignment."""
    cur = d
    while cur.parent is not None and cur.parent.type == "field_expression" and cur.parent.child_by_field_name("value") == cur:
        parent = cur.parent
        call = parent.parent
        if call is not None and call.type == "call_expression" and call.child_by_field_name("function") == parent:
            return ctx.text(parent.child_by_field_name("field")) not in READ_ONLY
        cur = parent
    parent = cur.parent
    if parent is None:
        return True
    if parent.type == "reference_expression":
        return any(c.type == "mutable_specifier" for c in parent.children)
    if parent.type in ("assignment_expression", "compound_assignment_expr") and parent.child_by_field_name("left") == cur:
        return True
    if parent.type == "index_expression" and parent.named_children[0] == cur:
        return _mutates(ctx, parent, v)
    if parent.type == "arguments":
        return True  # passed by value (moved) or a `&mut` param we cannot see
    return False


def _other_mentions(ctx: Context, body: Node, v: Node, covered: list[tuple[int, int]]) -> str | None:
    """"mutated" if the body may change v outside the `v[i]` uses, "read" if it reads it, else None."""
    root = v
    while root.type == "field_expression":
        root = unparen(root.child_by_field_name("value"))
    found = None
    for d in descendants(body):
        if d.type in ("identifier", "self") and d.text == root.text and not any(a <= d.start_byte < b for a, b in covered):
            if _mutates(ctx, d, v):
                return "mutated"
            found = "read"
    return found


def check(ctx: Context, item: Node):
    data = ctx.src.data
    for m in ctx.matches(QUERY, item):
        loop, body = m["loop"][0], m["body"][0]
        i = ctx.text(m["i"][0])
        target = _range_target(ctx, loop)
        if target is None:
            continue
        v, bound = target
        v_text = ctx.text(v)
        uses: list[Use] = []
        other_slices: set[str] = set()
        i_elsewhere = False
        blocked = mutated = False
        for ident, text in identifiers(body, data):
            if text != i:
                continue
            parent = ident.parent
            if parent is not None and parent.type == "index_expression" and parent.named_children[-1] == ident:
                obj = unparen(parent.named_children[0])
                if same_expr(obj, v):
                    use = _classify(ctx, parent)
                    if use is None:
                        mutated = True
                    else:
                        uses.append(use)
                else:
                    other_slices.add(ctx.text(obj))
                continue
            if parent is not None and parent.type == "token_tree" and parent.child_count == 3 and parent.child(0).type == "[":
                holder = parent.parent
                obj = parent.prev_sibling
                macro = holder
                while macro is not None and macro.type == "token_tree":
                    macro = macro.parent
                if obj is not None and ctx.text(obj) == v_text and v.type == "identifier" and macro is not None:
                    name = ctx.text(macro.child_by_field_name("macro")).rsplit("::", 1)[-1]
                    after = parent.next_sibling
                    method = after.next_sibling if after is not None and after.type == "." else None
                    call = method.next_sibling if method is not None else None
                    is_call = call is not None and call.type == "token_tree" and ctx.text(call)[:1] == "("
                    if name in FORMAT_MACROS and (method is None or not is_call or ctx.text(method) in READ_ONLY):
                        uses.append(Use((obj.start_byte, parent.end_byte), "field" if method is not None else "macro"))
                        continue
                if obj is not None and obj.type == "identifier" and ctx.text(obj) != v_text:
                    other_slices.add(ctx.text(obj))
                    continue
                blocked = True
                continue
            i_elsewhere = True
        if not uses:
            continue
        seq = value_type(ctx, v)
        if seq not in SEQUENCES or mutated or _rebinds(ctx, body, i):
            continue  # unknown type, or v changes in the loop (then indexing is how it has to be done)
        # any other mention of v's variable in the body blocks the rewrite (the loop would borrow it)
        others = _other_mentions(ctx, body, v, [(u.start, u.end) for u in uses])
        if others == "mutated":
            continue
        blocked = blocked or others == "read"
        header = (loop.start_byte, body.start_byte)
        if other_slices:
            others = ", ".join(f"`{s}`" for s in sorted(other_slices))
            how = "re-slice" if blocked else "iterate with `zip`, or re-slice"
            yield ctx.finding(
                header,
                f"`{v_text}[{i}]` and {others} are indexed by `{i}`: each index is bounds-checked; {how} "
                f"the others to the loop's length first (`let s = &s[..n];`)",
            )
            continue
        if blocked:
            yield ctx.finding(
                header,
                f"`{v_text}[{i}]` is bounds-checked on every iteration; iterate over `{v_text}` instead "
                "(the loop reads it otherwise too, so no fix is offered)",
            )
            continue
        mutable = any(u.kind in ("write", "mutref", "field_write") for u in uses)
        fn = enclosing_function(loop)
        taken = {t for _, t in identifiers(fn, data)} if fn is not None else set()
        x = element_name(v_text, taken)
        edits = []
        for u in uses:
            rep = x if u.kind in ("ref", "mutref", "receiver", "field", "field_write") else f"*{x}"
            edits.append(Edit(u.start, u.end, rep))
        it = f"{v_text}.iter_mut()" if mutable else f"{v_text}.iter()"
        pattern = f"({i}, {x})" if i_elsewhere else x
        source = f"{it}.enumerate()" if i_elsewhere else it
        edits.append(Edit(m["i"][0].start_byte, loop.child_by_field_name("value").end_byte, f"{pattern} in {source}"))
        if bound is not None and fn is not None:
            n = ctx.text(bound.child_by_field_name("pattern"))
            if sum(1 for _, t in identifiers(fn, data) if t == n) == 2:  # the let and the range only
                edits.append(delete_statement(ctx.src, bound))
        yield ctx.finding(
            header,
            f"`{v_text}[{i}]` is bounds-checked on every iteration; iterate over `{v_text}` instead",
            fix=fix(f"Iterate with `{source}`", *edits),
        )


RULE = Rule(
    name="index_loop",
    group="perf",
    summary="`for i in 0..v.len()` indexing `v[i]`; iterate instead of bounds-checking every access",
    docs=DOCS,
    check=check,
    fix=FixKind.SOMETIMES,
    clippy="needless_range_loop",
    source="https://nnethercote.github.io/perf-book/bounds-checks.html",
    needles=(b"len()",),
    in_loops=True,
    queries=(QUERY,),
)
