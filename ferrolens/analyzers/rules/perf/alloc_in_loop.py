"""alloc_in_loop: a collection built fresh on every loop iteration."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import LETS, Context, fix, lets
from ferrolens.analyzers.model import Edit
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import LOOPS, enclosing_function, identifiers, named_args, path_last

DOCS = """
## What it does
Flags a `let mut` binding at the top of a loop body that creates a new, empty `Vec`, `String`,
`HashMap`, `HashSet`, `BTreeMap`, `BTreeSet`, `VecDeque` or `BinaryHeap` (`::new()`,
`::with_capacity(n)`, `vec![]`) and fills it, when the collection never leaves the iteration: it is not
moved into another collection, a function, a closure, a thread, a `return` or a `break` value.

## Why it matters
An empty collection costs nothing, but filling it does: the first push allocates, growth reallocates
and the end of the iteration frees it all again. Declared once before the loop and emptied with
`clear()` where the old declaration stood, the collection keeps its capacity, so after the first few
iterations the loop stops talking to the allocator at all. This is the "workhorse collection" pattern.

## Example
```rust
for line in input.lines() {
    let mut fields = Vec::new();
    for f in line.split(',') {
        fields.push(f.trim());
    }
    println!("{}", fields.len());
}
```

## Use instead
```rust
let mut fields = Vec::new();
for line in input.lines() {
    fields.clear();
    for f in line.split(',') {
        fields.push(f.trim());
    }
    println!("{}", fields.len());
}
```

