"""The engine: runs the enabled rules item by item, caches per item, applies suppressions.

An *item* is a top-level declaration, or a declaration inside an `impl`, `trait` or `mod` body (so a
5,000-line impl is many items, not one). Findings of item-scoped rules are cached under the item's
bytes plus the headers of its containers (`impl<T> Foo<T> {`), stored relative to the item start: a
keystroke re-runs the rules on the one item whose bytes changed and shifts the cached findings of all
the others. Items with a syntax error (ERROR or MISSING nodes) are never checked, so a finding or fix
never touches broken syntax; file-scoped findings are filtered against the error ranges too.

A rule that raises is reported through `on_error` and skipped for that item; the other rules' findings
still come out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from tree_sitter import Node

from ferrolens.analyzers.context import Context
from ferrolens.analyzers.dry.fingerprint import FingerprintCache
from ferrolens.analyzers.dry.index import CloneIndex, DryOptions
from ferrolens.analyzers.model import CrateInfo, Finding, Severity
from ferrolens.analyzers.registry import Rule, all_rules
from ferrolens.analyzers.source import SourceFile
from ferrolens.analyzers.summary import FileSummary, summarize_item, summarize_use

ITEM_KINDS = {
    "function_item", "impl_item", "trait_item", "mod_item", "struct_item", "enum_item", "union_item",
    "const_item", "static_item", "type_item", "macro_definition", "function_signature_item",
    "foreign_mod_item", "associated_type",
}
WELL_FORMED_EXTRAS = {"line_comment", "block_comment", "attribute_item", "inner_attribute_item", "use_declaration", "extern_crate_declaration"}
CONTAINERS = {"impl_item", "trait_item", "mod_item", "foreign_mod_item"}
NOT_CHECKED = {
    "line_comment",
    "block_comment",
    "attribute_item",
    "inner_attribute_item",
    "use_declaration",
    "extern_crate_declaration",
    "{",
    "}",
    ";",
}


def iter_items(root: Node, data: bytes, header: bytes = b"") -> list[tuple[Node, bytes]]:
    """(item, container headers) for every checkable item in document order, descending into
    impl/trait/mod bodies."""
    out: list[tuple[Node, bytes]] = []
    for child in root.children:
        ctype = child.type
        if ctype in NOT_CHECKED:
            continue
        if ctype in CONTAINERS:
            # an error inside one method must not hide the others: items with errors are skipped later
            body = child.child_by_field_name("body")
            if body is not None:
                out.extend(iter_items(body, data, header + data[child.start_byte : body.start_byte]))
                continue
        out.append((child, header))
    return out


@dataclass
class RuleSelection:
    """Which rules run and how severe they are; built from the configuration."""

    rules: tuple[Rule, ...]
    severities: dict[str, Severity] = field(default_factory=dict)
    # rules the user selected by name, group or "all" (some rules flag more when asked for explicitly)
    explicit: frozenset[str] = frozenset()

    @classmethod
    def default(cls) -> "RuleSelection":
        return cls(tuple(r for r in all_rules().values() if r.default_enabled))

    def fingerprint(self) -> tuple:
        return tuple(r.name for r in self.rules), tuple(sorted(self.explicit))


class ItemCache:
    """Per-document cache of item findings and summaries; keeps only the entries the last run used."""

    def __init__(self) -> None:
        # item key -> (findings relative to the item start, the summary parts they read and their digests)
        self.findings: dict[tuple, tuple[list[Finding], tuple]] = {}
        self.summaries: dict[tuple, FileSummary] = {}
        self.merged: FileSummary | None = None  # the merge of `summaries`, and its digest
        self.digest: int | None = None
        self.checked_digest: int | None = None  # the digest all cached findings were valid for
        # (container kind, container bytes) -> [(item start relative to the container, item key)]
        self.containers: dict[tuple, list[tuple[int, tuple]]] = {}
        self.selection: tuple = ()
        self.fingerprints = FingerprintCache()  # clone fingerprints per item (duplicate_code)


_ALLOW_COMMENT = re.compile(rb"ferrolens\s*:\s*allow\s*\(([^)]*)\)")
_ALLOW_ATTR = re.compile(r"(?:allow|expect)\s*\(([^)]*)\)")
ErrorHandler = Callable[[Rule, BaseException], None]


class Engine:
    def __init__(
        self,
        selection: RuleSelection | None = None,
        on_error: ErrorHandler | None = None,
        workspace: CloneIndex | None = None,
        dry: DryOptions | None = None,
    ) -> None:
        self.selection = selection or RuleSelection.default()
        self.on_error = on_error
        # the workspace clone index shared by the files analysed with this engine; without one, each
        # file is checked for duplicates within itself
        self.workspace = workspace
        self.dry = workspace.options if workspace is not None else dry or DryOptions()
        self._item_rules = [r for r in self.selection.rules if r.scope == "item"]
        self._file_rules = [r for r in self.selection.rules if r.scope == "file"]

    # -- public ------------------------------------------------------------------------------------
    def analyze(self, src: SourceFile, cache: ItemCache | None = None, crate: CrateInfo | None = None, external=None) -> list[Finding]:
        """Findings of `src`; `crate` is what its Cargo.toml says (dependencies, library or not) and
        `external` the types of the crate's other files (crate_types.CrateTypes), when known."""
        if cache is None:
            cache = ItemCache()
        if cache.selection != (self.selection.fingerprint(), crate):
            cache.findings.clear()
            cache.selection = (self.selection.fingerprint(), crate)
        data = src.data
        root = src.root
        if root.is_missing:
            return []
        if not self._item_rules:
            # file rules only (duplicate_code's engine): no item walk, no summaries
            ctx = Context(src, None, self.workspace or CloneIndex(self.dry), cache.fingerprints, crate, self.selection.explicit)
            return self.finish(src, self._with_file_rules(ctx, []))
        # when the top level does not parse, tree-sitter makes the root an ERROR node whose children are
        # still the well-formed items around the broken spot: those keep their findings (a stray token
        # typed between two fns must not blank the file), the fragments do not (see the item loop)
        # items as (node or None, start, key, container): an impl/trait/mod whose bytes did not change
        # since the last analysis is not walked again; its items come back from the cache as
        # (None, start, key) and are only expanded into nodes if one of them must be rechecked
        items: list[tuple[Node | None, int, tuple, Node | None]] = []
        old_summaries = cache.summaries
        new_summaries: dict[tuple, FileSummary] = {}
        new_containers: dict[tuple, list[tuple[int, tuple]]] = {}
        added: list[FileSummary] = []
        for child in root.children:
            if child.type in NOT_CHECKED:
                if child.type == "use_declaration" and not child.has_error:
                    key = ("use", data[child.start_byte : child.end_byte])
                    s = old_summaries.get(key)
                    if s is None:
                        s = summarize_use(child, data)
                        added.append(s)
                    new_summaries[key] = s
                continue
            body = child.child_by_field_name("body") if child.type in CONTAINERS else None
            if body is None:
                units = [(child, b"")]
            else:
                ckey = (child.type, data[child.start_byte : child.end_byte])
                known = cache.containers.get(ckey) if not child.has_error else None
                if known is not None:
                    new_containers[ckey] = known
                    for rel, key in known:
                        items.append((None, child.start_byte + rel, key, child))
                        new_summaries[key] = old_summaries[key]
                    continue
                units = iter_items(body, data, data[child.start_byte : body.start_byte])
                new_containers[ckey] = [(item.start_byte - child.start_byte, _item_key(item, h, data)) for item, h in units]
            for item, header in units:
                key = _item_key(item, header, data)
                items.append((item, item.start_byte, key, None))
                s = old_summaries.get(key)
                if s is None:
                    s = summarize_item(item, data)
                    added.append(s)
                new_summaries[key] = s
        cache.summaries = new_summaries
        cache.containers = new_containers
        # the merged summary changes only when the declarations of the items that changed did: a
        # keystroke inside a function body re-merges nothing
        removed = [s for k, s in old_summaries.items() if k not in new_summaries] if len(old_summaries) else []
        if cache.merged is None or sorted(map(FileSummary.signature, removed)) != sorted(
            map(FileSummary.signature, added)
        ):
            merged = FileSummary()
            for s in new_summaries.values():
                merged.merge(s)
            cache.merged, cache.digest = merged, merged.digest()
        if cache.merged.external is not external:
            cache.merged.external = external
            cache.digest = cache.merged.digest()
        summary, digest = cache.merged, cache.digest
        ctx = Context(src, lambda: summary, self.workspace or CloneIndex(self.dry), cache.fingerprints, crate, self.selection.explicit)

        def stale(entry) -> bool:
            return entry is None or bool(entry[1] and digest != cache.checked_digest and not _parts_match(entry[1], summary))

        # a cached container with an item to recheck is walked after all
        findings_cache = cache.findings
        if digest == cache.checked_digest:
            expand = {id(c) for n, _, key, c in items if n is None and key not in findings_cache}
        else:
            expand = {id(c) for n, _, key, c in items if n is None and stale(findings_cache.get(key))}
        if expand:
            walked = []
            for n, start, key, c in items:
                if n is None and id(c) in expand:
                    if walked and walked[-1][3] is c:
                        continue
                    body = c.child_by_field_name("body")
                    walked.extend((i, i.start_byte, _item_key(i, h, data), c) for i, h in iter_items(body, data, data[c.start_byte : body.start_byte]))
                else:
                    walked.append((n, start, key, c))
            items = walked

        out: list[Finding] = []
        new_findings: dict[tuple, tuple[list[Finding], tuple]] = {}
        for item, start, key, _container in items:
            if item is not None and (item.has_error or (item.type not in ITEM_KINDS and _container_broken(item))):
                # beside a syntax error, only well-formed declarations count: a loose block or
                # expression there is a fragment of the broken code
                continue
            entry = cache.findings.get(key)
            if stale(entry):
                ctx.used_summary.clear()
                rel = [f.shifted(-start) for f in self._check_item(ctx, item)]
                # only items whose rules read a part of the summary are redone when that part changes
                # (a renamed fn, a new field, a const's value)
                entry = (rel, tuple((p, summary.part_digest(p)) for p in sorted(ctx.used_summary)))
            new_findings[key] = entry
            if entry[0]:
                out.extend(f.shifted(start) for f in entry[0])
        cache.findings = new_findings
        cache.checked_digest = digest

        out = mark_hot_paths(src, summary, [f for f in out if not f.when_loop_call or f.when_loop_call in summary.loop_calls])
        return self.finish(src, self._with_file_rules(ctx, out))

    def _with_file_rules(self, ctx: Context, out: list[Finding]) -> list[Finding]:
        """`out` plus the findings of the file-scoped rules; none of them may touch broken syntax."""
        data, root = ctx.src.data, ctx.src.root
        for rule in self._file_rules:
            if not rule.needles or any(n in data for n in rule.needles):
                out.extend(self._run(rule, ctx, root))
        if root.has_error and self._file_rules:
            bad = error_ranges(root)
            out = [f for f in out if not _touches(f, bad)]
        return out

    def finish(self, src: SourceFile, findings: list[Finding]) -> list[Finding]:
        """Suppressions and configured severities: cheap, so never cached."""
        result = []
        sev = self.selection.severities
        for f in findings:
            if self._suppressed(src, f):
                continue
            severity = sev.get(f.rule, f.severity)  # `_run` stamped the rule's default already
            if f.hot:
                severity = severity.raised()
            if severity != f.severity:
                f = _with_severity(f, severity)
            result.append(f)
        result.sort(key=lambda f: (f.start, f.end, f.rule))
        return result

    # -- internals ---------------------------------------------------------------------------------
    def _check_item(self, ctx: Context, item: Node) -> list[Finding]:
        out: list[Finding] = []
        text = ctx.src.data[item.start_byte : item.end_byte]
        for rule in self._item_rules:
            if rule.node_types and item.type not in rule.node_types:
                continue
            if rule.needles and not any(n in text for n in rule.needles):
                continue
            out.extend(self._run(rule, ctx, item))
        return out

    def _run(self, rule: Rule, ctx: Context, node: Node) -> list[Finding]:
        ctx.rule = rule.name
        try:
            return [_with_severity(f, rule.severity) if f.severity is None else f for f in rule.check(ctx, node)]
        except Exception as exc:  # one broken rule must not take the others down
            if self.on_error is not None:
                self.on_error(rule, exc)
            return []

    def _suppressed(self, src: SourceFile, f: Finding) -> bool:
        data = src.data
        start = data.rfind(b"\n", 0, f.start) + 1
        lines = [_line_bytes(data, start)]
        if start > 0:
            lines.append(_line_bytes(data, data.rfind(b"\n", 0, start - 1) + 1))
        for text in lines:
            m = _ALLOW_COMMENT.search(text)
            if m and _names_match(m.group(1).decode("utf-8", "replace"), f.rule):
                return True
        rule = all_rules().get(f.rule)
        if rule is None or not rule.clippy:
            return False
        return _clippy_allowed(src, f, rule.clippy)


