"""A small per-file summary of declared types, the local type evidence rules may use.

Only declarations are read (fn return types, struct field types, impl method return types): enough to
know that `self.cache.get(..)` or `lookup(k)` yields an Option or a Result without guessing. It is built
per item and merged, so the engine can cache item summaries like findings.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from tree_sitter import Node, QueryCursor

from ferrolens.analyzers.syntax import enclosing


@dataclass
class FileSummary:
    functions: dict[str, str] = field(default_factory=dict)  # free fn name -> return type text
    methods: dict[tuple[str, str], str] = field(default_factory=dict)  # (impl type, method) -> return type
    fields: dict[tuple[str, str], str] = field(default_factory=dict)  # (struct, field) -> type text
    const_fns: set[str] = field(default_factory=set)  # `name` and `Owner::name` of const fns: cheap to call
    # names of functions and methods called inside a loop body (hot-path evidence; not in the digest:
    # rules never read it, the engine applies it after the item cache: `hot`, `when_loop_call`)
    loop_calls: set[str] = field(default_factory=set)
    consts: dict[str, str] = field(default_factory=dict)  # const NAME -> its value's text
    _digests: dict[str, int] | None = field(default=None, repr=False, compare=False)  # part -> digest, memoised
    types: set[str] = field(default_factory=set)  # structs, enums and unions declared in the file
    iterators: set[str] = field(default_factory=set)  # types with an `impl Iterator for` in the file
    imports: dict[str, str] = field(default_factory=dict)  # top-level `use`: local name -> full path
    aliases: dict[str, str] = field(default_factory=dict)  # `type Name = ...;` -> the aliased type's text
    # enum -> its variants as (name, field types) in order; struct-like variants list their field types
    variants: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = field(default_factory=dict)
    opaque: set[str] = field(default_factory=set)  # generic or `#[repr(..)]` types: no layout is guessed
    crates: set[str] = field(default_factory=set)  # the runtimes/hashers of WATCHED_CRATES the file's paths name
    # the types of the crate's other files (crate_types.CrateTypes), set by the engine's caller; not
    # merged from items, read only when the file does not declare a name itself
    external: object = None
    asserted: set[str] = field(default_factory=set)  # types whose size a `const` asserts (`size_of::<T>()`)

    def merge(self, other: "FileSummary") -> None:
        self._digests = None
        self.functions.update(other.functions)
        self.methods.update(other.methods)
        self.fields.update(other.fields)
        self.const_fns |= other.const_fns
        self.loop_calls |= other.loop_calls
        self.consts.update(other.consts)
        self.types |= other.types
        self.iterators |= other.iterators
        self.imports.update(other.imports)
        self.aliases.update(other.aliases)
        self.variants.update(other.variants)
        self.opaque |= other.opaque
        self.crates |= other.crates
        self.asserted |= other.asserted

    def signature(self) -> tuple:
        """Everything the merge carries: the digest, plus the loop calls it leaves out."""
        return self.digest(), tuple(sorted(self.loop_calls))

    PARTS = ("functions", "methods", "fields", "const_fns", "consts", "types", "iterators", "imports", "aliases", "variants", "opaque", "crates", "asserted", "external")

    def part_digest(self, name: str) -> int:
        if name == "external":
            return getattr(self.external, "digest", 0)
        if self._digests is None:
            self._digests = {}
        d = self._digests.get(name)
        if d is None:
            value = getattr(self, name)
            # (a frozenset's hash does not depend on the order: no sort, 4 ms -> 0.7 ms for tokio's summary)
            d = hash(frozenset(value.items()) if isinstance(value, dict) else frozenset(value))
            self._digests[name] = d
        return d

    def digest(self) -> int:
        return hash(tuple(self.part_digest(p) for p in self.PARTS))

    @classmethod
    def of(cls, src) -> "FileSummary":
        from ferrolens.analyzers.engine import iter_items

        out = cls()
        for child in src.root.children:
            if child.type == "use_declaration" and not child.has_error:
                out.merge(summarize_use(child, src.data))
        for item, _, _, where, container in iter_items(src.root, src.data):
            out.merge(summarize_item(item, src.data, place=(where, container)))
        return out


def _text(data: bytes, node: Node | None) -> str:
    return "" if node is None else data[node.start_byte : node.end_byte].decode("utf-8", "replace")


def impl_type_name(node: Node, data: bytes) -> str | None:
    """The bare name of the type of the impl block that contains `node` (`Foo` for `impl<T> Tr for Foo<T>`)."""
    impl = _impl_of(node)
    return _impl_part(impl, "type", data) if impl is not None else None


# the words `for`, `while` and `loop` (`format!`, `before` and `loops` are no loops); the `\b` before each
# is a look back after its first letter: a pattern that starts with `\b` is tried at every position,
# one that starts with a letter is not (a third faster)
LOOP_WORD = re.compile(rb"(?:f(?<!\wf)or|w(?<!\ww)hile|l(?<!\wl)oop)\b")


_LOOP_BODY_QUERY = """
(for_expression body: (_) @body)
(while_expression body: (_) @body)
(loop_expression body: (_) @body)
"""
_CALLEE_QUERY = """
(call_expression function: (identifier) @f)
(call_expression function: (scoped_identifier name: (identifier) @f))
(call_expression function: (generic_function function: (identifier) @f))
(call_expression function: (field_expression value: (self) field: (field_identifier) @f))
"""
LOOP_CALLS = _LOOP_BODY_QUERY + _CALLEE_QUERY  # (the engine runs it with the rules' queries: `runs`)


def _loop_calls(item: Node, data: bytes, runs=None) -> set[str]:
    """Names called inside loop bodies below `item`: free functions, `Type::f` paths and methods on
    `self` (other receivers may be std types whose methods share a name with ours). One query finds
    the loop bodies and the calls (`runs`, context.ItemRuns: with the rules' queries, when one of
    them); a call counts when its name lies in an outermost loop body."""
    if not LOOP_WORD.search(data, item.start_byte, item.end_byte):
        return set()
    if runs is not None and LOOP_CALLS in runs.shared.index:
        found = runs.matches(LOOP_CALLS, item)
        names = [m["f"][0] for m in found if "f" in m]
        bodies = [m["body"][0] for m in found if "body" in m]
    else:
        from ferrolens.analyzers.context import compile_query

        caps = QueryCursor(compile_query(LOOP_CALLS)).captures(item)
        names, bodies = caps.get("f"), caps.get("body", ())
    if not names:
        return set()
    starts: list[int] = []
    ends: list[int] = []
    for body in sorted(bodies, key=lambda n: n.start_byte):
        if ends and body.start_byte < ends[-1]:
            continue  # an inner loop: inside the outer one's body
        starts.append(body.start_byte)
        ends.append(body.end_byte)
    out: set[str] = set()
    for name in names:
        at = name.start_byte
        i = bisect_right(starts, at) - 1
        if i >= 0 and at < ends[i]:
            out.add(_text(data, name))
    return out


def impl_trait_name(node: Node, data: bytes) -> str | None:
    """The bare trait name of the impl block that contains `node` (`Iterator` for `impl std::iter::Iterator for X`)."""
    impl = _impl_of(node)
    return _impl_part(impl, "trait", data) if impl is not None else None


WATCHED_CRATES = ("tokio", "async_std", "smol", "rustc_hash", "fxhash", "ahash", "foldhash")


_CRATE_PATHS = tuple((c, c.encode() + b"::") for c in WATCHED_CRATES)


def _crates_named(data: bytes, node: Node) -> set[str]:
    """The WATCHED_CRATES whose `name::` occurs in `node`'s text (no copy of the text; a C search per
    name is 40% faster than one regex alternation over the item: 13k items of T3, 95 -> 58 ms)."""
    start, end = node.start_byte, node.end_byte
    if data.find(b"::", start, end) < 0:
        return set()
    return {name for name, path in _CRATE_PATHS if data.find(path, start, end) >= 0}


def summarize_item(item: Node, data: bytes, runs=None, place: tuple = ()) -> FileSummary:
    """One item's declarations. Built straight into a summary whose empty parts are the shared empty
    objects (most parts of most items are empty: 11k items on 180k lines). `runs`: see `_loop_calls`.
    `place`: its parent's type and the impl/trait/mod it is in, as `iter_items` gives them (else they
    are looked up: tree-sitter 0.26 finds a node's parent by a walk down from the root)."""
    parts: dict = {"crates": _crates_named(data, item) or _NO_SET, "loop_calls": _loop_calls(item, data, runs) or _NO_SET}
    kind = item.type
    if kind == "function_item":
        name = _text(data, item.child_by_field_name("name"))
        ret = _text(data, item.child_by_field_name("return_type"))
        if place:
            where, container = place
            impl = container if container is not None and container.type == "impl_item" else None
        else:
            where, impl = (item.parent.type if item.parent is not None else ""), _impl_of(item)
        owner = _impl_part(impl, "type", data) if impl is not None else None
        mods = next((c for c in item.children if c.type == "function_modifiers"), None)
        if mods is not None and any(c.type == "const" for c in mods.children):
            parts["const_fns"] = {f"{owner}::{name}" if owner else name}
        if owner:
            parts["methods"] = {(owner, name): ret}
            if _impl_part(impl, "trait", data) == "Iterator":
                parts["iterators"] = {owner}
        elif where in ("source_file", "declaration_list"):
            parts["functions"] = {name: ret}
    elif kind == "const_item":
        value = item.child_by_field_name("value")
        if value is not None:
            parts["consts"] = {_text(data, item.child_by_field_name("name")): _text(data, value)}
            asserted = set(_SIZE_OF.findall(_text(data, value)))
            if asserted:
                parts["asserted"] = asserted
    elif kind == "type_item":
        if item.child_by_field_name("type_parameters") is None:
            parts["aliases"] = {_text(data, item.child_by_field_name("name")): _text(data, item.child_by_field_name("type"))}
    elif kind in ("enum_item", "union_item"):
        name = _text(data, item.child_by_field_name("name"))
        parts["types"] = {name}
        if _opaque(item, data):
            parts["opaque"] = {name}
        body = item.child_by_field_name("body")
        if kind == "enum_item" and body is not None:
            parts["variants"] = {
                name: tuple(
                    (_text(data, v.child_by_field_name("name")), _field_types(v.child_by_field_name("body"), data))
                    for v in body.named_children
                    if v.type == "enum_variant"
                )
            }
    elif kind == "struct_item":
        name = _text(data, item.child_by_field_name("name"))
        parts["types"] = {name}
        if _opaque(item, data):
            parts["opaque"] = {name}
        body = item.child_by_field_name("body")
        fields: dict = {}
        if body is not None and body.type == "ordered_field_declaration_list":
            types = [c for c in body.named_children if c.type not in ("visibility_modifier", "attribute_item", "line_comment", "block_comment")]
            for i, t in enumerate(types):
                fields[(name, str(i))] = _text(data, t)
        if body is not None and body.type == "field_declaration_list":
            for decl in body.named_children:
                if decl.type == "field_declaration":
                    fields[(name, _text(data, decl.child_by_field_name("name")))] = _text(data, decl.child_by_field_name("type"))
        if fields:
            parts["fields"] = fields
    out = FileSummary.__new__(FileSummary)
    out.__dict__.update(_EMPTY_PARTS)
    out.__dict__.update(parts)
    return out


