"""select_without_else: a `tokio::select!` loop that panics once all its channels are closed."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix
from ferrolens.analyzers.model import Edit
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.summary import resolve_path
from ferrolens.analyzers.syntax import LOOPS, ancestors, in_test_code

DOCS = """
## What it does
Flags a `tokio::select!` inside a loop when every branch has a pattern that can fail to match (such
as `Some(msg) = rx.recv()`) and there is no `else` branch.

## Why it matters
`select!` disables a branch whose result does not match its pattern and waits on the others. When
every branch has been disabled, which is exactly what happens once all the channels it receives from
are closed and their `recv()` returns `None`, there is nothing left to wait for and `select!` panics
unless an `else` branch says what to do. An actor that loops over `select!` therefore crashes at
shutdown instead of ending. The `else` branch is the place to leave the loop.

## Example
```rust
loop {
    tokio::select! {
        Some(msg) = commands.recv() => handle(msg),
        Some(tick) = ticks.recv() => on_tick(tick),
    }
}
```

## Use instead
```rust
loop {
    tokio::select! {
        Some(msg) = commands.recv() => handle(msg),
        Some(tick) = ticks.recv() => on_tick(tick),
        else => break,
    }
}
```

## Fix safety
Unsafe: it changes what happens when every branch is disabled (the loop ends instead of the task
panicking), which is nearly always what was meant, but it is a change in behaviour.
"""


@dataclass
class Branch:
    pattern: list[Node]
    precondition: bool
    handler_end: Node  # the last token of the branch (its handler, or the comma after it)
    has_comma: bool
    block: bool  # the handler is a `{ .. }` block (no comma needed after it)


QUERY = "(macro_invocation macro: (_) @name (token_tree) @tt) @mac"


def branches(tt: Node) -> list[Branch] | None:
    """The branches of a `select!` token tree, or None when it does not read as one."""
    toks = [t for t in tt.children[1:-1] if t.type not in ("line_comment", "block_comment")]
    i, out = 0, []
    if len(toks) >= 2 and toks[0].type == "identifier" and toks[0].text == b"biased" and toks[1].type == ";":
        i = 2
    while i < len(toks):
        start = i
        while i < len(toks) and toks[i].type not in ("=", "=>"):
            i += 1
        if i >= len(toks):
            return None
        pattern = toks[start:i]
        precondition = False
        if toks[i].type == "=":
            i += 1
            while i < len(toks) and toks[i].type != "=>":
                if toks[i].type == "if" and i > 0 and toks[i - 1].type == ",":
                    precondition = True
                i += 1
            if i >= len(toks):
                return None
        i += 1  # past =>
        if i >= len(toks):
            return None
        block = toks[i].type == "token_tree" and toks[i].text.startswith(b"{")
        if block:
            end = toks[i]
            i += 1
        else:
            while i < len(toks) and toks[i].type != ",":
                i += 1
            end = toks[i - 1]
        comma = i < len(toks) and toks[i].type == ","
        if comma:
            end = toks[i]
            i += 1
        out.append(Branch(pattern, precondition, end, comma, block))
    return out


def _refutable(pattern: list[Node]) -> bool:
    """`Some(x)`, `Ok(v)`, `Msg::Stop`: a pattern naming a variant or holding a literal."""
    for tok in pattern:
        text = tok.text or b""
        if tok.type == "identifier" and text[:1].isupper():
            return True
        if tok.type in ("integer_literal", "string_literal", "char_literal", "boolean_literal"):
            return True
    return False


def _in_loop(node: Node) -> bool:
    for a in ancestors(node):
        if a.type in LOOPS:
            return True
        if a.type in ("function_item", "closure_expression", "async_block"):
            return False
    return False


def check(ctx: Context, item: Node):
    for m in ctx.matches(QUERY, item):
        name = ctx.text(m["name"][0])
        if not name.endswith("select") or resolve_path(ctx.summary.imports, name) != "tokio::select":
            continue
        mac, tt = m["mac"][0], m["tt"][0]
        if not _in_loop(mac) or not tt.text.startswith(b"{") or in_test_code(ctx.src, mac):
            continue
        found = branches(tt)
        if not found:
            continue
        if any(len(b.pattern) == 1 and b.pattern[0].text == b"else" for b in found):
            continue
        if not all(_refutable(b.pattern) or b.precondition for b in found):
            continue
        last = found[-1]
        indent = ctx.line_indent(found[0].pattern[0].start_byte) if found[0].pattern else "    "
        insert = ("" if last.has_comma or last.block else ",") + f"\n{indent}else => break,"
        yield ctx.finding(
            m["name"][0],
            "every branch of this `select!` can be disabled and there is no `else`: once all its channels are closed,"
            " `select!` panics instead of leaving the loop",
            fix=fix("Add `else => break,`", Edit(last.handler_end.end_byte, last.handler_end.end_byte, insert), safe=False),
        )


RULE = Rule(
    name="select_without_else",
    group="async",
    summary="A `select!` loop with only refutable branches and no `else` panics when its channels close",
    docs=DOCS,
    check=check,
    fix=FixKind.UNSAFE,
    source="https://ryhl.io/blog/actors-with-tokio/",
    needles=(b"select!",),
    in_loops=True,
    queries=(QUERY,),
)
