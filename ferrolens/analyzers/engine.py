"""The engine: runs the enabled rules item by item, caches per item, applies suppressions.

An *item* is a top-level declaration, or a declaration inside an `impl`, `trait` or `mod` body (so a
5,000-line impl is many items, not one). Findings of item-scoped rules are cached under the item's
bytes plus the headers of its containers (`impl<T> Foo<T> {`), stored relative to the item start: a
keystroke re-runs the rules on the one item whose bytes changed and shifts the cached findings of all
the others. The top-level children are kept between runs as position-free groups (`_Group`); the
source's change log (its edits and tree-sitter's changed ranges) says which text changed, and only the
children there are walked again (`_walk`), so a keystroke costs the changed items, not the file. Items
with a syntax error (ERROR or MISSING nodes) are never checked, so a finding or fix
never touches broken syntax; file-scoped findings are filtered against the error ranges too.

A rule that raises is reported through `on_error` and skipped for that item; the other rules' findings
still come out.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Callable

from tree_sitter import Node

from ferrolens.analyzers.context import Context, ItemQueries, ItemRuns
from ferrolens.analyzers.dry.fingerprint import FingerprintCache
from ferrolens.analyzers.dry.index import CloneIndex, DryOptions
from ferrolens.analyzers.model import CrateInfo, Finding, Severity
from ferrolens.analyzers.registry import Rule, all_rules
from ferrolens.analyzers.source import CHANGED, EDIT, SourceFile
from ferrolens.analyzers.summary import LOOP_CALLS, LOOP_WORD, FileSummary, summarize_item, summarize_use

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


def iter_items(root: Node, data: bytes, header: bytes = b"", container: Node | None = None) -> list[tuple[Node, bytes, int, str, Node | None]]:
    """(item, container headers, where its outer attributes start, its parent's type, the impl/trait/mod
    whose body holds it) for every checkable item in document order, descending into impl/trait/mod
    bodies (`root` is the body of `container`, when given)."""
    out: list[tuple[Node, bytes, int, str, Node | None]] = []
    where = root.type
    for child, attrs in with_attributes(root.children):
        ctype = child.type
        if ctype in NOT_CHECKED:
            continue
        if ctype in CONTAINERS:
            # an error inside one method must not hide the others: items with errors are skipped later
            body = child.child_by_field_name("body")
            if body is not None:
                out.extend(iter_items(body, data, header + data[child.start_byte : body.start_byte], child))
                continue
        out.append((child, header, attrs, where, container))
    return out


def with_attributes(children: list[Node]):
    """Each of `children` (a node's children in order, or a run of them that starts after a named node
    that is not an attribute) that is not an `#[..]`, with where the `#[..]`s right before it start (its
    own start when there is none): what `prev_named_sibling` would find, without its walk down from the
    root for every item (tree-sitter 0.26 keeps no parent links)."""
    attrs = -1
    for child in children:
        if child.type == "attribute_item":
            if attrs < 0:
                attrs = child.start_byte
            continue
        yield child, attrs if attrs >= 0 else child.start_byte
        if child.is_named:
            attrs = -1


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
    """Per-document state between analyses: the top-level items as the last run saw them (`groups`, with
    their summaries and findings), so a keystroke walks only the top-level children in the changed text
    and re-checks only the items whose bytes changed."""

    def __init__(self, batch: bool = False) -> None:
        self.reset()
        self.selection: tuple = ()
        self.fingerprints = FingerprintCache()  # clone fingerprints per item (duplicate_code)
        # a batch run's cache (check): its items checked again (the second pass) also run the rules'
        # queries as one, compiled already, not each apart (5 more compiles, 25 ms in each worker)
        self.batch = batch

    def reset(self) -> None:
        # top-level groups in document order and their starts; None: walk the whole file next time
        self.groups: list[_Group] | None = None
        self.starts: list[int] = []
        self.seen: tuple[SourceFile | None, int] = (None, 0)  # the source and its change log position
        self.broken = (False, False)  # the root's (is_error, has_error) at the last run
        # the summaries of the items in the file by item key, and how many items have that key
        self.summaries: dict[tuple, FileSummary] = {}
        self.refs: dict[tuple, int] = {}
        self.merged: FileSummary | None = None  # the merge of `summaries`, and its digest
        self.digest: int | None = None
        self.checked_digest: int | None = None  # the digest all cached findings were valid for
        self.containers: dict[tuple, _Group] = {}  # (kind, bytes) of an impl/trait/mod -> its group


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
        # per item rule: its item kinds, and one compiled search for its needles (a C scan instead of
        # a Python loop over them, for every rule on every item)
        self._item_plan = [
            (r, r.node_types, re.compile(b"|".join(map(re.escape, r.needles))).search if r.needles else None) for r in self._item_rules
        ]
        self._kind_plans: dict[str, list[tuple[Rule, Callable | None]]] = {}  # item kind -> the rules for it
        self._file_rules = [r for r in self.selection.rules if r.scope == "file"]
        self._selection_key = self.selection.fingerprint()  # (what an ItemCache was made for)
        # the item queries of the rules and of the summaries' loop calls, run as one on an item
        self._item_queries = ItemQueries((LOOP_CALLS, *(q for r in self._item_rules for q in r.queries)))

    # -- public ------------------------------------------------------------------------------------
    def analyze(self, src: SourceFile, cache: ItemCache | None = None, crate: CrateInfo | None = None, external=None) -> list[Finding]:
        """Findings of `src`; `crate` is what its Cargo.toml says (dependencies, library or not) and
        `external` the types of the crate's other files (crate_types.CrateTypes), when known."""
        if cache is None:
            cache = ItemCache()
        key = (self._selection_key, crate)
        if cache.selection != key:
            cache.reset()
            cache.selection = key
        root = src.root
        if root.is_missing:
            return []
        if not self._item_rules:
            # file rules only (duplicate_code's engine): no item walk, no summaries
            ctx = Context(src, None, self.workspace or CloneIndex(self.dry), cache.fingerprints, crate, self.selection.explicit)
            return self.finish(src, self._with_file_rules(ctx, []))
        try:
            return self._analyze_items(src, cache, crate, external)
        except _Moved:
            # the change log missed a change (it should not): start again from a whole walk
            cache.reset()
            return self._analyze_items(src, cache, crate, external)

    def _analyze_items(self, src: SourceFile, cache: ItemCache, crate: CrateInfo | None, external) -> list[Finding]:
        data, root = src.data, src.root
        broken_before = cache.broken
        # a whole walk (a batch run, a newly opened file) runs the rules' queries as one on each item;
        # a keystroke's few items run each query asked for alone (no matches made for other rules)
        runs = ItemRuns(self._item_queries) if cache.groups is None or cache.batch else None
        new_groups, fresh, dropped = _walk(src, cache, runs)
        # the summaries: items that came in add theirs, items that went take theirs away
        summaries, refs = cache.summaries, cache.refs
        added, removed = [], []
        for g in new_groups:
            for key, s in zip(g.sums, g.summaries):
                if refs.get(key):
                    refs[key] += 1
                else:
                    refs[key] = 1
                    summaries[key] = s
                    added.append(s)
        prev: dict[tuple, tuple] = {}  # findings of the items that went, by key (an unchanged item comes back)
        for g in dropped:
            for key in g.sums:
                refs[key] -= 1
                if not refs[key]:
                    del refs[key]
                    removed.append(summaries.pop(key))
            for (_, key), res in zip(g.entries, g.results):
                if res is not None:
                    prev[key] = res
            if g.ckey is not None:
                cache.containers.pop(g.ckey, None)
        for g in new_groups:
            if g.ckey is not None:
                cache.containers[g.ckey] = g
        # the merged summary changes only when the declarations of the items that changed did: a
        # keystroke inside a function body re-merges nothing
        if cache.merged is None or sorted(map(FileSummary.signature, removed)) != sorted(map(FileSummary.signature, added)):
            merged = FileSummary()
            for s in summaries.values():
                merged.merge(s)
            cache.merged, cache.digest = merged, merged.digest()
        if cache.merged.external is not external:
            cache.merged.external = external
            cache.digest = cache.merged.digest()
        summary, digest = cache.merged, cache.digest
        ctx = Context(src, lambda: summary, self.workspace or CloneIndex(self.dry), cache.fingerprints, crate, self.selection.explicit)
        same = digest == cache.checked_digest

        def stale(res) -> bool:
            return res is None or bool(res[1] and not same and not _parts_match(res[1], summary))

        def check(g: _Group, nodes: list) -> None:
            results = g.results
            g.shown = None
            for i, node in enumerate(nodes):
                if node.has_error or (node.type not in ITEM_KINDS and _container_broken(node)):
                    # beside a syntax error, only well-formed declarations count: a loose block or
                    # expression there is a fragment of the broken code
                    results[i] = None
                    continue
                res = results[i] if results[i] is not None else prev.get(g.entries[i][1])
                if stale(res):
                    ctx.used_summary.clear()
                    start = node.start_byte
                    found = [f.shifted(-start) for f in self._check_item(ctx, node, runs)]
                    # only items whose rules read a part of the summary are redone when that part
                    # changes (a renamed fn, a new field, a const's value)
                    res = (found, tuple((p, summary.part_digest(p)) for p in sorted(ctx.used_summary)))
                results[i] = res
            g.found = any(r is not None and r[0] for r in results)

        # `_walk` recorded whether the file parses now; loose items are checked only while it does
        flipped = broken_before[1] != cache.broken[1]
        starts = cache.starts
        if same and not flipped:
            # (a keystroke in a body: only the groups it walked; on 52k lines, a loop over the 6,617
            # others cost a millisecond)
            for g in new_groups:
                nodes = fresh.get(id(g))
                if nodes is not None:
                    check(g, nodes)
        else:
            for i, g in enumerate(cache.groups):
                nodes = fresh.get(id(g))
                if nodes is not None:
                    check(g, nodes)
                elif (g.loose and flipped) or (g.entries and not same and any(stale(r) for r in g.results)):
                    check(g, g.expand(root, data, starts[i]))
        cache.checked_digest = digest

        out: list[Finding] = []
        for g, start in zip(cache.groups, starts):
            if g.found:
                shown = g.shown
                if shown is None or shown[0] != start:
                    # the findings at the group's place in the file, kept while it neither moves nor is
                    # checked again
                    shown = g.shown = (start, [f.shifted(start + rel) for (rel, _), res in zip(g.entries, g.results) if res is not None for f in res[0]])
                out.extend(shown[1])
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
    def _check_item(self, ctx: Context, item: Node, runs: ItemRuns | None) -> list[Finding]:
        out: list[Finding] = []
        text = ctx.src.data[item.start_byte : item.end_byte]
        kind = item.type
        loops = None  # whether the item has a loop, once a rule asks
        ctx.begin_item(item, runs)
        plan = self._kind_plans.get(kind)
        if plan is None:
            plan = self._kind_plans[kind] = [(rule, find) for rule, types, find in self._item_plan if not types or kind in types]
        for rule, find in plan:
            if find is not None and find(text) is None:
                continue
            if rule.in_loops:
                if loops is None:
                    loops = LOOP_WORD.search(text) is not None
                if not loops:
                    continue
            out.extend(self._run(rule, ctx, item))
        if runs is not None:
            runs.done_with(item)
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


