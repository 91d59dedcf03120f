"""blocking_in_async: a call that blocks the thread, made from async code."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import CALLS, LETS, Context, fix, lets
from ferrolens.analyzers.model import Edit, Related, Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.summary import resolve_path
from ferrolens.analyzers.syntax import async_context, call_path, descendants, is_method, method_call, in_test_code

DOCS = """
## What it does
Flags, inside an `async fn` or `async` block:
- `std::thread::sleep(..)`;
- file system calls from `std::fs` (`read_to_string`, `write`, `File::open`, ...);
- anything from `reqwest::blocking`;
- a `std::sync::Mutex` or `RwLock` guard (`let g = m.lock().unwrap();`) that is still alive at a
  later `.await` in the same block.

## Why it matters
An async runtime runs many tasks on a few threads, and a task gives its thread back only at an
`.await`. A call that blocks (a sleep, a disk read, a blocking HTTP request) keeps the thread for its
whole duration, so every other task scheduled on it stalls: timers fire late, connections stop being
served, and on a single-threaded runtime the whole program freezes. A standard-library lock guard kept
across an `.await` is worse: the task may be suspended while holding the lock, any other task that
tries to take it blocks its thread, and the future is no longer `Send`, so it cannot be spawned on
the multi-threaded runtime.

## Example
```rust
async fn poll(path: &str) -> std::io::Result<String> {
    std::thread::sleep(std::time::Duration::from_millis(50));
    std::fs::read_to_string(path)
}
```

## Use instead
```rust
async fn poll(path: &str) -> std::io::Result<String> {
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    tokio::fs::read_to_string(path).await
}
```
For work with no async counterpart (a blocking client, a CPU-heavy step), move it to
`tokio::task::spawn_blocking`. End a guard's scope (a block, or `drop(guard)`) before the `.await`,
or use `tokio::sync::Mutex` when the lock must be held across it.

## Fix safety
`thread::sleep` becomes `tokio::time::sleep(..).await` and the `std::fs` functions that have a
same-signature `tokio::fs` twin get it, with `.await`. The result is the same, but the fix needs
Tokio's `time` or `fs` feature and a Tokio runtime, so it is unsafe and only offered in files that use
Tokio. Other findings have no fix.
"""

# std::fs functions with a tokio::fs twin of the same arguments and result
FS_TWINS = {
    "read", "read_to_string", "write", "create_dir", "create_dir_all", "remove_file", "remove_dir",
    "remove_dir_all", "rename", "copy", "metadata", "canonicalize", "hard_link", "read_link",
    "symlink_metadata", "set_permissions",
}
GUARDS = ("lock", "read", "write")
# functions of std::fs, and File's opening functions: the calls that touch the disk (not
# `DirBuilder::new()` or `OpenOptions::new()`, which only build a value)
_FS_CALL = re.compile(r"^std::fs::(?:[a-z_]+|File::(?:open|create|create_new))$")
BOUNDARIES = ("closure_expression", "async_block", "function_item")


def _uses_tokio(ctx: Context, item: Node) -> bool:
    return "tokio" in ctx.summary.crates


def _call_findings(ctx: Context, item: Node, tokio: bool):
    for m in ctx.matches(CALLS, item):
        call = m["call"][0]
        written = call_path(call)
        if not written or async_context(call) is None:
            continue
        full = resolve_path(ctx.summary.imports, written)
        func = call.child_by_field_name("function")
        if full == "std::thread::sleep":
            yield ctx.finding(
                call,
                "`thread::sleep` blocks the runtime's thread and every task on it; use `tokio::time::sleep(..).await`",
                fix=fix(
                    "Use `tokio::time::sleep(..).await`",
                    Edit(func.start_byte, func.end_byte, "tokio::time::sleep"),
                    Edit(call.end_byte, call.end_byte, ".await"),
                    safe=False,
                )
                if tokio
                else None,
            )
        elif _FS_CALL.match(full):
            name = full.rsplit("::", 1)[-1]
            twin = full.count("::") == 2 and name in FS_TWINS and func.type != "generic_function"
            yield ctx.finding(
                call,
                f"`{written}` blocks the runtime's thread while the disk works; use `tokio::fs`"
                " or move it into `spawn_blocking`",
                fix=fix(
                    f"Use `tokio::fs::{name}(..).await`",
                    Edit(func.start_byte, func.end_byte, f"tokio::fs::{name}"),
                    Edit(call.end_byte, call.end_byte, ".await"),
                    safe=False,
                )
                if tokio and twin
                else None,
                severity=Severity.INFO,
            )
        elif full.startswith("reqwest::blocking::"):
            yield ctx.finding(
                call,
                "a `reqwest::blocking` call in async code blocks the runtime's thread for the whole request;"
                " use reqwest's async client",
            )


def _held_guards(ctx: Context, item: Node):
    """`let g = m.lock().unwrap();` still in scope at a later `.await` of the same async body."""
    for m in lets(ctx, item, value="call_expression"):
        let, value = m["let"][0], m["value"][0]
        outer = is_method(value, "unwrap", "expect")
        inner = method_call(outer.receiver) if outer is not None else None
        if inner is None or inner.name not in GUARDS or inner.args:
            continue
        ctx_node = async_context(let)
        if ctx_node is None or let.parent is None or let.parent.type != "block":
            continue
        name = ctx.text(m["name"][0])
        for stmt in let.parent.named_children:
            if stmt.start_byte <= let.start_byte:
                continue
            if _drops(ctx, stmt, name):
                break
            awaited = next(
                (n for n in _same_body(stmt) if n.type == "await_expression"),
                None,
            )
            if awaited is not None:
                yield ctx.finding(
                    let,
                    f"the lock guard `{name}` is still held at this `.await`: the task can be suspended holding the lock,"
                    " and the future is not `Send`; drop the guard first or use `tokio::sync::Mutex`",
                    related=[Related(awaited.start_byte, awaited.end_byte, "the guard is alive across this `.await`")],
                )
                break


def _same_body(node: Node):
    """`node` and its descendants, not entering closures or nested async blocks."""
    yield node
    for n in descendants(node, skip=BOUNDARIES):
        if n.type not in BOUNDARIES:
            yield n


def _drops(ctx: Context, stmt: Node, name: str) -> bool:
    text = ctx.text(stmt).replace(" ", "")
    return text.startswith((f"drop({name})", f"std::mem::drop({name})", f"mem::drop({name})"))


def check(ctx: Context, item: Node):
    if in_test_code(ctx.src, item):
        return
    yield from _call_findings(ctx, item, _uses_tokio(ctx, item))
    yield from _held_guards(ctx, item)


RULE = Rule(
    name="blocking_in_async",
    group="async",
    summary="A blocking call (sleep, std::fs, reqwest::blocking, a std lock guard across `.await`) in async code",
    docs=DOCS,
    check=check,
    fix=FixKind.SOMETIMES,
    source="https://ryhl.io/blog/async-what-is-blocking/",
    needles=(b"async",),
    queries=(CALLS, LETS),
)
