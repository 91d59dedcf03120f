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
- *Extract across modules*: the same for copies in other files of the crate. The function is placed, as
  `pub(crate)`, in the copies' nearest common module (the file that declares their modules), with the
  `use std::..` imports of the first copy's file that it needs; it is offered only when every other
  name the run reads is in the prelude or one of those imports (a name from the copy's own module
  would not resolve there). The other files' edits travel as whole-file edits.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tree_sitter import Node

from ferrolens.analyzers.dry.index import Clone, CloneIndex, Copy
from ferrolens.analyzers.dry.tokens import Kind, lex
from ferrolens.analyzers.model import Applicability, Edit, FileEdit, Fix
from ferrolens.analyzers.syntax import line_indent, pattern_bindings, subtree, unused_name

PRIMITIVE_COPY = {"i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32", "f64", "bool", "char"}
ESCAPES = {"return_expression", "try_expression", "break_expression", "continue_expression", "await_expression", "yield_expression", "self"}
_SUFFIX = re.compile(r"^[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][+-]?[0-9_]+)?(i8|i16|i32|i64|i128|isize|u8|u16|u32|u64|u128|usize|f32|f64)$")


def fixes_for(index: CloneIndex, clone: Clone, tree) -> list[Fix]:
    """`tree()` gives a root node of the clone's file holding every copy in it (parsed only when an
    action is possible)."""
    if clone.kind == "similar" or clone.unit not in ("function", "statements"):
        return []  # (a run of small items or of match arms is no statement run to extract)
    if clone.unit == "statements" and not all(index.files[c.path].data[c.end - 1 : c.end] in (b";", b"}") for c in (clone, *clone.partners)):
        return []  # a copy ends in its block's value (`Ok(x)`): `_Run` refuses it; known without a parse
    same = [p for p in clone.partners if p.path == clone.path]
    if not same:
        across = _delegate_across if clone.unit == "function" and not clone.differences else _extract_across if clone.unit == "statements" else None
        if across is None:
            return []
        try:
            fix = across(index, clone, tree)
        except _NotEvident:
            return []
        return [fix] if fix else []
    data = index.files[clone.path].data
    if clone.unit == "function" and (clone.differences or min(p.start for p in same) > clone.start):
        return []  # `_delegate`'s refusals that need no tree: other work, or the first copy itself
    root = tree()
    if not _parses(index, clone.path, root):
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
    root, oroot = tree(), parsed_tree(index.files[first.path], [first])
    _need(_parses(index, clone.path, root) and _parses(index, first.path, oroot))
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


_TREES: dict[tuple, object] = {}  # the last few parsed parts of files with copies (the least recently used go)


def parsed_tree(units, spans) -> Node:
    """A root node for the copies `spans` in the file of `units`: the top-level items they are in and
    the file's `use` declarations, parsed as one text (an action reads nothing else of the file; a
    whole file took 5 ms a parse). From a small cache: one clone class asks for its files again and
    again. Whether the whole file parses is `units.broken`."""
    parts = tuple(units.parts_around(spans))
    key = (units.data, parts)
    tree = _TREES.pop(key, None)
    if tree is None:
        from ferrolens.analyzers.source import parse_parts

        if len(_TREES) >= 16:
            _TREES.pop(next(iter(_TREES)))
        tree = parse_parts(units.data, list(parts))
    _TREES[key] = tree  # (now the most recently used)
    return tree.root_node


def _parses(index: CloneIndex, path: str, root: Node) -> bool:
    """The file parses: the parts in `root` and (when `root` holds only parts) the whole of it."""
    return not root.has_error and not index.files[path].broken


# -- extract ---------------------------------------------------------------------------------------
class _Run:
    """One copy: its block, its statements and the function around it."""

    def __init__(self, data: bytes, root: Node, copy) -> None:
        self.data, self.root, self.path = data, root, copy.path
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


class _Plan:
    """One function made from the first copy: its parameters (name -> type), its body (the first
    copy's text with the differing literals replaced by parameters) and each copy's call arguments."""

    def __init__(self, params: dict[str, str], body: str, args: list[list[str]]) -> None:
        self.params, self.body, self.args = params, body, args

    def function(self, name: str, indent: str, run: _Run, visibility: str = "", prelude: str = "") -> str:
        run_indent = line_indent(run.data, run.start)
        inner = indent + "    "
        lines = (run_indent + self.body).split("\n")
        reindented = "\n".join(inner + (line[len(run_indent) :] if line.startswith(run_indent) else line.lstrip()) if line.strip() else "" for line in lines)
        if prelude:
            reindented = "\n".join(inner + line for line in prelude.split("\n")) + "\n" + reindented
        signature = ", ".join(f"{n}: {t}" for n, t in self.params.items())
        return f"{indent}{visibility}fn {name}({signature}) {{\n{reindented}\n{indent}}}"


