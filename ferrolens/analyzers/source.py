"""SourceFile: the bytes of one Rust file, its tree-sitter tree and a line index.

Every position conversion in the project goes through here. Offsets are byte offsets into the UTF-8
text; positions are (line, column) with 0-based lines and the column counted in one of three
encodings: "utf-8" (bytes), "utf-16" (code units, LSP's default) or "utf-32" (Unicode characters).

The line index is chunked (a flat list of (bytes, newlines) per chunk of about 8 KiB), so an edit
re-counts only the chunks it touches and a lookup walks at most a few hundred chunk records: this keeps
a keystroke in a 50k-line file far below a millisecond, where a flat list of line starts would have to
be rebuilt or shifted on every edit.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate

from tree_sitter import Language, Node, Parser, Range, Tree

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
_CHUNK = 8192
# the change log of a SourceFile (see `SourceFile.log`)
EDIT, CHANGED, RESET = 0, 1, 2
_LOG_KEEP = 512  # log entries kept; a reader that fell further behind starts afresh


@lru_cache(maxsize=1)
def rust_language() -> Language:
    import tree_sitter_rust

    return Language(tree_sitter_rust.language())


_local = threading.local()  # one Parser per thread: the workspace indexer parses in worker threads


def parse(data: bytes, old_tree: Tree | None = None) -> Tree:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = Parser(rust_language())
    # tree-sitter 0.26: passing None as the old tree raises, so call with one argument for a fresh parse
    return parser.parse(data, old_tree) if old_tree is not None else parser.parse(data)


def parse_inside(data: bytes, node: Node) -> Tree:
    """Parse the text between the first and last byte of `node` (the braces of a macro's token tree)
    as Rust of its own; the new tree's offsets are those of `data`."""
    parser = getattr(_local, "inner_parser", None)
    if parser is None:
        parser = _local.inner_parser = Parser(rust_language())
    (r0, c0), (r1, c1) = node.start_point, node.end_point
    parser.included_ranges = [Range((r0, c0 + 1), (r1, max(c1 - 1, 0)), node.start_byte + 1, node.end_byte - 1)]
    return parser.parse(data)


_GENERATED_LINES = 5  # as rustfmt's `format_generated_files`: the marker in a comment of the first five lines


def is_generated(data: bytes) -> bool:
    """Code generator output: a comment with `@generated` in the first five lines (the marker rustfmt,
    GitHub and Phabricator know; syn's `gen/` files carry it). Nobody edits such a file by hand: a hint
    there cannot be acted on in place (the next generation undoes it), and `--fix` must not touch it."""
    head = data[:4096]
    if b"@generated" not in head:
        return False
    for line in head.split(b"\n", _GENERATED_LINES)[:_GENERATED_LINES]:
        at = line.find(b"@generated")
        if at >= 0:
            text = line.lstrip()
            if text.startswith((b"//", b"/*", b"*")) or b"/*" in line[:at] or b"//" in line[:at]:
                return True
    return False


def parse_parts(data: bytes, parts: list[tuple[int, int]]) -> Tree:
    """Parse only the byte ranges `parts` of `data` (sorted, not overlapping: whole top-level items),
    as one text; the tree's offsets are those of `data`."""
    parser = getattr(_local, "parts_parser", None)
    if parser is None:
        parser = _local.parts_parser = Parser(rust_language())

    def point(offset: int) -> tuple[int, int]:
        return data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1)

    parser.included_ranges = [Range(point(a), point(b), a, b) for a, b in parts] if parts else [Range((0, 0), (0, 0), 0, 0)]
    return parser.parse(data)


def decode_utf8(data: bytes) -> str:
    """Decode the text for display; lone surrogates that came in through JSON survive a round trip."""
    return data.decode("utf-8", "surrogatepass")


def encode_utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _chunks(data: bytes, start: int, end: int) -> tuple[list[int], list[int]]:
    sizes: list[int] = []
    lines: list[int] = []
    pos = start
    while True:
        nxt = min(pos + _CHUNK, end)
        sizes.append(nxt - pos)
        lines.append(data.count(b"\n", pos, nxt))
        pos = nxt
        if pos >= end:
            return sizes, lines