def _impl_of(node: Node) -> Node | None:
    return enclosing(node, ("impl_item",))


def _impl_part(impl: Node, field: str, data: bytes) -> str | None:
    """The bare name of an impl's `type` or `trait` (`Foo` for `std::x::Foo<T>`)."""
    node = impl.child_by_field_name(field)
    if node is None:
        return None
    if node.type == "generic_type":
        node = node.child_by_field_name("type")
    return _text(data, node).rsplit("::", 1)[-1].strip() or None


_SIZE_OF = re.compile(r"size_of\s*::\s*<\s*([A-Za-z_][A-Za-z0-9_]*)\s*>")


def _opaque(item: Node, data: bytes) -> bool:
    """A generic type, a union, an enum with explicit discriminants, or a type with a `#[repr(..)]`:
    its layout is not estimated."""
    if item.type == "union_item" or item.child_by_field_name("type_parameters") is not None:
        return True
    body = item.child_by_field_name("body")
    if item.type == "enum_item" and body is not None and any(v.child_by_field_name("value") is not None for v in body.named_children if v.type == "enum_variant"):
        return True
    sib = item.prev_named_sibling
    while sib is not None and sib.type in ("attribute_item", "line_comment", "block_comment"):
        if sib.type == "attribute_item" and b"repr" in data[sib.start_byte : sib.end_byte]:
            return True
        sib = sib.prev_named_sibling
    return False


