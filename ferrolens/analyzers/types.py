"""Small local heuristics for "is this an Option or a Result?", from syntax only.

The answer is "option", "result" or None (not evident). Evidence: a let/parameter/field/return type
annotation in the same file, a constructor (`Some`, `Ok`), or a std method whose return kind is fixed
(`get`, `first`, `find`, `parse`, `checked_*`, ...). Combinators that keep the kind (`map`, `and_then`,
`as_ref`, ...) pass the question on to their receiver. Anything else is None: callers must not guess.
"""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.syntax import enclosing_function, path_last, type_head, unparen
from ferrolens.analyzers.summary import impl_type_name

OPTION, RESULT = "option", "result"

OPTION_METHODS = {
    "get", "get_mut", "first", "last", "first_mut", "last_mut", "find", "find_map", "position",
    "rposition", "next", "next_back", "nth", "peek", "ok", "err", "strip_prefix", "strip_suffix",
    "split_once", "rsplit_once", "max", "min", "max_by_key", "min_by_key", "max_by", "min_by",
    "to_digit", "parent", "file_name", "file_stem", "extension", "pop", "pop_front", "pop_back",
    "reduce", "checked_add", "checked_sub", "checked_mul", "checked_div", "checked_rem",
    "checked_pow", "checked_neg", "checked_shl", "checked_shr", "get_key_value", "last_key_value",
    "first_key_value",
}
RESULT_METHODS = {
    "parse", "try_into", "map_err", "ok_or", "ok_or_else", "recv", "try_recv", "recv_timeout",
    "binary_search", "binary_search_by", "binary_search_by_key",
}
# methods that return the same kind as their receiver
KIND_KEEPING = {
    "map", "and_then", "or_else", "filter", "as_ref", "as_mut", "as_deref", "as_deref_mut",
    "cloned", "copied", "inspect", "or", "xor", "and", "clone",
}
OPTION_FUNCS = {"Some"}
RESULT_FUNCS = {"Ok", "Err", "from_utf8", "from_str_radix", "read_to_string", "try_from", "from_str"}
RESULT_PATHS = {"File::open", "File::create", "env::var", "fs::read", "fs::read_to_string", "fs::metadata"}


def kind_of_type(type_text: str) -> str | None:
    head = type_head(type_text)
    if head == "Option":
        return OPTION
    if head == "Result":
        return RESULT
    return None


def receiver_kind(ctx, node: Node, depth: int = 0) -> str | None:
    if depth > 4:
        return None
    node = unparen(node)
    t = node.type
    if t == "reference_expression":
        value = node.child_by_field_name("value")
        return receiver_kind(ctx, value, depth + 1) if value is not None else None
    if t == "call_expression":
        return _call_kind(ctx, node, depth)
    if t == "identifier":
        return _binding_kind(ctx, node, depth)
    if t == "field_expression":
        value = node.child_by_field_name("value")
        if value is not None and value.type == "self":
            owner = impl_type_name(node, ctx.src.data)
            field = ctx.text(node.child_by_field_name("field"))
            if owner and (owner, field) in ctx.summary.fields:
                return kind_of_type(ctx.summary.fields[(owner, field)])
    return None


def _call_kind(ctx, call: Node, depth: int) -> str | None:
    func = call.child_by_field_name("function")
    if func is not None and func.type == "generic_function":
        func = func.child_by_field_name("function")
    if func is None:
        return None
    if func.type == "field_expression":
        method = ctx.text(func.child_by_field_name("field"))
        recv = func.child_by_field_name("value")
        if recv is not None and recv.type == "self":
            owner = impl_type_name(call, ctx.src.data)
            ret = ctx.summary.methods.get((owner, method)) if owner else None
            if ret is not None:
                return kind_of_type(ret)
        if method in OPTION_METHODS:
            return OPTION
        if method in RESULT_METHODS:
            return RESULT
        if method in KIND_KEEPING and recv is not None:
            return receiver_kind(ctx, recv, depth + 1)
        return None
    text = ctx.text(func).replace(" ", "")
    last = path_last(text)
    if last in OPTION_FUNCS:
        return OPTION
    if last in RESULT_FUNCS or any(text.endswith(p) for p in RESULT_PATHS):
        return RESULT
    if func.type == "identifier" and last in ctx.summary.functions:
        return kind_of_type(ctx.summary.functions[last])
    return None


