"""boxed_slice: a `Vec` field that never grows after the struct is built."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix
from ferrolens.analyzers.model import Edit, Severity
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
Flags a private `Vec<T>` field of a struct when nothing in the file changes its length after the
struct is built: every use of the field reads it (`len`, `iter`, indexing, `get`, `first`, a
`for` loop over `&self.items`, printing) or changes elements in place (`items[i] = x`, `sort`,
`iter_mut`). Only private fields of files with no out-of-line child modules (`mod x;`) are checked,
because only then does the file hold every use of the field. Off by default.

## Why it matters
A `Vec` is three words (pointer, length, capacity); a `Box<[T]>` is two, and never carries spare
capacity. In a struct that is created by the thousand, or sits in a hot array, the word saved per
field adds up, and converting at construction frees any excess capacity the building left behind.

## Example
```rust
struct Route {
    hops: Vec<u32>,
}

let r = Route { hops: path.collect() };
```

## Use instead
```rust
struct Route {
    hops: Box<[u32]>,
}

let r = Route { hops: path.collect() }; // collect() builds a Box<[T]> directly
```

## Fix safety
Unsafe: the field's type changes, so code that hands `&self.hops` to something expecting `&Vec<T>`
no longer compiles, and `into_boxed_slice` reallocates when the vector has spare capacity. The fix
changes the field to `Box<[T]>` and converts each initialiser with `.into()`.
"""

READS = {
    "len", "is_empty", "iter", "iter_mut", "get", "get_mut", "first", "last", "contains", "to_vec", "as_ref",
    "starts_with", "ends_with", "binary_search", "sort", "sort_unstable", "sort_by", "sort_by_key",
    "sort_unstable_by", "sort_unstable_by_key", "reverse", "windows", "chunks", "concat", "join", "swap",
    "fill", "as_ptr", "first_mut", "last_mut", "split_first", "split_last", "copied", "cloned",
}
BORROWING_MACROS = {"println", "print", "eprintln", "eprint", "format", "write", "writeln", "assert", "assert_eq", "assert_ne", "debug_assert", "dbg"}
SIMPLE = {"identifier", "call_expression", "macro_invocation", "field_expression", "scoped_identifier"}


def _read_only(ctx: Context, use: Node) -> bool:
    """`use` is the field_expression `x.field`."""
    parent = use.parent
    if parent is None:
        return False
    if parent.type == "field_expression":  # `x.field.len()`
        call = parent.parent
        method = ctx.text(parent.child_by_field_name("field"))
        return call is not None and call.type == "call_expression" and method in READS
    if parent.type == "index_expression":
        return True
    if parent.type == "reference_expression":
        up = parent.parent
        return up is not None and (up.type == "for_expression" or (up.type == "token_tree"))
    if parent.type == "token_tree":
        macro = parent
        while macro is not None and macro.type == "token_tree":
            macro = macro.parent
        return macro is not None and macro.type == "macro_invocation" and ctx.text(macro.child_by_field_name("macro")) in BORROWING_MACROS
    return False


def check(ctx: Context, root: Node):
    data = ctx.src.data
    if any(c.type == "mod_item" and c.child_by_field_name("body") is None for c in root.children):
        return
    for m in ctx.matches("(struct_item name: (type_identifier) @struct body: (field_declaration_list (field_declaration) @field))", root):
        decl = m["field"][0]
        if any(c.type == "visibility_modifier" for c in decl.children):
            continue
        ty = decl.child_by_field_name("type")
        if ty is None or ty.type != "generic_type" or ctx.text(ty.child_by_field_name("type")) != "Vec":
            continue
        name = ctx.text(decl.child_by_field_name("name"))
        struct = ctx.text(m["struct"][0])
        ok, inits = True, []
        for fm in ctx.matches(f'((field_identifier) @f (#eq? @f "{name}"))', root):
            f = fm["f"][0]
            p = f.parent
            if p is None or p == decl:
                continue
            if p.type == "field_expression":
                if not _read_only(ctx, p):
                    ok = False
                    break
            elif p.type == "field_initializer":
                inits.append(p)
            elif p.type == "field_pattern":
                ok = False  # destructured: the binding's uses are not followed
                break
        for sm in ctx.matches(f'((shorthand_field_initializer (identifier) @f) (#eq? @f "{name}"))', root):
            inits.append(sm["f"][0].parent)
        if not ok or not inits:
            continue
        inner = ctx.text(ty.child_by_field_name("type_arguments"))[1:-1]
        edits = [Edit(ty.start_byte, ty.end_byte, f"Box<[{inner}]>")]
        for init in inits:
            if init.type == "shorthand_field_initializer":
                edits.append(Edit(init.end_byte, init.end_byte, f": {name}.into()"))
                continue
            value = init.child_by_field_name("value")
            text = ctx.text(value)
            edits.append(Edit(value.start_byte, value.end_byte, f"{text}.into()" if value.type in SIMPLE else f"({text}).into()"))
        yield ctx.finding(
            decl,
            f"`{struct}::{name}` never grows after construction: a `Box<[{inner}]>` takes two words instead of three"
            " and drops spare capacity",
            fix=fix(f"Make `{name}` a `Box<[{inner}]>`", *edits, safe=False),
            severity=Severity.HINT,
        )


RULE = Rule(
    name="boxed_slice",
    group="perf",
    summary="A private `Vec` field that never grows could be a `Box<[T]>` (two words, no spare capacity)",
    docs=DOCS,
    check=check,
    severity=Severity.HINT,
    default_enabled=False,
    fix=FixKind.UNSAFE,
    source="https://nnethercote.github.io/perf-book/type-sizes.html#boxed-slices",
    scope="file",
    needles=(b"Vec<",),
)
