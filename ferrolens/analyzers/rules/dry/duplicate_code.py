"""duplicate_code: functions and statement runs that repeat elsewhere in the workspace."""

from __future__ import annotations

from tree_sitter import Node

from ferrolens.analyzers.context import Context
from ferrolens.analyzers.dry.fingerprint import fingerprint, is_test_path
from ferrolens.analyzers.dry.index import Clone, CloneIndex, Copy
from ferrolens.analyzers.model import Finding, Related, Severity
from ferrolens.analyzers.registry import FixKind, Rule

DOCS = """
## What it does
Finds code that exists more than once in the workspace, across files as well as within one:
- whole functions and methods, runs of consecutive statements of a block (never part of a
  statement) and runs of consecutive arms of a `match`, of at least 50 tokens and 5 lines (settings
  `dryMinTokens`, `dryMinLines`); an identical copy counts from 35 tokens (70% of `dryMinTokens`),
  except a few short methods that only read a field or hand the call on, written alike for two types
  (each type needs its own); functions inside an item macro written with braces (`cfg_rt! { .. }`)
  count like any other;
- copies that are identical apart from layout and comments (Type-1), copies whose identifiers, literals
  or types were renamed (Type-2; at most 4 distinct differences, locals renamed consistently not
  counted), and functions that are near-misses: a few statements added, removed or changed, with at
  least 85% of their tokens alike (Type-3, setting `drySimilarity`; a body that is one `match` is
  compared by its arms, and a match of short arms of few shapes is a table of values, never a copy).

Each copy is reported on its own range, with the other copies as related locations. Test code
(`#[test]`, `#[cfg(test)]`) is left out unless `dryIncludeTests` is set; so are `use` lists, attributes,
`macro_rules!` bodies and statements that are mostly literals (tables that only look alike). A trailing
comma at a line end before a closing bracket is layout, like whitespace.

Not reported, because the likeness is not a copy to share: renamed copies in which two names trade
places (the same shape computing a minimum and a maximum), a trait's method written for two types
whose copies differ only in the types or in names made from them (`MapFolder { map_op }` in the impl for
`MapConsumer` against `InspectFolder { inspect_op }` in the one for `InspectConsumer`), code found in
more than 100 places (a pattern, such as bindings generated per type: web-sys repeats one block in
2,300 files), and files marked as generated.

## Why it matters
Every copy is a place where the next bug fix has to be made again, and usually is not: copies drift
apart, and the reader has to diff them by eye to learn whether the differences matter. One shared
function names the idea, is tested once and is compiled once (each copy is code the compiler has to
type-check, optimise and the binary has to carry).

## Example
```rust
fn total_price(items: &[Item]) -> u64 {
    let mut sum = 0;
    for item in items {
        if item.in_stock {
            sum += item.price * item.count;
        }
    }
    sum
}

fn stock_value(goods: &[Item]) -> u64 {
    let mut total = 0;
    for g in goods {
        if g.in_stock {
            total += g.price * g.count;
        }
    }
    total
}
```

## Use instead
```rust
// `total_price` as it was
fn stock_value(goods: &[Item]) -> u64 {
    total_price(goods)
}
```

## Fix safety
The "make this copy call the other" and "extract a shared function" actions are offered as unsafe:
they compile (the fixtures check it), but a copy that was meant to diverge later is now tied to the
other one, and that is the author's call.
"""

KIND_NOTE = {"identical": "identical", "renamed": "identifiers renamed", "similar": "near-miss"}


def where(partners: list[Copy]) -> str:
    first = partners[0].label()
    if len(partners) == 1:
        return first
    more = len(partners) - 1
    return f"{first} and {more} other place{'s' if more > 1 else ''}"


def message(clone: Clone) -> str:
    what = f"function `{clone.name}`" if clone.unit == "function" and clone.name else f"these {clone.lines} lines"
    if clone.kind == "similar":
        note = f"{round(clone.similarity * 100)}% alike: a few statements differ"
    elif clone.kind == "renamed" and clone.differences:
        shown = ", ".join(f"`{a}` -> `{b}`" for a, b in clone.differences[:3])
        note = f"{KIND_NOTE[clone.kind]}: {shown}" + (", ..." if len(clone.differences) > 3 else "")
    else:
        note = KIND_NOTE[clone.kind]
    return f"{what} duplicated at {where(clone.partners)} ({note}, {clone.tokens} tokens)"


def related(clone: Clone) -> list[Related]:
    out = []
    for p in clone.partners:
        if p.path == clone.path:
            out.append(Related(p.start, p.end, "another copy"))
        else:
            out.append(Related(p.first_line, p.last_line, "another copy", path=p.path))
    return out


def findings(index: CloneIndex, path: str, root: Node | None = None, actions: bool = True) -> list[Finding]:
    """The duplicate_code findings of one indexed file (the whole index must be current). `root` is
    the file's tree when the caller has one; otherwise the parts of the file around the copies are parsed
    if an action needs them.
    Without `actions` (a file not open in the editor) no fix is built and nothing is parsed."""
    from ferrolens.analyzers.dry.extract import fixes_for

    clones = index.clones(path)

    def tree() -> Node:
        if root is not None:
            return root
        from ferrolens.analyzers.dry.extract import parsed_tree

        # the parts around every copy in this file, parsed once for all of its clones (and cached with
        # the partners' parses)
        return parsed_tree(index.files[path], [c for clone in clones for c in (clone, *clone.partners) if c.path == path])

    out = []
    for clone in clones:
        fixes = fixes_for(index, clone, tree) if actions else []
        out.append(
            Finding(
                RULE.name,
                clone.start,
                clone.end,
                message(clone),
                severity=RULE.severity,
                fix=fixes[0] if fixes else None,
                alternatives=tuple(fixes[1:]),
                related=tuple(related(clone)),
            )
        )
    return out


def check(ctx: Context, root: Node):
    """Runs on the whole file. With a workspace index (server, `check`) the file's entry is brought up
    to date first; alone (a single file) the file is its own workspace."""
    index: CloneIndex = ctx.workspace
    path = ctx.src.path or "<file>"
    if not index.options.include_tests and is_test_path(path):
        index.remove(path)
        return []
    index.update(fingerprint(path, ctx.src.data, root, index.options.include_tests, ctx.fingerprints))
    return findings(index, path, root)


RULE = Rule(
    name="duplicate_code",
    group="dry",
    summary="A function or statement run that is duplicated elsewhere in the workspace; make one copy serve both",
    docs=DOCS,
    check=check,
    scope="file",
    severity=Severity.INFO,
    fix=FixKind.UNSAFE,
    source="The DRY mandate (shared/reference, line 1); clone types as in Roy & Cordy's survey",
)