class LineIndex:
    """Maps byte offsets to lines and back, updated in place by edits. Lookups bisect prefix sums of
    the chunks, rebuilt once after an edit (a few hundred additions) rather than walked per lookup."""

    __slots__ = ("_sizes", "_lines", "_pos", "_seen")

    def __init__(self, data: bytes) -> None:
        self._sizes, self._lines = _chunks(data, 0, len(data))
        self._pos: list[int] | None = None  # chunk start offsets
        self._seen: list[int] = []  # newlines before each chunk

    @property
    def line_count(self) -> int:
        return sum(self._lines) + 1

    def _sums(self) -> list[int]:
        if self._pos is None:
            self._pos = [0, *accumulate(self._sizes)][:-1]
            self._seen = [0, *accumulate(self._lines)][:-1]
        return self._pos

    def update(self, new_data: bytes, start: int, old_end: int, new_end: int) -> None:
        """Bytes [start, old_end) were replaced; they are [start, new_end) of new_data now."""
        sizes, lines = self._sizes, self._lines
        n = len(sizes)
        i, pos = 0, 0
        while i < n - 1 and pos + sizes[i] < start:
            pos += sizes[i]
            i += 1
        first, first_pos = i, pos
        while i < n - 1 and pos + sizes[i] < old_end:
            pos += sizes[i]
            i += 1
        old_stop = pos + sizes[i]
        new_stop = old_stop + (new_end - old_end)
        new_sizes, new_lines = _chunks(new_data, first_pos, new_stop)
        sizes[first : i + 1] = new_sizes
        lines[first : i + 1] = new_lines
        self._pos = None

    def line_of(self, data: bytes, offset: int) -> tuple[int, int]:
        """(line, byte offset of that line's start) for a byte offset."""
        starts = self._sums()
        i = max(0, bisect_right(starts, offset) - 1)
        pos = starts[i]
        line = self._seen[i] + data.count(b"\n", pos, offset)
        return line, data.rfind(b"\n", 0, offset) + 1

    def line_start(self, data: bytes, line: int) -> int | None:
        """Byte offset where `line` starts, None when the text has fewer lines."""
        if line <= 0:
            return 0
        self._sums()
        seen = self._seen
        # the last chunk with fewer than `line` newlines before it holds the newline that ends line - 1
        i = bisect_right(seen, line - 1) - 1
        if seen[i] + self._lines[i] < line:
            return None
        pos, k = self._pos[i], line - seen[i]
        chunk = data[pos : pos + self._sizes[i]]
        parts = chunk.split(b"\n", k)  # (in C: a loop of k finds costs 20-40 us in a chunk of 8 KB)
        if len(parts) <= k:
            return None
        return pos + len(chunk) - len(parts[k])


def _line_end(data: bytes, line_start: int) -> int:
    """End of the line's content (before "\\n" or "\\r\\n")."""
    end = data.find(b"\n", line_start)
    if end < 0:
        return len(data)
    if end > line_start and data[end - 1] == 0x0D:
        return end - 1
    return end


