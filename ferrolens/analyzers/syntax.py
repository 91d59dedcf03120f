"""Small syntactic helpers over tree-sitter-rust nodes, shared by the rules."""

from __future__ import annotations

import re

from typing import Iterator

from tree_sitter import Node

LOOPS = ("for_expression", "while_expression", "loop_expression")


def unparen(node: Node) -> Node:
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    return node


def named_args(args: Node) -> list[Node]:
    return [c for c in args.named_children if c.type not in ("line_comment", "block_comment", "attribute_item")]


def ancestors(node: Node) -> Iterator[Node]:
    cur = node.parent
    while cur is not None:
        yield cur
        cur = cur.parent


def enclosing(node: Node, types: tuple[str, ...]) -> Node | None:
    for a in ancestors(node):
        if a.type in types:
            return a
    return None


def enclosing_function(node: Node) -> Node | None:
    return enclosing(node, ("function_item",))


def descendants(node: Node, skip: tuple[str, ...] = ()) -> Iterator[Node]:
    """Pre-order walk below `node`, not descending into node types in `skip`."""
    stack = list(reversed(node.children))
    while stack:
        cur = stack.pop()
        yield cur
        if cur.type not in skip:
            stack.extend(reversed(cur.children))


def subtree(node: Node) -> Iterator[Node]:
    """`node` and everything below it, in pre-order."""
    yield node
    yield from descendants(node)


def pattern_bindings(data: bytes, pattern: Node | None) -> list[str]:
    """Names a pattern binds, not the paths and types in it (`Some(x)`, `Point { x, .. }` -> x). Upper-
    case names are constants or unit variants in a `match`, bindings in a `let`: callers decide."""
    out = []
    for n in subtree(pattern) if pattern is not None else ():
        if n.type == "shorthand_field_identifier":
            out.append(data[n.start_byte : n.end_byte].decode("utf-8", "replace"))
        elif n.type == "identifier":
            parent = n.parent
            if parent is not None and (parent.type == "scoped_identifier" or parent.child_by_field_name("type") == n):
                continue
            out.append(data[n.start_byte : n.end_byte].decode("utf-8", "replace"))
    return out


def word_char(ch: str) -> bool:
    r"""`ch` is a character of a word (what `\w` matches in a `str` pattern)."""
    return ch.isalnum() or ch == "_"


def path_last(text: str) -> str:
    """`std::collections::HashMap::<K, V>::new` -> `new`; `Vec::<u8>` -> `Vec`."""
    text = text.split("<", 1)[0] if not text.endswith(">") else text
    parts = [p for p in text.replace(" ", "").split("::") if p and not p.startswith("<")]
    return parts[-1] if parts else ""


def type_head(type_text: str) -> str:
    """The outermost type name: `&mut Option<Vec<u8>>` -> `Option`, `io::Result<()>` -> `Result`."""
    t = type_text.strip()
    while True:
        if t.startswith("&"):
            t = t[1:].lstrip()
            if t.startswith("'"):
                t = t.split(None, 1)[1] if " " in t else ""
            if t.startswith("mut "):
                t = t[4:]
            continue
        break
    head = t.split("<", 1)[0].strip()
    return head.rsplit("::", 1)[-1]



def identifiers(node: Node, data: bytes) -> Iterator[tuple[Node, str]]:
    """Every `identifier` token below node (including node), with its text. Also looks into macro
    token trees, where tree-sitter-rust leaves identifiers as plain tokens."""
    if node.type == "identifier":
        yield node, data[node.start_byte : node.end_byte].decode("utf-8", "replace")
    for d in descendants(node):
        if d.type == "identifier":
            yield d, data[d.start_byte : d.end_byte].decode("utf-8", "replace")


class MethodCall:
    """`receiver.method(args)` or `receiver.method::<T>(args)`, read off a call_expression."""

    __slots__ = ("call", "receiver", "name", "name_node", "args", "turbofish")

    def __init__(self, call: Node, receiver: Node, name_node: Node, args: list[Node], turbofish: Node | None):
        self.call = call
        self.receiver = receiver
        self.name_node = name_node
        self.name = name_node.text.decode("utf-8", "replace") if name_node.text is not None else ""
        self.args = args
        self.turbofish = turbofish