class _Group:
    """One top-level child as a walk saw it, wherever it sits: the length of its extent (from its first
    outer attribute, part of its items' keys, to its end), where the node starts in it, its items
    (start in the extent, key), their summaries and their findings (None: not checked)."""

    __slots__ = ("length", "child", "entries", "sums", "summaries", "ckey", "results", "found", "loose", "shown")

    def __init__(self, length: int, child: int, entries: tuple, summaries: tuple, ckey: tuple | None = None, sums: tuple | None = None) -> None:
        self.length, self.child = length, child
        self.entries = entries  # ((item start - extent start, item key), ...)
        self.sums = sums if sums is not None else tuple(key for _, key in entries)
        self.loose = False  # not a declaration (a top-level macro call): checked only while the file parses
        self.summaries = summaries  # the summaries its items (or its `use`) contribute, by `sums`
        self.ckey = ckey  # an impl/trait/mod: (kind, bytes)
        self.results: list[tuple | None] = [None] * len(entries)  # per item: (findings relative to it, summary parts read)
        self.found = False
        self.shown: tuple | None = None  # (start, its findings placed there): see _analyze_items

    def expand(self, root: Node, data: bytes, start: int) -> list[Node]:
        """The group's item nodes in the current tree, the group starting at `start`."""
        at = start + self.child
        node = next((c for c in _children_from(root, at) if c.start_byte >= at), None)
        if node is None or node.start_byte != at or node.end_byte != start + self.length:
            raise _Moved
        units = _units(node, data) or [(node, b"", _attributes_start(node), root.type, None)]
        if [_item_key(unit, data) for unit in units] != [key for _, key in self.entries]:
            raise _Moved
        return [unit[0] for unit in units]


