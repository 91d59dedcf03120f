"""What a rule sees while it checks one item: the source, query helpers and a file summary."""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate
from typing import Iterable

from tree_sitter import Node, Query, QueryCursor

from ferrolens.analyzers.model import Applicability, Edit, Finding, Fix, Related, Severity
from ferrolens.analyzers.source import SourceFile, rust_language
from ferrolens.analyzers.summary import FileSummary


@lru_cache(maxsize=None)
def compile_query(source: str) -> Query:
    return Query(rust_language(), source)


# queries several rules run on items (one query, not a narrower one per rule: the rules' queries run as
# one, `ItemQueries`, which makes a match for every pattern that fits, wanted there or not; on T3 a
# query per rule made 40k of the 86k matches again)
CALLS = "(call_expression) @call"
ASSIGNED_CALLS = "(assignment_expression left: (_) @left right: (call_expression) @right) @assign"
LETS = "(let_declaration pattern: (identifier) @name value: (_) @value) @let"  # `let name = value;`


def lets(ctx: "Context", item: Node, mutable: bool = False, value: str | None = None) -> list[dict[str, list[Node]]]:
    """The `LETS` matches in `item`: with `mutable`, only `let mut`; with `value`, only those whose value
    is a node of that type."""
    found = ctx.matches(LETS, item)
    if value is not None:
        found = [m for m in found if m["value"][0].type == value]
    if mutable:
        found = [m for m in found if any(c.type == "mutable_specifier" for c in m["let"][0].named_children)]
    return found


class ItemQueries:
    """Rules' queries over one item (and the summaries' loop calls) run as one tree-sitter query, each
    query given the matches of its own patterns, in their order, as if it ran alone: the same matches
    for all 8,607 rule queries of the corpus' items, the same loop calls in its summaries. A query's
    cost is mostly its walk over the item's nodes, whatever its patterns: on 180k lines, the items two
    or more rules query took 0.5 s with a query each and 0.25 s with one for all; the items one rule
    queries, 0.10 s against 0.15 s; and the 15 queries compile in 19 ms as one, 70 ms apart (in every
    process). Callgrind, a check of 23k lines: 6.5% fewer instructions, 7.7% with the loop calls."""

    __slots__ = ("sources", "index", "_query", "_owner")

    def __init__(self, sources: Iterable[str]) -> None:
        self.sources = tuple(dict.fromkeys(sources))
        self.index: dict[str, int] = {}  # query -> its index in `sources`, once compiled (`ready`)
        self._query: Query | None = None
        self._owner: list[int] = []  # pattern index -> index of the query it comes from

    def ready(self) -> "ItemQueries":
        """Compiled. A query that does not compile (a rule of one's own, FERROLENS_EXTRA_RULES) is left
        out: it raises where its rule runs it, in that rule alone, and the others still run as one."""
        if self._query is None and self.sources:
            if not _compiles("\n".join(self.sources)):
                self.sources = tuple(q for q in self.sources if _compiles(q))
                if not _compiles("\n".join(self.sources)):
                    self.sources = ()  # (each alone: every query runs as it is asked)
            if self.sources:
                self._query = compile_query("\n".join(self.sources))
                # (the patterns' places in the joined text say which query each comes from)
                ends = list(accumulate(len(q.encode()) + 1 for q in self.sources))
                self._owner = [bisect_right(ends, self._query.start_byte_for_pattern(p)) for p in range(self._query.pattern_count)]
                self.index = {q: i for i, q in enumerate(self.sources)}
        return self

    def run(self, node: Node) -> list[list[dict[str, list[Node]]]]:
        """The matches within `node` of each query, by index (`ready` first)."""
        cursor = QueryCursor(self._query)
        cursor.set_byte_range(node.start_byte, node.end_byte)
        out: list[list[dict[str, list[Node]]]] = [[] for _ in self.sources]
        owner = self._owner
        for pattern, caps in cursor.matches(node):
            out[owner[pattern]].append(caps)
        return out


def _compiles(query: str) -> bool:
    try:
        compile_query(query)
    except Exception:
        return False
    return True


class ItemRuns:
    """`ItemQueries` run on the items of one analysis: each item's matches are found once, for the first
    who asks (its summary, then the rules that check it)."""

    __slots__ = ("shared", "done")

    def __init__(self, shared: ItemQueries) -> None:
        self.shared = shared.ready()
        self.done: dict[tuple[int, int], list] = {}

    def of(self, node: Node) -> list[list[dict[str, list[Node]]]]:
        key = (node.id, node.start_byte)
        found = self.done.get(key)
        if found is None:
            found = self.done[key] = self.shared.run(node)
        return found

    def matches(self, query: str, node: Node) -> list[dict[str, list[Node]]]:
        """The matches of `query`, one of the shared queries, within the item `node`."""
        return self.of(node)[self.shared.index[query]]

    def done_with(self, node: Node) -> None:
        """The rules have checked `node`: its matches go (a whole file's would be held to the end)."""
        self.done.pop((node.id, node.start_byte), None)


