"""spawn_in_method_self: an actor that spawns its own run loop from one of its methods."""

from __future__ import annotations

import re

from tree_sitter import Node

from ferrolens.analyzers.context import CALLS, Context
from ferrolens.analyzers.model import Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.summary import impl_type_name, resolve_path
from ferrolens.analyzers.syntax import call_path, enclosing_function, subtree, in_test_code

DOCS = """
## What it does
Flags `tokio::spawn` inside a method of a type (a method that takes `self`) when the spawned future
is the type's own receive loop: it calls `self.run()`, receives from one of `self`'s channels
(`self.receiver.recv()`), or the method doing the spawning is `run` itself.

## Why it matters
In the actor pattern, the actor (the state and the receiving end of the channel) and its handle
(the sending end, cheap to clone) are two types, and the task is spawned where the handle is built:
`MyActorHandle::new()` creates the channel, builds the actor, spawns `run_my_actor(actor)` and keeps
only the sender. A method that spawns the loop from inside the actor mixes the two: `tokio::spawn`
needs a `'static` future, so the method has to give `self` away (or share it behind `Arc<Mutex<..>>`),
and every handle then reaches the fields that only the actor's task should own. The result is
locking where none was needed, or a design that does not compile once the actor holds a borrow.

## Example
```rust
impl MyActor {
    fn start(mut self) {
        tokio::spawn(async move {
            while let Some(msg) = self.receiver.recv().await {
                self.handle(msg);
            }
        });
    }
}
```

## Use instead
```rust
impl MyActorHandle {
    pub fn new() -> Self {
        let (sender, receiver) = mpsc::channel(8);
        let actor = MyActor::new(receiver);
        tokio::spawn(run_my_actor(actor));
        Self { sender }
    }
}
```
"""

SPAWNS = {"tokio::spawn", "tokio::task::spawn", "tokio::task::spawn_local"}
_LOOP = re.compile(r"\bself\s*\.\s*(?:run\s*\(|[A-Za-z_][A-Za-z0-9_]*\s*\.\s*recv\s*\()")


def _takes_self(fn: Node) -> bool:
    params = fn.child_by_field_name("parameters")
    return params is not None and any(c.type == "self_parameter" for c in params.named_children)


def check(ctx: Context, item: Node):
    for m in ctx.matches(CALLS, item):
        call = m["call"][0]
        args = call.child_by_field_name("arguments")
        if args is None:
            continue
        written = call_path(call)
        if not written.endswith(("spawn", "spawn_local")) or resolve_path(ctx.summary.imports, written) not in SPAWNS:
            continue
        fn = enclosing_function(call)
        if fn is None or in_test_code(ctx.src, fn) or not _takes_self(fn) or impl_type_name(fn, ctx.src.data) is None:
            continue
        if not any(n.type == "self" for n in subtree(args)):
            continue
        in_run = ctx.text(fn.child_by_field_name("name")) == "run"
        if not (in_run or _LOOP.search(ctx.text(args))):
            continue
        owner = impl_type_name(fn, ctx.src.data)
        yield ctx.finding(
            call,
            f"`{owner}` spawns its own receive loop from a method: spawn the actor where its handle is built"
            " (the handle keeps the sender, the task owns the actor)",
            severity=Severity.INFO,
        )


RULE = Rule(
    name="spawn_in_method_self",
    group="async",
    summary="An actor spawns its own run loop from a method; spawn it where the handle is built",
    docs=DOCS,
    check=check,
    severity=Severity.INFO,
    fix=FixKind.NONE,
    source="https://ryhl.io/blog/actors-with-tokio/",
    needles=(b"spawn",),
    node_types=frozenset({"function_item"}),
    queries=(CALLS,),
)
