"""The clone fingerprints of one file: its functions and the statement runs of its blocks.

A *unit* never splits a statement: the candidates are whole functions (signature and body) and runs of
consecutive statements of one block (at any depth: a loop body's statements form their own runs), or of
consecutive arms of one `match`. The items inside an item-level macro call (`cfg_rt! { .. }`) count
like those of a module. Every
statement gets two 64-bit hashes: of its exact tokens (Type-1) and of its tokens with identifiers and
literals normalised (Type-2). Statements that are mostly literals (data tables) keep the exact hash in
both slots, so two different tables of the same shape are never reported.

Left out: generated files (an `@generated` marker in the first KiB), `use` lists and attributes (never
statements), `macro_rules!` bodies, item-level macro tables
(`lazy_static! {..}`: not a block), and test code (`#[test]` functions, `#[cfg(test)]` modules) unless
asked for. Fingerprints are computed per top-level item and cached under the item's bytes, so an edit
re-fingerprints the one item it touched.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import partial
from itertools import accumulate
from operator import attrgetter, itemgetter
from typing import NamedTuple

from tree_sitter import Node, QueryCursor

from ferrolens.analyzers.dry.tokens import LITERAL, digest, drop_uses_columns, lex_columns, normalised_texts
from ferrolens.analyzers.source import is_generated

# (start, end, tokens, normalised hash, exact hash); offsets are absolute in FileUnits, item-relative in
# the per-item cache
Stmt = tuple[int, int, int, int, int]

SKIPPED_STATEMENTS = {
    "line_comment", "block_comment", "attribute_item", "inner_attribute_item", "use_declaration",
    "empty_statement", "extern_crate_declaration",
}
# items in a block end a statement run (they are units of their own, or not code that runs)
BARRIERS = {
    "function_item", "struct_item", "enum_item", "union_item", "impl_item", "trait_item", "mod_item",
    "macro_definition", "type_item", "const_item", "static_item",
}
CONTAINERS = {"impl_item", "trait_item", "mod_item"}
# items under this many tokens are too small to be clones alone; consecutive ones (a trait impl's
# three short methods, two short impls of one trait) are compared as a run, like statements
SMALL_ITEM = 50
# Run.items: free items (top level, a mod), the members of impls and traits; ARMS: the arms of a match
ITEMS, METHODS, ARMS = 1, 2, 3
TRIVIAL_BODY = 24  # tokens in a function body that only reads a field or hands the call on (under half a clone)


class Run(NamedTuple):
    """Consecutive statements of one block; offsets relative to the item that holds it (so a cached
    item's runs are shared, never copied, when code above it moves). (Named tuples, not frozen
    dataclasses, which set each field through `object.__setattr__`: check's workers make and send every
    file's units, and the parent unpickled them in 57 ms on 180k lines, now 21 ms.)"""

    sig: tuple[int, ...]  # the statements' normalised hashes
    stmts: tuple[Stmt, ...]
    items: int = 0  # not a run of statements: small ITEMS, the METHODS of impls/traits, or a match's ARMS


class FnUnit(NamedTuple):
    start: int  # relative to its item, like Run
    end: int
    ntok: int
    h: int
    exact: int
    name: str
    body: int  # index of the body's first run among its item's runs, -1 if none
    stmts: frozenset[int]  # normalised hashes of the body's statements (near-miss candidates)
    body_tokens: int = 0  # the tokens of the body's statements (a `match` body: the whole match)


_START, _END = itemgetter(0), itemgetter(1)
_AS_RUN, _AS_FN = partial(tuple.__new__, Run), partial(tuple.__new__, FnUnit)  # (a plain tuple's fields: C calls)


def _unpickled_units(values: dict) -> "FileUnits":
    units = FileUnits.__new__(FileUnits)
    for slot, value in values.items():
        setattr(units, slot, value)
    units.runs, units.fns = list(map(_AS_RUN, units.runs)), list(map(_AS_FN, units.fns))
    return units


class FileUnits:
    """A file's runs and functions, with the offset of the item each belongs to."""

    __slots__ = ("path", "data", "runs", "run_base", "fns", "fn_base", "fn_first", "_newlines", "tops", "uses", "bodies", "broken")

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path
        self.data = data
        self.runs: list[Run] = []
        self.run_base: list[int] = []
        self.fns: list[FnUnit] = []
        self.fn_base: list[int] = []
        self.fn_first: list[int] = []  # index of the first run of the fn's item
        self._newlines: list[int] | None = None
        # what a refactoring action needs to parse only part of the file (extract.parsed_tree): the
        # top-level items' (start, end), the top-level `use` declarations', the bodies of the top-level
        # impls, traits and mods (item start -> body start, body end, the body's items' (start, end))
        # and whether the file parses
        self.tops: list[tuple[int, int]] = []
        self.uses: list[tuple[int, int]] = []
        self.bodies: dict[int, tuple[int, int, list[tuple[int, int]]]] = {}
        self.broken = False

    def parts_around(self, spans) -> list[tuple[int, int]]:
        """What of the file `spans` (objects with `start` and `end`) need, in order: every top-level `use`
        declaration, and each top-level item a span overlaps; of an impl, trait or mod whose body holds
        the spans, only its head, the items of its body they overlap and its closing brace. A text made
        of those parses like the whole file there (a method in a 3,000-line impl is a few lines)."""
        tops, starts = self.tops, [t[0] for t in self.tops]
        wanted: dict[tuple[int, int], set | None] = {}  # a top -> the body items wanted (None: all of it)
        for sp in spans:
            k = max(bisect_left(starts, sp.start + 1) - 1, 0)
            while k < len(tops) and tops[k][0] < sp.end:
                top = tops[k]
                if top[1] > sp.start and wanted.get(top, ()) is not None:
                    body = self.bodies.get(top[0])
                    if body is None or sp.start <= body[0] or sp.end >= body[1]:
                        wanted[top] = None  # (the span reaches the head or the brace)
                    else:
                        items = body[2]  # (in order, apart: their starts and their ends both ascend)
                        lo, hi = bisect_right(items, sp.start, key=_END), bisect_left(items, sp.end, key=_START)
                        wanted.setdefault(top, set()).update(items[lo:hi])
                k += 1
        parts = list(self.uses)
        for top, items in wanted.items():
            if items is None:
                parts.append(top)
            else:
                b0, b1, _ = self.bodies[top[0]]
                parts += [(top[0], b0 + 1), *items, (b1 - 1, top[1])]
        return sorted(set(parts))  # (a `use` a span overlaps is in both)

    def add(self, base: int, runs: list[Run], fns: list[FnUnit]) -> None:
        first = len(self.runs)
        self.runs.extend(runs)
        self.run_base.extend([base] * len(runs))
        self.fns.extend(fns)
        self.fn_base.extend([base] * len(fns))
        self.fn_first.extend([first] * len(fns))

    def span(self, r: int, i: int, e: int) -> tuple[int, int]:
        """Byte range of statements i..e (exclusive) of run r."""
        stmts, base = self.runs[r].stmts, self.run_base[r]
        return base + stmts[i][0], base + stmts[e - 1][1]

    def fn_span(self, k: int) -> tuple[int, int]:
        fn, base = self.fns[k], self.fn_base[k]
        return base + fn.start, base + fn.end

    def fn_body(self, k: int) -> int:
        body = self.fns[k].body
        return self.fn_first[k] + body if body >= 0 else -1

    def line(self, offset: int) -> int:
        """0-based line of a byte offset."""
        if self._newlines is None:
            # (each newline's offset: the running sum of the lines' lengths, each with its newline)
            self._newlines = list(accumulate(map((1).__add__, map(len, self.data.split(b"\n")[:-1])), initial=-1))[1:]
        return bisect_left(self._newlines, offset)

    def lines_in(self, start: int, end: int) -> int:
        return self.data.count(b"\n", start, end) + 1

    def lines_of(self, offsets: list[int]) -> dict[int, int]:
        """0-based lines of many offsets in one pass over the text (no line index needed: the file
        being edited gets new units on every keystroke)."""
        if self._newlines is not None:
            return {o: self.line(o) for o in offsets}
        out, line, pos = {}, 0, 0
        for o in sorted(set(offsets)):
            line += self.data.count(b"\n", pos, o)
            pos = o
            out[o] = line
        return out

    # -- pickled (check's workers send every file's units to the parent) -----------------------------
    def __reduce__(self):
        # the runs and functions as plain tuples, made and read back by C calls: a named tuple is
        # pickled through its Python `__getnewargs__`, one call each (16k of them on T3; for 300 of its
        # files the workers' dumps took 105 -> 51 ms, the parent's loads 56 -> 34 ms)
        values = {slot: getattr(self, slot) for slot in self.__slots__}
        values["runs"], values["fns"] = list(map(tuple, self.runs)), list(map(tuple, self.fns))
        return _unpickled_units, (values,)

    # -- a JSON form for the batch cache -----------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "runs": [[b, [list(s) for s in run.stmts], run.items] for b, run in zip(self.run_base, self.runs)],
            "fns": [[b, f, fn.start, fn.end, fn.ntok, fn.h, fn.exact, fn.name, fn.body, sorted(fn.stmts), fn.body_tokens] for b, f, fn in zip(self.fn_base, self.fn_first, self.fns)],
            "tops": self.tops,
            "uses": self.uses,
            "bodies": [[s, b0, b1, items] for s, (b0, b1, items) in self.bodies.items()],
            "broken": self.broken,
        }

    @classmethod
    def from_json(cls, path: str, data: bytes, raw: dict) -> "FileUnits":
        units = cls(path, data)
        for base, stmts, items in raw["runs"]:
            t = tuple(tuple(s) for s in stmts)
            units.runs.append(Run(tuple(s[3] for s in t), t, items))
            units.run_base.append(base)
        for base, first, start, end, ntok, h, exact, name, body, stmts, body_tokens in raw["fns"]:
            units.fns.append(FnUnit(start, end, ntok, h, exact, name, body, frozenset(stmts), body_tokens))
            units.fn_base.append(base)
            units.fn_first.append(first)
        units.tops = [tuple(t) for t in raw["tops"]]
        units.uses = [tuple(t) for t in raw["uses"]]
        units.bodies = {s: (b0, b1, [tuple(t) for t in items]) for s, b0, b1, items in raw["bodies"]}
        units.broken = bool(raw["broken"])
        return units


