"""Refactoring actions for clones in one file: make a copy call the other, or extract a shared function.

Both are built only when the result is evident from the syntax (and are offered as unsafe, since a copy
that was meant to diverge is now tied to the other):

- *Delegate*: two functions with the same signature (parameter types, return type, generics, modifiers)
  whose bodies differ only in consistently renamed locals and parameters. The later copy's body becomes a
  call of the first (`Self::` or `self.` inside an impl).
- *Extract*: runs of statements that differ only in the variables they read and in string, char or
  suffixed number literals. One function is made from the first copy: each variable it reads from the
  enclosing function becomes a parameter (only references and `Copy` primitives with their declared
  types, never assigned in the run), each differing literal a parameter too, and every copy becomes a
  call. Not offered when the run returns, breaks, uses `?`, `.await` or `self`, ends the block with a value,
  or declares a local that is used after it.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.dry.index import Clone, CloneIndex, Copy
from ferrolens.analyzers.dry.tokens import Kind, lex
from ferrolens.analyzers.model import Applicability, Edit, Fix
from ferrolens.analyzers.syntax import line_indent, pattern_bindings, subtree, unused_name

PRIMITIVE_COPY = {"i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32", "f64", "bool", "char"}
ESCAPES = {"return_expression", "try_expression", "break_expression", "continue_expression", "await_expression", "yield_expression", "self"}
_SUFFIX = re.compile(r"^[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][+-]?[0-9_]+)?(i8|i16|i32|i64|i128|isize|u8|u16|u32|u64|u128|usize|f32|f64)$")


def fixes_for(index: CloneIndex, clone: Clone, tree) -> list[Fix]:
    """`tree()` gives the file's root node (parsed only when an action is possible)."""
    if clone.kind == "similar":
        return []
    same = [p for p in clone.partners if p.path == clone.path]
    if not same:
        if clone.unit == "function" and not clone.differences:
            try:
                fix = _delegate_across(index, clone, tree)
            except _NotEvident:
                return []
            return [fix] if fix else []
        return []
    data = index.files[clone.path].data
    root = tree()
    if root.has_error:
        return []
    try:
        if clone.unit == "function":
            fix = _delegate(data, root, clone, same)
            return [fix] if fix else []
        fix = _extract(data, root, clone, same)
        return [fix] if fix else []
    except _NotEvident:
        return []


class _NotEvident(Exception):
    """The action cannot be built from the syntax alone."""


def _need(cond: bool) -> None:
    if not cond:
        raise _NotEvident


def _text(data: bytes, node: Node | None) -> str:
    return "" if node is None else data[node.start_byte : node.end_byte].decode("utf-8")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _function_at(root: Node, start: int, end: int) -> Node | None:
    node = root.descendant_for_byte_range(start, end)
    while node is not None and not (node.type == "function_item" and node.start_byte <= start and node.end_byte >= end):
        node = node.parent
    return node


# -- delegate --------------------------------------------------------------------------------------
def _signature(data: bytes, fn: Node) -> tuple:
    params = fn.child_by_field_name("parameters")
    shape = []
    for p in params.named_children if params is not None else ():
        if p.type in ("line_comment", "block_comment", "attribute_item"):
            continue
        if p.type == "self_parameter":
            shape.append(("self", _squash(_text(data, p))))
            continue
        _need(p.type == "parameter")
        pat = p.child_by_field_name("pattern")
        _need(pat is not None and (pat.type == "identifier" or (pat.type == "mut_pattern" and pat.named_child_count == 1 and pat.named_children[0].type == "identifier")))
        shape.append(("param", _squash(_text(data, p.child_by_field_name("type")))))
    mods = [c for c in fn.children if c.type == "function_modifiers"]
    return (
        tuple(shape),
        _squash(_text(data, fn.child_by_field_name("return_type"))),
        _squash(_text(data, fn.child_by_field_name("type_parameters"))),
        _squash("".join(_text(data, c) for c in fn.children if c.type == "where_clause")),
        _squash("".join(_text(data, m) for m in mods)),
    )


def _param_names(data: bytes, fn: Node) -> list[str]:
    names = []
    params = fn.child_by_field_name("parameters")
    for p in params.named_children if params is not None else ():
        if p.type == "parameter":
            pat = p.child_by_field_name("pattern")
            ident = pat if pat.type == "identifier" else pat.named_children[0]
            names.append(_text(data, ident))
    return names


