"""eager_fallback: a fallback argument computed even when the value is present."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import CALLS, Context, fix
from ferrolens.analyzers.model import Edit
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import descendants, method_call, named_args, path_last, unparen
from ferrolens.analyzers.types import OPTION, RESULT, receiver_kind

DOCS = """
## What it does
Flags calls such as `opt.unwrap_or(x)`, `opt.ok_or(x)`, `res.map_or(x, f)`, `opt.or(x)`,
`opt.get_or_insert(x)` and `map.entry(k).or_insert(x)` where `x` does real work: it calls a function,
formats or builds a collection (`format!`, `vec!`, `String::from`, `.to_string()`, `expensive(k)`).

## Why it matters
Rust evaluates every argument before the call. The fallback is built, and dropped again, on every call,
including all the calls where the `Option` is `Some` or the `Result` is `Ok` and the fallback is never
used. In a hot path that is wasted allocation and work. The `_else` / `_with` variants take a closure
and only run it when the fallback is really needed.

Cheap arguments are left alone: literals, constants, plain variables, references, enum and struct
constructors, constructors that never allocate such as `Vec::new()` and `String::new()`, and calls to
a `const fn` declared in the same file.

## Example
```rust
let name = user.nickname.clone().unwrap_or(format!("user-{id}"));
let port = cfg.get("port").ok_or(ConfigError::missing("port"))?;
```

## Use instead
```rust
let name = user.nickname.clone().unwrap_or_else(|| format!("user-{id}"));
let port = cfg.get("port").ok_or_else(|| ConfigError::missing("port"))?;
```