def _attributes(node: Node, data: bytes) -> bytes:
    out = []
    sib = node.prev_named_sibling
    while sib is not None and sib.type in ("attribute_item", "line_comment", "block_comment"):
        if sib.type == "attribute_item":
            out.append(data[sib.start_byte : sib.end_byte])
        sib = sib.prev_named_sibling
    return b" ".join(out)


_CFG_TEST = re.compile(rb"cfg\([^\]]*?(?<!\w)test\b")


def with_attribute_texts(children: list[Node], data: bytes):
    """(node, type of the node right before it, `_attributes` of it) for each named node of
    `children` (a node's children, all of them, in order): read from the list, without the walk from
    the root that each `prev_named_sibling` makes in tree-sitter 0.26."""
    texts: list[bytes] = []  # the `#[..]`s since the last named node that is neither one nor a comment
    prev = None
    for child in children:
        ctype = child.type
        if child.is_named:
            yield child, prev, b" ".join(reversed(texts)) if texts else b""
            if ctype == "attribute_item":
                texts.append(data[child.start_byte : child.end_byte])
            elif texts and ctype not in ("line_comment", "block_comment"):
                texts = []
        prev = ctype


def is_test_item(node: Node, data: bytes, attributes: bytes | None = None) -> bool:
    """`#[test]`, `#[bench]`, `#[tokio::test]`, `#[cfg(test)]` and `#[cfg(all(test, ..))]` (never
    `#[cfg(not(test))]`). (`attributes`: its `_attributes`, when known.)"""
    attrs = (_attributes(node, data) if attributes is None else attributes).replace(b" ", b"")
    if b"#[test]" in attrs or b"::test]" in attrs or b"::test(" in attrs or b"#[bench]" in attrs:
        return True
    return bool(_CFG_TEST.search(attrs)) and b"not(test" not in attrs


