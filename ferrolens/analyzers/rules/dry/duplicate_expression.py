"""duplicate_expression: the same pure call chain computed twice in a function, inputs unchanged."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import CALLS, Context
from ferrolens.analyzers.dry.tokens import Kind, lex, lex_texts
from ferrolens.analyzers.model import Related, Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import enclosing, subtree

DOCS = """
## What it does
Finds a call chain such as `items.iter().map(|i| i.price).sum::<u64>()` that a function computes a
second time in the same block while nothing it reads has changed in between: no assignment to its
variables, no `&mut` borrow of them, no call of a method on them that is not known to be read-only.
Only chains of at least two calls and ten tokens are considered that walk a collection or allocate
(`iter`, `chars`, `collect`, `to_string`, ...) and end in a value (`sum`, `len`, `max`, `collect`, ...;
an iterator is lazy, so building it twice repeats nothing), made of methods known to be read-only and
closures built of the same; macros, free functions and `?` make a chain "unknown" and it is left alone.

## Why it matters
The second computation repeats the work (an iteration, an allocation) and the logic: when the
expression changes, both copies must change alike. Bound once, it runs once and has a name.

## Example
```rust
let total = items.iter().map(|i| i.price).sum::<u64>();
println!("{}", total);
if items.iter().map(|i| i.price).sum::<u64>() > limit { .. }
```

## Use instead
```rust
let total = items.iter().map(|i| i.price).sum::<u64>();
println!("{}", total);
if total > limit { .. }
```