def _delegate(data: bytes, root: Node, clone: Clone, same: list[Copy]) -> Fix | None:
    """The later copy calls the first one; the first copy itself gets no action."""
    if clone.differences:
        return None  # something other than locals differs: the bodies do not do the same thing
    first = min([clone, *same], key=lambda c: c.start)
    if first.start == clone.start:
        return None
    fn = _function_at(root, clone.start, clone.end)
    target = _function_at(root, first.start, first.end)
    _need(fn is not None and target is not None and fn.id != target.id)
    _need(fn.parent is not None and target.parent is not None and fn.parent.id == target.parent.id)
    sig = _signature(data, fn)
    _need(sig == _signature(data, target) and "async" not in sig[4])
    body = fn.child_by_field_name("body")
    _need(body is not None)
    name = _text(data, target.child_by_field_name("name"))
    args = ", ".join(_param_names(data, fn))
    in_impl = fn.parent.type == "declaration_list" and fn.parent.parent is not None and fn.parent.parent.type in ("impl_item", "trait_item")
    has_self = bool(sig[0]) and sig[0][0][0] == "self"
    if in_impl:
        call = f"self.{name}({args})" if has_self else f"Self::{name}({args})"
    else:
        _need(not has_self)
        call = f"{name}({args})"
    indent = line_indent(data, fn.start_byte)
    text = "{\n" + indent + "    " + call + "\n" + indent + "}"
    own = _text(data, fn.child_by_field_name("name"))
    return Fix(Applicability.UNSAFE, f"make `{own}` call `{name}` (its body is a copy)", (Edit(body.start_byte, body.end_byte, text),))


def module_path(key: str) -> tuple[str, str] | None:
    """(crate folder, `crate::a::b`) for a file under a crate's `src/`; None elsewhere."""
    parts = key.replace("\\", "/").split("/")
    if "src" not in parts[:-1]:
        return None
    at = len(parts) - 1 - parts[::-1].index("src")
    crate, rest = "/".join(parts[:at]), parts[at + 1 :]
    rest[-1] = rest[-1].removesuffix(".rs")
    if rest[-1] == "mod":
        rest = rest[:-1]
    if rest in (["main"], ["lib"]):
        rest = []
    return crate, "::".join(["crate", *rest])


def _delegate_across(index: CloneIndex, clone: Clone, tree) -> Fix | None:
    """A copy in another file of the same crate: the later one (by path) calls the other through its
    module path, when that function is a public free function of a top-level module."""
    first = min([clone, *clone.partners], key=lambda c: (c.path, c.start))
    if first.path == clone.path:
        return None
    here, there = module_path(clone.path), module_path(first.path)
    _need(here is not None and there is not None and here[0] == there[0])
    _need(there[1].count("::") <= 1 or there[1].rsplit("::", 1)[0] == here[1].rsplit("::", 1)[0])
    data, odata = index.files[clone.path].data, index.files[first.path].data
    root, oroot = tree(), _parsed(odata)
    _need(not root.has_error and not oroot.has_error)
    fn = _function_at(root, clone.start, clone.end)
    target = _function_at(oroot, first.start, first.end)
    _need(fn is not None and target is not None and target.parent is not None and target.parent.type == "source_file")
    _need(any(c.type == "visibility_modifier" for c in target.children))
    sig = _signature(data, fn)
    _need(sig == _signature(odata, target) and "async" not in sig[4] and not (sig[0] and sig[0][0][0] == "self"))
    body = fn.child_by_field_name("body")
    _need(body is not None)
    name = _text(odata, target.child_by_field_name("name"))
    call = f"{there[1]}::{name}({', '.join(_param_names(data, fn))})"
    indent = line_indent(data, fn.start_byte)
    own = _text(data, fn.child_by_field_name("name"))
    return Fix(Applicability.UNSAFE, f"make `{own}` call `{there[1]}::{name}` (its body is a copy)", (Edit(body.start_byte, body.end_byte, "{\n" + indent + "    " + call + "\n" + indent + "}"),))


_TREES: dict[bytes, object] = {}  # a few parsed texts of other files (the originals copies call)


def _parsed(data: bytes) -> Node:
    tree = _TREES.get(data)
    if tree is None:
        from ferrolens.analyzers.source import parse

        if len(_TREES) >= 8:
            _TREES.pop(next(iter(_TREES)))
        tree = _TREES[data] = parse(data)
    return tree.root_node