def _items(root: Node, data: bytes, include_tests: bool, parsed_apart: bool = False):
    """Top-level items and the items inside impl/trait/mod bodies and item macros, test code left out:
    (item, whether it is in a tree parsed apart: an item macro's)."""
    for child, _, attrs in with_attribute_texts(root.children, data):
        ctype = child.type
        if ctype in SKIPPED_STATEMENTS or ctype == "macro_definition":
            continue
        if not include_tests and is_test_item(child, data, attrs):
            continue
        if ctype in CONTAINERS:
            body = child.child_by_field_name("body")
            if body is not None:
                yield from _items(body, data, include_tests, parsed_apart)
            continue
        if ctype == "macro_invocation":
            inner = expanded(child, data)
            if inner is not None:
                yield from _items(inner, data, include_tests, True)
                continue
        yield child, parsed_apart


def expanded(node: Node, data: bytes) -> Node | None:
    """The items inside an item-level macro call written with braces (tokio's `cfg_rt! { .. }` around
    whole functions), parsed as Rust; None for any other macro call, or when its body is not items
    (`bitflags! { .. }`, `lazy_static! { .. }`)."""
    tt = node.named_children[-1] if node.named_child_count else None
    if tt is None or tt.type != "token_tree" or not _ITEMS_START.match(data, tt.start_byte, tt.end_byte):
        return None
    from ferrolens.analyzers.source import parse_inside

    root = parse_inside(data, tt).root_node
    if root.has_error or not any(c.type in _ITEM_KINDS for c in root.named_children):
        return None
    return root