## Fix safety
The rewrite keeps what the program computes, with two differences: the elements of the last
iteration now live until the end of the enclosing block instead of the end of the iteration, and
elements are dropped at the next `clear()` rather than at the end of their iteration. That is invisible
for plain data (numbers, `char`, `bool`, `String`), so the fix is safe for a `String` and for
collections whose element type is annotated as such. For any other element type (which may hold a
lock guard, a file, or a borrow of a loop-local value, which would no longer compile), the fix is offered
as unsafe. Capacities given to `with_capacity(n)` are kept with `reserve(n)` after the `clear()`.
"""

COLLECTIONS = {"Vec", "String", "HashMap", "HashSet", "BTreeMap", "BTreeSet", "VecDeque", "BinaryHeap"}
CONSUMING = {
    "into_iter", "into_boxed_slice", "into_bytes", "into_keys", "into_values", "into", "leak",
    "into_string", "into_inner", "into_sorted_vec", "into_vec", "into_boxed_str", "drain_into",
}
GROWING = {
    "push", "push_str", "push_back", "push_front", "insert", "extend", "extend_from_slice",
    "append", "resize", "entry", "write_str", "write_fmt", "reserve",
}
BORROWING_MACROS = {
    "println", "print", "eprintln", "eprint", "format", "write", "writeln", "assert", "assert_eq",
    "assert_ne", "debug_assert", "debug_assert_eq", "debug_assert_ne", "panic", "format_args",
}
PLAIN = {
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
    "f64", "char", "bool", "String", "_",
}
COMPARISONS = {"==", "!=", "<", ">", "<=", ">="}


_CTOR = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*::)*(?P<ty>[A-Z][A-Za-z]*)(?P<turbofish>::<.*>)?::(?P<ctor>new|with_capacity)$", re.S)


def _constructor(ctx: Context, value: Node) -> tuple[str, str, str | None] | None:
    """(collection type, the text of an empty constructor, capacity expression) or None."""
    if value.type == "macro_invocation":
        tt = value.named_children[-1] if value.named_children else None
        if path_last(ctx.text(value.child_by_field_name("macro"))) == "vec" and tt is not None and tt.named_child_count == 0:
            return "Vec", ctx.text(value), None
        return None
    if value.type != "call_expression":
        return None
    func = value.child_by_field_name("function")
    args = named_args(value.child_by_field_name("arguments"))
    path = ctx.text(func).replace(" ", "").replace("\n", "")
    m = _CTOR.match(path)
    if not m or m["ty"] not in COLLECTIONS:
        return None
    if m["ctor"] == "new":
        return (m["ty"], ctx.text(value), None) if not args else None
    if len(args) != 1:
        return None
    empty = path[: -len("with_capacity")] + "new()"
    return m["ty"], empty, ctx.text(args[0])


def _plain_elements(ty: str, annotation: str | None, turbofish_path: str) -> bool:
    if ty == "String":
        return True
    generic = annotation or ""
    if "<" not in generic and "<" in turbofish_path:
        generic = turbofish_path
    if "<" not in generic:
        return False
    inner = generic[generic.index("<") + 1 : generic.rindex(">")] if ">" in generic else ""
    names = [t for t in re.split(r"[\s,<>()\[\];]+", inner) if t]
    return bool(names) and all(n in PLAIN or n.isdigit() for n in names)


def _use_kind(ctx: Context, ident: Node, body: Node) -> str:
    """How one use of the binding treats it: "grow", "read" or "escape"."""
    parent = ident.parent
    if parent is None:
        return "escape"
    pt = parent.type
    if pt == "field_expression" and parent.child_by_field_name("value") == ident:
        call = parent.parent
        method = ctx.text(parent.child_by_field_name("field"))
        if call is not None and call.type == "call_expression" and call.child_by_field_name("function") == parent:
            if method in CONSUMING:
                return "escape"
            return "grow" if method in GROWING else "read"
        return "read"
    if pt == "reference_expression":
        return "grow" if any(c.type == "mutable_specifier" for c in parent.children) else "read"
    if pt == "index_expression" and parent.named_children and parent.named_children[0] == ident:
        return "read"
    if pt == "compound_assignment_expr" and parent.child_by_field_name("left") == ident:
        return "grow"
    if pt == "binary_expression":
        op = parent.child_by_field_name("operator")
        return "read" if op is not None and ctx.text(op) in COMPARISONS else "escape"
    if pt == "token_tree":
        macro = parent
        while macro is not None and macro.type == "token_tree":
            macro = macro.parent
        if macro is None or macro.type != "macro_invocation":
            return "escape"
        name = path_last(ctx.text(macro.child_by_field_name("macro")))
        if name not in BORROWING_MACROS:
            return "escape"
        first = next((c for c in parent.named_children), None)
        return "grow" if name in ("write", "writeln") and first == ident else "read"
    return "escape"


def _in_move_closure(ident: Node, body: Node) -> bool:
    cur = ident.parent
    while cur is not None and cur != body:
        if cur.type == "closure_expression" and any(c.type == "move" for c in cur.children):
            return True
        if cur.type == "function_item":
            return True
        cur = cur.parent
    return False


def _statement(loop: Node) -> Node | None:
    """The statement (a direct child of a block) that holds the loop."""
    cur = loop
    while cur.parent is not None and cur.parent.type != "block":
        if cur.parent.type in ("closure_expression", "function_item", "source_file"):
            return None
        cur = cur.parent
    return cur if cur.parent is not None else None


def check(ctx: Context, item: Node):
    data = ctx.src.data
    for m in lets(ctx, item, mutable=True):
        let = m["let"][0]
        body = let.parent
        loop = body.parent if body is not None else None
        if loop is None or loop.type not in LOOPS or loop.child_by_field_name("body") != body:
            continue
        ctor = _constructor(ctx, m["value"][0])
        if ctor is None:
            continue
        ty, empty, capacity = ctor
        name_node = m["name"][0]
        name = ctx.text(name_node)
        fn = enclosing_function(let)
        if fn is None:
            continue
        grown = capacity is not None
        ok = True
        for ident, text in identifiers(fn, data):
            if text != name or ident == name_node:
                continue
            if not (let.end_byte <= ident.start_byte < body.end_byte):
                ok = False  # the name is used elsewhere: hoisting could capture or shadow it
                break
            if _in_move_closure(ident, body):
                ok = False
                break
            kind = _use_kind(ctx, ident, body)
            if kind == "escape":
                ok = False
                break
            grown = grown or kind == "grow"
        if not ok or not grown:
            continue
        stmt = _statement(loop)
        annotation = ctx.text(let.child_by_field_name("type")) or None
        message = f"`{name}` is a new `{ty}` on every iteration; declare it once before the loop and `clear()` it to reuse its allocation"
        if stmt is None:
            yield ctx.finding(let, message)
            continue
        indent = ctx.line_indent(stmt.start_byte)
        inner_indent = ctx.line_indent(let.start_byte)
        decl = f"let mut {name}{': ' + annotation if annotation else ''} = {empty};\n{indent}"
        reset = f"{name}.clear();" + (f"\n{inner_indent}{name}.reserve({capacity});" if capacity is not None else "")
        safe = _plain_elements(ty, annotation, ctx.text(m["value"][0]))
        yield ctx.finding(
            let,
            message,
            fix=fix(
                f"Hoist `{name}` out of the loop and clear it each iteration",
                Edit(stmt.start_byte, stmt.start_byte, decl),
                Edit(let.start_byte, let.end_byte, reset),
                safe=safe,
            ),
        )


RULE = Rule(
    name="alloc_in_loop",
    group="perf",
    summary="A collection is allocated afresh on every loop iteration; hoist it and `clear()` it instead",
    docs=DOCS,
    check=check,
    fix=FixKind.SOMETIMES,
    source="https://nnethercote.github.io/perf-book/heap-allocations.html#reusing-collections",
    own_loops=1,
    needles=(b"new(", b"vec!", b"with_capacity"),
    in_loops=True,
    queries=(LETS,),
)
