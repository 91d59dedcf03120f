"""bounded_channel_cycle: actors that send to each other over bounded channels can deadlock."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context
from ferrolens.analyzers.layout import split_args
from ferrolens.analyzers.model import Related
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.summary import resolve_path

DOCS = """
## What it does
Builds the graph of actors declared in the file: a struct holding a `tokio::sync::mpsc::Receiver<M>`
is the actor for messages `M`, and a struct holding a bounded `Sender<M>` (directly, or inside a
handle struct it holds) sends to that actor. When two actors send to each other this way, both
senders are flagged, each with the other as related information.

## Why it matters
`send` on a bounded channel waits while the channel is full. If actor A is waiting to send to B
while B is waiting to send to A, and both channels are full, neither ever gets back to its `recv`
loop: a deadlock that only shows under load. The same cycle also keeps both actors alive at
shutdown, since each holds a sender of the other. Break the cycle on one edge: use `try_send` (and
decide what to do when it is full), an unbounded channel for that one direction, or a separate
channel that the other actor drops first.

## Example
```rust
struct Player { moves: mpsc::Receiver<Move>, referee: mpsc::Sender<Verdict> }
struct Referee { verdicts: mpsc::Receiver<Verdict>, player: mpsc::Sender<Move> }
```

## Use instead
```rust
struct Player { moves: mpsc::Receiver<Move>, referee: mpsc::Sender<Verdict> }
// the referee answers without ever waiting on the player's queue
struct Referee { verdicts: mpsc::Receiver<Verdict>, player: mpsc::UnboundedSender<Move> }
```

## Limits
Only actors and handles declared in the same file are connected, and a sender used only with
`try_send` is not told apart from one used with `send().await`.
"""

SENDER = "tokio::sync::mpsc::Sender"
RECEIVER = "tokio::sync::mpsc::Receiver"


def _channel(imports: dict[str, str], ty: str) -> tuple[str, str] | None:
    """("Sender"|"Receiver", message type) for a tokio mpsc field type."""
    ty = "".join(ty.split())
    if "<" not in ty or not ty.endswith(">"):
        return None
    head, args = ty[: ty.index("<")], ty[ty.index("<") + 1 : -1]
    full = resolve_path(imports, head)
    parts = split_args(args)
    if full in (SENDER, RECEIVER) and len(parts) == 1:
        return full.rsplit("::", 1)[-1], parts[0]
    return None


def check(ctx: Context, root: Node):
    summary = ctx.summary
    imports = summary.imports
    receives: dict[str, set[str]] = {}  # message type -> the actor structs receiving it
    sends: dict[str, list[tuple[str, str]]] = {}  # struct -> [(message type, field)]
    holds: dict[str, list[tuple[str, str]]] = {}  # struct -> [(held struct, field)]
    for (owner, field), ty in summary.fields.items():
        ch = _channel(imports, ty)
        if ch is not None:
            if ch[0] == "Receiver":
                receives.setdefault(ch[1], set()).add(owner)
            else:
                sends.setdefault(owner, []).append((ch[1], field))
        elif "".join(ty.split()) in summary.types:
            holds.setdefault(owner, []).append(("".join(ty.split()), field))
    if not receives:
        return

    def targets(actor: str) -> list[tuple[str, str]]:
        """(actor sent to, field of `actor` holding the sender or the handle)."""
        out = [(r, f) for m, f in sends.get(actor, []) for r in sorted(receives.get(m, ()))]
        for held, f in holds.get(actor, []):
            out += [(r, f) for m, _ in sends.get(held, []) for r in sorted(receives.get(m, ()))]
        return out

    edges = {a: targets(a) for actors in receives.values() for a in actors}
    decls = {}
    for m in ctx.matches("(struct_item name: (type_identifier) @name body: (field_declaration_list (field_declaration name: (field_identifier) @field) @decl))", root):
        decls[(ctx.text(m["name"][0]), ctx.text(m["field"][0]))] = m["decl"][0]
    for a, outs in sorted(edges.items()):
        for b, field in outs:
            if b == a:
                continue
            back = [f for c, f in edges.get(b, []) if c == a]
            node = decls.get((a, field))
            if not back or node is None:
                continue
            other = decls.get((b, back[0]))
            related = [Related(other.start_byte, other.end_byte, f"`{b}` sends back to `{a}` here")] if other is not None else []
            yield ctx.finding(
                node,
                f"`{a}` and `{b}` send to each other over bounded channels: when both queues are full, each waits on the"
                " other forever; make one direction `try_send` or unbounded",
                related=related,
            )


RULE = Rule(
    name="bounded_channel_cycle",
    group="async",
    summary="Two actors send to each other over bounded channels: a deadlock when both queues fill",
    docs=DOCS,
    check=check,
    fix=FixKind.NONE,
    source="https://ryhl.io/blog/actors-with-tokio/",
    scope="file",
    needles=(b"Sender",),
)