def _item_key(item: Node, header: bytes, data: bytes) -> tuple:
    """What an item's findings depend on: its bytes with its outer attributes (`#[inline]`, `#[repr]`
    are siblings in the tree), its container headers and where it sits."""
    start = item.start_byte
    sib = item.prev_named_sibling
    while sib is not None and sib.type == "attribute_item":
        start = sib.start_byte
        sib = sib.prev_named_sibling
    return (header, item.parent.type if item.parent else "", item.type, data[start : item.end_byte], item.start_byte - start)


def _container_broken(item: Node) -> bool:
    """The body holding `item`, or the impl/trait/mod that owns that body, has a syntax error."""
    parent = item.parent
    return parent is not None and (parent.has_error or (parent.parent is not None and parent.parent.has_error))


def _parts_match(parts: tuple[tuple[str, int], ...], summary: FileSummary) -> bool:
    return all(summary.part_digest(name) == d for name, d in parts)


def _line_bytes(data: bytes, start: int) -> bytes:
    end = data.find(b"\n", start)
    return data[start : end if end >= 0 else len(data)]


def _names_match(listed: str, rule_name: str) -> bool:
    rule = all_rules().get(rule_name)
    names = {n.strip() for n in listed.split(",")}
    return rule_name in names or "all" in names or (rule is not None and rule.group in names)