def _plan(runs: list[_Run]) -> _Plan:
    """The shared function for these copies (the first one is the model), or _NotEvident."""
    first = runs[0]
    data = first.data
    scope = _declared_types(data, first)
    bound = _bound_in_run(data, first)
    for run in runs:
        lets = {n for s in run.stmts if s.type == "let_declaration" for n in pattern_bindings(run.data, s.child_by_field_name("pattern"))}
        _need(not _used_after(run.data, run, lets))
    uses = _uses(data, first)
    assigned = _assigned(first, data)
    toks = [lex(r.data, r.start, r.end) for r in runs]
    _need(len({len(t) for t in toks}) == 1)
    params: dict[str, str] = {}  # variable or literal slot name in the new function -> type
    slots: list[tuple[int, str]] = []  # (token index, param name) of literal parameters
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
        node = first.root.descendant_for_byte_range(offset, offset + len(text))
        typ = _literal_type(node, data)
        _need(typ is not None and not word.startswith(("b", "br")))
        name = f"value{len(slots) + 1}" if len(slots) else "value"
        slots.append((ti, name))
        params[name] = typ
    args = []
    for k in range(len(runs)):
        call_args = [var_maps[k].get(v, v) if k else v for v in var_order]
        call_args += [toks[k][ti][1].decode("utf-8") for ti, _ in slots]
        args.append(call_args)
    body = bytearray()
    pos = first.start
    for ti, name in slots:
        offset, text, _ = toks[0][ti]
        body += data[pos:offset] + name.encode()
        pos = offset + len(text)
    body += data[pos : first.end]
    # the signature in the order of the call arguments: variables first, then literals
    ordered = {v: params[v] for v in var_order} | {name: params[name] for _, name in slots}
    return _Plan(ordered, body.decode("utf-8"), args)


def _extract(data: bytes, root: Node, clone: Clone, same: list[Copy]) -> Fix | None:
    copies = sorted([clone, *same], key=lambda c: c.start)
    runs = [_Run(data, root, c) for c in copies]
    for a, b in zip(runs, runs[1:]):
        _need(a.end <= b.start)
    plan = _plan(runs)
    first = runs[0]
    owner = _top_item(first.fn)
    fname = unused_name(data, f"shared_{_text(data, first.fn.child_by_field_name('name'))}")
    new_fn = "\n\n" + plan.function(fname, line_indent(data, owner.start_byte), first)
    edits = [Edit(r.start, r.end, f"{fname}({', '.join(a)});") for r, a in zip(runs, plan.args)]
    edits.append(Edit(owner.end_byte, owner.end_byte, new_fn))
    return Fix(Applicability.UNSAFE, f"extract the {len(runs)} copies into `fn {fname}`", tuple(edits))


# -- extract across modules --------------------------------------------------------------------------
# names a copied run may use from outside itself and still mean the same thing in another module
PRELUDE = {
    "Some", "None", "Ok", "Err", "Option", "Result", "Vec", "String", "Box", "ToString", "ToOwned", "Iterator",
    "IntoIterator", "Clone", "Copy", "Default", "Drop", "Eq", "PartialEq", "Ord", "PartialOrd", "From", "Into",
    "AsRef", "AsMut", "Fn", "FnMut", "FnOnce", "Send", "Sync", "Sized", "Extend", "DoubleEndedIterator",
    "ExactSizeIterator", "TryFrom", "TryInto", "FromIterator", "drop",
}
STD_MACROS = {
    "println", "print", "eprintln", "eprint", "format", "write", "writeln", "vec", "assert", "assert_eq",
    "assert_ne", "debug_assert", "debug_assert_eq", "debug_assert_ne", "panic", "unreachable", "todo",
    "unimplemented", "matches", "format_args", "concat", "stringify", "dbg",
}
STD_ROOTS = {"std", "core", "alloc"}
# traits whose methods a run may call once they are imported where it lands
STD_TRAITS = {
    "Write", "Read", "BufRead", "Seek", "Hash", "Hasher", "FromStr", "Add", "Sub", "Mul", "Div", "Rem", "Neg",
    "Not", "Borrow", "BorrowMut", "Sum", "Product", "Deref", "DerefMut", "Index", "IndexMut", "Display", "Debug",
    "AddAssign", "SubAssign", "MulAssign", "DivAssign",
}


def _std_imports(data: bytes, root: Node) -> list[tuple[str, set[str]]]:
    """The file's top-level `use std::..` (core, alloc) declarations: (text, the names they bring)."""
    out = []
    for child in root.named_children:
        if child.type != "use_declaration" or child.has_error:
            continue
        text = _text(data, child)
        path = text.removeprefix("use").strip()
        if path.split("::", 1)[0] not in STD_ROOTS:
            continue
        names = set(re.findall(r"(?:\bas\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?=[,};]|$)", path))
        out.append((text, names))
    return out


