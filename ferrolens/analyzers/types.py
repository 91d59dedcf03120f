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


def _binding_kind(ctx, ident: Node, depth: int) -> str | None:
    """Find the let or parameter that binds `ident` (the nearest one before it) in its function."""
    name = ctx.text(ident)
    fn = enclosing_function(ident)
    if fn is None:
        return None
    best: Node | None = None
    for m in ctx.matches(_BINDINGS, fn):
        decl = m["decl"][0]
        pat = m["pat"][0]
        if ctx.text(pat) != name or decl.start_byte >= ident.start_byte:
            continue
        if decl.type == "let_declaration":
            # the binding is visible only inside the block that holds the let
            block = decl.parent
            if block is None or not (block.start_byte <= ident.start_byte < block.end_byte):
                continue
        if best is None or decl.start_byte > best.start_byte:
            best = decl
    if best is None:
        return None
    ty = best.child_by_field_name("type")
    if ty is not None:
        return kind_of_type(ctx.text(ty))
    value = best.child_by_field_name("value")
    if value is not None and best.type == "let_declaration":
        return receiver_kind(ctx, value, depth + 1)
    return None


_BINDINGS = """
(let_declaration pattern: (identifier) @pat) @decl
(let_declaration pattern: (mut_pattern (identifier) @pat)) @decl
(parameter pattern: (identifier) @pat) @decl
(parameter pattern: (mut_pattern (identifier) @pat)) @decl
"""
