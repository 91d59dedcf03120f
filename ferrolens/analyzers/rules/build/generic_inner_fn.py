"""generic_inner_fn: a generic fn whose generic parameters are only converted at the top of a large body."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix
from ferrolens.analyzers.model import Edit, Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import identifiers, in_test_code, line_indent

DOCS = """
## What it does
Flags a free function whose only generic parameters are conversion bounds (`AsRef<T>`, `AsMut<T>`,
`Into<T>`, as `P: AsRef<Path>` or `impl AsRef<Path>`), converted once in the first statements
(`let path = path.as_ref();`) before a body of eight or more statements, and offers to move that body
into a non-generic inner function.

## Why it matters
A generic function is compiled again for every type it is called with: `read(&str)`, `read(String)`,
`read(PathBuf)` are three copies of the whole body, each one compiled, optimised and linked. When the
generic part is only the conversion at the top, an inner function that takes the converted value is
compiled once, and each caller's copy shrinks to the conversion and a call. The standard library does
this for `std::fs::read` and friends.

## Example
```rust
pub fn load<P: AsRef<Path>>(path: P) -> io::Result<Config> {
    let path = path.as_ref();
    let text = fs::read_to_string(path)?;
    // ... many more statements
}
```

## Use instead
```rust
pub fn load<P: AsRef<Path>>(path: P) -> io::Result<Config> {
    fn inner(path: &Path) -> io::Result<Config> {
        let text = fs::read_to_string(path)?;
        // ...
    }
    inner(path.as_ref())
}
```