def _field_types(body: Node | None, data: bytes) -> tuple[str, ...]:
    """The field types of a variant or struct body, in order (empty for a unit variant)."""
    if body is None:
        return ()
    if body.type == "ordered_field_declaration_list":
        return tuple(_text(data, c) for c in body.named_children if c.type not in ("visibility_modifier", "attribute_item", "line_comment", "block_comment"))
    return tuple(_text(data, d.child_by_field_name("type")) for d in body.named_children if d.type == "field_declaration")


def memo_by_state(store: dict, summary, parts: tuple[str, ...], build):
    """`build(summary)` memoised per summary object and the state of the `parts` it reads: for what file
    rules and per-item rules would otherwise rebuild on every keystroke. Each part is noted as read on
    every call (`summary` may be the engine's recorder), so cached findings stay tied to them."""
    for part in parts:
        getattr(summary, part)
    base = getattr(summary, "_summary", summary)
    key = (id(base), tuple(base.part_digest(p) for p in parts))
    hit = store.get(key)
    if hit is None:
        if len(store) > 8:
            store.clear()
        hit = store[key] = build(base)
    return hit


_NO_DICT: dict = {}  # shared by every item summary with nothing there: never written to
_NO_SET: frozenset = frozenset()
_CONTAINERS = ("functions", "methods", "fields", "const_fns", "loop_calls", "consts", "types", "iterators", "imports", "aliases", "variants", "opaque", "crates", "asserted")
# every field of an empty item summary: each empty part is one shared empty object (an item summary is
# read, never written, once built; a 500k-line workspace holds some 50,000 of them, most parts empty)
_EMPTY_PARTS = {**FileSummary().__dict__, **{name: _NO_DICT if isinstance(getattr(FileSummary(), name), dict) else _NO_SET for name in _CONTAINERS}}


