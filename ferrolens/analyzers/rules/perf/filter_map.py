"""filter_map: `.filter(p).map(f)` where `f` unwraps what `p` tested."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix
from ferrolens.analyzers.model import Edit
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import descendants, is_method, method_call, unparen

DOCS = """
## What it does
Flags `.filter(|x| x.is_some()).map(|x| x.unwrap())` and the `is_ok` / `unwrap` pair for `Result`
(also written with paths, `.filter(Option::is_some).map(Option::unwrap)`), and the longer form whose
map does more with the unwrapped value, `.map(|x| f(x.unwrap()))`.

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
Safe when the items are evidently owned (the step before `filter` is a `map`, `filter_map`,
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


def check(ctx: Context, item: Node):
    for m in ctx.matches("(call_expression) @call", item):
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
        how = _unwraps(ctx, mapped.args[0], test)
        if how is None:
            continue
        source = method_call(unparen(filtered.receiver))
        origin = source.name if source is not None else None
        kind = "Option" if test == "is_some" else "Result"
        # the edit spans from the `filter` name to the end of the map call
        start = filtered.name_node.start_byte
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
)
