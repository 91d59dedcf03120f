"""identical_branches: `if`/`else` branches or neighbouring `match` arms with the same body."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context, fix
from ferrolens.analyzers.dry.tokens import lex_texts
from ferrolens.analyzers.model import Edit
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import pattern_bindings, subtree

DOCS = """
## What it does
Finds branches that do exactly the same thing (the same tokens; layout and comments do not count):
- `if c { A } else { A }`: the condition decides nothing;
- `if a { X } else if b { X }`: two conditions lead to the same code;
- neighbouring `match` arms with the same body, `P1 => X, P2 => X`, and an arm whose body equals the
  `_ => X` arm right after it.

## Why it matters
Identical branches are either a copy-paste slip (one of them was meant to change) or duplicated code
that hides the real rule: "for `A` or `B`, do `X`" is one line, not two arms that the reader has to
compare token by token. Merged, the next change to `X` is made once.

## Example
```rust
let kind = match ext {
    "jpg" => Kind::Image,
    "jpeg" => Kind::Image,
    _ => Kind::Other,
};
if verbose { log(&msg) } else if debug { log(&msg) }
```

## Use instead
```rust
let kind = match ext {
    "jpg" | "jpeg" => Kind::Image,
    _ => Kind::Other,
};
if verbose || debug { log(&msg) }
```