# -- extract ---------------------------------------------------------------------------------------
class _Run:
    """One copy: its block, its statements and the function around it."""

    def __init__(self, data: bytes, root: Node, copy) -> None:
        node = root.descendant_for_byte_range(copy.start, copy.end)
        while node is not None and node.type != "block":
            node = node.parent
        _need(node is not None)
        self.block = node
        self.stmts = [c for c in node.named_children if c.start_byte >= copy.start and c.end_byte <= copy.end and c.type not in ("line_comment", "block_comment")]
        _need(bool(self.stmts) and self.stmts[0].start_byte == copy.start and self.stmts[-1].end_byte == copy.end)
        for s in self.stmts:
            _need(s.type in ("expression_statement", "let_declaration"))
        last = [c for c in node.named_children if c.type not in ("line_comment", "block_comment")][-1]
        if last.id == self.stmts[-1].id:
            _need(_text(data, last).rstrip().endswith((";", "}")) and not _tail_value(last))
        fn = node
        while fn is not None and fn.type not in ("function_item", "closure_expression"):
            fn = fn.parent
        _need(fn is not None and fn.type == "function_item")
        self.fn = fn
        self.start, self.end = copy.start, copy.end


def _tail_value(stmt: Node) -> bool:
    """A block-like expression statement without `;` that ends its block is the block's value."""
    return stmt.type == "expression_statement" and not any(c.type == ";" for c in stmt.children) and stmt.named_child_count == 1 and stmt.named_children[0].type not in ("for_expression", "while_expression")


def _declared_types(data: bytes, run: _Run) -> dict[str, tuple[str, bool]]:
    """Variables in scope before the run: name -> (declared type text or "", declared `mut`)."""
    out: dict[str, tuple[str, bool]] = {}
    params = run.fn.child_by_field_name("parameters")
    for p in params.named_children if params is not None else ():
        if p.type == "parameter":
            pat = p.child_by_field_name("pattern")
            if pat is not None and pat.type == "identifier":
                out[_text(data, pat)] = (_text(data, p.child_by_field_name("type")), False)
            elif pat is not None and pat.type == "mut_pattern" and pat.named_child_count == 1:
                out[_text(data, pat.named_children[0])] = (_text(data, p.child_by_field_name("type")), True)
    for n in subtree(run.fn.child_by_field_name("body")):
        if n.start_byte >= run.start:
            break
        if n.type == "let_declaration" and n.end_byte <= run.start:
            pat = n.child_by_field_name("pattern")
            typ = _text(data, n.child_by_field_name("type"))
            mut = pat is not None and pat.type == "mut_pattern"
            if mut:
                pat = pat.named_children[0] if pat.named_child_count == 1 else None
            if pat is not None and pat.type == "identifier":
                if not typ:
                    typ = _literal_type(n.child_by_field_name("value"), data) or ""
                out[_text(data, pat)] = (typ, mut)
            else:
                for name in pattern_bindings(data, pat):
                    out[name] = ("", mut)
    return out


def _literal_type(node: Node | None, data: bytes) -> str | None:
    if node is None:
        return None
    if node.type in ("string_literal", "raw_string_literal"):
        return "&str"
    if node.type == "char_literal":
        return "char"
    if node.type == "boolean_literal":
        return "bool"
    if node.type in ("integer_literal", "float_literal"):
        m = _SUFFIX.match(_text(data, node))
        return m.group(1) if m else None
    return None


def _bound_in_run(data: bytes, run: _Run) -> set[str]:
    names: set[str] = set()
    for s in run.stmts:
        for n in subtree(s):
            if n.type == "let_declaration" or n.type == "let_condition":
                names.update(pattern_bindings(data, n.child_by_field_name("pattern")))
            elif n.type == "for_expression":
                names.update(pattern_bindings(data, n.child_by_field_name("pattern")))
            elif n.type == "closure_parameters":
                names.update(pattern_bindings(data, n))
            elif n.type == "match_arm":
                names.update(pattern_bindings(data, n.child_by_field_name("pattern")))
    return names


def _uses(data: bytes, run: _Run) -> dict[int, Node]:
    """Identifier nodes of the run by start offset (token trees of macros included)."""
    out = {}
    for s in run.stmts:
        for n in subtree(s):
            _need(n.type not in ESCAPES and not n.is_error)
            if n.type == "identifier":
                out[n.start_byte] = n
    return out


def _assigned(run: _Run, data: bytes) -> set[str]:
    out = set()
    for s in run.stmts:
        for n in subtree(s):
            if n.type in ("assignment_expression", "compound_assignment_expr"):
                left = n.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    out.add(_text(data, left))
            elif n.type == "reference_expression" and any(c.type == "mutable_specifier" for c in n.children):
                value = n.child_by_field_name("value")
                if value is not None and value.type == "identifier":
                    out.add(_text(data, value))
    return out