def summarize_use(decl: Node, data: bytes) -> FileSummary:
    """The names a top-level `use` brings in, with the paths they stand for (built as `summarize_item`
    builds an item's: 3,095 `use`s on T3)."""
    imports: dict[str, str] = {}
    arg = decl.child_by_field_name("argument")
    if arg is not None:
        _use_names(arg, "", data, imports)
    out = FileSummary.__new__(FileSummary)
    out.__dict__.update(_EMPTY_PARTS)
    out.__dict__.update(crates=_crates_named(data, decl) or _NO_SET, imports=imports or _NO_DICT)
    return out


def _use_names(node: Node, prefix: str, data: bytes, into: dict[str, str]) -> None:
    join = (lambda tail: f"{prefix}::{tail}" if prefix else tail)
    t = node.type
    if t in ("identifier", "scoped_identifier", "crate", "super"):
        path = join(_text(data, node))
        into[path.rsplit("::", 1)[-1]] = path
    elif t == "self":
        if prefix:
            into[prefix.rsplit("::", 1)[-1]] = prefix
    elif t == "use_as_clause":
        alias = _text(data, node.child_by_field_name("alias"))
        if alias != "_":
            into[alias] = join(_text(data, node.child_by_field_name("path")))
    elif t == "scoped_use_list":
        path = node.child_by_field_name("path")
        inner = join(_text(data, path)) if path is not None else prefix
        lst = node.child_by_field_name("list")
        if lst is not None:
            for c in lst.named_children:
                _use_names(c, inner, data, into)
    elif t == "use_list":
        for c in node.named_children:
            _use_names(c, prefix, data, into)


def resolve_path(imports: dict[str, str], path: str) -> str:
    """`mpsc::channel` -> `tokio::sync::mpsc::channel` when `use tokio::sync::mpsc;` (else as written)."""
    path = path.replace(" ", "").replace("\n", "").lstrip(":")
    head, sep, rest = path.partition("::")
    full = imports.get(head)
    if full is None:
        return path
    return full + (sep + rest if sep else "")
