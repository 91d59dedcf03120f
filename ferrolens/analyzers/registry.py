"""Rule metadata and discovery.

A rule is one module under `ferrolens/analyzers/rules/<group>/<name>.py` that defines `RULE`, built with
`Rule(...)`: its metadata, its docs (in our own words) and its `check` function. Discovery imports every
module below `rules/` once; extra modules (custom rules, or the failing rule the tests inject) can be
named in the environment variable FERROLENS_EXTRA_RULES (comma-separated module names).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

from ferrolens.analyzers.model import Severity

if TYPE_CHECKING:
    from tree_sitter import Node

    from ferrolens.analyzers.context import Context
    from ferrolens.analyzers.model import Finding


class FixKind:
    ALWAYS = "always"  # every finding has a safe fix
    SOMETIMES = "sometimes"  # a fix when it can be made right; otherwise a hint
    UNSAFE = "unsafe"  # fixes exist but may change behaviour: only on request
    NONE = "none"


@dataclass(frozen=True)
class Rule:
    name: str
    group: str
    summary: str  # one line
    docs: str  # markdown: what it does, why it matters, example, use instead
    check: Callable[["Context", "Node"], Iterable["Finding"]]
    severity: Severity = Severity.WARNING
    default_enabled: bool = True
    fix: str = FixKind.NONE
    clippy: str | None = None  # the Clippy lint this rule mirrors, if any
    source: str | None = None  # link to the chapter the advice comes from
    # "item": findings depend only on the item's own text (and its container headers), so they are
    # cached per item; "file": the rule reads other items and runs on every analysis of the file
    scope: str = "item"
    node_types: frozenset[str] = field(default_factory=frozenset)  # item kinds worth checking; empty = all
    # loops that are part of what the rule flags (the loop a `remove` sits in): not counted as a hot path
    own_loops: int = 0
    # byte strings of which at least one must occur in an item's text for the rule to look at it (a
    # cheap filter before any query runs); empty = every item
    needles: tuple[bytes, ...] = ()
    # the tree-sitter queries the rule runs on a whole item (`ctx.matches(query, item)`): the engine
    # runs those of every rule checking an item as one query, one walk of the item's nodes
    queries: tuple[str, ...] = ()
    # flags only code inside a loop: an item without the word `for`, `while` or `loop` is skipped
    in_loops: bool = False
    # an assist: its findings are never shown as diagnostics nor reported by `check`; the editor offers
    # their fixes as refactoring code actions where the cursor is (like rust-analyzer's assists)
    assist: bool = False
    # reads the types of the crate's other files (ctx.summary.external): `check` gathers them first
    crate_wide: bool = False

    def docs_markdown(self) -> str:
        head = [f"# {self.name}", "", f"*{self.summary}*", ""]
        meta = [
            f"- group: `{self.group}`",
            f"- default severity: {self.severity.label}" + ("" if self.default_enabled else " (off by default)"),
            f"- fix: {self.fix}",
        ]
        if self.assist:
            meta[1] = "- an assist: a code action offered on request, never a diagnostic"
        if self.clippy:
            meta.append(
                f"- mirrors Clippy's [`{self.clippy}`](https://rust-lang.github.io/rust-clippy/master/index.html#{self.clippy});"
                f" `#[allow(clippy::{self.clippy})]` silences it"
            )
        if self.source:
            meta.append(f"- source: {self.source}")
        meta.append(f"- silence one line: `// ferrolens: allow({self.name})`")
        return "\n".join(head + meta + ["", self.docs.strip(), ""])


_RULES: dict[str, Rule] | None = None


def _discover() -> dict[str, Rule]:
    from ferrolens.analyzers import rules as rules_pkg

    found: dict[str, Rule] = {}
    modules = [m.name for m in pkgutil.walk_packages(rules_pkg.__path__, rules_pkg.__name__ + ".") if not m.ispkg]
    modules += [m.strip() for m in os.environ.get("FERROLENS_EXTRA_RULES", "").split(",") if m.strip()]
    for modname in sorted(modules):
        module = importlib.import_module(modname)
        rule = getattr(module, "RULE", None)
        if isinstance(rule, Rule):
            if rule.name in found:
                raise RuntimeError(f"two rules are named {rule.name!r}")
            found[rule.name] = rule
    return dict(sorted(found.items()))


def all_rules() -> dict[str, Rule]:
    global _RULES
    if _RULES is None:
        _RULES = _discover()
    return _RULES


def groups() -> set[str]:
    return {r.group for r in all_rules().values()}


def get(name: str) -> Rule | None:
    return all_rules().get(name)


def is_assist(name: str) -> bool:
    rule = get(name)
    return rule is not None and rule.assist
