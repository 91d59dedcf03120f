"""repeated_literal: the same non-trivial string literal written three or more times in a file."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix
from ferrolens.analyzers.dry.fingerprint import is_test_item, is_test_path
from ferrolens.analyzers.model import Edit, Related, Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.source import is_generated
from ferrolens.analyzers.syntax import unused_name

DOCS = """
## What it does
Finds a string literal of five or more characters that is written three or more times in one file
(outside macros, attributes, `extern "ABI"` strings, tests, `const`/`static` items and the labels of
`Debug`/serde builders such as `.field("name", ..)`), and offers to extract it into a `const`.
Off by default: enable it with `select = ["repeated_literal"]`.

## Why it matters
A repeated literal is a repeated decision: a header name, a file extension, a key. When it changes, every
copy has to change, and a typo in one copy compiles fine and fails at run time. A named `const` is
checked by the compiler and says what the value means.

## Example
```rust
req.header("content-type", "application/json");
resp.header("content-type", "application/json");
if ct == "application/json" { .. }
```

## Use instead
```rust
const APPLICATION_JSON: &str = "application/json";

req.header("content-type", APPLICATION_JSON);
resp.header("content-type", APPLICATION_JSON);
if ct == APPLICATION_JSON { .. }
```

## Fix safety
Safe: a `&str` const has the type the literal had (`&'static str`), also in patterns. The fix is only
offered when every copy is in a top-level item of the file (an inline `mod` would need a path); the
const goes before the first item after the `use` declarations.
"""

MIN_CHARS = 5
MIN_COPIES = 3
_STOP = {"line_comment", "block_comment", "attribute_item", "inner_attribute_item", "use_declaration", "extern_crate_declaration"}


def _excluded(node: Node, data: bytes) -> bool:
    p = node.parent
    while p is not None:
        if p.type in ("macro_invocation", "attribute_item", "inner_attribute_item", "const_item", "static_item", "macro_definition", "extern_modifier", "foreign_mod_item"):
            return True
        if p.type in ("function_item", "mod_item") and is_test_item(p, data):
            return True
        p = p.parent
    return False


# Builders whose first argument is a label that reads best inline (`f.debug_struct("Foo").field("bar", ..)`,
# serde's `serialize_field("bar", ..)`): a const would hide what the output shows.
_LABEL_METHODS = {b"field", b"debug_struct", b"debug_tuple", b"serialize_field", b"serialize_struct", b"serialize_struct_variant", b"serialize_tuple_struct"}


def _is_label(node: Node, data: bytes) -> bool:
    args = node.parent
    if args is None or args.type != "arguments" or args.named_child(0) != node:
        return False
    call = args.parent
    func = call.child_by_field_name("function") if call is not None and call.type == "call_expression" else None
    name = func.child_by_field_name("field") if func is not None and func.type == "field_expression" else None
    return name is not None and data[name.start_byte : name.end_byte] in _LABEL_METHODS


def _in_inline_mod(node: Node) -> bool:
    p = node.parent
    while p is not None:
        if p.type == "mod_item":
            return True
        p = p.parent
    return False


def _name(text: str, data: bytes) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text)[:4]
    base = "_".join(w.upper() for w in words) if words else "LITERAL"
    if not base[0].isalpha():
        base = "LITERAL_" + base
    return unused_name(data, base)


def check(ctx: Context, root: Node):
    if (ctx.src.path and is_test_path(ctx.src.path)) or is_generated(ctx.src.data):
        return
    data = ctx.src.data
    groups: dict[bytes, list[Node]] = {}
    for m in ctx.matches("(string_literal) @s", root):
        node = m["s"][0]
        text = data[node.start_byte : node.end_byte]
        if node.has_error or len(text) - 2 < MIN_CHARS or text.startswith(b"b") or b"{" in text:
            continue
        if _excluded(node, data) or _is_label(node, data):
            continue
        groups.setdefault(text, []).append(node)
    for text, nodes in groups.items():
        if len(nodes) < MIN_COPIES:
            continue
        literal = text.decode("utf-8", "replace")
        first = nodes[0]
        the_fix = None
        if not any(_in_inline_mod(n) for n in nodes):
            name = _name(literal[1:-1], data)
            anchor = next((c for c in root.named_children if c.type not in _STOP), None)
            if anchor is not None:
                edits = [Edit(anchor.start_byte, anchor.start_byte, f"const {name}: &str = {literal};\n\n")]
                edits += [Edit(n.start_byte, n.end_byte, name) for n in nodes]
                the_fix = fix(f"Extract `const {name}` and use it in all {len(nodes)} places", *edits)
        yield ctx.finding(
            first,
            f"{literal} is written {len(nodes)} times in this file: give it a name with a `const`",
            fix=the_fix,
            related=[Related(n.start_byte, n.end_byte, "another copy") for n in nodes[1:]],
        )


RULE = Rule(
    name="repeated_literal",
    group="dry",
    summary="The same string literal written three or more times in a file; extract a `const`",
    docs=DOCS,
    check=check,
    scope="file",
    severity=Severity.INFO,
    default_enabled=False,
    fix=FixKind.SOMETIMES,
    source="The DRY mandate (shared/reference, line 1)",
)