def _units(node: Node, data: bytes) -> list[tuple[Node, bytes, int, str, Node | None]] | None:
    """An impl/trait/mod's items (`iter_items`); None for anything else."""
    body = node.child_by_field_name("body") if node.type in CONTAINERS else None
    return None if body is None else iter_items(body, data, data[node.start_byte : body.start_byte], node)


def _children_from(node: Node, offset: int):
    """The children of `node` from the first that ends after `offset` on, through one cursor
    (tree-sitter 0.26's `Node.first_child_for_byte` crashes the process when there is none, and a node's
    `next_sibling` looks for its parent from the root down: a walk of a file's top level with it is
    quadratic in its items)."""
    cursor = node.walk()
    if cursor.goto_first_child_for_byte(offset) is None:
        return
    yield cursor.node
    while cursor.goto_next_sibling():
        yield cursor.node


def _gains_attribute(root: Node, start: int) -> bool:
    """Whether an attribute just before the group starting at `start` (in the new text) now belongs to
    its item: `#[cold]` that a broken item above had swallowed is free again once that item is
    re-parsed, and the group after the changed text has another extent, key and findings."""
    node = next(_children_from(root, start), None)
    prev = node.prev_named_sibling if node is not None and node.start_byte == start else None
    return prev is not None and prev.type == "attribute_item"


