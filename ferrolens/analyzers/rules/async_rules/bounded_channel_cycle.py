"""bounded_channel_cycle: actors that send to each other over bounded channels can deadlock."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context
from ferrolens.analyzers.crate_types import FieldSite, actor_sites
from ferrolens.analyzers.model import Related
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.summary import memo_by_state

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

Actors and handles declared in other files of the crate are connected too (through their type
names); the finding sits on the field in the file at hand, with the other file's field as related
information.

## Limits
A sender used only with `try_send` is not told apart from one used with `send().await`, and a
message type declared under the same name in two files is treated as one.
"""

_SITES: dict[tuple, list[FieldSite]] = {}


def _local_sites(summary) -> list[FieldSite]:
    """actor_sites of the file, memoised per summary state (a file rule runs on every keystroke)."""
    return memo_by_state(_SITES, summary, ("fields", "imports", "types"), actor_sites)


def check(ctx: Context, root: Node):
    summary = ctx.summary
    local = _local_sites(summary)
    if not local:
        return
    ext = summary.external
    # the crate's other files, when known
    sites = local + [s for s in getattr(ext, "sites", ()) if s.path != ctx.src.path]
    receives: dict[str, set[str]] = {}  # message type -> the actor structs receiving it
    sends: dict[str, list[tuple[str, FieldSite]]] = {}  # struct -> [(message type, its sender field)]
    holds: dict[str, list[tuple[str, FieldSite]]] = {}  # struct -> [(held struct, field)]
    for site in sites:
        if site.kind == "Receiver":
            receives.setdefault(site.message, set()).add(site.owner)
        elif site.kind == "Sender":
            sends.setdefault(site.owner, []).append((site.message, site))
        else:
            holds.setdefault(site.owner, []).append((site.message, site))
    if not receives:
        return

    def targets(actor: str) -> list[tuple[str, FieldSite]]:
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
        for b, site in outs:
            node = decls.get((a, site.field)) if not site.path else None
            if b == a or node is None:
                continue
            back = [f for c, f in edges.get(b, []) if c == a]
            if not back:
                continue
            other = back[0]
            note = f"`{b}` sends back to `{a}` here"
            if other.path:
                related = [Related(other.line, other.line, note, other.path)]
            else:
                decl = decls.get((b, other.field))
                related = [Related(decl.start_byte, decl.end_byte, note)] if decl is not None else []
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
    needles=(b"Receiver",),  # the flagged actor holds the receiving end, in this file
    crate_wide=True,
)