def method_call(node: Node | None) -> MethodCall | None:
    if node is None or node.type != "call_expression":
        return None
    func = node.child_by_field_name("function")
    turbofish = None
    if func is not None and func.type == "generic_function":
        turbofish = func.child_by_field_name("type_arguments")
        func = func.child_by_field_name("function")
    if func is None or func.type != "field_expression":
        return None
    recv = func.child_by_field_name("value")
    field = func.child_by_field_name("field")
    args = node.child_by_field_name("arguments")
    if recv is None or field is None or args is None:
        return None
    return MethodCall(node, recv, field, named_args(args), turbofish)


def method_chain(node: Node) -> list[MethodCall]:
    """`a.b().c().d()` -> [b, c, d] calls (innermost first); the root receiver is chain[0].receiver."""
    out = []
    cur = method_call(node)
    while cur is not None:
        out.append(cur)
        cur = method_call(unparen(cur.receiver))
    out.reverse()
    return out


def is_method(node: Node | None, *names: str) -> MethodCall | None:
    mc = method_call(node)
    return mc if mc is not None and mc.name in names else None


def macro_name(node: Node) -> str:
    m = node.child_by_field_name("macro")
    return path_last(m.text.decode("utf-8", "replace")) if m is not None and m.text is not None else ""


def same_expr(a: Node, b: Node) -> bool:
    """Token-by-token equality (whitespace and comments aside)."""
    return _tokens(a) == _tokens(b)


def _tokens(node: Node) -> list[bytes]:
    if node.child_count == 0:
        return [node.text or b""]
    out: list[bytes] = []
    for d in descendants(node, skip=()):
        if d.child_count == 0 and d.type not in ("line_comment", "block_comment"):
            out.append(d.text or b"")
    return out


RUST_KEYWORDS = frozenset(
    "as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod "
    "move mut pub ref return self static struct super trait true type unsafe use where while abstract become box "
    "do final macro override priv try typeof unsized virtual yield union".split()
)


def element_name(v: str, taken: set[str]) -> str:
    """A name for one element of the collection `v` (`rows` -> `row`, `entries` -> `entry`), not
    clashing with `taken`."""
    last = v.rsplit(".", 1)[-1].lower()
    if len(last) > 4 and last.endswith("ies"):
        base = last[:-3] + "y"
    elif len(last) > 4 and last.endswith(("ses", "xes", "ches", "shes")):
        base = last[:-2]
    elif len(last) > 3 and last.endswith("s") and not last.endswith("ss"):
        base = last[:-1]
    else:
        base = "item"
    if not base.isidentifier() or base == last or base in RUST_KEYWORDS:
        base = "item"
    return fresh_name(base, taken)


def line_indent(data: bytes, offset: int) -> str:
    """The leading whitespace of the line holding `offset`."""
    start = data.rfind(b"\n", 0, offset) + 1
    end = start
    while end < len(data) and data[end] in (0x20, 0x09):
        end += 1
    return data[start:end].decode("ascii")


def unused_name(data: bytes, base: str) -> str:
    """`base`, or `base_2`, `base_3`, ...: the first that is not a word anywhere in the file (a new
    item's name that shadows nothing)."""
    name, n = base, 2
    while re.search(rb"\b" + name.encode() + rb"\b", data):
        name, n = f"{base}_{n}", n + 1
    return name


def fresh_name(base: str, taken: set[str]) -> str:
    """`base`, or `base2`, `base3`, ... whichever is not in `taken`."""
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    return candidate


# std methods without side effects (on the receivers where they are met in practice)
PURE_METHODS = frozenset({
    "len", "is_empty", "capacity", "clone", "cloned", "copied", "to_string", "to_owned", "trim", "starts_with",
    "ends_with", "contains", "is_some", "is_none", "is_ok", "is_err", "as_ref", "as_str", "abs", "min", "max",
    "eq", "cmp", "pow", "count_ones", "to_lowercase", "to_uppercase", "chars", "bytes", "get", "unwrap_or",
    "map", "filter", "first", "last",
})
EFFECTS = frozenset({"macro_invocation", "assignment_expression", "compound_assignment_expr", "await_expression"})