class Context:
    """Handed to a rule's check. `rule` is set by the engine before each call."""

    __slots__ = ("src", "rule", "_summary_fn", "_summary", "used_summary", "workspace", "fingerprints", "crate", "explicit", "item", "_runs")

    def __init__(self, src: SourceFile, summary_fn=None, workspace=None, fingerprints=None, crate=None, explicit=frozenset()) -> None:
        self.src = src
        self.crate = crate  # CrateInfo of the file's crate, when known
        self.explicit = explicit  # rule names the user selected explicitly
        # the clone index (ferrolens.analyzers.dry) cross-file rules read, and this file's cache of
        # clone fingerprints
        self.workspace = workspace
        self.fingerprints = fingerprints
        self.rule = ""
        self._summary_fn = summary_fn
        self._summary: FileSummary | None = None
        # the parts of the file summary (other items' declarations) the rules read while checking the
        # current item: its cached findings are redone only when one of those parts changes
        self.used_summary: set[str] = set()
        # the item being checked, and the rules' queries run on items as one (`ItemQueries`), if any
        self.item: Node | None = None
        self._runs: ItemRuns | None = None

    def begin_item(self, item: Node, runs: "ItemRuns | None") -> None:
        """The engine starts on `item`; `runs`: the rules' queries run on items as one, once a rule
        asks for one of them."""
        self.item, self._runs = item, runs

    @property
    def summary(self) -> "_Recorder":
        if self._summary is None:
            self._summary = self._summary_fn() if self._summary_fn else FileSummary.of(self.src)
        return _Recorder(self._summary, self.used_summary)

    # -- reading -----------------------------------------------------------------------------------
    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.src.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def matches(self, query: str, node: Node) -> list[dict[str, list[Node]]]:
        """Matches of `query` (tree-sitter query source) within `node`, in document order."""
        runs = self._runs
        if runs is not None and node == self.item:
            k = runs.shared.index.get(query)
            if k is not None:
                return list(runs.of(node)[k])
        cursor = QueryCursor(compile_query(query))
        cursor.set_byte_range(node.start_byte, node.end_byte)
        out = []
        for _pattern, caps in cursor.matches(node):
            out.append(caps)
        return out

    def line_indent(self, offset: int) -> str:
        """The leading whitespace of the line holding `offset`."""
        from ferrolens.analyzers.syntax import line_indent

        return line_indent(self.src.data, offset)

    # -- reporting ---------------------------------------------------------------------------------
    def finding(
        self,
        at: Node | tuple[int, int],
        message: str,
        fix: Fix | None = None,
        alternatives: Iterable[Fix] = (),
        related: Iterable[Related] = (),
        severity: Severity | None = None,
    ) -> Finding:
        start, end = (at.start_byte, at.end_byte) if isinstance(at, Node) else at
        return Finding(
            rule=self.rule,
            start=start,
            end=end,
            message=message,
            fix=fix,
            alternatives=tuple(alternatives),
            related=tuple(related),
            severity=severity,
        )


class _Recorder:
    """Read-only view of a FileSummary that notes which of its parts were read."""

    __slots__ = ("_summary", "_used")

    def __init__(self, summary: FileSummary, used: set[str]) -> None:
        self._summary = summary
        self._used = used

    def __getattr__(self, name: str):
        self._used.add(name)
        return getattr(self._summary, name)


def fix(message: str, *edits: Edit, safe: bool = True) -> Fix:
    return Fix(Applicability.SAFE if safe else Applicability.UNSAFE, message, tuple(edits))


def replace_node(node: Node, content: str) -> Edit:
    return Edit(node.start_byte, node.end_byte, content)


def delete_statement(src: SourceFile, node: Node) -> Edit:
    """Remove a statement; with its whole line (and a trailing comment) when nothing else shares it."""
    data = src.data
    line_start = data.rfind(b"\n", 0, node.start_byte) + 1
    line_end = data.find(b"\n", node.end_byte)
    line_end = len(data) if line_end < 0 else line_end
    rest = data[node.end_byte : line_end].strip()
    if not data[line_start : node.start_byte].strip() and (not rest or rest.startswith(b"//")):
        return Edit(line_start, min(line_end + 1, len(data)), "")
    return Edit(node.start_byte, node.end_byte, "")