_ITEM_KINDS = BARRIERS | {"macro_invocation"}
# a brace, then (after comments and attributes) an item's first word: worth parsing as items
_ITEMS_START = re.compile(
    rb"\{(?:\s|//[^\n]*\n|/\*.*?\*/|\#!?\[[^\]]*\])*(?:pub|fn|impl|struct|enum|union|mod|trait|type|const|static|unsafe|async|extern|use|macro_rules)\b",
    re.DOTALL,
)


_QUERY = None


def _query():
    global _QUERY
    if _QUERY is None:
        from ferrolens.analyzers.context import compile_query

        # a match's arms are compared like a block's statements: two matches that share a run of arms
        # (the same cases handled the same way) share logic even when the matches differ elsewhere
        _QUERY = compile_query("(function_item) @fn (block) @block (match_block) @block")
    return _QUERY


def _stmt(norm: list[bytes], exact: list[bytes], i: int, j: int, start: int, end: int) -> Stmt:
    """A statement's (or small item's) record: tokens i..j, both hashes; mostly literals (a data table):
    the exact hash in both slots."""
    part = norm[i:j]
    eh = digest(exact[i:j])
    h = eh if part.count(LITERAL) * 2 > (j - i) and j - i >= 8 else digest(part)
    return (start, end, j - i, h, eh)


Columns = tuple[list[int], list[bytes], list[bytes]]  # a top-level child's tokens: offsets, texts, Type-2 forms


def _columns(data: bytes, start: int, end: int) -> Columns:
    """The tokens of data[start:end] without `use` declarations, lexed once for all the items in it."""
    starts, exact = drop_uses_columns(*lex_columns(data, start, end))
    return starts, exact, normalised_texts(exact)


class _Captures:
    """The functions and blocks of one top-level child, from one run of the query, in document order:
    each of its items takes those that start inside it (one query per child, not one per method)."""

    __slots__ = ("fns", "fn_starts", "blocks", "block_starts")

    def __init__(self, node: Node) -> None:
        caps = QueryCursor(_query()).captures(node)
        self.fns = sorted(caps.get("fn", ()), key=_start)
        self.blocks = sorted(caps.get("block", ()), key=_start)
        self.fn_starts = list(map(_start, self.fns))
        self.block_starts = list(map(_start, self.blocks))

    def within(self, item: Node) -> tuple[list[Node], list[Node]]:
        s, e = item.start_byte, item.end_byte
        return (
            self.fns[bisect_left(self.fn_starts, s) : bisect_left(self.fn_starts, e)],
            self.blocks[bisect_left(self.block_starts, s) : bisect_left(self.block_starts, e)],
        )