## Fix safety
A hint without a fix: where to bind the value, and under which name, is the author's choice.
"""

PURE = frozenset(
    """iter into_iter map filter filter_map flat_map flatten sum count len is_empty min max min_by_key max_by_key
    clone cloned copied to_string to_owned to_lowercase to_uppercase trim trim_start trim_end as_str as_ref
    as_bytes as_slice chars bytes lines split split_whitespace collect contains starts_with ends_with get first
    last keys values abs sqrt pow powi powf floor ceil round fold any all position find rev enumerate zip skip
    take step_by chain unwrap_or is_some is_none is_ok is_err join concat product windows chunks to_vec eq
    ne cmp partial_cmp len_utf8 char_indices signum""".split()
)
# the chain must end in a value (an iterator is lazy: making it twice computes nothing twice) and do
# work worth saving (walk a collection or allocate)
TERMINAL = frozenset(
    """sum count len is_empty min max min_by_key max_by_key collect contains any all position find fold product
    to_string to_owned to_lowercase to_uppercase unwrap_or join concat to_vec first last get""".split()
)
COSTLY = frozenset(
    """iter into_iter chars bytes lines split split_whitespace char_indices keys values windows chunks collect
    to_string to_owned to_vec to_lowercase to_uppercase join concat""".split()
)
MIN_TOKENS = 10
# a chain computed twice ends twice in the same terminal method: a function without such a pair is
# skipped before any tree walk
_TERMINAL_CALL = re.compile(rb"\.\s*(" + b"|".join(sorted(t.encode() for t in TERMINAL)) + rb")\b")
BARRIERS = {"closure_expression", "for_expression", "while_expression", "loop_expression", "function_item"}


def _method(call: Node) -> Node | None:
    fn = call.child_by_field_name("function")
    if fn is not None and fn.type == "generic_function":
        fn = fn.child_by_field_name("function")
    if fn is None or fn.type != "field_expression":
        return None
    return fn.child_by_field_name("field")


def _pure(ctx: Context, node: Node) -> tuple[bool, int]:
    """(pure and worth binding, number of calls) of an expression."""
    last = _method(node)
    if last is None or ctx.text(last) not in TERMINAL:
        return False, 0
    costly = False
    calls = 0
    for n in subtree(node):
        t = n.type
        if t in ("macro_invocation", "assignment_expression", "compound_assignment_expr", "try_expression", "await_expression", "unsafe_block"):
            return False, 0
        if t == "reference_expression" and any(c.type == "mutable_specifier" for c in n.children):
            return False, 0
        if t == "call_expression":
            name = _method(n)
            if name is None or ctx.text(name) not in PURE:
                return False, 0
            costly = costly or ctx.text(name) in COSTLY
            calls += 1
    return costly, calls


def _outermost_calls(ctx: Context, item: Node):
    for m in ctx.matches(CALLS, item):
        n = m["call"][0]
        parent = n.parent
        if parent is not None and parent.type in ("field_expression", "call_expression", "generic_function"):
            continue  # part of a longer chain
        yield n


def _barrier(node: Node, stop: Node) -> Node | None:
    """The nearest loop, closure or function around `node` (within `stop`)."""
    p = node.parent
    while p is not None and p.id != stop.id:
        if p.type in BARRIERS:
            return p
        p = p.parent
    return p


def _block(node: Node) -> Node | None:
    return enclosing(node, ("block",))


def _written_between(ctx: Context, names: set[bytes], start: int, end: int) -> bool:
    toks = lex(ctx.src.data, start, end)
    for i, (_, t, k) in enumerate(toks):
        if k != Kind.IDENT or t not in names:
            continue
        prev = toks[i - 1][1] if i else b""
        nxt = toks[i + 1][1] if i + 1 < len(toks) else b""
        if prev == b"mut" or nxt in (b"=", b"+=", b"-=", b"*=", b"/=", b"%=", b"|=", b"&=", b"^=", b"<<=", b">>="):
            return True
        if nxt == b"." and i + 3 < len(toks) and toks[i + 3][1] == b"(" and toks[i + 2][1].decode() not in PURE:
            return True  # a method that may change it
        if prev in (b"(", b",") and nxt in (b")", b","):
            return True  # passed to a call by value: moved or copied, and the call may be anything
    return False


def check(ctx: Context, item: Node):
    ends = _TERMINAL_CALL.findall(ctx.src.data, item.start_byte, item.end_byte)
    if len(ends) == len(set(ends)):
        return
    groups: dict[tuple[bytes, ...], list[Node]] = {}
    for call in _outermost_calls(ctx, item):
        last = _method(call)
        if last is None or ctx.text(last) not in TERMINAL or call.end_byte - call.start_byte < 16:
            continue  # cheap gates before any lexing
        toks = tuple(lex_texts(ctx.src.data, call.start_byte, call.end_byte))
        if len(toks) < MIN_TOKENS:
            continue
        pure, calls = _pure(ctx, call)
        if not pure or calls < 2:
            continue
        groups.setdefault(toks, []).append(call)
    for toks, nodes in groups.items():
        if len(nodes) < 2:
            continue
        nodes.sort(key=lambda n: n.start_byte)
        first = nodes[0]
        names = {t[1] for t in lex(ctx.src.data, first.start_byte, first.end_byte) if t[2] == Kind.IDENT}
        block = _block(first)
        for later in nodes[1:]:
            if later.start_byte < first.end_byte:
                continue
            if _barrier(first, item) != _barrier(later, item):
                continue  # in another loop or closure: it may run with other state
            if block is None or _block(later) != block:
                continue  # in another block or branch: a binding before the first may not reach it
            if _written_between(ctx, names, first.end_byte, later.start_byte):
                break
            # (no line number in the message: findings are cached per item and move with it)
            yield ctx.finding(
                later,
                f"`{ctx.text(later)}` was already computed above in this block and nothing it reads has changed since: bind it once",
                related=[Related(first.start_byte, first.end_byte, "first computed here")],
            )
            break


RULE = Rule(
    name="duplicate_expression",
    group="dry",
    summary="The same read-only call chain computed twice with the same inputs; bind it once",
    docs=DOCS,
    check=check,
    severity=Severity.HINT,
    fix=FixKind.NONE,
    source="The DRY mandate (shared/reference, line 1)",
    node_types=frozenset({"function_item"}),
    queries=(CALLS,),
)
