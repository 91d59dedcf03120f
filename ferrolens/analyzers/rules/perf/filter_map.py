"""filter_map: `.filter(p).map(f)` where `f` unwraps what `p` tested."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import CALLS, Context, fix
from ferrolens.analyzers.model import Edit
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import descendants, is_method, macro_name, method_call, unparen

DOCS = """
## What it does
Flags `.filter(|x| x.is_some()).map(|x| x.unwrap())` and the `is_ok` / `unwrap` pair for `Result`
(also written with paths, `.filter(Option::is_some).map(Option::unwrap)`), the longer form whose
map does more with the unwrapped value, `.map(|x| f(x.unwrap()))`, and
`.filter(|x| matches!(x, P)).map(|x| match x { P => v, _ => unreachable!() })` (or `if let P = x { v }
else { unreachable!() }`), which tests the pattern twice. The two patterns must have the same shape;
the map's may bind names where the `matches!` has `_`.

## Why it matters
The test is done twice: once by `filter`, and again inside `unwrap`, which also keeps a panic path in
the loop that the optimiser has to prove dead. `flatten()` (an `Option` or `Result` is an iterator of
zero or one item) and `filter_map` test each item once and say what the code means.

## Example
```rust
let nums: Vec<i32> = words.iter().map(|w| w.parse().ok()).filter(|x| x.is_some()).map(|x| x.unwrap()).collect();
```

## Use instead
```rust
let nums: Vec<i32> = words.iter().map(|w| w.parse().ok()).flatten().collect();
```

## Fix safety
The `matches!` form becomes `filter_map(|x| match x { P => Some(v), _ => None })`: the map's closure
already received the items by value and matched the same pattern, so it is safe. For the others, safe
when the items are evidently owned (the step before `filter` is a `map`, `filter_map`,
`into_iter` or `drain`): the same values come out in the same order. After `.iter()` the items are
references, and the fix becomes `.flatten().copied()`, which is what the original's `unwrap` on a
reference did (it only compiles for `Copy` values). When the items' origin is unknown there is no fix.
"""

TESTS = {"is_some": "unwrap", "is_ok": "unwrap"}
OWNED_SOURCES = {"map", "filter_map", "into_iter", "drain", "flat_map", "into_values", "into_keys"}
BORROWED_SOURCES = {"iter"}


def _closure(node: Node) -> tuple[str, Node] | None:
    """(parameter name, body) of `|x| body` with a plain identifier parameter."""
    node = unparen(node)
    if node.type != "closure_expression":
        return None
    params = node.child_by_field_name("parameters")
    body = node.child_by_field_name("body")
    pats = params.named_children if params is not None else []
    if len(pats) != 1 or pats[0].type != "identifier" or body is None:
        return None
    return pats[0].text.decode(), unparen(body)


def _test_of(ctx: Context, pred: Node) -> str | None:
    """`is_some` / `is_ok` when `pred` is `|x| x.is_some()` or `Option::is_some`."""
    pred = unparen(pred)
    if pred.type == "scoped_identifier":
        text = ctx.text(pred).replace(" ", "")
        return {"Option::is_some": "is_some", "Result::is_ok": "is_ok"}.get(text)
    clo = _closure(pred)
    if clo is None:
        return None
    name, body = clo
    if body.type == "macro_invocation" and macro_name(body) == "matches":
        tt = body.named_children[-1] if body.named_children else None
        toks = tt.children[1:-1] if tt is not None else []
        if len(toks) >= 3 and toks[0].type == "identifier" and ctx.text(toks[0]) == name and toks[1].type == ",":
            pattern = ctx.src.data[toks[2].start_byte : toks[-1].end_byte].decode().strip().rstrip(",").strip()
            if pattern and " if " not in f" {pattern} ":  # a guard would need the matches! form
                return "matches:" + pattern
        return None
    mc = method_call(body)
    if mc is None or mc.args or mc.name not in TESTS:
        return None
    recv = unparen(mc.receiver)
    while recv.type == "unary_expression" and recv.child(0) is not None and recv.child(0).type == "*":
        recv = unparen(recv.named_children[0])
    return mc.name if recv.type == "identifier" and recv.text.decode() == name else None


def _unwraps(ctx: Context, func: Node, test: str) -> tuple[str, Node | None, str] | None:
    """How `func` unwraps: ("flatten", None, "") for a bare unwrap, ("map", unwrap call, param) when the
    unwrapped value is used once inside a larger body."""
    func = unparen(func)
    if func.type == "scoped_identifier":
        text = ctx.text(func).replace(" ", "")
        ok = (test == "is_some" and text == "Option::unwrap") or (test == "is_ok" and text == "Result::unwrap")
        return ("flatten", None, "") if ok else None
    clo = _closure(func)
    if clo is None:
        return None
    name, body = clo
    uses = [d for d in [body, *descendants(body)] if d.type == "identifier" and d.text.decode() == name]
    if len(uses) != 1:
        return None
    use = uses[0]
    field = use.parent
    unwrap = field.parent if field is not None else None
    mc = method_call(unwrap) if unwrap is not None else None
    if mc is None or mc.name != "unwrap" or mc.args or unparen(mc.receiver) != use:
        return None
    if unwrap == body:
        return ("flatten", None, "")
    if any(d.type in ("return_expression", "try_expression", "macro_invocation") for d in descendants(body)):
        return None  # `?`, `return` or a macro would change meaning inside another closure
    return ("map", unwrap, name)


_DIVERGING = {"unreachable", "panic", "unimplemented", "todo"}


def _norm(text: str) -> str:
    """A pattern's shape: whitespace, `ref`/`mut` and the names it binds erased (`E::A(n)` -> `E::A(_)`)."""
    text = re.sub(r"\b(?:ref|mut)\s+", "", text)
    text = re.sub(r"(?<![:\w])([a-z_][a-z0-9_]*)(?![\w:(!{])", "_", text)
    text = re.sub(r"\s+", "", text)
    # all-wildcard fields match like `..`: `E::A(_,_)` has the shape of `E::A(..)`
    return re.sub(r"\((?:_,)*(?:_|\.\.),?\)", "(..)", text)