_start = attrgetter("start_byte")


def _item_units(item: Node, data: bytes, include_tests: bool, base: int, cols: Columns, first_run: int = 0, caps: _Captures | None = None) -> tuple[list[Run], list[FnUnit], Stmt | None]:
    """Runs and functions of one item, with offsets relative to `base`, and the item's own record when
    it is smaller than SMALL_ITEM tokens (a run of such items can be a clone). `cols` are the tokens
    of the top-level child the item is in, `caps` its functions and blocks (when the item is in its
    tree); the item's runs will follow `first_run` others there (the functions' `body` counts them)."""
    starts, exact, norm = cols
    lo, hi = bisect_left(starts, item.start_byte), bisect_left(starts, item.end_byte)
    if lo == hi:
        return [], [], None

    def span(s: int, e: int) -> tuple[int, int]:
        return bisect_left(starts, s, lo, hi), bisect_left(starts, e, lo, hi)

    fns, blocks = (caps or _Captures(item)).within(item)
    skip: list[tuple[int, int]] = []  # test functions nested in the item
    if not include_tests:
        skip = [(f.start_byte, f.end_byte) for f in fns if f.id != item.id and is_test_item(f, data)]  # (the item itself was asked)
    runs: list[Run] = []
    body_run: dict[int, int] = {}  # block start -> index of its first run
    for block in blocks:
        if skip and any(s <= block.start_byte < e for s, e in skip):
            continue
        if block.has_error:
            continue
        first = len(runs)
        kind = ARMS if block.type == "match_block" else 0
        run: list[Stmt] = []
        for stmt in block.named_children:
            t = stmt.type
            if t in SKIPPED_STATEMENTS:
                continue
            if t in BARRIERS or t == "macro_invocation" and data[stmt.start_byte : stmt.start_byte + 11] == b"macro_rules":
                if run:
                    runs.append(_run(run, kind))
                run = []
                continue
            i, j = span(stmt.start_byte, stmt.end_byte)
            if i == j:
                continue
            run.append(_stmt(norm, exact, i, j, stmt.start_byte - base, stmt.end_byte - base))
        if run:
            runs.append(_run(run, kind))
        if len(runs) > first:
            body_run[block.start_byte] = first
    out_fns = []
    for f in fns:
        if f.has_error or (skip and (f.start_byte, f.end_byte) in skip):
            continue
        i, j = span(f.start_byte, f.end_byte)
        body = f.child_by_field_name("body")
        name = f.child_by_field_name("name")
        b = body_run.get(body.start_byte, -1) if body is not None else -1
        own = b  # the run whose tokens say how much the body does
        if b >= 0 and len(runs[b].stmts) == 1:
            # a body that is one `if`/`if let`/loop/`unsafe` block or one `match` around the work: the
            # statements inside that block (the arms) are the ones near-miss copies share
            inner = _wrapped_block(body)
            b = body_run.get(inner.start_byte, b) if inner is not None else b
            if inner is None or inner.type != "match_block":
                own = b
        out_fns.append(
            FnUnit(
                f.start_byte - base,
                f.end_byte - base,
                j - i,
                digest(norm[i:j]),
                digest(exact[i:j]),
                data[name.start_byte : name.end_byte].decode("utf-8", "replace") if name is not None else "",
                b + first_run if b >= 0 else -1,
                frozenset(runs[b].sig) if b >= 0 else frozenset(),
                sum(st[2] for st in runs[own].stmts) if own >= 0 else 0,
            )
        )
    small = None
    if hi - lo < SMALL_ITEM:
        small = _stmt(norm, exact, lo, hi, item.start_byte - base, item.end_byte - base)
        if all(_body_tokens(f, span) <= TRIVIAL_BODY for f in fns):
            # accessors and one-line delegations (`&self.inner`): only an identical copy counts, a
            # renamed one is the same idiom for another type
            small = _exact_only(small)
    return runs, out_fns, small


