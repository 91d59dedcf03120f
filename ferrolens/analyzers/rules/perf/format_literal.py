"""format_literal: `format!` used only to turn a string into a `String`."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix, replace_node
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.types import binding_type, value_type

DOCS = """
## What it does
Flags `format!("text")` with no placeholders and no arguments, and `format!("{}", s)` / `format!("{s}")`
where `s` is evidently a `&str` or a `String` (a literal, or a local binding or parameter whose type or
initialiser says so).

## Why it matters
`format!` runs the formatting machinery: it parses nothing at run time, but it still goes through
`fmt::Write` piece by piece, and it hides from the reader that no formatting happens. `to_string()` on a
`&str` is a single allocation and copy of the right size.

When the new `String` is only borrowed right away (`f(&format!("text"))`), even that allocation is
unnecessary: pass the `&str` itself.

## Example
```rust
let greeting = format!("hello");
let copy = format!("{}", name);
```

## Use instead
```rust
let greeting = "hello".to_string();
let copy = name.to_string();
```

## Fix safety
Safe: both forms build the same `String`.
"""

_PLACEHOLDER = re.compile(r"^\{\s*(?:([A-Za-z_][A-Za-z0-9_]*)\s*)?\}$")
STRINGY = {"str", "String"}


FORMAT_CALLS = "(macro_invocation macro: (identifier) @m (#eq? @m \"format\")) @call"


def _literal(node: Node) -> bool:
    return node.type in ("string_literal", "raw_string_literal")


def _unterminated_statement(node: Node) -> bool:
    parent = node.parent
    if parent is None:
        return False
    if parent.type == "expression_statement":
        return not any(c.type == ";" for c in parent.children)
    if parent.type == "block":
        rest = [c for c in parent.named_children if c.type not in ("line_comment", "block_comment")]
        return bool(rest) and rest[-1] != node
    return False


def check(ctx: Context, item: Node):
    for m in ctx.matches(FORMAT_CALLS, item):
        call = m["call"][0]
        tt = call.named_children[-1] if call.named_children else None
        if tt is None or tt.type != "token_tree":
            continue
        toks = [c for c in tt.children[1:-1] if c.type not in ("line_comment", "block_comment")]
        if toks and toks[-1].type == ",":
            toks = toks[:-1]
        if not toks or not _literal(toks[0]):
            continue
        lit = toks[0]
        content = ctx.text(lit)
        body = content[content.index('"') + 1 : content.rindex('"')]
        if len(toks) == 1 and "{" not in body and "}" not in body:
            replacement, what = f"{content}.to_string()", "a string literal"
        elif len(toks) == 3 and toks[1].type == "," and _PLACEHOLDER.match(body) and not _PLACEHOLDER.match(body).group(1):
            arg = toks[2]
            if not (_literal(arg) or (arg.type == "identifier" and value_type(ctx, arg) in STRINGY)):
                continue
            replacement, what = f"{ctx.text(arg)}.to_string()", f"`{ctx.text(arg)}`"
        elif len(toks) == 1 and (pm := _PLACEHOLDER.match(body)) and pm.group(1):
            # format!("{s}") with an inline captured name
            name = pm.group(1)
            if binding_type(ctx, name, call) not in STRINGY:
                continue
            replacement, what = f"{name}.to_string()", f"`{name}`"
        else:
            continue
        parent = call.parent
        if call.parent is not None and call.parent.type in ("declaration_list", "source_file"):
            continue  # a macro in item position (an impl body, the top level) is not an expression
        if _unterminated_statement(call):
            continue  # a macro statement without `;` mid-block (tree-sitter accepts it): a call there would not parse
        borrowed = parent is not None and parent.type == "reference_expression" and not any(
            c.type == "mutable_specifier" for c in parent.children
        )
        message = f"`format!` of {what} only copies it into a `String`; use `.to_string()`"
        if borrowed:
            message += " (the result is only borrowed here: the `&str` itself may do)"
        yield ctx.finding(call, message, fix=fix(f"Replace with `{replacement}`", replace_node(call, replacement)))


RULE = Rule(
    name="format_literal",
    group="perf",
    summary="`format!` that only copies a string; use `.to_string()`",
    docs=DOCS,
    check=check,
    fix=FixKind.ALWAYS,
    clippy="useless_format",
    source="https://nnethercote.github.io/perf-book/heap-allocations.html#strings",
    needles=(b"format!",),
    queries=(FORMAT_CALLS,),
)
