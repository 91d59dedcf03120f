"""lines_alloc: `BufRead::lines()` allocates a new String for every line."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix
from ferrolens.analyzers.model import Edit
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import enclosing_function, fresh_name, identifiers, is_method, macro_name, method_call, unparen
from ferrolens.analyzers.types import find_binding

DOCS = """
## What it does
Flags `for line in reader.lines()` over a buffered reader (a `BufReader`, a locked or plain stdin, or a
loop whose items are unwrapped as `io::Result`s). When the body starts with `let line = line?;` (or
`.unwrap()` / `.expect(..)`) and then only reads `line` as a `&str`, it offers a rewrite to a
`read_line` loop that reuses one `String`.

## Why it matters
`lines()` returns a fresh `String` for every line: one allocation and one free per line, which adds
up on files with millions of short lines. `read_line` appends into a buffer you own; cleared at the
top of each iteration, the buffer keeps its capacity and the loop stops allocating after the longest
line.

## Example
```rust
for line in reader.lines() {
    let line = line?;
    total += line.len();
}
```

## Use instead
```rust
let mut buf = String::new();
loop {
    buf.clear();
    if reader.read_line(&mut buf)? == 0 {
        break;
    }
    let line = buf.strip_suffix('\\n').map(|l| l.strip_suffix('\\r').unwrap_or(l)).unwrap_or(&buf);
    total += line.len();
}
```

## Fix safety
Unsafe (offered, never applied in batch). `read_line` keeps the line ending, so the rewrite strips a
trailing `\\n` and then a `\\r` exactly as `lines()` does, and the lines themselves come out
unchanged; but `line` becomes a `&str` borrowed from the buffer instead of an owned `String`, so the
rewrite is offered only when the body merely reads it, and the loop's structure changes visibly.
"""

STR_METHODS = {
    "len", "is_empty", "trim", "trim_start", "trim_end", "split", "split_whitespace", "splitn", "rsplit",
    "split_once", "starts_with", "ends_with", "contains", "chars", "bytes", "parse", "as_bytes", "to_string",
    "to_owned", "find", "rfind", "replace", "to_lowercase", "to_uppercase", "char_indices", "get",
    "strip_prefix", "strip_suffix", "eq_ignore_ascii_case", "matches", "trim_matches", "is_char_boundary",
}
READ_MACROS = {"println", "print", "eprintln", "eprint", "format", "write", "writeln", "assert", "assert_eq", "assert_ne", "panic"}
BUFFERED_HINTS = ("BufReader", "stdin", "lock()", "BufRead", "Cursor")


QUERY = "(for_expression pattern: (identifier) @name value: (call_expression) @value body: (block) @body) @loop"


def _unwrapping(ctx: Context, stmt: Node, name: str) -> tuple[str, Node] | None:
    """The error handling of `let line = line?;` / `.unwrap()` / `.expect(..)` as a suffix text."""
    if stmt.type != "let_declaration" or ctx.text(stmt.child_by_field_name("pattern")) != name:
        return None
    value = stmt.child_by_field_name("value")
    if value is None or stmt.child_by_field_name("type") is not None:
        return None
    value = unparen(value)
    if value.type == "try_expression" and ctx.text(unparen(value.named_children[0])) == name:
        return "?", value
    mc = is_method(value, "unwrap", "expect")
    if mc is not None and ctx.text(unparen(mc.receiver)) == name:
        return ctx.text(value)[len(ctx.text(mc.receiver)) :], value
    return None


def _reads_only(ctx: Context, body: Node, name: str, after: int) -> bool:
    for ident, text in identifiers(body, ctx.src.data):
        if text != name or ident.start_byte < after:
            continue
        parent = ident.parent
        if parent is None:
            return False
        if parent.type == "field_expression" and parent.child_by_field_name("value") == ident:
            mc = method_call(parent.parent)
            if mc is None or mc.name not in STR_METHODS:
                return False
            continue
        if parent.type == "reference_expression" and not any(c.type == "mutable_specifier" for c in parent.children):
            continue
        if parent.type == "token_tree":
            macro = parent
            while macro is not None and macro.type == "token_tree":
                macro = macro.parent
            if macro is not None and macro.type == "macro_invocation" and macro_name(macro) in READ_MACROS:
                nxt = ident.next_sibling
                if nxt is None or nxt.type != ".":
                    continue
            return False
        return False
    return True


def check(ctx: Context, item: Node):
    data = ctx.src.data
    for m in ctx.matches(QUERY, item):
        loop, body, name = m["loop"][0], m["body"][0], ctx.text(m["name"][0])
        mc = is_method(m["value"][0], "lines")
        if mc is None or mc.args:
            continue
        stmts = [c for c in body.named_children if c.type not in ("line_comment", "block_comment")]
        unwrap = _unwrapping(ctx, stmts[0], name) if stmts else None
        recv_text = ctx.text(mc.receiver)
        evidence = any(h in recv_text for h in BUFFERED_HINTS)
        recv = unparen(mc.receiver)
        if not evidence and recv.type == "identifier":
            decl = find_binding(ctx, recv_text, recv)
            evidence = decl is not None and any(h in ctx.text(decl) for h in BUFFERED_HINTS)
        if not (evidence or unwrap is not None):
            continue  # probably `str::lines`, which allocates nothing
        message = "`lines()` allocates a new `String` for every line; a `read_line` loop can reuse one buffer"
        parent = loop.parent
        label = loop.child(0) is not None and loop.child(0).type == "label"
        if unwrap is None or label or parent is None or parent.type not in ("expression_statement", "block"):
            yield ctx.finding((loop.start_byte, body.start_byte), message)
            continue
        first = stmts[0]
        if not _reads_only(ctx, body, name, first.end_byte):
            yield ctx.finding((loop.start_byte, body.start_byte), message + " (the body needs an owned `String`, so no fix is offered)")
            continue
        fn = enclosing_function(loop)
        taken = {t for _, t in identifiers(fn, data)} if fn is not None else set()
        reader = recv_text if recv.type == "identifier" else fresh_name("reader", taken)
        buf = fresh_name("buf", taken | {reader})
        suffix, _ = unwrap
        indent = ctx.line_indent(loop.start_byte)
        inner = ctx.line_indent(first.start_byte)
        head = (
            f"let mut {reader} = {recv_text};\n{indent}let mut {buf} = String::new();\n{indent}loop {{\n"
            f"{inner}{buf}.clear();\n{inner}if {reader}.read_line(&mut {buf}){suffix} == 0 {{\n{inner}    break;\n{inner}}}"
        )
        strip = f"let {name} = {buf}.strip_suffix('\\n').map(|l| l.strip_suffix('\\r').unwrap_or(l)).unwrap_or(&{buf});"
        yield ctx.finding(
            (loop.start_byte, body.start_byte),
            message,
            fix=fix(
                "Rewrite as a `read_line` loop over one reused buffer",
                Edit(loop.start_byte, body.start_byte + 1, head),
                Edit(first.start_byte, first.end_byte, strip),
                safe=False,
            ),
        )


RULE = Rule(
    name="lines_alloc",
    group="perf",
    summary="`BufRead::lines()` allocates a String per line; reuse one buffer with `read_line`",
    docs=DOCS,
    check=check,
    fix=FixKind.UNSAFE,
    source="https://nnethercote.github.io/perf-book/io.html#reading-lines-from-a-file",
    needles=(b"lines()",),
    in_loops=True,
    queries=(QUERY,),
)
