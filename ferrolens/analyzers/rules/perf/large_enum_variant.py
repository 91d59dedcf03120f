"""large_enum_variant: one variant makes every value of the enum big."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix
from ferrolens.analyzers.layout import MEMCPY, file_resolver, layout_of, size_assertion, struct_layout
from ferrolens.analyzers.model import Edit
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
Estimates the size of each variant of an enum from its field types and flags a variant that is at
least 128 bytes and at least three times the size of the next largest one. Sizes are counted from
what the file declares: primitives, arrays with a literal or constant length, tuples, references and
smart pointers (a word, two for slices and trait objects), `Vec`/`String` (three words), and the
structs, enums and aliases of the same file. A variant holding a type whose size is not known is
never guessed at: the enum is then left alone.

## Why it matters
An enum is as large as its largest variant (plus its tag), whichever variant a value holds. One
outsized variant makes every value big: every move and copy of the enum, every `Vec` of it and every
`Result` carrying it pays for the bytes of the rare case, and values over 128 bytes are moved with a
`memcpy` call instead of a few register moves. Boxing the big variant's fields shrinks the enum to
the size of the others plus a pointer, at the cost of one allocation when that variant is built,
which pays off when it is the uncommon one.

## Example
```rust
enum Message {
    Ping,
    Ack(u32),
    Frame(u32, [u8; 1024]),
}
```

## Use instead
```rust
enum Message {
    Ping,
    Ack(u32),
    Frame(Box<(u32, [u8; 1024])>),
}
```

## Fix safety
Unsafe: every place that builds or matches the boxed variant has to change (`Frame(Box::new((n,
buf)))`, `Frame(b) => { let (n, buf) = &*b; .. }`). When the enum's size is known exactly, a second
action adds a compile-time size assertion instead, so the size is at least watched.
"""

RATIO = 3


def _variant_fields(variant: Node) -> tuple[Node | None, list[Node]]:
    body = variant.child_by_field_name("body")
    if body is None:
        return None, []
    if body.type == "ordered_field_declaration_list":
        return body, [c for c in body.named_children if c.type not in ("visibility_modifier", "attribute_item", "line_comment", "block_comment")]
    return body, [d for d in body.named_children if d.type == "field_declaration"]


def check(ctx: Context, item: Node):
    name = ctx.text(item.child_by_field_name("name"))
    body = item.child_by_field_name("body")
    if body is None or item.child_by_field_name("type_parameters") is not None:
        return
    summary = ctx.summary
    if name in summary.opaque:
        return
    resolve = file_resolver(summary)
    consts = summary.consts
    variants = [v for v in body.named_children if v.type == "enum_variant"]
    if len(variants) < 2:
        return
    sizes = []
    for v in variants:
        vbody, fields = _variant_fields(v)
        types = [f if vbody.type == "ordered_field_declaration_list" else f.child_by_field_name("type") for f in fields] if vbody else []
        layouts = [layout_of(ctx.text(t), resolve, consts) for t in types]
        if any(lay is None for lay in layouts):
            return
        sizes.append((struct_layout(layouts).size, v, vbody, fields, layouts))  # type: ignore[arg-type]
    ranked = sorted(sizes, key=lambda s: -s[0])
    (big, variant, vbody, fields, layouts), second = ranked[0], ranked[1][0]
    if big < MEMCPY or big < RATIO * second:
        return
    vname = ctx.text(variant.child_by_field_name("name"))
    edits = []
    if vbody.type == "ordered_field_declaration_list":
        inner = ", ".join(ctx.text(f) for f in fields)
        boxed = f"Box<{inner}>" if len(fields) == 1 else f"Box<({inner})>"
        edits.append(Edit(fields[0].start_byte, fields[-1].end_byte, boxed))
    else:
        i = max(range(len(fields)), key=lambda k: layouts[k].size)
        ty = fields[i].child_by_field_name("type")
        edits.append(Edit(ty.start_byte, ty.end_byte, f"Box<{ctx.text(ty)}>"))
    whole = resolve(name, 0)
    alternatives = []
    if whole is not None:
        alternatives.append(size_assertion(ctx, item, name, whole))
    yield ctx.finding(
        variant.child_by_field_name("name"),
        f"variant `{vname}` is {big} bytes, the next largest {second}: every `{name}` value is at least {big} bytes;"
        " box the variant's fields",
        fix=fix(f"Box the fields of `{vname}`", *edits, safe=False),
        alternatives=alternatives,
    )


RULE = Rule(
    name="large_enum_variant",
    group="perf",
    summary="One enum variant is much larger than the others; box its fields",
    docs=DOCS,
    check=check,
    fix=FixKind.UNSAFE,
    clippy="large_enum_variant",
    source="https://nnethercote.github.io/perf-book/type-sizes.html",
    node_types=frozenset({"enum_item"}),
    crate_wide=True,
)