def find_binding(ctx, name: str, at: Node) -> Node | None:
    """The let or parameter that binds `name` as seen from `at` (the nearest one before it in its function)."""
    fn = enclosing_function(at)
    if fn is None:
        return None
    best: Node | None = None
    for m in ctx.matches(_BINDINGS, fn):
        decl = m["decl"][0]
        pat = m["pat"][0]
        if ctx.text(pat) != name or decl.start_byte >= at.start_byte:
            continue
        if decl.type == "let_declaration":
            # the binding is visible only inside the block that holds the let
            block = decl.parent
            if block is None or not (block.start_byte <= at.start_byte < block.end_byte):
                continue
        if best is None or decl.start_byte > best.start_byte:
            best = decl
    return best


def _binding_kind(ctx, ident: Node, depth: int) -> str | None:
    best = find_binding(ctx, ctx.text(ident), ident)
    if best is None:
        return None
    ty = best.child_by_field_name("type")
    if ty is not None:
        return kind_of_type(ctx.text(ty))
    value = best.child_by_field_name("value")
    if value is not None and best.type == "let_declaration":
        return receiver_kind(ctx, value, depth + 1)
    return None


STRING_MAKERS = {"to_string", "to_owned", "into_string", "to_uppercase", "to_lowercase", "repeat"}
COLLECTION_CTORS = {"new", "with_capacity", "from", "default"}


def value_type(ctx, node: Node, depth: int = 0) -> str | None:
    """The evident outer type name of an expression (`String`, `str`, `Vec`, `HashMap`, `array`...), or
    None. Evidence: literals, constructors, `vec!`/`format!`, `to_string()`, turbofished `collect`, and
    the annotation or initialiser of a local binding or parameter."""
    if depth > 4 or node is None:
        return None
    node = unparen(node)
    t = node.type
    if t in ("string_literal", "raw_string_literal"):
        return "str"
    if t == "array_expression":
        return "array"
    if t == "reference_expression":
        inner = value_type(ctx, node.child_by_field_name("value"), depth + 1)
        return "str" if inner == "String" else ("slice" if inner in ("Vec", "array") else inner)
    if t == "macro_invocation":
        name = path_last(ctx.text(node.child_by_field_name("macro")))
        return {"vec": "Vec", "format": "String"}.get(name)
    if t == "call_expression":
        func = node.child_by_field_name("function")
        if func is not None and func.type == "generic_function":
            inner = func.child_by_field_name("function")
            if inner is not None and inner.type == "field_expression" and ctx.text(inner.child_by_field_name("field")) == "collect":
                return type_head(ctx.text(func.child_by_field_name("type_arguments"))[1:-1]) or None
            func = inner
        if func is None:
            return None
        if func.type == "field_expression":
            method = ctx.text(func.child_by_field_name("field"))
            if method in STRING_MAKERS:
                return "String"
            return None
        text = ctx.text(func).replace(" ", "")
        parts = [p for p in text.split("::") if p and not p.startswith("<")]
        if len(parts) >= 2 and parts[-1] in COLLECTION_CTORS and parts[-2][:1].isupper():
            return parts[-2].split("<", 1)[0]
        return None
    if t == "identifier":
        return binding_type(ctx, ctx.text(node), node, depth + 1)
    if t == "field_expression":
        value = node.child_by_field_name("value")
        if value is not None and value.type == "self":
            owner = impl_type_name(node, ctx.src.data)
            declared = ctx.summary.fields.get((owner, ctx.text(node.child_by_field_name("field")))) if owner else None
            return annotation_type(declared) if declared else None
    return None


def binding_type(ctx, name: str, at: Node, depth: int = 0) -> str | None:
    """The evident outer type name of the local binding or parameter `name` as seen from `at`."""
    decl = find_binding(ctx, name, at)
    if decl is None:
        return None
    ty = decl.child_by_field_name("type")
    if ty is not None:
        return annotation_type(ctx.text(ty))
    if decl.type == "let_declaration":
        return value_type(ctx, decl.child_by_field_name("value"), depth)
    return None


def annotation_type(type_text: str) -> str:
    t = type_text.strip()
    if t.startswith("["):
        return "array" if ";" in t else "slice"
    if t.startswith("&"):
        head = type_head(t)
        if head.startswith("["):
            return "array" if ";" in head else "slice"
        return head
    return type_head(t)


_BINDINGS = """
(let_declaration pattern: (identifier) @pat) @decl
(let_declaration pattern: (mut_pattern (identifier) @pat)) @decl
(parameter pattern: (identifier) @pat) @decl
(parameter pattern: (mut_pattern (identifier) @pat)) @decl
"""