## Fix safety
`Option` closures take no argument (`|| x`) while `Result` closures receive the error (`|_| x`). The fix
is offered as safe only when the receiver's kind is evident from the code (an annotation, a
constructor, or a std method with a known return kind such as `get`, `find`, `parse` or
`checked_add`); `ok_or`, `get_or_insert` and the entry API exist on one kind only. Otherwise both
variants are offered as separate, non-preferred actions and `--fix` leaves the code alone. Arguments
that contain `?`, `return`, `break`, `continue` or `.await` are not flagged, since they cannot move into
a closure. `or(..)` is only flagged when the receiver is known to be an `Option` or `Result`, since
parser-combinator crates use the same name for other things.
"""

# method -> (lazy method, index of the fallback argument, argument count, kinds it exists on)
METHODS = {
    "unwrap_or": ("unwrap_or_else", 0, 1, None),
    "map_or": ("map_or_else", 0, 2, None),
    "or": ("or_else", 0, 1, None),
    "ok_or": ("ok_or_else", 0, 1, OPTION),
    "get_or_insert": ("get_or_insert_with", 0, 1, OPTION),
    "or_insert": ("or_insert_with", 0, 1, "entry"),
}


CHEAP_MACROS = {
    "line", "column", "file", "module_path", "stringify", "concat", "env", "option_env",
    "include_str", "include_bytes", "cfg", "matches",
}
DIVERGING_MACROS = {"panic", "unreachable", "todo", "unimplemented", "assert", "assert_eq", "assert_ne"}
CHEAP_NEW_TYPES = {
    "Vec", "String", "HashMap", "HashSet", "BTreeMap", "BTreeSet", "VecDeque", "BinaryHeap",
    "LinkedList", "PathBuf", "OsString", "Cell", "RefCell",
    # borrowed or inline values: `new` allocates nothing
    "Path", "OsStr", "Duration", "Bytes", "BytesMut", "Wrapping", "PhantomData",
}
CHEAP_FUNCS = {
    "null", "null_mut", "size_of", "align_of", "from_secs", "from_millis", "from_micros",
    "from_nanos", "from_secs_f32", "from_secs_f64", "zero", "default", "dangling", "empty", "min", "max",
    # const fns of the primitive types
    "max_value", "min_value", "from_bits", "to_bits", "from_be", "from_le", "from_ne", "swap_bytes",
    "count_ones", "leading_zeros", "trailing_zeros", "wrapping_add", "wrapping_sub", "wrapping_mul",
    "saturating_add", "saturating_sub", "saturating_mul", "pow", "abs", "from_u32", "from_digit",
    "from_static",  # `Bytes::from_static`, `HeaderValue::from_static`: wrap a 'static slice
}
PRIMITIVES = {
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
    "f32", "f64", "char", "bool",
}
ALLOC_METHODS = {
    "to_string", "to_owned", "to_vec", "collect", "join", "concat", "repeat", "to_lowercase",
    "to_uppercase", "replace", "replacen", "to_ascii_lowercase", "to_ascii_uppercase", "into_owned",
}
CONTROL_FLOW = {"try_expression", "return_expression", "break_expression", "continue_expression", "await_expression", "yield_expression"}


def _expensive(ctx: Context, node: Node) -> str | None:
    """What makes `node` costly to evaluate eagerly (for the message), or None when it is cheap."""
    for n in [node, *descendants(node, skip=("closure_expression",))]:
        if n.type == "macro_invocation":
            name = path_last(ctx.text(n.child_by_field_name("macro")))
            tt = n.named_children[-1] if n.named_children else None
            if name == "vec" and tt is not None and tt.named_child_count == 0:
                continue  # `vec![]` does not allocate
            if name not in CHEAP_MACROS:
                return f"`{name}!`"
        elif n.type == "call_expression":
            func = n.child_by_field_name("function")
            if func is None:
                continue
            if func.type == "field_expression":
                method = ctx.text(func.child_by_field_name("field"))
                receiver = func.child_by_field_name("value")
                if method in ("to_string", "to_owned", "into") and ctx.text(receiver) == '""':
                    continue  # an empty String does not allocate
                if method in ALLOC_METHODS:
                    return f"`.{method}()`"
                continue
            if func.type == "generic_function":
                func = func.child_by_field_name("function") or func
            path = ctx.text(func).replace(" ", "")
            last = path_last(path)
            owner = path_last(path[: -len(last)].rstrip(":")) if "::" in path else ""
            if last[:1].isupper():  # tuple struct or enum variant constructor
                continue
            if last in CHEAP_FUNCS or (last == "new" and owner in CHEAP_NEW_TYPES):
                continue
            if (f"{owner}::{last}" if owner else last) in ctx.summary.const_fns:
                continue  # a const fn of this file: trivial to evaluate
            if last == "from" and owner in PRIMITIVES:
                continue
            return f"`{path}(..)`"
    return None


def _blocked(ctx: Context, node: Node) -> bool:
    """True when the argument cannot move into a closure, or diverges (the eager form always panics)."""
    for n in [node, *descendants(node, skip=("closure_expression",))]:
        if n.type in CONTROL_FLOW:
            return True
        if n.type == "macro_invocation" and path_last(ctx.text(n.child_by_field_name("macro"))) in DIVERGING_MACROS:
            return True
    return False


def _closure(ctx: Context, arg: Node, kind: str) -> str:
    text = ctx.text(arg)
    if kind == RESULT:
        return f"|_| {text}"
    inner = unparen(arg)
    if inner.type == "call_expression":
        func = inner.child_by_field_name("function")
        args = inner.child_by_field_name("arguments")
        if func is not None and args is not None and not named_args(args) and func.type in ("identifier", "scoped_identifier"):
            if not path_last(ctx.text(func))[:1].isupper():
                return ctx.text(func)
    return f"|| {text}"


def check(ctx: Context, item: Node):
    for m in ctx.matches(CALLS, item):
        call = method_call(m["call"][0])
        if call is None or call.turbofish is not None or call.name_node.type != "field_identifier":
            continue  # (`x.or::<T>(..)` and `t.0(..)` are not the calls looked for)
        recv, method_node, method = call.receiver, call.name_node, call.name
        spec = METHODS.get(method)
        if spec is None:
            continue
        lazy, index, count, only_kind = spec
        args = call.args
        if len(args) != count:
            continue
        arg = args[index]
        why = _expensive(ctx, arg)
        if why is None or _blocked(ctx, arg):
            continue
        if only_kind == "entry":
            if not (recv.type == "call_expression" and ctx.text(recv).split("(", 1)[0].rstrip().endswith(".entry")):
                continue
            kind = OPTION  # closures with no argument, like Option
        else:
            kind = only_kind or receiver_kind(ctx, recv)
        if method == "or" and kind is None:
            continue
        message = f"`{method}` evaluates {why} even when it is not needed; `{lazy}` computes it only when used"
        rename = Edit(method_node.start_byte, method_node.end_byte, lazy)
        if kind is not None:
            closure = _closure(ctx, arg, kind)
            yield ctx.finding(
                (method_node.start_byte, call.call.end_byte),
                message,
                fix=fix(f"Use `{lazy}({closure})`", rename, Edit(arg.start_byte, arg.end_byte, closure)),
            )
        else:
            yield ctx.finding(
                (method_node.start_byte, call.call.end_byte),
                message + " (the receiver's type is not evident: pick the Option or the Result form)",
                alternatives=[
                    fix(f"Use `{lazy}(|| ..)` (receiver is an Option)", rename,
                        Edit(arg.start_byte, arg.end_byte, _closure(ctx, arg, OPTION)), safe=False),
                    fix(f"Use `{lazy}(|_| ..)` (receiver is a Result)", rename,
                        Edit(arg.start_byte, arg.end_byte, _closure(ctx, arg, RESULT)), safe=False),
                ],
            )


RULE = Rule(
    name="eager_fallback",
    group="perf",
    summary="A fallback argument is evaluated even when it is not needed; use the lazy `_else`/`_with` form",
    docs=DOCS,
    check=check,
    fix=FixKind.SOMETIMES,
    clippy="or_fun_call",
    source="https://nnethercote.github.io/perf-book/standard-library-types.html#option-and-result",
    needles=(b"or(", b"or_insert("),
    queries=(CALLS,),
)