## Fix safety
Unsafe (a refactoring you request): the body moves unchanged into `inner`, which sees the converted
values under the same names. Offered for free functions that are not `async`, `const` or `unsafe`,
whose parameters are plain names, and whose generic parameters are used by nothing but their one
conversion.
"""

MIN_STATEMENTS = 8
CONVERSIONS = {"AsRef": ("as_ref", "&{}"), "AsMut": ("as_mut", "&mut {}"), "Into": ("into", "{}")}
_BOUND = re.compile(r"^(AsRef|AsMut|Into)\s*<\s*(.+)\s*>$", re.S)
_LET = re.compile(r"^let\s+([A-Za-z_]\w*)\s*(?::[^=]+)?=\s*([A-Za-z_]\w*)\s*\.\s*(as_ref|as_mut|into)\s*\(\s*\)\s*;$", re.S)


def _bound(text: str) -> tuple[str, str] | None:
    m = _BOUND.match(" ".join(text.split()))
    return (m.group(1), m.group(2)) if m else None


def _generic_bounds(ctx: Context, fn: Node) -> dict[str, tuple[str, str]] | None:
    """Type parameter name -> (trait, target) when every type parameter has exactly one conversion
    bound (inline or in the where clause); None otherwise."""
    out: dict[str, tuple[str, str]] = {}
    tps = fn.child_by_field_name("type_parameters")
    for tp in tps.named_children if tps is not None else ():
        if tp.type == "lifetime_parameter" or tp.type == "lifetime":
            return None  # a lifetime would have to reach the inner fn
        if tp.type != "type_parameter":
            return None
        bounds = tp.child_by_field_name("bounds")
        name = ctx.text(tp.child_by_field_name("name"))
        b = _bound(ctx.text(bounds).lstrip(":").strip()) if bounds is not None else None
        if b is not None:
            out[name] = b
        else:
            out[name] = ("", "")
    where = next((c for c in fn.children if c.type == "where_clause"), None)
    for pred in where.named_children if where is not None else ():
        if pred.type != "where_predicate":
            return None
        left = ctx.text(pred.child_by_field_name("left"))
        b = _bound(ctx.text(pred.child_by_field_name("bounds")).lstrip(":").strip())
        if left not in out or b is None or out[left] != ("", ""):
            return None
        out[left] = b
    if any(v == ("", "") for v in out.values()):
        return None
    return out


def check(ctx: Context, fn: Node):
    body = fn.child_by_field_name("body")
    params = fn.child_by_field_name("parameters")
    if body is None or params is None or in_test_code(ctx.src, fn):
        return
    if fn.parent is None or fn.parent.type not in ("source_file", "declaration_list") or _in_impl(fn):
        return
    mods = next((c for c in fn.children if c.type == "function_modifiers"), None)
    if mods is not None and any(ctx.text(c) in ("async", "const", "unsafe", "extern") for c in mods.children):
        return
    bounds = _generic_bounds(ctx, fn)
    if bounds is None:
        return
    # parameters: (name, type text, generic conversion or None)
    plist: list[tuple[str, str, tuple[str, str] | None]] = []
    for p in params.named_children:
        if p.type in ("line_comment", "block_comment", "attribute_item"):
            continue
        if p.type != "parameter":
            return  # self, or something unusual
        pat, ty = p.child_by_field_name("pattern"), p.child_by_field_name("type")
        if pat is None or pat.type != "identifier" or ty is None:
            return
        t = ctx.text(ty)
        conv = bounds.get(t)
        if ty.type == "abstract_type":
            conv = _bound(ctx.text(ty.child_by_field_name("trait")))
            if conv is None:
                return
        elif any(name in t for name in bounds) and conv is None:
            return  # a generic inside another type (`&P`, `Vec<P>`)
        plist.append((ctx.text(pat), t, conv))
    generic = {n for n, _t, c in plist if c is not None}
    if not generic:
        return
    stmts = [c for c in body.named_children if c.type not in ("line_comment", "block_comment")]
    converted: dict[str, tuple[str, str]] = {}  # param -> (new name, method)
    i = 0
    while i < len(stmts) and len(converted) < len(generic):
        m = _LET.match(ctx.text(stmts[i]).strip())
        if m is None or m.group(2) not in generic or m.group(2) in converted:
            break
        trait = next(c for n, _t, c in plist if n == m.group(2))[0]
        if CONVERSIONS[trait][0] != m.group(3):
            return
        converted[m.group(2)] = (m.group(1), m.group(3))
        i += 1
    if len(converted) != len(generic) or len(stmts) - i < MIN_STATEMENTS:
        return
    rest = stmts[i:]
    # the generic parameters (under their old names) must not appear after the conversions, unless
    # shadowed by them
    for node in rest:
        for _n, name in identifiers(node, ctx.src.data):
            if name in generic and converted[name][0] != name:
                return
        if any(re.search(rf"\b{re.escape(t)}\b", ctx.text(node)) for t in bounds):
            return  # the type parameter itself is named in the body
    yield ctx.finding(
        fn.child_by_field_name("name"),
        f"`{ctx.text(fn.child_by_field_name('name'))}` is compiled once per argument type, but only its first"
        f" {i} statement{'s' if i > 1 else ''} need{'' if i > 1 else 's'} the generic type: move the rest into a non-generic inner fn",
        fix=_fix(ctx, fn, body, plist, converted, rest),
    )


def _in_impl(fn: Node) -> bool:
    p = fn.parent
    while p is not None:
        if p.type in ("impl_item", "trait_item"):
            return True
        p = p.parent
    return False


def _fix(ctx: Context, fn: Node, body: Node, plist, converted, rest):
    data = ctx.src.data
    indent = line_indent(data, fn.start_byte)
    unit = "    "
    inner_params, args = [], []
    for name, t, conv in plist:
        if conv is None:
            inner_params.append(f"{name}: {t}")
            args.append(name)
        else:
            new, method = converted[name]
            inner_params.append(f"{new}: {CONVERSIONS[conv[0]][1].format(conv[1])}")
            args.append(f"{name}.{method}()")
    ret = fn.child_by_field_name("return_type")
    arrow = f" -> {ctx.text(ret)}" if ret is not None else ""
    start = data.rfind(b"\n", 0, rest[0].start_byte) + 1
    moved = data[start : rest[-1].end_byte].decode("utf-8")
    moved = "\n".join((unit + line) if line.strip() else line for line in moved.split("\n"))
    inner = f"{indent}{unit}fn inner({', '.join(inner_params)}){arrow} {{\n{moved}\n{indent}{unit}}}\n{indent}{unit}inner({', '.join(args)})\n{indent}"
    begin = data.find(b"\n", body.start_byte) + 1  # the line after `{` (a comment may follow it)
    return fix("Move the body into a non-generic inner fn", Edit(begin, body.end_byte - 1, inner), safe=False)


RULE = Rule(
    name="generic_inner_fn",
    group="build",
    summary="A generic fn that only converts its arguments at the top: move the body into a non-generic inner fn",
    docs=DOCS,
    check=check,
    severity=Severity.HINT,
    fix=FixKind.UNSAFE,
    source="https://corrode.dev/blog/tips-for-faster-rust-compile-times/",
    node_types=frozenset({"function_item"}),
    needles=(b"as_ref", b"as_mut", b"into"),
)