def _free_names(run: _Run, plan: _Plan) -> tuple[set[str], bool]:
    """Identifiers the run reads from its module (not locals, parameters, fields or methods, paths
    below a head, macros), and whether it calls methods."""
    data = run.data
    scope = set(_declared_types(data, run)) | _bound_in_run(data, run) | set(plan.params)
    toks = lex(data, run.start, run.end)
    free: set[str] = set()
    methods = False
    for i, (_, text, kind) in enumerate(toks):
        prev = toks[i - 1][1] if i else b""
        nxt = toks[i + 1][1] if i + 1 < len(toks) else b""
        if prev == b".":
            methods = methods or nxt == b"("
            continue
        word = text.decode("utf-8")
        if kind != Kind.IDENT or prev == b"::" or word in scope:
            if word in ("self", "super", "crate", "Self") and prev != b"::":
                free.add(word)  # paths that mean another thing elsewhere
            continue
        if nxt == b"!":
            _need(word in STD_MACROS)
            continue
        if nxt == b":" and prev in (b"{", b","):
            continue  # a field name in a struct literal
        free.add(word)
    return free, methods


def _module_file(index: CloneIndex, crate: str, module: str, children: set[str]) -> str | None:
    """The file of module `crate::a::b` in the index, when the tree says it declares its child modules
    (`mod x;` for each name in `children`); None when that is not evident."""
    parts = module.split("::")[1:]
    base = (crate + "/src/" if crate else "src/") + "/".join(parts)
    if not parts:
        options = [base + "lib.rs", base + "main.rs"]
    else:
        options = [base + ".rs", base + "/mod.rs"]
    found = [o for o in options if o in index.files]
    if len(found) != 1:
        return None
    declared = _declared_modules(index.files[found[0]].data)
    return found[0] if all(name.encode() in declared for name in children) else None


_MOD_DECL = re.compile(rb"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([^\s;]+)\s*;")


@lru_cache(maxsize=64)
def _declared_modules(text: bytes) -> frozenset[bytes]:
    """The names of the `mod name;` lines of a file (one scan, not a regex compiled per name)."""
    return frozenset(_MOD_DECL.findall(text))


def _extract_across(index: CloneIndex, clone: Clone, tree) -> Fix | None:
    """Copies of a statement run in other modules of the crate: one `pub(crate) fn` in their nearest
    common module, every copy a call of it (edits to the other files travel as whole-file edits)."""
    copies = sorted([clone, *clone.partners], key=lambda c: (c.path, c.start))
    mods = [module_path(c.path) for c in copies]
    _need(all(m is not None for m in mods) and len({m[0] for m in mods}) == 1)
    crate = mods[0][0]
    segments = [m[1].split("::") for m in mods]
    common = []
    for parts in zip(*segments):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    module = "::".join(common)
    children = {seg[len(common)] for seg in segments if len(seg) > len(common)}
    target = _module_file(index, crate, module, children)
    _need(target is not None)
    roots: dict[str, Node] = {}
    for c in copies:
        if c.path not in roots:
            roots[c.path] = tree() if c.path == clone.path else parsed_tree(index.files[c.path], [o for o in copies if o.path == c.path])
            _need(_parses(index, c.path, roots[c.path]))
    runs = [_Run(index.files[c.path].data, roots[c.path], c) for c in copies]
    for a, b in zip(runs, runs[1:]):
        _need(a.path != b.path or a.end <= b.start)
    plan = _plan(runs)
    first = runs[0]
    free, methods = _free_names(first, plan)
    imports = _std_imports(first.data, first.root)
    brought = set().union(*(names for _, names in imports)) if imports else set()
    _need(free <= PRELUDE | brought | STD_ROOTS)
    wanted = [text for text, names in imports if names & free or (methods and names & STD_TRAITS)]
    target_data = index.files[target].data
    fname = unused_name(target_data, f"shared_{_text(first.data, first.fn.child_by_field_name('name'))}")
    call = f"{module}::{fname}" if module != "crate" else f"crate::{fname}"
    new_fn = plan.function(fname, "", first, "pub(crate) ", "\n".join(wanted))
    per_file: dict[str, list[Edit]] = {}
    for run, args in zip(runs, plan.args):
        per_file.setdefault(run.path, []).append(Edit(run.start, run.end, f"{call}({', '.join(args)});"))
    tail = b"" if target_data.endswith(b"\n") or not target_data else b"\n"
    per_file.setdefault(target, []).append(Edit(len(target_data), len(target_data), tail.decode() + "\n" + new_fn + "\n"))
    own = tuple(per_file.pop(clone.path, []))
    files = []
    for path, edits in sorted(per_file.items()):
        data = index.files[path].data
        new = data
        for e in sorted(edits, key=lambda e: e.start, reverse=True):
            new = new[: e.start] + e.content.encode("utf-8") + new[e.end :]
        files.append(FileEdit(path, data.decode("utf-8"), new.decode("utf-8")))
    return Fix(Applicability.UNSAFE, f"extract the {len(runs)} copies into `{call}`", own, tuple(files))


def _top_item(fn: Node) -> Node:
    """The item to place the new function after: the function itself, or the impl/trait that holds it."""
    node = fn
    while node.parent is not None and node.parent.type == "declaration_list" and node.parent.parent is not None and node.parent.parent.type in ("impl_item", "trait_item"):
        node = node.parent.parent
    return node
