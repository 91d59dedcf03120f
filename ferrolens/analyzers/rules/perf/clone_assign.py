"""clone_assign: `a = b.clone()` over a value that already owns an allocation."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import ASSIGNED_CALLS, Context, fix, replace_node
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import descendants, enclosing_function, is_method, unparen
from ferrolens.analyzers.types import find_binding, value_type

DOCS = """
## What it does
Flags an assignment `a = b.clone()`, `a = b.to_owned()` or `a = b.to_string()` (the latter when `b` is
evidently a string) whose target already holds a value: a struct field, a dereferenced place
(`*a`), or a local binding that was initialised when it was declared or is a parameter. For `clone()`,
the target or source must evidently be a type that owns a reusable buffer (`String`, `Vec`, `PathBuf`,
`OsString`, a std collection or a `Box`); other types mostly keep `Clone`'s default `clone_from`,
which gains nothing.

## Why it matters
`clone()` builds a brand-new value and the assignment then drops the old one: one allocation and one
free per assignment. `clone_from` (and `clone_into` for `to_owned`) may copy into the buffer the target
already owns; `String`, `Vec` and most std collections do, so repeated assignments (in a loop, in a
`reset` method) stop allocating once the buffer is large enough.

## Example
```rust
self.name = other.name.clone();
buffer = line.to_owned();
```

## Use instead
```rust
self.name.clone_from(&other.name);
line.clone_into(&mut buffer);
```

## Fix safety
`clone_from` must behave like `*self = source.clone()` by the `Clone` contract, so the fix is safe. It
is not offered when the source expression reads the target's variable through a call or an overlapping
path (`a = a.next.clone()`), where the new borrow would not compile, or when a binding may have been
moved before the assignment.
"""

METHODS = ("clone", "to_owned", "to_string")
BUFFERS = {"String", "Vec", "PathBuf", "OsString", "VecDeque", "HashMap", "HashSet", "BTreeMap", "BTreeSet", "BinaryHeap", "Box"}
EMPTY = re.compile(r"^(?:[\w:]*::)?(?:new|default)\(\)$|^vec!\[\s*\]$|^Default::default\(\)$")
PLACE_SAFE_PARENTS = {"field_expression", "reference_expression", "token_tree", "index_expression"}


def _root(node: Node) -> Node | None:
    """The variable a place expression starts from (`a` for `*a.b.c`), None if it holds a call."""
    node = unparen(node)
    while True:
        if node.type in ("identifier", "self"):
            return node
        if node.type == "field_expression":
            node = unparen(node.child_by_field_name("value"))
        elif node.type == "unary_expression" and node.child(0) is not None and node.child(0).type == "*":
            node = unparen(node.named_children[0])
        else:
            return None


def _path(node: Node) -> list[str] | None:
    """`a.b.c` -> ["a", "b", "c"]; None if not a plain field path."""
    node = unparen(node)
    if node.type in ("identifier", "self"):
        return [node.text.decode()]
    if node.type == "field_expression":
        head = _path(node.child_by_field_name("value"))
        field = node.child_by_field_name("field")
        return head + [field.text.decode()] if head is not None and field is not None else None
    return None


def _holds_value(ctx: Context, target: Node, root: Node, assign: Node) -> bool:
    if target.type != "identifier":
        return True  # a field or a dereferenced place always holds a value
    decl = find_binding(ctx, ctx.text(target), assign)
    if decl is None:
        return False
    if decl.type == "let_declaration" and decl.child_by_field_name("value") is None:
        return False  # `let a;` then assigned: nothing to reuse (and maybe not yet initialised)
    # between the declaration and the assignment, the binding must only be borrowed
    name = ctx.text(target)
    fn = enclosing_function(assign)
    used = False
    for d in descendants(fn):
        if d.type != "identifier" or d.text.decode() != name or d == target:
            continue
        if not (decl.end_byte <= d.start_byte < assign.start_byte):
            continue
        used = True
        parent = d.parent
        if parent is None:
            return False
        if parent.type == "field_expression" and parent.child_by_field_name("value") == d:
            continue
        if parent.type in PLACE_SAFE_PARENTS and parent.type != "field_expression":
            continue
        if parent.type == "assignment_expression" and parent.child_by_field_name("left") == d:
            continue
        return False
    value = decl.child_by_field_name("value") if decl.type == "let_declaration" else None
    if not used and value is not None and EMPTY.match(ctx.text(value)):
        return False  # still the empty value it was created as: no buffer to reuse
    return True


def check(ctx: Context, item: Node):
    for m in ctx.matches(ASSIGNED_CALLS, item):
        assign, left, right = m["assign"][0], m["left"][0], m["right"][0]
        mc = is_method(right, *METHODS)
        if mc is None or mc.args or mc.turbofish is not None:
            continue
        source = unparen(mc.receiver)
        if mc.name == "to_string" and value_type(ctx, source) not in ("str", "String"):
            continue
        if mc.name == "clone" and not ({value_type(ctx, unparen(left)), value_type(ctx, source)} & BUFFERS):
            continue  # without a buffer to reuse, `clone_from` gains nothing (and most types keep the default)
        fn = enclosing_function(assign)
        if fn is not None and ctx.text(fn.child_by_field_name("name")) == "clone_from":
            continue  # the implementation of clone_from itself
        root = _root(left)
        if root is None:
            continue
        if not _holds_value(ctx, left, root, assign):
            continue
        # the source may read the target's variable only through a disjoint field path
        root_name = root.text.decode()
        reads_root = any(
            d.type in ("identifier", "self") and d.text.decode() == root_name for d in [source, *descendants(source)]
        )
        if reads_root:
            lp, sp = _path(left), _path(source)
            if lp is None or sp is None or lp[: len(sp)] == sp or sp[: len(lp)] == lp:
                continue
        src_text = ctx.text(source)
        tgt_text = ctx.text(left)
        if unparen(left).type == "unary_expression":
            tgt_text = f"({ctx.text(unparen(left))})"
        if mc.name == "clone":
            new = f"{tgt_text}.clone_from(&{src_text})"
            how = "clone_from"
        else:
            needs_paren = source.type not in ("identifier", "field_expression", "self", "string_literal", "call_expression", "index_expression")
            new = f"{'(' + src_text + ')' if needs_paren else src_text}.clone_into(&mut {tgt_text})"
            how = "clone_into"
        yield ctx.finding(
            assign,
            f"assigning `{mc.name}()` drops the old value's allocation; `{how}` can reuse it",
            fix=fix(f"Use `{how}`", replace_node(assign, new)),
        )


RULE = Rule(
    name="clone_assign",
    group="perf",
    summary="`a = b.clone()` over an existing value; `a.clone_from(&b)` reuses its allocation",
    docs=DOCS,
    check=check,
    fix=FixKind.ALWAYS,
    clippy="assigning_clones",
    source="https://nnethercote.github.io/perf-book/heap-allocations.html#clone",
    needles=(b".clone()", b".to_owned()", b".to_string()"),
    queries=(ASSIGNED_CALLS,),
)