def _clippy_allowed(src: SourceFile, f: Finding, lint: str) -> bool:
    wanted = {f"clippy::{lint}"}
    node = src.root.descendant_for_byte_range(f.start, f.end)
    data = src.data
    while node is not None:
        # outer attributes are the named siblings right before an item; inner ones open a block/file
        sib = node.prev_named_sibling
        while sib is not None and sib.type in ("attribute_item", "line_comment", "block_comment"):
            if sib.type == "attribute_item" and _attr_allows(data[sib.start_byte : sib.end_byte], wanted):
                return True
            sib = sib.prev_named_sibling
        # inner attributes (`#![allow(..)]`) open a file or block: stop at its first other child
        child = node.named_child(0) if node.named_child_count else None
        while child is not None and child.type in ("inner_attribute_item", "line_comment", "block_comment"):
            if child.type == "inner_attribute_item" and _attr_allows(data[child.start_byte : child.end_byte], wanted):
                return True
            child = child.next_named_sibling
        node = node.parent
    return False


def _attr_allows(attr: bytes, wanted: set[str]) -> bool:
    text = attr.decode("utf-8", "replace")
    for m in _ALLOW_ATTR.finditer(text):
        if any(n.strip().replace(" ", "") in wanted for n in m.group(1).split(",")):
            return True
    return False