def units(text: str, encoding: str) -> int:
    """The length of `text` counted in `encoding`'s code units."""
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == UTF32:
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _local_change(old: Tree, new: Tree, edits: list[tuple[int, int, int]]) -> list[tuple[int, int]] | None:
    """The extents of the top-level children an incremental reparse changed, when its changes stayed
    inside the children the edits touched: both trees parse cleanly, have as many top-level children,
    and the children at and around each edit start and end where the edited old tree says (tree.edit
    moved its offsets). The text after such a child is unchanged and is parsed from the same top-level
    state, so its syntax is unchanged too. None: ask tree-sitter for the changed ranges (4-6 ms on a
    50k-line file, most of a keystroke's parse cost)."""
    o, n = old.root_node, new.root_node
    if not edits or len(edits) > 16 or o.has_error or n.has_error or o.child_count != n.child_count:
        return None
    out = []
    cursor = n.walk()
    for k, (lo, _, hi) in enumerate(edits):
        for s, e, ne in edits[k + 1 :]:  # where the edited text sits after the later edits
            lo = lo if lo < s else s if lo < e else lo + ne - e
            hi = hi if hi <= s else ne if hi <= e else hi + ne - e
        cursor.reset(n)
        i = cursor.goto_first_child_for_byte(lo)
        i = n.child_count if i is None else i
        j = i
        while j < n.child_count and n.child(j).start_byte <= hi:
            j += 1
        first, last = max(0, i - 1), min(n.child_count, j + 1)
        for c in range(first, last):
            a, b = o.child(c), n.child(c)
            if a.start_byte != b.start_byte or a.end_byte != b.end_byte or a.type != b.type:
                return None
        if i < j:  # the children the edit is in (the neighbours were compared, not changed)
            out.append((n.child(i).start_byte, n.child(j - 1).end_byte))
    return out