class _Moved(Exception):
    """A reused group is not where the change log said it would be: walk the whole file."""


def _dirty(src: SourceFile, cache: ItemCache) -> list[list[int]] | None:
    """The text changed since the cache's last run, as sorted disjoint spans [old start, old end, new
    start, new end] (offsets of the last run's text and of today's): the edits, and the ranges whose
    syntax tree-sitter saw change. None: walk the whole file."""
    seen, position = cache.seen
    changes = src.changes_since(position) if seen is src and cache.groups is not None else None
    if changes is None:
        return None
    spans: list[list[int]] = []
    for entry in changes:
        if entry[0] == EDIT:
            _, s, oe, ne = entry
        elif entry[0] == CHANGED:
            _, s, oe = entry
            ne = oe
        else:
            return None
        # the spans this change touches merge with it into one
        first = 0
        while first < len(spans) and spans[first][3] < s:
            first += 1
        last = first
        while last < len(spans) and spans[last][2] <= oe:
            last += 1
        before = sum(map(_growth, spans[:first]))
        old_lo, new_lo, old_hi, new_hi = s - before, s, oe - before, oe
        if first < last:
            a, b = spans[first], spans[last - 1]
            if a[2] <= s:
                old_lo, new_lo = a[0], a[2]
            if b[3] >= oe:
                old_hi, new_hi = b[1], b[3]
            else:
                old_hi = oe - before - sum(map(_growth, spans[first:last]))
        d = ne - oe
        for sp in spans[last:]:
            sp[2] += d
            sp[3] += d
        spans[first:last] = [[old_lo, old_hi, new_lo, new_hi + d]]
    return spans


def _growth(span) -> int:
    """How much longer a changed span [old start, old end, new start, new end] made the text."""
    return span[3] - span[2] - span[1] + span[0]