def _with_severity(f: Finding, severity: Severity) -> Finding:
    from dataclasses import replace

    return replace(f, severity=severity)


HOT_GROUPS = {"perf"}
LOOP_TYPES = ("for_expression", "while_expression", "loop_expression")


def mark_hot_paths(src: SourceFile, summary: FileSummary, findings: list[Finding]) -> list[Finding]:
    """Perf findings inside a loop body, or in a function this file calls from a loop, are on a hot
    path: the message says so and `finish` raises the severity one step."""
    rules = all_rules()
    out = []
    for f in findings:
        rule = rules.get(f.rule)
        if rule is None or rule.group not in HOT_GROUPS:
            out.append(f)
            continue
        note = _hot_note(src, summary, f, rule.own_loops)
        if note:
            from dataclasses import replace

            f = replace(f, hot=True, message=f"{f.message} (hot path: {note})")
        out.append(f)
    return out


def _hot_note(src: SourceFile, summary: FileSummary, f: Finding, own_loops: int) -> str | None:
    node = src.root.descendant_for_byte_range(f.start, f.end)
    loops = 0
    while node is not None and node.parent is not None:
        parent = node.parent
        if parent.type in LOOP_TYPES and parent.child_by_field_name("body") == node:
            loops += 1
        if parent.type == "function_item":
            break
        node = parent
    if loops > own_loops:
        return "inside a loop"
    name = parent.child_by_field_name("name") if node is not None and node.parent is not None else None
    if name is not None and name.text.decode() in summary.loop_calls:
        return f"`{name.text.decode()}` is called from a loop in this file"
    return None


def error_ranges(root: Node) -> list[tuple[int, int]]:
    """Byte ranges of ERROR and MISSING nodes, descending only into subtrees that hold one. When the
    root itself is an ERROR, the broken parts are its children that are not well-formed items (stray
    tokens and fragments), plus the errors inside items."""
    out = []
    stack = [root]
    if root.is_error:
        stack = []
        for child in root.children:
            if child.type in ITEM_KINDS or child.type in WELL_FORMED_EXTRAS:
                if child.has_error:
                    stack.append(child)
            else:
                out.append((child.start_byte, child.end_byte))
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            out.append((node.start_byte, node.end_byte))
            continue
        stack.extend(c for c in node.children if c.has_error)
    return out


def _touches(f: Finding, bad: list[tuple[int, int]]) -> bool:
    spans = [(f.start, f.end)] + [(e.start, e.end) for fx in f.all_fixes() for e in fx.edits]
    return any(s <= b_end and a_start <= e for s, e in spans for a_start, b_end in bad)