def _destructures(ctx: Context, func: Node, pattern: str) -> tuple[str, str, str] | None:
    """(param, the map's pattern, body) when `func` is `|y| match y { PAT => body, _ => unreachable!() }` or
    `|y| if let PAT = y { body } else { unreachable!() }` for the pattern `matches!` tested."""
    clo = _closure(func)
    if clo is None:
        return None
    name, body = clo
    if body.type == "match_expression":
        value = body.child_by_field_name("value")
        block = body.child_by_field_name("body")
        arms = [a for a in block.named_children if a.type == "match_arm"] if block is not None else []
        if value is None or ctx.text(unparen(value)) != name or len(arms) != 2:
            return None
        first, second = arms
        if _norm(ctx.text(first.child_by_field_name("pattern"))) != _norm(pattern):
            return None
        if ctx.text(second.child_by_field_name("pattern")).strip() != "_" or not _diverges(ctx, second.child_by_field_name("value")):
            return None
        return name, ctx.text(first.child_by_field_name("pattern")), ctx.text(first.child_by_field_name("value"))
    if body.type == "if_expression":
        cond = body.child_by_field_name("condition")
        alt = body.child_by_field_name("alternative")
        cons = body.child_by_field_name("consequence")
        if cond is None or cond.type != "let_condition" or alt is None or cons is None:
            return None
        if ctx.text(unparen(cond.child_by_field_name("value"))) != name:
            return None
        if _norm(ctx.text(cond.child_by_field_name("pattern"))) != _norm(pattern):
            return None
        other = alt.named_children[0] if alt.named_child_count else None
        if other is None or not _diverges(ctx, other):
            return None
        inner = [c for c in cons.named_children if c.type not in ("line_comment", "block_comment")]
        value = ctx.text(inner[0]) if len(inner) == 1 and inner[0].type != "expression_statement" and inner[0].type != "let_declaration" else ctx.text(cons)
        return name, ctx.text(cond.child_by_field_name("pattern")), value
    return None


