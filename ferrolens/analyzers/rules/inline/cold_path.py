"""cold_path: an error/panic helper called from a loop without `#[cold]`."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix
from ferrolens.analyzers.model import Edit, Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import attribute_text, macro_name, outer_attributes, path_last, subtree, in_test_code

DOCS = """
## What it does
Flags a function without `#[cold]` whose body only ends the program or builds an error, when the
same file calls it inside a loop:
- its return type is `!`, or its straight-line body (no branches, loops or early returns) ends in
  `panic!`, `unreachable!`, `unimplemented!`, `todo!`
  or `std::process::exit(..)`;
- or it returns `Err(..)` from a straight-line body (no branches or loops), typically after
  formatting a message.

Platform stubs (a function under `#[cfg(not(unix))]`, `#[cfg(target_arch = ..)]` and the like, which
exists only where it is never meant to run) are left alone.

## Why it matters
Code that runs only when something went wrong does not need to be fast, but it still shares the
instruction cache and the optimiser's attention with the loop that calls it. `#[cold]` tells the
compiler that calls to the function are unlikely: the branch that leads to it is laid out out of the
way, the hot path is optimised as if it were not there, and the error-formatting code is not inlined
into the loop. `#[inline(never)]` keeps the body out of the caller for good. This is the "outlining"
half of the hot/cold split.

## Example
```rust
fn bad_record(line: usize, text: &str) -> ParseError {
    ParseError(format!("line {line}: cannot parse {text:?}"))
}

for (i, line) in input.lines().enumerate() {
    let value = line.parse::<u64>().map_err(|_| bad_record(i, line))?;
    // ...
}
```

## Use instead
```rust
#[cold]
#[inline(never)]
fn bad_record(line: usize, text: &str) -> ParseError {
    ParseError(format!("line {line}: cannot parse {text:?}"))
}
```

## Fix safety
Safe: both attributes are hints that do not change what the program does.
"""

PANICS = {"panic", "unreachable", "unimplemented", "todo"}
BRANCHES = {
    "if_expression", "match_expression", "for_expression", "while_expression", "loop_expression", "try_expression",
    "closure_expression", "return_expression", "macro_definition",
}
# a platform stub (`#[cfg(not(unix))] fn f() { unreachable!() }`) is never called where it exists
PLATFORM = ("target_", "unix", "windows", "not(")


def _last(body: Node) -> Node | None:
    kids = [c for c in body.named_children if c.type not in ("line_comment", "block_comment")]
    if not kids:
        return None
    last = kids[-1]
    if last.type == "expression_statement" and last.named_child_count:
        last = last.named_children[0]
    return last


def _cold_reason(ctx: Context, fn: Node, body: Node) -> str | None:
    ret = ctx.text(fn.child_by_field_name("return_type")).strip()
    if ret == "!":
        return "never returns"
    last = _last(body)
    if last is None:
        return None
    straight = not any(n.type in BRANCHES for n in subtree(body))
    if last.type == "macro_invocation" and macro_name(last) in PANICS and straight:
        return f"ends in `{macro_name(last)}!`"
    if last.type == "call_expression":
        callee = ctx.text(last.child_by_field_name("function")).replace(" ", "")
        if callee in ("std::process::exit", "process::exit"):
            return "exits the process"
        if path_last(callee) == "Err" and straight and ret.startswith(("Result", "std::result::Result", "io::Result")):
            return "only builds an error"
    return None


def check(ctx: Context, item: Node):
    body = item.child_by_field_name("body")
    if body is None:
        return
    attrs = [attribute_text(a) for a in outer_attributes(item)]
    if any(a == "cold" or a.startswith(("inline", "test", "track_caller")) for a in attrs):
        return
    if any(a.startswith("cfg(") and any(p in a for p in PLATFORM) for a in attrs):
        return
    name = ctx.text(item.child_by_field_name("name"))
    if name == "main" or name not in ctx.summary.loop_calls or in_test_code(ctx.src, item):
        return
    reason = _cold_reason(ctx, item, body)
    if reason is None:
        return
    indent = ctx.line_indent(item.start_byte)
    yield ctx.finding(
        item.child_by_field_name("name"),
        f"`{name}` {reason} and is called inside a loop: mark it `#[cold]` so the loop is optimised for the path that does not call it",
        fix=fix("Add `#[cold]` and `#[inline(never)]`", Edit(item.start_byte, item.start_byte, f"#[cold]\n{indent}#[inline(never)]\n{indent}")),
    )


RULE = Rule(
    name="cold_path",
    group="perf",
    summary="A panicking or error-building function called from a loop lacks `#[cold]`",
    docs=DOCS,
    check=check,
    severity=Severity.INFO,
    fix=FixKind.ALWAYS,
    source="https://nnethercote.github.io/perf-book/inlining.html",
    node_types=frozenset({"function_item"}),
)
