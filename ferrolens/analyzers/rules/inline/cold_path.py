"""cold_path: an error/panic helper called from a loop without `#[cold]`."""

from __future__ import annotations

from dataclasses import replace

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

It also flags the other half of the split: in a small function called inside a loop or marked
`#[inline]`, an `if` block
or `match` arm of six or more statements that ends by panicking or returning `Err(..)`, where the
rest of the function is small. That branch is the rare case taking up most of the code (hint, no
fix: choosing what the outlined function takes and returns is up to you).

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

For a large error branch inside a small hot function, move the branch into its own function and
mark that one `#[cold]`:
```rust
fn push(&mut self, v: u8) -> Result<(), Error> {
    if self.len == self.cap {
        return Err(self.overflow(v)); // #[cold] fn overflow(&self, v: u8) -> Error { ... }
    }
    self.buf[self.len] = v;
    self.len += 1;
    Ok(())
}
```

## Fix safety
Safe: both attributes are hints that do not change what the program does. The split hint has no fix.
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
    def straight() -> bool:  # no branch anywhere in the body (walked only for a candidate)
        return not any(n.type in BRANCHES for n in subtree(body))

    if last.type == "macro_invocation" and macro_name(last) in PANICS and straight():
        return f"ends in `{macro_name(last)}!`"
    if last.type == "call_expression":
        callee = ctx.text(last.child_by_field_name("function")).replace(" ", "")
        if callee in ("std::process::exit", "process::exit"):
            return "exits the process"
        if path_last(callee) == "Err" and ret.startswith(("Result", "std::result::Result", "io::Result")) and straight():
            return "only builds an error"
    return None


SPLIT_MIN = 6  # statements in the rare branch
HOT_MAX = 6  # statements in the rest of the function


def _statements(block: Node) -> list[Node]:
    """Statements that cost code: not comments, attributes or `debug_assert!`s (gone in release)."""
    out = []
    for c in block.named_children:
        if c.type in ("line_comment", "block_comment", "attribute_item"):
            continue
        expr = c.named_children[0] if c.type == "expression_statement" and c.named_child_count else c
        if expr.type == "macro_invocation" and (macro_name(expr) or "").startswith("debug_assert"):
            continue
        out.append(c)
    return out


def _diverges_cold(ctx: Context, block: Node) -> bool:
    last = _last(block)
    if last is None:
        return False
    if last.type == "return_expression":
        value = last.named_children[0] if last.named_child_count else None
        return value is not None and value.type == "call_expression" and path_last(ctx.text(value.child_by_field_name("function"))) == "Err"
    return last.type == "macro_invocation" and macro_name(last) in PANICS


def _rare_branches(ctx: Context, body: Node):
    """(node to report, its block) for large branches that end the function with an error."""
    for stmt in _statements(body):
        expr = stmt.named_children[0] if stmt.type == "expression_statement" and stmt.named_child_count else stmt
        if expr.type == "if_expression":
            block = expr.child_by_field_name("consequence")
            if block is not None and expr.child_by_field_name("alternative") is None:
                yield expr.child_by_field_name("condition") or expr, block, stmt
        elif expr.type == "match_expression":
            arms = expr.child_by_field_name("body")
            for arm in arms.named_children if arms is not None else ():
                value = arm.child_by_field_name("value") if arm.type == "match_arm" else None
                if value is not None and value.type == "block":
                    yield arm.child_by_field_name("pattern") or arm, value, value


def _count_statements(node: Node) -> int:
    return sum(1 for n in subtree(node) if n.parent is not None and n.parent.type == "block" and n.is_named and "comment" not in n.type)


def _split_hint(ctx: Context, item: Node, body: Node, name: str, why: str):
    total = None
    for at, block, counted in _rare_branches(ctx, body):
        n = len(_statements(block))
        if block.has_error or n < SPLIT_MIN or not _diverges_cold(ctx, block):
            continue
        if total is None:  # counted only for a candidate: most functions have none
            total = _count_statements(body)
        if total - _count_statements(counted) > HOT_MAX:
            continue
        yield ctx.finding(
            at,
            f"this branch of `{name}` is a rare error path of {n} statements, most of a function that {why}: "
            "move it into a `#[cold]` function so the hot path stays small and inlinable (hot/cold split)",
            severity=Severity.HINT,
        )
        return


def check(ctx: Context, item: Node):
    body = item.child_by_field_name("body")
    if body is None:
        return
    attrs = [attribute_text(a) for a in outer_attributes(item)]
    if any(a == "cold" or a.startswith("test") for a in attrs):
        return
    if any(a.startswith("cfg(") and any(p in a for p in PLATFORM) for a in attrs):
        return
    name = ctx.text(item.child_by_field_name("name"))
    if name == "main" or in_test_code(ctx.src, item):
        return
    # Whether the file calls `name` in a loop is left to the engine (`when_loop_call`): the findings
    # are cached with the function, and a keystroke in some loop must not redo every function.
    inline = any(a.startswith("inline") and "never" not in a for a in attrs)
    reason = _cold_reason(ctx, item, body)
    if reason is None:
        why = "is marked `#[inline]`" if inline else "runs inside a loop"
        for f in _split_hint(ctx, item, body, name, why):
            yield f if inline else replace(f, when_loop_call=name)
        return
    if any(a.startswith(("inline", "track_caller")) for a in attrs):
        return
    indent = ctx.line_indent(item.start_byte)
    yield replace(
        ctx.finding(
            item.child_by_field_name("name"),
            f"`{name}` {reason} and is called inside a loop: mark it `#[cold]` so the loop is optimised for the path that does not call it",
            fix=fix("Add `#[cold]` and `#[inline(never)]`", Edit(item.start_byte, item.start_byte, f"#[cold]\n{indent}#[inline(never)]\n{indent}")),
        ),
        when_loop_call=name,
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
    # what every finding needs somewhere in the function: `-> !`, a panic, an exit or an `Err`
    needles=(b"-> !", b"->!", *(m.encode() + b"!" for m in sorted(PANICS)), b"exit", b"Err"),
)