class SourceFile:
    """One file's bytes, tree and line index. Mutable only through `apply_edit`.

    Edits are applied to the bytes and to the tree (`Tree.edit`) at once, but the incremental reparse is
    deferred until the tree is next read: a burst of didChange notifications costs one parse.

    `log` records what changed, for readers that keep state between analyses (the engine's item walk):
    (EDIT, start, old end, new end) per edit, (CHANGED, start, end) per range whose syntax a reparse
    changed (tree-sitter's changed ranges), (RESET,) when the tree was parsed afresh. Offsets are those
    of the text at that moment; `log_base` is the number of entries dropped from the front."""

    __slots__ = ("data", "_tree", "_stale", "index", "path", "log", "log_base", "_pending", "_test_word", "_test_items")

    def __init__(self, data: bytes, path: str | None = None, tree: Tree | None = None, parsed: bool = True) -> None:
        self.data = data
        self.path = path
        # parsed=False: positions only for now (the tree is parsed when first read)
        self._tree = tree if tree is not None or not parsed else parse(data)
        self._stale = self._tree is None
        self.index = LineIndex(data)
        self.log: list[tuple] = []
        self.log_base = 0
        self._pending: list[tuple[int, int, int]] = []  # the edits since the last parse
        self._test_word: tuple[bytes, int] | None = None  # (the text, first_test_word() of it)
        self._test_items: tuple[bytes, dict[int, bool]] | None = None  # (the text, test_items() of it)

    def first_test_word(self) -> int:
        """Where `test` or `bench` first occurs in the text (-1: nowhere). Test attributes (`#[test]`,
        `#[cfg(test)]`, `#[bench]`) come before the code they mark, so code before it is not test code."""
        hit = self._test_word
        if hit is None or hit[0] is not self.data:
            found = [at for at in (self.data.find(b"test"), self.data.find(b"bench")) if at >= 0]
            hit = self._test_word = (self.data, min(found, default=-1))
        return hit[1]

    def test_items(self) -> dict[int, bool]:
        """Whether an item (by node id) is marked as test code, as `in_test_code` found it for this
        text (forgotten when the text changes: an edited attribute marks an unchanged node anew)."""
        memo = self._test_items
        if memo is None or memo[0] is not self.data:
            memo = self._test_items = (self.data, {})
        return memo[1]

    @property
    def tree(self) -> Tree:
        if self._stale:
            old = self._tree
            self._tree = parse(self.data, old)
            self._stale = False
            if old is None:
                self._note((RESET,))
            else:
                local = _local_change(old, self._tree, self._pending)
                if local is None:
                    for r in old.changed_ranges(self._tree):
                        self._note((CHANGED, r.start_byte, r.end_byte))
                else:
                    for lo, hi in local:
                        self._note((CHANGED, lo, hi))
            self._pending = []
        return self._tree

    def _note(self, entry: tuple) -> None:
        log = self.log
        log.append(entry)
        if len(log) > 2 * _LOG_KEEP:
            del log[:_LOG_KEEP]
            self.log_base += _LOG_KEEP

    def changes_since(self, position: int) -> list[tuple] | None:
        """Log entries from absolute position `position` on; None when some were dropped."""
        if position < self.log_base:
            return None
        return self.log[position - self.log_base :]

    @property
    def log_end(self) -> int:
        return self.log_base + len(self.log)

    @property
    def has_tree(self) -> bool:
        return self._tree is not None

    def drop_tree(self) -> None:
        """Free the tree (tree-sitter trees take ~25x the text). The next read parses afresh."""
        self._tree = None
        self._stale = True
        self._pending = []

    @classmethod
    def from_text(cls, text: str, path: str | None = None) -> "SourceFile":
        return cls(encode_utf8(text), path)

    @property
    def root(self) -> Node:
        return self.tree.root_node

    def text(self, node_or_start: Node | int, end: int | None = None) -> str:
        if isinstance(node_or_start, int):
            return self.data[node_or_start:end].decode("utf-8", "replace")
        return self.data[node_or_start.start_byte : node_or_start.end_byte].decode("utf-8", "replace")

    # -- positions ---------------------------------------------------------------------------------
    def position(self, offset: int, encoding: str = UTF8) -> tuple[int, int]:
        """(line, column) of a byte offset, the column counted in `encoding`."""
        offset = max(0, min(offset, len(self.data)))
        line, start = self.index.line_of(self.data, offset)
        if encoding == UTF8:
            return line, offset - start
        raw = self.data[start:offset]
        try:
            prefix = raw.decode("utf-8", "surrogatepass")  # lone surrogates can arrive through JSON
        except UnicodeDecodeError:
            prefix = raw.decode("utf-8", "ignore")  # an offset inside a character
        return line, units(prefix, encoding)

    def offset(self, line: int, column: int, encoding: str = UTF8) -> int:
        """Byte offset of (line, column); past-the-end lines and columns are clamped, as LSP asks."""
        if line < 0:
            return 0
        start = self.index.line_start(self.data, line)
        if start is None:
            return len(self.data)
        end = _line_end(self.data, start)
        if encoding == UTF8:
            at = start + max(0, min(column, end - start))
            # never split a multi-byte character
            while at > start and at < end and (self.data[at] & 0xC0) == 0x80:
                at -= 1
            return at
        units = 0
        at = start
        for ch in self.data[start:end].decode("utf-8", "surrogatepass"):
            if units >= column:
                break
            units += 2 if (encoding == UTF16 and ord(ch) > 0xFFFF) else 1
            at += len(ch.encode("utf-8", "surrogatepass"))
        return at

    def line_text(self, line: int) -> str:
        start = self.index.line_start(self.data, line)
        if start is None:
            return ""
        return self.data[start : _line_end(self.data, start)].decode("utf-8", "replace")

    def line_count(self) -> int:
        return self.index.line_count

    # -- editing -----------------------------------------------------------------------------------
    def apply_edit(self, start: int, end: int, new: bytes, reparse: bool = True) -> None:
        """Replace bytes [start, end) with `new`, edit the tree and (by default) reparse incrementally."""
        data = self.data
        start = max(0, min(start, len(data)))
        end = max(start, min(end, len(data)))
        start_point = self.position(start)
        old_end_point = self.position(end)
        new_data = data[:start] + new + data[end:]
        new_end = start + len(new)
        nl = new.count(b"\n")
        if nl:
            new_end_point = (start_point[0] + nl, len(new) - new.rfind(b"\n") - 1)
        else:
            new_end_point = (start_point[0], start_point[1] + len(new))
        if self._tree is not None:
            self._tree.edit(
                start_byte=start,
                old_end_byte=end,
                new_end_byte=new_end,
                start_point=start_point,
                old_end_point=old_end_point,
                new_end_point=new_end_point,
            )
        self.data = new_data
        self.index.update(new_data, start, end, new_end)
        self._note((EDIT, start, end, new_end))
        self._pending.append((start, end, new_end))
        self._stale = True
        if reparse:
            self.reparse()

    def reparse(self) -> None:
        """Parse now (otherwise the next read of `tree` does)."""
        self._stale = True
        _ = self.tree