def _diverges(ctx: Context, node: Node | None) -> bool:
    if node is None:
        return False
    node = unparen(node)
    if node.type == "block":
        inner = [c for c in node.named_children if c.type not in ("line_comment", "block_comment")]
        if len(inner) != 1:
            return False
        node = inner[0].named_children[0] if inner[0].type == "expression_statement" and inner[0].named_child_count else inner[0]
    return node.type == "macro_invocation" and macro_name(node) in _DIVERGING


def check(ctx: Context, item: Node):
    for m in ctx.matches(CALLS, item):
        call = m["call"][0]
        mapped = is_method(call, "map")
        if mapped is None or len(mapped.args) != 1:
            continue
        filtered = is_method(unparen(mapped.receiver), "filter")
        if filtered is None or len(filtered.args) != 1:
            continue
        test = _test_of(ctx, filtered.args[0])
        if test is None:
            continue
        start = filtered.name_node.start_byte
        if test.startswith("matches:"):
            pattern = test[len("matches:") :]
            found = _destructures(ctx, mapped.args[0], pattern)
            if found is None:
                continue
            name, bound, value = found
            new = f"filter_map(|{name}| match {name} {{ {bound} => Some({value}), _ => None }})"
            yield ctx.finding(
                (start, call.end_byte),
                "`filter(matches!(..))` then a `map` that destructures the same pattern tests each item twice; `filter_map` does it once",
                fix=fix("Use `filter_map`", Edit(start, call.end_byte, new)),
            )
            continue
        how = _unwraps(ctx, mapped.args[0], test)
        if how is None:
            continue
        source = method_call(unparen(filtered.receiver))
        origin = source.name if source is not None else None
        kind = "Option" if test == "is_some" else "Result"
        # the edit spans from the `filter` name to the end of the map call
        message = f"`filter({test})` then `map(unwrap)` tests each {kind} twice; "
        if how[0] == "flatten":
            message += "`flatten()` does it once"
            if origin in OWNED_SOURCES:
                new, safe = "flatten()", True
            elif origin in BORROWED_SOURCES:
                new, safe = "flatten().copied()", True
            else:
                yield ctx.finding((start, call.end_byte), message + " (the items' type is not evident, so no fix is offered)")
                continue
        else:
            _, unwrap, name = how
            message += "`filter_map` does it once"
            if origin not in OWNED_SOURCES:
                yield ctx.finding((start, call.end_byte), message + " (the items' type is not evident, so no fix is offered)")
                continue
            clo = unparen(mapped.args[0])
            body = unparen(clo.child_by_field_name("body"))
            data = ctx.src.data
            inner = (
                data[body.start_byte : unwrap.start_byte] + name.encode() + data[unwrap.end_byte : body.end_byte]
            ).decode()
            conv = "" if test == "is_some" else ".ok()"
            new, safe = f"filter_map(|{name}| {name}{conv}.map(|{name}| {inner}))", True
        yield ctx.finding(
            (start, call.end_byte),
            message,
            fix=fix(f"Use `{new.split('(')[0]}`", Edit(start, call.end_byte, new), safe=safe),
        )


RULE = Rule(
    name="filter_map",
    group="perf",
    summary="`.filter(is_some).map(unwrap)` tests twice; use `flatten()` or `filter_map`",
    docs=DOCS,
    check=check,
    fix=FixKind.SOMETIMES,
    clippy="option_filter_map",
    source="https://nnethercote.github.io/perf-book/iterators.html#filter_map-and-flat_map",
    needles=(b"filter",),
    queries=(CALLS,),
)