def _used_after(data: bytes, run: _Run, names: set[str]) -> bool:
    if not names:
        return False
    body = run.fn.child_by_field_name("body")
    rest = data[run.end : body.end_byte]
    return any(t[1].decode() in names for t in lex(rest) if t[2] == Kind.IDENT)


def _extract(data: bytes, root: Node, clone: Clone, same: list[Copy]) -> Fix | None:
    copies = sorted([clone, *same], key=lambda c: c.start)
    runs = [_Run(data, root, c) for c in copies]
    for a, b in zip(runs, runs[1:]):
        _need(a.end <= b.start)
    first = runs[0]
    scope = _declared_types(data, first)
    bound = _bound_in_run(data, first)
    _need(not _used_after(data, first, {n for s in first.stmts if s.type == "let_declaration" for n in pattern_bindings(data, s.child_by_field_name("pattern"))}))
    uses = _uses(data, first)
    assigned = _assigned(first, data)
    toks = [lex(data, r.start, r.end) for r in runs]
    _need(len({len(t) for t in toks}) == 1)
    params: dict[str, str] = {}  # variable or literal slot name in the new function -> type
    slots: list[tuple[int, str]] = []  # (token index, param name) of literal parameters
    args: list[list[str]] = [[] for _ in runs]
    var_order: list[str] = []
    var_maps = [dict() for _ in runs]  # first copy's variable -> this copy's
    for ti, tok in enumerate(toks[0]):
        offset, text, kind = tok
        word = text.decode("utf-8")
        others = [t[ti][1].decode("utf-8") for t in toks[1:]]
        if kind == Kind.IDENT and offset in uses and word in scope and word not in bound:
            node = uses[offset]
            if node.parent is not None and node.parent.type in ("scoped_identifier", "field_expression") and node.parent.child_by_field_name("field") == node:
                _need(all(o == word for o in others))
                continue
            typ, _mut = scope[word]
            base = typ.strip()
            _need(bool(base) and (base.startswith("&") or base in PRIMITIVE_COPY))
            _need(word not in assigned)
            if word not in params:
                params[word] = base
                var_order.append(word)
            for k, o in enumerate(others, 1):
                _need(var_maps[k].setdefault(word, o) == o)
            continue
        if all(o == word for o in others):
            continue
        _need(kind == Kind.LITERAL)
        node = root.descendant_for_byte_range(offset, offset + len(text))
        typ = _literal_type(node, data)
        _need(typ is not None and not word.startswith(("b", "br")))
        name = f"value{len(slots) + 1}" if len(slots) else "value"
        slots.append((ti, name))
        params[name] = typ
    for k, run in enumerate(runs):
        call_args = [var_maps[k].get(v, v) if k else v for v in var_order]
        call_args += [toks[k][ti][1].decode("utf-8") for ti, _ in slots]
        args[k] = call_args
    # the new function: the first copy's text, its differing literals replaced by parameters
    body = bytearray()
    pos = first.start
    for ti, name in slots:
        offset, text, _ = toks[0][ti]
        body += data[pos:offset] + name.encode()
        pos = offset + len(text)
    body += data[pos : first.end]
    owner = _top_item(first.fn)
    owner_indent = line_indent(data, owner.start_byte)
    fname = unused_name(data, f"shared_{_text(data, first.fn.child_by_field_name('name'))}")
    run_indent = line_indent(data, first.start)
    lines = (run_indent + body.decode("utf-8")).split("\n")
    inner = owner_indent + "    "
    reindented = "\n".join(inner + (line[len(run_indent) :] if line.startswith(run_indent) else line.lstrip()) if line.strip() else "" for line in lines)
    signature = ", ".join(f"{n}: {t}" for n, t in params.items())
    new_fn = f"\n\n{owner_indent}fn {fname}({signature}) {{\n{reindented}\n{owner_indent}}}"
    edits = [Edit(r.start, r.end, f"{fname}({', '.join(a)});") for r, a in zip(runs, args)]
    edits.append(Edit(owner.end_byte, owner.end_byte, new_fn))
    return Fix(Applicability.UNSAFE, f"extract the {len(runs)} copies into `fn {fname}`", tuple(edits))


def _top_item(fn: Node) -> Node:
    """The item to place the new function after: the function itself, or the impl/trait that holds it."""
    node = fn
    while node.parent is not None and node.parent.type == "declaration_list" and node.parent.parent is not None and node.parent.parent.type in ("impl_item", "trait_item"):
        node = node.parent.parent
    return node
