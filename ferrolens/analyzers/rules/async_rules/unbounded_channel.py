"""unbounded_channel: a channel whose queue can grow without limit."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import CALLS, Context, fix
from ferrolens.analyzers.model import Edit, Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.summary import resolve_path
from ferrolens.analyzers.syntax import call_path, named_args, in_test_code

DOCS = """
## What it does
Flags the creation of an unbounded channel: `tokio::sync::mpsc::unbounded_channel()`, and
`unbounded()` from `crossbeam_channel`, `flume` and `async_channel`.

## Why it matters
A bounded channel is how a slow consumer pushes back on its producers: once the queue is full,
`send` waits (or `try_send` fails) until there is room. An unbounded channel never says no, so when the
receiving task falls behind, whether for a moment under a burst or for good because it is stuck,
the messages pile up in memory with nothing to stop them, and the program's latency and memory grow
until something else gives. In the actor pattern, the handle's channel to its actor should have a
capacity chosen for the expected load.

Unbounded channels have one real use: a `send` that never waits cannot take part in a deadlock, so a
cycle of actors that message each other is sometimes broken with one unbounded (or `try_send`)
edge. Allow the rule on that line when that is the reason.

## Example
```rust
let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
```

## Use instead
```rust
let (tx, rx) = tokio::sync::mpsc::channel(64); // the capacity is a design decision
```

## Fix safety
Unsafe, and a starting point: the capacity written (64) is a placeholder to tune. For Tokio the
sender type changes from `UnboundedSender` to `Sender`, whose `send` is `async`, so the code that sends
has to change too (`.send(msg).await`, or `try_send`). For crossbeam, flume and async-channel the types
stay the same, but a full channel now blocks (or waits) the sender.
"""

PLACEHOLDER = "64"
# full callee path -> the bounded constructor that replaces it
CHANNELS = {
    "tokio::sync::mpsc::unbounded_channel": "channel",
    "crossbeam_channel::unbounded": "bounded",
    "crossbeam::channel::unbounded": "bounded",
    "flume::unbounded": "bounded",
    "async_channel::unbounded": "bounded",
}


def check(ctx: Context, item: Node):
    for m in ctx.matches(CALLS, item):
        call = m["call"][0]
        written = call_path(call)
        if not written.endswith(("unbounded_channel", "unbounded")):
            continue
        full = resolve_path(ctx.summary.imports, written)
        bounded = CHANNELS.get(full)
        if bounded is None:
            continue
        args = call.child_by_field_name("arguments")
        if args is None or named_args(args) or in_test_code(ctx.src, call):
            continue
        func = call.child_by_field_name("function")
        name = func.child_by_field_name("function") if func.type == "generic_function" else func
        if name.type == "scoped_identifier":
            name = name.child_by_field_name("name")
        else:  # a bare imported name: the bounded one is not imported, so write its whole path
            bounded = full.rsplit("::", 1)[0] + "::" + bounded
        yield ctx.finding(
            call,
            "this channel is unbounded: when its receiver falls behind, messages pile up in memory with no backpressure;"
            " use a bounded channel with a chosen capacity",
            fix=fix(
                f"Use a bounded channel (placeholder capacity {PLACEHOLDER}: choose your own)",
                Edit(name.start_byte, name.end_byte, bounded),
                Edit(args.start_byte, args.end_byte, f"({PLACEHOLDER})"),
                safe=False,
            ),
        )


RULE = Rule(
    name="unbounded_channel",
    group="async",
    summary="An unbounded channel gives no backpressure; use a bounded one with a chosen capacity",
    docs=DOCS,
    check=check,
    severity=Severity.INFO,
    fix=FixKind.UNSAFE,
    source="https://ryhl.io/blog/actors-with-tokio/",
    needles=(b"unbounded",),
    queries=(CALLS,),
)