def is_pure(node: Node, forbid: tuple[str, ...] = ()) -> bool:
    """No visible side effects: no macro, assignment or `.await`, and no call but a few pure std
    methods (`forbid` names further node kinds to refuse, such as closures)."""
    for d in [node, *descendants(node)]:
        if d.type in EFFECTS or d.type in forbid:
            return False
        if d.type == "call_expression":
            mc = method_call(d)
            if mc is None or mc.name not in PURE_METHODS:
                return False
    return True



def is_async_fn(fn: Node) -> bool:
    mods = next((c for c in fn.children if c.type == "function_modifiers"), None)
    return mods is not None and any(c.type == "async" for c in mods.children)


def async_context(node: Node) -> Node | None:
    """The `async fn` or `async` block whose body runs `node`, or None when the nearest function,
    closure or block boundary is synchronous (a closure handed to `spawn_blocking`, a plain fn)."""
    for a in ancestors(node):
        if a.type == "async_block":
            return a
        if a.type == "function_item":
            return a if is_async_fn(a) else None
        if a.type == "closure_expression":
            return a if any(c.type == "async" for c in a.children) else None
    return None


def call_path(node: Node) -> str:
    """The callee path of a call (`tokio::sync::mpsc::channel`, turbofish dropped), or ""."""
    if node.type != "call_expression":
        return ""
    func = node.child_by_field_name("function")
    if func is not None and func.type == "generic_function":
        func = func.child_by_field_name("function")
    if func is None or func.type not in ("identifier", "scoped_identifier"):
        return ""
    return (func.text or b"").decode("utf-8", "replace").replace(" ", "")


def outer_attributes(item: Node) -> list[Node]:
    """The `#[..]` attributes written before an item (doc comments and comments skipped)."""
    out = []
    sib = item.prev_named_sibling
    while sib is not None and sib.type in ("attribute_item", "line_comment", "block_comment"):
        if sib.type == "attribute_item":
            out.append(sib)
        sib = sib.prev_named_sibling
    return out


def attribute_text(attr: Node) -> str:
    """`#[inline(always)]` -> `inline(always)` (spaces removed)."""
    text = (attr.text or b"").decode("utf-8", "replace")
    return "".join(text.split())[2:-1]


def is_generic_fn(fn: Node) -> bool:
    """Type parameters, or `impl Trait` in argument position."""
    tps = fn.child_by_field_name("type_parameters")
    if tps is not None and any(c.type != "lifetime" and c.type != "lifetime_parameter" for c in tps.named_children):
        return True
    params = fn.child_by_field_name("parameters")
    return params is not None and any(n.type == "abstract_type" for n in subtree(params))


def in_test_code(src, node: Node) -> bool:
    """`node` is test code: in a `tests/` or `benches/` file or a `test.rs`/`tests.rs` module, or inside a `#[test]` fn or a
    `#[cfg(test)]` module. Advice about production behaviour (backpressure, blocking, cold paths)
    does not apply there."""
    from ferrolens.analyzers.dry.fingerprint import is_test_item, is_test_path

    if src.path and is_test_path(src.path):
        return True
    first = src.first_test_word()
    if first < 0 or first >= node.start_byte:
        return False  # no test attribute can come before it
    memo = src.test_items()
    cur: Node | None = node
    while cur is not None:
        if cur.type in ("function_item", "mod_item"):
            test = memo.get(cur.id)
            if test is None:
                test = memo[cur.id] = is_test_item(cur, src.data)
            if test:
                return True
        cur = cur.parent
    return False


def nodes_containing(data: bytes, root: Node, needle: bytes, node_type: str) -> Iterator[Node]:
    """Each distinct `node_type` node that contains an occurrence of `needle`, found from the text
    (str.find) rather than a walk: for file rules that run on every keystroke of a big file."""
    seen = set()
    at = data.find(needle)
    while at >= 0:
        node = root.descendant_for_byte_range(at, at)
        while node is not None and node.type != node_type:
            node = node.parent
        if node is not None and node.id not in seen:
            seen.add(node.id)
            yield node
        at = data.find(needle, at + 1)