## Fix safety
Safe when the merge keeps what runs: arms are merged only when they are neighbours, have no guard and
bind no variables; an arm that equals the `_` arm after it is dropped; `else if` conditions are joined
with `||`, which evaluates the second one exactly when the first is false, as before; `if c { A } else
{ A }` becomes `A` only when `c` has no calls, macros or assignments (otherwise it is reported without
a fix, since dropping `c` would drop its effects). Arms with a body of fewer than four tokens (`=> 0`,
`=> None`) are left alone: such tables read better one value per line.
"""

MIN_ARM_TOKENS = 4
SIMPLE = {
    "identifier", "field_expression", "call_expression", "method_call_expression", "binary_expression",
    "unary_expression", "parenthesized_expression", "macro_invocation", "index_expression", "boolean_literal",
    "integer_literal", "scoped_identifier", "self", "reference_expression",
}
IMPURE = {"call_expression", "macro_invocation", "assignment_expression", "compound_assignment_expr", "try_expression", "await_expression"}


QUERY = "(if_expression) @if (match_expression) @match"


def _tokens(ctx: Context, node: Node) -> list[bytes]:
    return lex_texts(ctx.src.data, node.start_byte, node.end_byte)


def _alike(a: Node | None, b: Node | None) -> bool:
    """Cheap necessary condition for equal tokens: the same kind of node (comments, which the tokens
    leave out, change no node's kind)."""
    return a is not None and b is not None and a.type == b.type


def _maybe_same(ctx: Context, a: Node, b: Node) -> bool:
    """Cheap necessary condition for equal tokens: the same tokens make the same tree, so the same
    number of nodes (comments aside: nodes of their own, and no tokens)."""
    if a.descendant_count == b.descendant_count:
        return True
    data = ctx.src.data
    return any(data.find(mark, n.start_byte, n.end_byte) >= 0 for n in (a, b) for mark in (b"//", b"/*"))


def _same(ctx: Context, a: Node, b: Node) -> bool:
    return _alike(a, b) and _maybe_same(ctx, a, b) and _tokens(ctx, a) == _tokens(ctx, b)


def _pure(node: Node) -> bool:
    return not any(n.type in IMPURE or n.type == "method_call_expression" for n in subtree(node))


def _is_let(cond: Node) -> bool:
    return cond.type in ("let_condition", "let_chain")


def _operand(ctx: Context, cond: Node) -> str:
    text = ctx.text(cond)
    if cond.type == "binary_expression":
        op = cond.child_by_field_name("operator")
        if op is not None and op.type in ("||", "&&", "==", "!=", "<", ">", "<=", ">=", "|", "&", "^", "+", "-", "*", "/", "%", "<<", ">>"):
            return text
    return text if cond.type in SIMPLE else f"({text})"


def _block_value(ctx: Context, block: Node) -> str | None:
    """The expression a block consists of, when it has nothing else (comments aside)."""
    inner = [c for c in block.named_children if c.type not in ("line_comment", "block_comment")]
    if len(inner) == 1 and inner[0].type.endswith("_expression") or len(inner) == 1 and inner[0].type in SIMPLE:
        if not any(c.type in ("line_comment", "block_comment") for c in block.named_children):
            return ctx.text(inner[0])
    return None


def _check_if(ctx: Context, node: Node):
    cond = node.child_by_field_name("condition")
    then = node.child_by_field_name("consequence")
    alt = node.child_by_field_name("alternative")
    if cond is None or then is None or alt is None:
        return
    other = next((c for c in alt.named_children if c.type in ("block", "if_expression")), None)
    if other is None:
        return
    if other.type == "block":
        if not _same(ctx, then, other):
            return
        message = "both branches of this `if` are the same: the condition decides nothing"
        if _is_let(cond) or not _pure(cond):
            yield ctx.finding(alt, message + " (it is evaluated for its effects only, so no fix is offered)")
            return
        in_else = node.parent is not None and node.parent.type == "else_clause"
        value = None if in_else else _block_value(ctx, then)
        replacement = value if value is not None else ctx.text(then)
        yield ctx.finding(alt, message, fix=fix("Keep one branch, drop the condition", Edit(node.start_byte, node.end_byte, replacement)))
        return
    # `if a { X } else if b { X } ...`
    cond2 = other.child_by_field_name("condition")
    then2 = other.child_by_field_name("consequence")
    if cond2 is None or then2 is None or not _same(ctx, then, then2):
        return
    if _is_let(cond) or _is_let(cond2):
        return
    merged = f"{_operand(ctx, cond)} || {_operand(ctx, cond2)}"
    edits = (Edit(cond.start_byte, cond.end_byte, merged), Edit(then.end_byte, then2.end_byte, ""))
    yield ctx.finding(
        (alt.start_byte, then2.start_byte),
        "this `else if` branch is the same as the one above: join the conditions with `||`",
        fix=fix("Join the conditions with `||`", *edits),
    )


def _binds(ctx: Context, pattern: Node) -> bool:
    """The pattern binds a variable (a lower-case name or a field shorthand, not a constant)."""
    return any(name[:1].islower() or name[:1] == "_" for name in pattern_bindings(ctx.src.data, pattern))


def _mergeable(ctx: Context, arm: Node) -> bool:
    pattern = arm.child_by_field_name("pattern")
    return (
        pattern is not None
        and arm.child_by_field_name("value") is not None
        and pattern.child_by_field_name("condition") is None  # no guard
        and not any(c.type == "attribute_item" for c in arm.children)
    )


def _check_match(ctx: Context, node: Node):
    body = node.child_by_field_name("body")
    if body is None:
        return
    arms = [c for c in body.named_children if c.type == "match_arm"]
    i = 0
    while i < len(arms) - 1:
        # the longest run of neighbouring arms with the same body as arms[i]
        j = i
        first = arms[i].child_by_field_name("value")
        # same tokens make the same tree: a neighbour whose body is another kind or size of tree is not lexed
        nxt = arms[i + 1].child_by_field_name("value")
        if _alike(first, nxt) and _maybe_same(ctx, first, nxt) and _mergeable(ctx, arms[i]):
            value = _tokens(ctx, first)
            if len(value) >= MIN_ARM_TOKENS:
                while j + 1 < len(arms):
                    other = arms[j + 1].child_by_field_name("value")
                    if not (_alike(first, other) and _maybe_same(ctx, first, other) and _mergeable(ctx, arms[j + 1]) and _tokens(ctx, other) == value):
                        break
                    j += 1
        if j == i:
            i += 1
            continue
        run = arms[i : j + 1]
        patterns = [a.child_by_field_name("pattern") for a in run]
        i = j + 1
        if ctx.text(patterns[-1]).strip() == "_":
            yield ctx.finding(
                run[0],
                "this arm does the same as the `_` arm after it: drop it" if len(run) == 2 else f"these {len(run) - 1} arms do the same as the `_` arm after them: drop them",
                fix=fix("Drop the arms the `_` arm covers", Edit(run[0].start_byte, run[-1].start_byte, "")),
            )
            continue
        if any(_binds(ctx, p) for p in patterns):
            continue
        merged = " | ".join(ctx.text(p) for p in patterns)
        yield ctx.finding(
            run[1],
            "this arm has the same body as the arm above: merge the patterns with `|`"
            if len(run) == 2
            else f"{len(run)} neighbouring arms have the same body: merge their patterns with `|`",
            fix=fix("Merge the arms", Edit(run[0].start_byte, patterns[-1].end_byte, merged)),
        )


def check(ctx: Context, item: Node):
    for m in ctx.matches(QUERY, item):
        if "if" in m:
            node = m["if"][0]
            if not node.has_error:
                yield from _check_if(ctx, node)
        elif "match" in m:
            node = m["match"][0]
            if not node.has_error:
                yield from _check_match(ctx, node)


RULE = Rule(
    name="identical_branches",
    group="dry",
    summary="`if`/`else` branches or neighbouring `match` arms with the same body; merge them",
    docs=DOCS,
    check=check,
    fix=FixKind.SOMETIMES,
    clippy="match_same_arms",
    source="The DRY mandate (shared/reference, line 1)",
    needles=(b"else", b"match"),
    queries=(QUERY,),
)