def _walk(src: SourceFile, cache: ItemCache, item_runs: ItemRuns | None) -> tuple[list["_Group"], dict[int, list[Node]], list["_Group"]]:
    """Bring `cache.groups` up to date with the tree, walking only the top-level children in the text
    changed since the last run. Returns the groups that came in (walked, or a known impl/trait/mod met
    again), the item nodes of the walked ones by id, and the groups that went."""
    data, root = src.data, src.root
    old, starts = cache.groups or [], cache.starts
    broken = (root.is_error, root.has_error)
    n = len(old)
    # when the top level does not parse, tree-sitter makes the root an ERROR node whose children are
    # still the well-formed items around the broken spot: those keep their findings (a stray token
    # typed between two fns must not blank the file), the fragments do not; whole walks there
    spans = _dirty(src, cache) if not broken[0] and not cache.broken[0] else None
    # runs of old groups to drop, with the walk between the groups kept around them:
    # [first dropped, end of the dropped, size change before the run, size change after it]
    runs: list[list[int]] = []
    if spans is None:
        runs.append([0, n, 0, 0])
    else:
        shift = 0
        for olo, ohi, nlo, nhi in spans:
            # groups wholly before the span stay, those wholly after it move by its size change
            k1 = bisect_left(range(n), olo, key=lambda i: starts[i] + old[i].length)
            k2 = max(k1, bisect_right(range(n), ohi, key=lambda i: starts[i]))
            d = _growth((olo, ohi, nlo, nhi))
            if k2 < n and _gains_attribute(root, starts[k2] + shift + d):
                k2 += 1  # (its extent and key change: walked again)
            if runs and k1 <= runs[-1][1]:
                runs[-1][1] = max(runs[-1][1], k2)
                runs[-1][3] += d
            else:
                runs.append([k1, k2, shift, shift + d])
            shift += d
    groups: list[_Group] = []
    group_starts: list[int] = []
    new_groups: list[_Group] = []
    dropped: list[_Group] = []
    fresh: dict[int, list[Node]] = {}
    kept, after = 0, 0
    for k1, k2, before, after in runs:
        groups.extend(old[kept:k1])
        group_starts.extend([s + before for s in starts[kept:k1]] if before else starts[kept:k1])
        mid_lo = starts[k1 - 1] + before + old[k1 - 1].length if k1 else 0
        mid_hi = starts[k2] + after if k2 < n else len(data)
        dropped.extend(old[k1:k2])
        kept = k2
        children = []
        for child in _children_from(root, mid_lo):
            if child.start_byte >= mid_hi:
                break
            if child.start_byte < mid_lo or child.end_byte > mid_hi:
                raise _Moved
            children.append(child)
        _walk_children(children, root.type, data, cache, groups, group_starts, new_groups, fresh, item_runs)
    groups.extend(old[kept:])
    group_starts.extend([s + after for s in starts[kept:]] if after else starts[kept:])
    cache.groups, cache.starts = groups, group_starts
    cache.seen = (src, src.log_end)
    cache.broken = broken
    return new_groups, fresh, dropped


def _walk_children(children: list[Node], where: str, data: bytes, cache: ItemCache, groups: list, group_starts: list, new_groups: list, fresh: dict, runs: ItemRuns | None) -> None:
    """Groups for top-level children (of a node of type `where`), appended to `groups` (and
    `new_groups`); `fresh` gets the item nodes of the groups made anew. An item's summary runs its
    loop-call query through `runs`, with the rules' queries: the rules then find their matches there."""
    summaries = cache.summaries

    def summary(key: tuple, unit: tuple) -> FileSummary:
        s = summaries.get(key)
        if s is None:
            s = summarize_item(unit[0], data, runs, unit[3:])
        return s

    def add(g: _Group, start: int) -> None:
        new_groups.append(g)
        groups.append(g)
        group_starts.append(start)

    for child, attrs in with_attributes(children):  # (`_walk`'s runs start after a group's item)
        ctype = child.type
        cs = child.start_byte
        if ctype in NOT_CHECKED:
            if ctype == "use_declaration" and not child.has_error:
                key = ("use", data[cs : child.end_byte])
                add(_Group(child.end_byte - cs, 0, (), (summaries.get(key) or summarize_use(child, data),), sums=(key,)), cs)
            continue
        units = _units(child, data)
        if units is None:
            unit = (child, b"", attrs, where, None)
            key = _item_key(unit, data)
            g = _Group(child.end_byte - cs + key[4], key[4], ((key[4], key),), (summary(key, unit),))
            g.loose = ctype not in ITEM_KINDS
            add(g, cs - key[4])
            fresh[id(g)] = [child]
            continue
        ckey = (ctype, data[cs : child.end_byte])
        known = cache.containers.get(ckey) if not child.has_error else None
        if known is not None:
            add(known, cs)
            continue
        entries = tuple((unit[0].start_byte - cs, _item_key(unit, data)) for unit in units)
        g = _Group(child.end_byte - cs, 0, entries, tuple(summary(key, unit) for unit, (_, key) in zip(units, entries)), ckey)
        add(g, cs)
        fresh[id(g)] = [unit[0] for unit in units]


def _item_key(unit: tuple, data: bytes) -> tuple:
    """What an item's findings depend on (`unit`: as `iter_items` gives it): its bytes with its outer
    attributes (`#[inline]`, `#[repr]` are siblings in the tree), its container headers and where it
    sits (its parent's type)."""
    item, header, start, where = unit[:4]
    return (header, where, item.type, data[start : item.end_byte], item.start_byte - start)


def _attributes_start(item: Node) -> int:
    """Where the `#[..]`s right before `item` start (`with_attributes` for one node)."""
    start = item.start_byte
    sib = item.prev_named_sibling
    while sib is not None and sib.type == "attribute_item":
        start = sib.start_byte
        sib = sib.prev_named_sibling
    return start


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
