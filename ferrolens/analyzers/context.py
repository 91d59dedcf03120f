"""What a rule sees while it checks one item: the source, query helpers and a file summary."""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable

from tree_sitter import Node, Query, QueryCursor

from ferrolens.analyzers.model import Applicability, Edit, Finding, Fix, Related, Severity
from ferrolens.analyzers.source import SourceFile, rust_language
from ferrolens.analyzers.summary import FileSummary


@lru_cache(maxsize=None)
def compile_query(source: str) -> Query:
    return Query(rust_language(), source)


class Context:
    """Handed to a rule's check. `rule` is set by the engine before each call."""

    __slots__ = ("src", "rule", "_summary_fn", "_summary", "used_summary", "workspace", "fingerprints", "crate", "explicit")

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

