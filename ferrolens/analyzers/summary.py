"""A small per-file summary of declared types, the local type evidence rules may use.

Only declarations are read (fn return types, struct field types, impl method return types): enough to
know that `self.cache.get(..)` or `lookup(k)` yields an Option or a Result without guessing. It is built
per item and merged, so the engine can cache item summaries like findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node, QueryCursor


@dataclass
class FileSummary:
    functions: dict[str, str] = field(default_factory=dict)  # free fn name -> return type text
    methods: dict[tuple[str, str], str] = field(default_factory=dict)  # (impl type, method) -> return type
    fields: dict[tuple[str, str], str] = field(default_factory=dict)  # (struct, field) -> type text
    const_fns: set[str] = field(default_factory=set)  # `name` and `Owner::name` of const fns: cheap to call
    # names of functions and methods called inside a loop body (hot-path evidence; not in the digest,
    # since findings are marked hot after caching)
    loop_calls: set[str] = field(default_factory=set)
    consts: dict[str, str] = field(default_factory=dict)  # const NAME -> its value's text
    _digests: dict[str, int] = field(default_factory=dict, repr=False, compare=False)  # part -> digest, memoised
    types: set[str] = field(default_factory=set)  # structs, enums and unions declared in the file
    iterators: set[str] = field(default_factory=set)  # types with an `impl Iterator for` in the file

    def merge(self, other: "FileSummary") -> None:
        self._digests.clear()
        self.functions.update(other.functions)
        self.methods.update(other.methods)
        self.fields.update(other.fields)
        self.const_fns |= other.const_fns
        self.loop_calls |= other.loop_calls
        self.consts.update(other.consts)
        self.types |= other.types
        self.iterators |= other.iterators

    def signature(self) -> tuple:
        """Everything the merge carries: the digest, plus the loop calls it leaves out."""
        return self.digest(), tuple(sorted(self.loop_calls))

    PARTS = ("functions", "methods", "fields", "const_fns", "consts", "types", "iterators")

    def part_digest(self, name: str) -> int:
        d = self._digests.get(name)
        if d is None:
            value = getattr(self, name)
            d = hash(tuple(sorted(value.items())) if isinstance(value, dict) else tuple(sorted(value)))
            self._digests[name] = d
        return d

    def digest(self) -> int:
        return hash(tuple(self.part_digest(p) for p in self.PARTS))

    @classmethod
    def of(cls, src) -> "FileSummary":
        from ferrolens.analyzers.engine import iter_items

        out = cls()
        for item, _header in iter_items(src.root, src.data):
            out.merge(summarize_item(item, src.data))
        return out


def _text(data: bytes, node: Node | None) -> str:
    return "" if node is None else data[node.start_byte : node.end_byte].decode("utf-8", "replace")


def impl_type_name(node: Node, data: bytes) -> str | None:
    """The bare name of the type of the impl block that contains `node` (`Foo` for `impl<T> Tr for Foo<T>`)."""
    cur = node.parent
    while cur is not None and cur.type != "impl_item":
        cur = cur.parent
    if cur is None:
        return None
    ty = cur.child_by_field_name("type")
    if ty is None:
        return None
    if ty.type == "generic_type":
        ty = ty.child_by_field_name("type")
    text = _text(data, ty)
    return text.rsplit("::", 1)[-1] or None


_LOOP_BODIES = (b"for", b"while", b"loop")


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


def _loop_calls(item: Node, data: bytes) -> set[str]:
    """Names called inside loop bodies below `item`: free functions, `Type::f` paths and methods on
    `self` (other receivers may be std types whose methods share a name with ours)."""
    if not any(k in data[item.start_byte : item.end_byte] for k in _LOOP_BODIES):
        return set()
    from ferrolens.analyzers.context import compile_query

    bodies = [n for _, caps in QueryCursor(compile_query(_LOOP_BODY_QUERY)).matches(item) for n in caps["body"]]
    if not bodies:
        return set()
    out: set[str] = set()
    for _, caps in QueryCursor(compile_query(_CALLEE_QUERY)).matches(item):
        for name in caps["f"]:
            if any(b.start_byte <= name.start_byte < b.end_byte for b in bodies):
                out.add(_text(data, name))
    return out


def impl_trait_name(node: Node, data: bytes) -> str | None:
    """The bare trait name of the impl block that contains `node` (`Iterator` for `impl std::iter::Iterator for X`)."""
    cur = node.parent
    while cur is not None and cur.type != "impl_item":
        cur = cur.parent
    trait = cur.child_by_field_name("trait") if cur is not None else None
    if trait is None:
        return None
    if trait.type == "generic_type":
        trait = trait.child_by_field_name("type")
    return _text(data, trait).rsplit("::", 1)[-1].strip() or None


def summarize_item(item: Node, data: bytes) -> FileSummary:
    out = FileSummary()
    out.loop_calls = _loop_calls(item, data)
    if item.type == "function_item":
        name = _text(data, item.child_by_field_name("name"))
        ret = _text(data, item.child_by_field_name("return_type"))
        owner = impl_type_name(item, data)
        mods = next((c for c in item.children if c.type == "function_modifiers"), None)
        if mods is not None and any(c.type == "const" for c in mods.children):
            out.const_fns.add(f"{owner}::{name}" if owner else name)
        if owner:
            out.methods[(owner, name)] = ret
            if impl_trait_name(item, data) == "Iterator":
                out.iterators.add(owner)
        elif item.parent is not None and item.parent.type in ("source_file", "declaration_list"):
            out.functions[name] = ret
    elif item.type == "const_item":
        value = item.child_by_field_name("value")
        if value is not None:
            out.consts[_text(data, item.child_by_field_name("name"))] = _text(data, value)
    elif item.type in ("enum_item", "union_item"):
        out.types.add(_text(data, item.child_by_field_name("name")))
    elif item.type == "struct_item":
        name = _text(data, item.child_by_field_name("name"))
        out.types.add(name)
        body = item.child_by_field_name("body")
        if body is not None and body.type == "ordered_field_declaration_list":
            types = [c for c in body.named_children if c.type not in ("visibility_modifier", "attribute_item", "line_comment", "block_comment")]
            for i, t in enumerate(types):
                out.fields[(name, str(i))] = _text(data, t)
        if body is not None and body.type == "field_declaration_list":
            for decl in body.named_children:
                if decl.type == "field_declaration":
                    fname = _text(data, decl.child_by_field_name("name"))
                    out.fields[(name, fname)] = _text(data, decl.child_by_field_name("type"))
    return out
