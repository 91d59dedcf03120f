"""cow_candidate: a Vec<String> that mixes copied literals with formatted strings."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import CALLS, Context
from ferrolens.analyzers.model import Related, Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import is_method, macro_name, path_last, unparen
from ferrolens.analyzers.types import find_binding

DOCS = """
## What it does
Flags a vector, within one function, that receives both string literals turned into `String`s
(`"x".to_string()`, `"x".to_owned()`, `String::from("x")`, `"x".into()`) and strings built with
`format!`.

## Why it matters
Each literal pushed as a `String` is copied to the heap although its text already lives in the binary
for the whole run. With `Vec<Cow<'static, str>>`, the literals are stored as borrowed `&'static str`
(no allocation) and only the formatted strings own a buffer; readers still see `&str` through `Deref`.

## Example
```rust
let mut parts: Vec<String> = Vec::new();
parts.push("header".to_string());
parts.push(format!("{count} items"));
```

## Use instead
```rust
use std::borrow::Cow;
let mut parts: Vec<Cow<'static, str>> = Vec::new();
parts.push(Cow::Borrowed("header"));
parts.push(Cow::Owned(format!("{count} items")));
```

## Fix safety
No automatic fix: the element type changes, which reaches every place that reads the vector. Worth it
when many literals are pushed, often (in a loop), or the vector is long-lived.
"""

LITERALS = ("string_literal", "raw_string_literal")


def _kind(ctx: Context, arg: Node) -> str | None:
    arg = unparen(arg)
    if arg.type == "macro_invocation" and macro_name(arg) == "format":
        return "format"
    mc = is_method(arg, "to_string", "to_owned", "into")
    if mc is not None and not mc.args and unparen(mc.receiver).type in LITERALS:
        return "literal"
    if arg.type == "call_expression":
        func = arg.child_by_field_name("function")
        args = arg.child_by_field_name("arguments")
        if (
            func is not None
            and ctx.text(func).replace(" ", "").endswith("String::from")
            and args is not None
            and args.named_child_count == 1
            and args.named_children[0].type in LITERALS
        ):
            return "literal"
    return None


def check(ctx: Context, item: Node):
    if item.type != "function_item":
        return
    pushes: dict[str, dict[str, list[Node]]] = {}
    for m in ctx.matches(CALLS, item):
        mc = is_method(m["call"][0], "push")
        if mc is None or len(mc.args) != 1:
            continue
        kind = _kind(ctx, mc.args[0])
        if kind is not None:
            pushes.setdefault(ctx.text(mc.receiver), {}).setdefault(kind, []).append(mc.call)
    for target, kinds in pushes.items():
        if "literal" not in kinds or "format" not in kinds:
            continue
        first_literal = kinds["literal"][0]
        decl = find_binding(ctx, path_last(target), first_literal) if "." not in target else None
        at = decl if decl is not None and decl.type == "let_declaration" else first_literal
        yield ctx.finding(
            at,
            f"`{target}` stores {len(kinds['literal'])} string literal(s) copied into `String`s next to formatted strings; "
            "`Cow<'static, str>` would keep the literals borrowed",
            severity=Severity.INFO,
            related=[Related(c.start_byte, c.end_byte, "a literal copied to the heap") for c in kinds["literal"][:3]]
            + [Related(kinds["format"][0].start_byte, kinds["format"][0].end_byte, "a formatted string")],
        )


RULE = Rule(
    name="cow_candidate",
    group="perf",
    summary="A Vec<String> mixing copied literals and formatted strings; consider `Cow<'static, str>`",
    docs=DOCS,
    check=check,
    severity=Severity.INFO,
    fix=FixKind.NONE,
    node_types=frozenset({"function_item"}),
    source="https://nnethercote.github.io/perf-book/heap-allocations.html#cow",
    needles=(b"format!",),
    queries=(CALLS,),
)