def _body_tokens(fn: Node, span) -> int:
    body = fn.child_by_field_name("body")
    if body is None:
        return 0
    i, j = span(body.start_byte, body.end_byte)
    return j - i - 2  # without the braces


def _wrapped_block(body: Node) -> Node | None:
    """The block of the single statement of a function body, when it is an `if` (its first branch),
    a loop or an `unsafe` block, or the arms of a `match` (compared like statements)."""
    stmts = [c for c in body.named_children if c.type not in ("line_comment", "block_comment")]
    if len(stmts) != 1:
        return None
    node = stmts[0]
    if node.type == "expression_statement" and node.named_child_count:
        node = node.named_children[0]
    if node.type == "if_expression":
        return node.child_by_field_name("consequence")
    if node.type in ("for_expression", "while_expression", "loop_expression"):
        return node.child_by_field_name("body")
    if node.type == "unsafe_block":
        return next((c for c in node.named_children if c.type == "block"), None)
    if node.type == "match_expression":
        return node.child_by_field_name("body")
    return None


def _run(stmts: list[Stmt], items: int = 0) -> Run:
    return Run(tuple(s[3] for s in stmts), tuple(stmts), items)


class FingerprintCache:
    """(top-level item type and bytes, is test code) -> that item's runs and functions; keeps what the
    last run used. A keystroke re-fingerprints the one top-level item it changed (an impl is one entry)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, bytes, bool], tuple[list[Run], list[FnUnit]]] = {}


def fingerprint(path: str, data: bytes, root: Node, include_tests: bool = False, cache: FingerprintCache | None = None) -> FileUnits:
    units = FileUnits(path, data)
    units.broken = root.has_error
    if is_generated(data):  # (codegen output is repetitive by construction: never a clone, even when it is checked)
        return units
    fresh: dict[tuple[str, bytes, bool], tuple] = {}
    old = cache.items if cache is not None else {}
    top: list[Stmt] = []  # consecutive small top-level items
    top_runs: list[Run] = []
    # a text without `test` or `bench` has no test item: its items need not be asked (the same units)
    keep_all = include_tests or (b"test" not in data and b"bench" not in data)
    for child, prev, attrs in with_attribute_texts(root.children, data):
        ctype = child.type
        if ctype not in ("line_comment", "block_comment"):
            units.tops.append((child.start_byte, child.end_byte))
            if ctype == "use_declaration":
                units.uses.append((child.start_byte, child.end_byte))
            elif ctype in CONTAINERS and cache is None:  # (the editor's actions have the file's tree)
                body = child.child_by_field_name("body")
                if body is not None and body.type == "declaration_list":
                    items = [(c.start_byte, c.end_byte) for c in body.named_children if c.type not in ("line_comment", "block_comment")]
                    units.bodies[child.start_byte] = (body.start_byte, body.end_byte, items)
        if ctype in SKIPPED_STATEMENTS or ctype == "macro_definition" or child.has_error:
            continue
        test = (
            not include_tests
            and prev in ("attribute_item", "line_comment", "block_comment")
            # the attributes before the item (`#[cfg(test)]` need not be the last of them)
            and b"test" in data[max(0, child.start_byte - 512) : child.start_byte]
            and is_test_item(child, data, attrs)
        )
        if test:
            continue
        if cache is None:  # (a batch run: no item comes back, so no key is worth its copy of the bytes)
            entry = _entry(child, data, keep_all)
        else:
            # (with the node's type: in broken code the same bytes may parse as a block or as a macro's
            # token tree, with other units)
            key = (ctype, data[child.start_byte : child.end_byte], include_tests)
            entry = old.get(key) or fresh.get(key)
            if entry is None:
                entry = _entry(child, data, keep_all)
            fresh[key] = entry
        units.add(child.start_byte, entry[0], entry[1])
        if entry[2] is None:
            _close(top, top_runs)
        else:
            top.append(_moved(entry[2], child.start_byte))
    _close(top, top_runs)
    units.add(0, top_runs, [])
    if cache is not None:
        cache.items = fresh
    return units


def _entry(child: Node, data: bytes, include_tests: bool) -> tuple[list[Run], list[FnUnit], Stmt | None]:
    """One top-level child's runs (its blocks' statements, and its runs of small inner items), its
    functions, and its own record when it is small; offsets relative to the child."""
    runs: list[Run] = []
    fns: list[FnUnit] = []
    inner: list[Stmt] = []
    members: list[Stmt] = []  # the records of a container's items
    parent = None
    kind = ITEMS
    small = None
    cols = _columns(data, child.start_byte, child.end_byte)
    caps = _Captures(child) if child.type in CONTAINERS else None
    for item, parsed_apart in _items_of(child, data, include_tests):
        if item.has_error:
            _close(inner, runs, kind)
            continue
        r, f, small = _item_units(item, data, include_tests, child.start_byte, cols, len(runs), None if parsed_apart else caps)
        fns.extend(f)
        runs.extend(r)
        if item.id != child.id:
            if small is not None:
                members.append(small)
            if small is None or item.parent.id != parent:
                _close(inner, runs, kind)
            if small is not None:
                inner.append(small)
            parent = item.parent.id
            kind = METHODS if item.parent.parent is not None and item.parent.parent.type in ("impl_item", "trait_item") else ITEMS
    _close(inner, runs, kind)
    if parent is not None and child.type == "macro_invocation":
        small = None  # the items of a macro call stand alone, as in a module
    if child.type in CONTAINERS:
        small = None
        if child.end_byte - child.start_byte < 24 * SMALL_ITEM:  # a short impl, trait or mod as a whole
            n = len(cols[0])
            if 0 < n < SMALL_ITEM:
                small = _stmt(cols[2], cols[1], 0, n, 0, child.end_byte - child.start_byte)
                if all(s[3] == s[4] for s in members):  # made of trivial items: identical copies only
                    small = _exact_only(small)
    return runs, fns, small


def _close(seq: list[Stmt], runs: list[Run], kind: int = ITEMS) -> None:
    """End a sequence of small items: two or more make a run."""
    if len(seq) >= 2:
        runs.append(_run(list(seq), items=kind))
    seq.clear()


def _exact_only(s: Stmt) -> Stmt:
    """The record with its exact hash in the normalised slot: only an identical copy matches it."""
    return (*s[:3], s[4], s[4])


def _moved(s: Stmt, by: int) -> Stmt:
    return (s[0] + by, s[1] + by, s[2], s[3], s[4])


def _items_of(child: Node, data: bytes, include_tests: bool):
    """`_items` of one top-level child (the child itself when it holds none)."""
    if child.type in CONTAINERS:
        body = child.child_by_field_name("body")
        if body is not None:
            yield from _items(body, data, include_tests)
        return
    if child.type == "macro_invocation":
        inner = expanded(child, data)
        if inner is not None:
            yield from _items(inner, data, include_tests, True)
            return
    yield child, False


def is_test_path(key: str) -> bool:
    """Files of a crate's `tests/` and `benches/` folders, and `test.rs`/`tests.rs` modules (the file of
    a `#[cfg(test)] mod tests;`): test code, left out unless asked for."""
    parts = key.replace("\\", "/").split("/")
    return "tests" in parts[:-1] or "benches" in parts[:-1] or parts[-1] in ("test.rs", "tests.rs")


def fingerprint_path(path: str, key: str, include_tests: bool, max_size: int) -> FileUnits | None:
    """Read, parse and fingerprint one file from disk (the workspace indexer runs this in worker
    processes). None when the file cannot be read or is not analysable text."""
    from ferrolens.analyzers.source import parse
    from ferrolens.files import check_bytes

    if not include_tests and is_test_path(key):
        return None
    try:
        raw = open(path, "rb").read()
    except OSError:
        return None
    loaded = check_bytes(raw, max_size)
    if loaded.data is None:
        return None
    return fingerprint(key, loaded.data, parse(loaded.data).root_node, include_tests)


def fingerprint_paths(batch: list[tuple[str, str, bool, int]]) -> list[FileUnits | None]:
    return [fingerprint_path(*item) for item in batch]
