"""The clone index of a workspace: every file's fingerprints, and the clone classes they form.

Seeds: from each statement of a run, the shortest window of statements with at least `min_exact` tokens
(70% of `min_tokens`) is hashed (over the statements' normalised hashes); two places with the same seed
have the same statements there. A match under `min_tokens` counts only where its copies are identical. A match is grown forwards from a seed only where it could not have started one
statement earlier, so each maximal run is found once. Whole functions match on the hash of their
normalised tokens. Function pairs that are not clones but share most statements are Type-3 candidates
(near-miss clones), confirmed by a token-level similarity.

`update(units)` swaps one file's entries and returns the files whose clone sets may have changed (the
ones that shared a seed with the old or the new text), so an edit re-fingerprints one file and
re-reports only the files it touches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from collections import Counter
from itertools import chain
from difflib import SequenceMatcher

from ferrolens.analyzers.dry.fingerprint import ARMS, ITEMS, METHODS, FileUnits, Run
from ferrolens.analyzers.dry.tokens import Kind, drop_uses, lex, members, semi_normalised

Loc = tuple[str, int, int]  # path, run index, statement index
NEAR_MISS_DF = 50  # a statement found in more functions than this (`return Ok(())`) proposes no near-miss pair
# code found in more places than this is a pattern (bindings generated per type: web-sys repeats one
# block in 2,300 files), not a copy to factor out: not reported. Comparing every place with every other
# one is quadratic (on the 2M lines of the Debian registry, 8 minutes, 7 GB and 6 million related
# locations); the largest class in the corpus and the DRY benchmark sets has 60 places
MAX_COPIES = 100


@dataclass(frozen=True)
class DryOptions:
    min_tokens: int = 50
    min_lines: int = 5
    include_tests: bool = False
    # a Type-2 clone with more distinct differences than this (identifier or literal pairs that differ,
    # beyond consistently renamed locals) is too different to be worth merging, and is not reported
    max_differences: int = 4
    similarity: float = 0.85  # Type-3 (near-miss) functions: token similarity at least this

    @property
    def min_exact(self) -> int:
        """Identical copies (Type-1) count from 70% of `min_tokens` on: a copied guard block or a pair
        of helpers pasted into a second module is duplication even when short; a short *renamed*
        copy is mostly an idiom (a constructor, an accessor written per type)."""
        return max(10, self.min_tokens * 7 // 10)


RUN_UNITS = {0: "statements", ITEMS: "items", METHODS: "items", ARMS: "arms"}  # Clone.unit of a run, by Run.items


@dataclass(frozen=True)
class Copy:
    path: str
    start: int
    end: int
    first_line: int  # 0-based
    last_line: int

    def label(self) -> str:
        return f"{self.path}:{self.first_line + 1}-{self.last_line + 1}"


@dataclass
class Clone:
    """One place in a file and the other places it duplicates."""

    path: str
    start: int
    end: int
    lines: int
    tokens: int
    unit: str  # "function", or a run of "statements", "items" or match "arms" (see RUN_UNITS)
    name: str  # the function's name (unit "function")
    partners: list[Copy] = field(default_factory=list)
    kind: str = "identical"  # "identical", "renamed" (Type-2) or "similar" (Type-3)
    similarity: float = 1.0
    differences: list[tuple[str, str]] = field(default_factory=list)  # (here, there) token pairs


@dataclass
class _Entry:
    sigs: list[tuple]  # per run: its statements' normalised hashes
    seeds: list[list[tuple[int, int, int]]]  # per run: (seed hash, first statement, end statement)
    fns: list  # per function: see CloneIndex._fn_keys


def _add(table: dict, key, loc) -> None:
    old = table.get(key)
    if old is None:
        table[key] = loc
    elif isinstance(old, list):
        old.append(loc)
    else:
        table[key] = [old, loc]


def _remove(table: dict, key, loc) -> None:
    old = table.get(key)
    if old is None:
        return
    if isinstance(old, list):
        try:
            old.remove(loc)
        except ValueError:
            return
        if len(old) == 1:
            table[key] = old[0]
    elif old == loc:
        del table[key]


def _all(table: dict, key) -> list:
    v = table.get(key)
    return [] if v is None else v if isinstance(v, list) else [v]


class CloneIndex:
    def __init__(self, options: DryOptions | None = None) -> None:
        self.options = options or DryOptions()
        self._min_exact = self.options.min_exact  # (read for every run and function indexed)
        self.files: dict[str, FileUnits] = {}
        self._seeds: dict[int, object] = {}  # seed hash -> Loc or [Loc]
        self._fn_table: dict[int, object] = {}  # normalised fn hash -> (path, fn index) or a list
        self._stmt_table: dict[int, object] = {}  # body statement hash -> (path, fn index): Type-3 candidates
        self._keys: dict[str, _Entry] = {}  # path -> its entries, for removal and partial updates
        self._clones: dict[str, list[Clone]] = {}  # memo, dropped for affected files
        self._pairs: dict[tuple, object] = {}  # see _pair
        self._lexed = _Lexed()
        self.last_affected: set[str] = set()  # what the last update returned (read by the server)
        # file -> the files whose memoised clones point into it (their related locations move with it)
        self._refs: dict[str, set[str]] = {}

    # -- maintenance -------------------------------------------------------------------------------
    def update(self, units: FileUnits, track: bool = True) -> set[str]:
        """Index `units` in place of the file's previous entry. Returns the files whose clone sets may
        have changed: the file itself (its positions may have moved) and every file that shares a
        changed seed or function, before or after the change. Without `track` (a batch that indexes
        every file before it asks for clones) those files are not looked for, every memoised clone
        set is dropped and the file alone is returned (finding them was a third of indexing)."""
        path = units.path
        old = self._keys.get(path)
        previous = self.files.get(path)
        if old is not None and previous is not None and previous.data == units.data:
            self.last_affected = {path}  # the same text again (another file's change re-ran this one)
            return {path}
        self.files[path] = units
        sigs = [run.sig for run in units.runs]
        if old is None:
            entry = _Entry(sigs, [self._seed_run(path, r, run) for r, run in enumerate(units.runs)], self._fn_keys(units))
            for k, fk in enumerate(entry.fns):
                self._add_fn(path, k, fk)
            self._keys[path] = entry
            if not track:
                self._clones.clear()
                self._refs.pop(path, None)
                self.last_affected = {path}
                return {path}
            affected = self._sharers_of(entry.seeds, entry.fns)
        else:
            affected = self._replace(path, old, units, sigs)
        affected |= self._refs.pop(path, set())
        affected.add(path)
        for p in affected:
            self._clones.pop(p, None)
        self.last_affected = affected
        return affected

    def _replace(self, path: str, old: _Entry, units: FileUnits, sigs: list[tuple]) -> set[str]:
        """Swap only the runs and functions whose statements changed (a keystroke changes one)."""
        lo, ln = len(old.sigs), len(sigs)
        p = 0
        while p < lo and p < ln and old.sigs[p] == sigs[p]:
            p += 1
        q = 0
        if lo == ln:  # run indices after the change stay put only when no run came or went
            while q < lo - p and old.sigs[lo - 1 - q] == sigs[ln - 1 - q]:
                q += 1
        gone = old.seeds[p : lo - q]
        affected = self._sharers_of(gone, [])
        for r, run_seeds in enumerate(gone, p):
            for key, i, _j in run_seeds:
                _remove(self._seeds, key, (path, r, i))
        fresh = [self._seed_run(path, r, units.runs[r]) for r in range(p, ln - q)]
        old.seeds[p : lo - q] = fresh
        old.sigs = sigs
        new_fns = self._fn_keys(units)
        changed_fns = []
        for k in range(max(len(old.fns), len(new_fns))):
            before = old.fns[k] if k < len(old.fns) else None
            after = new_fns[k] if k < len(new_fns) else None
            if before == after:
                continue
            if before is not None:
                changed_fns.append(before)
                self._remove_fn(path, k, before)
            if after is not None:
                changed_fns.append(after)
                self._add_fn(path, k, after)
        old.fns = new_fns
        affected |= self._sharers_of(fresh, changed_fns)
        return affected

    def _seed_run(self, path: str, r: int, run: Run) -> list[tuple[int, int, int]]:
        mt = self._min_exact
        out = []
        stmts, sig = run.stmts, run.sig
        n = len(stmts)
        j, total = 0, 0
        for i in range(n):
            while j < n and total < mt:
                total += stmts[j][2]
                j += 1
            if total < mt:
                break
            key = hash(sig[i:j])
            out.append((key, i, j))
            _add(self._seeds, key, (path, r, i))
            total -= stmts[i][2]
        return out

    def _fn_keys(self, units: FileUnits) -> list:
        """Per function: (normalised hash, its body's statement hashes: near-miss candidates, none when
        under `min_tokens`), or None when too small for an identical copy."""
        opts = self.options
        tokens, exact = opts.min_tokens, self._min_exact
        return [(fn.h, fn.stmts if fn.ntok >= tokens else ()) if fn.ntok >= exact else None for fn in units.fns]

    def _add_fn(self, path: str, k: int, fk, op=None) -> None:
        """Enter function k of `path` in the function and statement tables (or take it out: op=_remove)."""
        if fk is None:
            return
        op = op or _add
        op(self._fn_table, fk[0], (path, k))
        for s in fk[1]:
            op(self._stmt_table, s, (path, k))

    def _remove_fn(self, path: str, k: int, fk) -> None:
        self._add_fn(path, k, fk, _remove)

    def remove(self, path: str) -> set[str]:
        """Forget a file (deleted, or no longer Rust); returns the other files whose clones change."""
        entry = self._keys.pop(path, None)
        self.files.pop(path, None)
        if entry is None:
            return set()
        for r, run_seeds in enumerate(entry.seeds):
            for key, i, _j in run_seeds:
                _remove(self._seeds, key, (path, r, i))
        for k, fk in enumerate(entry.fns):
            self._remove_fn(path, k, fk)
        affected = self._sharers_of(entry.seeds, entry.fns) | self._refs.pop(path, set())
        self._clones.pop(path, None)
        for p in affected:
            self._clones.pop(p, None)
        return affected - {path}

    def _sharers_of(self, seeds: list, fns: list) -> set[str]:
        """Files holding one of these seeds or functions (or a near-miss candidate of the functions)."""
        out: set[str] = set()
        for run_seeds in seeds:
            for key, *_ in run_seeds:
                v = self._seeds.get(key)
                if v is not None:
                    out.update(loc[0] for loc in v) if isinstance(v, list) else out.add(v[0])
        for fk in fns:
            if fk is None:
                continue
            v = self._fn_table.get(fk[0])
            if v is not None:
                out.update(loc[0] for loc in v) if isinstance(v, list) else out.add(v[0])
            for s in fk[1]:
                v = self._stmt_table.get(s)
                if isinstance(v, list) and len(v) <= NEAR_MISS_DF:
                    out.update(loc[0] for loc in v)
        return out

    # -- queries -----------------------------------------------------------------------------------
    def clones(self, path: str) -> list[Clone]:
        memo = self._clones.get(path)
        if memo is None:
            memo = self._clones[path] = self._compute(path) if path in self.files else []
            for c in memo:
                for q in c.partners:
                    if q.path != path:
                        self._refs.setdefault(q.path, set()).add(path)
        return memo

    def _copy(self, path: str, start: int, end: int, here: str) -> Copy:
        if path == here:  # lines resolved in one pass at the end of _compute
            return Copy(path, start, end, -1, -1)
        units = self.files[path]
        return Copy(path, start, end, units.line(start), units.line(end))

    @staticmethod
    def _own_lines(units: FileUnits, clones: list[Clone]) -> list[Clone]:
        todo = [c for clone in clones for c in clone.partners if c.first_line < 0]
        if todo:
            lines = units.lines_of([o for c in todo for o in (c.start, c.end)])
            for clone in clones:
                clone.partners = [Copy(c.path, c.start, c.end, lines[c.start], lines[c.end]) if c.first_line < 0 else c for c in clone.partners]
        return clones

    def _compute(self, path: str) -> list[Clone]:
        units = self.files[path]
        opts = self.options
        found: list[Clone] = []
        # whole functions
        for k, fn in enumerate(units.fns):
            if fn.ntok < opts.min_exact:
                continue
            locs = _all(self._fn_table, fn.h)
            if len(locs) > MAX_COPIES:
                continue
            others = [loc for loc in locs if loc != (path, k)]
            if not others:
                continue
            # a short body under a long signature (a trait method handing the call on to a field):
            # the signature is the trait's, so only an identical copy says something was copied (as
            # for any function under `min_tokens`)
            thin = _thin(units, k, opts)
            if thin and fn.ntok < opts.min_tokens:
                continue  # a short function that hands the call on: the same delegation in two types
            thin = thin or fn.ntok < opts.min_tokens
            start, end = units.fn_span(k)
            spans = []
            for p2, k2 in others:
                o = self.files[p2]
                if thin and o.fns[k2].exact != fn.exact:
                    continue
                s2, e2 = o.fn_span(k2)
                spans.append((p2, s2, e2, o.fns[k2].exact, o.fns[k2].exact == fn.exact))
            if not spans:
                continue
            clone = self._make(units, start, end, fn.ntok, "function", fn.name, fn.exact, spans)
            if clone is not None:
                found.append(clone)
        found.extend(self._near_misses(path))
        # statement runs
        by_range: dict[tuple[int, int, int], list] = {}
        for r, run_seeds in enumerate(self._keys[path].seeds):
            sig = units.runs[r].sig
            for key, i, j in run_seeds:
                locs = self._seeds.get(key)
                if not isinstance(locs, list) or len(locs) > MAX_COPIES:
                    continue
                for p2, r2, i2 in locs:
                    if (p2, r2, i2) == (path, r, i):
                        continue
                    same_run = p2 == path and r2 == r
                    osig = self.files[p2].runs[r2].sig
                    if i > 0 and i2 > 0 and sig[i - 1] == osig[i2 - 1]:
                        continue  # found from an earlier seed
                    n = j - i
                    while i + n < len(sig) and i2 + n < len(osig) and sig[i + n] == osig[i2 + n]:
                        n += 1
                    if same_run:
                        n = min(n, abs(i2 - i))  # a run repeated inside one block: copies must not overlap
                        if sum(s[2] for s in units.runs[r].stmts[i : i + n]) < opts.min_exact:
                            continue
                    by_range.setdefault((r, i, i + n), []).append((p2, r2, i2))
        for (r, i, e), partners in by_range.items():
            stmts = units.runs[r].stmts
            ntok = sum(s[2] for s in stmts[i:e])
            kind = units.runs[r].items
            if len(set(units.runs[r].sig[i:e])) < max(2, (e - i) / 3) and (kind in (ITEMS, METHODS) or ntok < SHAPE_TOKENS * (e - i)):
                # one short statement shape repeated (`let a = x.read()?;` six times), or a family of
                # items of one shape (constructors that differ in a name): a pattern, not logic (a
                # block of logic repeated, such as the same body under two `#[cfg]`s, is)
                continue
            if ntok < opts.min_tokens and kind == METHODS and all(s[3] == s[4] for s in stmts[i:e]):
                # a few short methods that read a field or hand the call on, written alike for two
                # types (a longer identical set of them is a copy: reviewed as such on tokio and syn)
                continue
            start, end = units.span(r, i, e)
            exact = hash(tuple(s[4] for s in stmts[i:e]))
            spans = []
            for p2, r2, i2 in partners:
                o = self.files[p2]
                ostmts = o.runs[r2].stmts[i2 : i2 + e - i]
                oexact = hash(tuple(s[4] for s in ostmts))
                if oexact != exact and ntok < opts.min_tokens:
                    continue  # a short run counts only as an identical copy
                spans.append((p2, *o.span(r2, i2, i2 + e - i), oexact, oexact == exact))
            if not spans:
                continue
            clone = self._make(units, start, end, ntok, RUN_UNITS[kind], "", exact, spans)
            if clone is not None:
                found.append(clone)
        return self._own_lines(units, _outermost(found, opts.min_tokens))

    def _pair(self, kind: str, a: int, b: int, compute):
        """Pairwise results (differences, similarity) keyed by the two ranges' exact-token hashes: an
        edit elsewhere never recomputes them."""
        key = (kind, a, b) if kind != "sim" else (kind, min(a, b), max(a, b))  # similarity is symmetric
        if key not in self._pairs:
            if len(self._pairs) > 200_000:
                self._pairs.clear()
            self._pairs[key] = compute()
        return self._pairs[key]

    def _make(self, units: FileUnits, start: int, end: int, ntok: int, unit: str, name: str, exact: int, others) -> Clone | None:
        opts = self.options
        lines = units.lines_in(start, end)
        if lines < opts.min_lines:
            return None
        clone = Clone(units.path, start, end, lines, ntok, unit, name)
        renamed = []  # ((path, start) of a renamed copy, its differences)
        for p2, s2, e2, oexact, same in others:
            if not same:
                odata = self.files[p2].data
                diffs = self._pair("diff", exact, oexact, lambda: differences(units.data, start, end, odata, s2, e2, self._lexed))
                if diffs is None or len(diffs) > opts.max_differences:
                    continue
                if _for_own_type(diffs, units.data, start, odata, s2):
                    continue  # a trait's method written for another type (rayon's split_at per adaptor)
                if any((y, x) in diffs for x, y in diffs):
                    continue  # two names trade places (`Greater => a` against `Greater => b`): mirror logic, min against max
                renamed.append(((p2, s2), diffs))
            clone.partners.append(self._copy(p2, s2, e2, units.path))
        if not clone.partners:
            return None
        if renamed:
            # the differences with the first renamed copy in the report's order, not in the index's:
            # the same message whichever order the files were indexed in (editor and batch agree)
            clone.kind, clone.differences = "renamed", min(renamed)[1]
        clone.partners.sort(key=lambda c: (c.path, c.start))
        return clone

    # -- Type-3 ------------------------------------------------------------------------------------
    def _near_misses(self, path: str) -> list[Clone]:
        """Functions that share most of their statements with a function that is not an exact or
        renamed copy: a few statements added, removed or changed."""
        opts = self.options
        units = self.files[path]
        out = []
        for k, fn in enumerate(units.fns):
            mine = fn.stmts
            if fn.ntok < opts.min_tokens or len(mine) < 2 or _thin(units, k, opts) or _table(units, k):
                continue  # (a thin body under a trait's long signature is alike by construction)
            # the functions that share statements with this one, and how many (a statement only here,
            # or in many functions like `return Ok(())`, says nothing)
            counts = Counter(chain.from_iterable(locs for locs in map(self._stmt_table.get, mine) if isinstance(locs, list) and len(locs) <= NEAR_MISS_DF))
            counts.pop((path, k), None)
            clone = None
            for (p2, k2), shared in sorted(item for item in counts.items() if item[1] * 2 >= len(mine)):
                o = self.files[p2]
                ofn = o.fns[k2]
                if shared * 2 < len(ofn.stmts):
                    continue  # (with the test above, symmetric: both copies report each other)
                if ofn.h == fn.h or not (0.7 <= ofn.ntok / fn.ntok <= 1.43) or _table(o, k2):
                    continue
                if ofn.name == fn.name and _two_trait_impls(units, units.fn_span(k)[0], o, o.fn_span(k2)[0]):
                    continue  # one trait method written for two types: alike because the trait asks for it
                body, obody = units.fn_body(k), o.fn_body(k2)
                if body < 0 or obody < 0:
                    continue
                mine_spans = [units.span(body, j, j + 1) for j in range(len(units.runs[body].stmts))]
                their_spans = [o.span(obody, j, j + 1) for j in range(len(o.runs[obody].stmts))]
                # in one order whichever copy asks first (the ratio is not quite symmetric), so both
                # copies, and every run, agree
                a, b = ((units.data, mine_spans), (o.data, their_spans)) if fn.exact <= ofn.exact else ((o.data, their_spans), (units.data, mine_spans))
                ratio = self._pair("sim", fn.exact, ofn.exact, lambda: similarity(*a, *b, floor=opts.similarity, lexed=self._lexed))
                if ratio < opts.similarity:
                    continue
                start, end = units.fn_span(k)
                s2, e2 = o.fn_span(k2)
                if clone is None:
                    clone = Clone(path, start, end, units.lines_in(start, end), fn.ntok, "function", fn.name, kind="similar")
                clone.similarity = min(clone.similarity, ratio)
                clone.partners.append(self._copy(p2, s2, e2, units.path))
            if clone is not None and clone.lines >= opts.min_lines:
                out.append(clone)
        return out

    # -- statistics --------------------------------------------------------------------------------
    def duplicated_lines(self, path: str) -> tuple[int, int]:
        """(lines inside a reported clone, all lines) of one file."""
        units = self.files.get(path)
        if units is None:
            return 0, 0
        covered: set[int] = set()
        for c in self.clones(path):
            first = units.line(c.start)
            covered.update(range(first, first + c.lines))
        return len(covered), units.data.count(b"\n") + (0 if units.data.endswith(b"\n") else 1)


_IMPL_PREFIX = re.compile(rb"[ \t]*(?:unsafe[ \t]+)?")
# the type's name (the last segment of its path), or the bracket of a tuple, slice or reference type
_IMPL_FOR = re.compile(rb"impl\b[^{;]*?\bfor\s+(?:[A-Za-z_][A-Za-z0-9_]*::)*([A-Za-z_][A-Za-z0-9_]*|[(\[&])[^{;]*\{")


def _impl_of(data: bytes, start: int) -> tuple[str, int] | None:
    """The type of the `impl Trait for Type {` a method at `start` sits in, and where that impl starts
    (judged from the nearest line starting with `impl` in the 20 KB before it; None when that is not a
    trait impl)."""
    lo, pos = max(0, start - 20000), start
    while (pos := data.rfind(b"impl", lo, pos)) >= 0:
        after = data[pos + 4 : pos + 5]
        line = data.rfind(b"\n", 0, pos) + 1
        if (not after or not (after.isalnum() or after == b"_")) and _IMPL_PREFIX.fullmatch(data, line, pos):
            m = _IMPL_FOR.match(data, pos, start)
            if m is None or b"}" in data[m.end() : data.find(b"\n", m.end(), start)] or data.find(b"\n" + data[line:pos] + b"}", m.end(), start) >= 0:
                return None  # an inherent impl, or one that closed before `start` (`{}`, or its `}` at its indent)
            return m.group(1).decode("utf-8", "replace"), pos
    return None


def _impl_types(a: bytes, a0: int, b: bytes, b0: int) -> tuple[str, str] | None:
    """The types of the trait impls code at a0 in `a` and at b0 in `b` sits in, when both are trait
    impls and for two different types."""
    mine, theirs = _impl_of(a, a0), _impl_of(b, b0)
    return (mine[0], theirs[0]) if mine is not None and theirs is not None and mine[0] != theirs[0] else None


def _two_trait_impls(a: FileUnits, a0: int, b: FileUnits, b0: int) -> bool:
    """Code at a0 and at b0 sits in two different trait impl blocks (for two types, or for two local
    types of one name in two modules, such as rayon's `Callback` per adaptor)."""
    mine, theirs = _impl_of(a.data, a0), _impl_of(b.data, b0)
    return mine is not None and theirs is not None and (a.path != b.path or mine[1] != theirs[1])


def _for_own_type(diffs: list[tuple[str, str]], a: bytes, a0: int, b: bytes, b0: int) -> bool:
    """Renamed copies whose differences are the types their trait impls are for, or names made from
    them: the trait asks each type for the same method, so the likeness is the trait's, not a copy to
    share (`MapFolder { map_op, .. }` in `MapConsumer` against `InspectFolder { inspect_op, .. }` in
    `InspectConsumer`; `f.debug_struct("Receiver")` in a hand-written Debug)."""
    types = _impl_types(a, a0, b, b0)
    if types is None:
        return False
    if types in diffs or (f'"{types[0]}"', f'"{types[1]}"') in diffs:
        return True
    stems = _stems(*types)
    return stems is not None and all(_renamed_by(x, y, stems) for x, y in diffs)


def _stems(x: str, y: str) -> tuple[str, str] | None:
    """What differs between two type names once their common start and end are taken off
    (`InspectConsumer`, `MapConsumer` -> `Inspect`, `Map`); None when one is empty or a letter."""
    p = 0
    while p < min(len(x), len(y)) and x[p] == y[p]:
        p += 1
    q = 0
    while q < min(len(x), len(y)) - p and x[-1 - q] == y[-1 - q]:
        q += 1
    while p > 0 and not (p < min(len(x), len(y)) and x[p].isupper() and y[p].isupper()):
        p -= 1  # whole words only: `MicroSeconds` and `MilliSeconds` differ in `Micro`, not `cro`
    while q > 0 and not (x[-q].isupper() and y[-q].isupper()):
        q -= 1
    sx, sy = x[p : len(x) - q], y[p : len(y) - q]
    return (sx, sy) if len(sx) >= 2 and len(sy) >= 2 else None


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _renamed_by(x: str, y: str, stems: tuple[str, str]) -> bool:
    """`y` is `x` with the stem of one type swapped for the other's, in any case style."""
    a, b = stems
    return any(f in x and x.replace(f, t) == y for f, t in ((a, b), (_snake(a), _snake(b)), (_snake(a).upper(), _snake(b).upper())))


def _thin(units: FileUnits, k: int, opts: DryOptions) -> bool:
    """Function k's body (its statements' tokens) is under half a clone: a trait method handing the
    call on under a long signature the trait dictates."""
    return units.fns[k].body_tokens < opts.min_tokens // 2


def _table(units: FileUnits, k: int) -> bool:
    """Function k's body is one `match` whose arms are short and of few shapes (`Month::May => 5`
    twelve times): a table of values, whose look-alikes hold other data rather than repeat its logic."""
    r = units.fn_body(k)
    stmts = units.runs[r].stmts if r >= 0 and units.runs[r].items == ARMS else ()
    n = len(stmts)
    return n > 0 and len(units.fns[k].stmts) < max(2, n / 2) and sum(st[2] for st in stmts) < SHAPE_TOKENS * n


def _outermost(clones: list[Clone], min_tokens: int) -> list[Clone]:
    """Drop a clone that lies inside another reported one (a run inside a copied function). A
    near-miss function that holds an exact or renamed run of `min_tokens` is dropped instead: the run
    is the part that can be shared (a shorter identical run is not worth losing the function's
    other copies for)."""
    exact = [c for c in clones if c.kind != "similar" and c.tokens >= min_tokens]
    clones = [c for c in clones if c.kind != "similar" or not any(c.start <= e.start and e.end <= c.end for e in exact)]
    clones.sort(key=lambda c: (c.start, -c.end))
    out: list[Clone] = []
    reach = -1
    for c in clones:
        if out and (c.start, c.end) == (out[-1].start, out[-1].end):
            last = out[-1]  # the same function is a copy of one place and similar to another
            last.partners.extend(p for p in c.partners if p not in last.partners)
            continue
        if out and c.end <= reach and _covered(c, [o for o in out if o.start <= c.start and c.end <= o.end]):
            continue
        out.append(c)
        reach = max(reach, c.end)
    return out


def _covered(inner: Clone, outer: list[Clone]) -> bool:
    """Every copy of `inner` lies inside a copy of a clone around it (a run inside a copied function);
    a part copied to a place of its own (the same seven arms in a third `match`) is reported too."""
    return all(any(q.path == p.path and q.start <= p.start and p.end <= q.end for o in outer for q in o.partners) for p in inner.partners)


_BINDERS = {b"let", b"mut", b"for", b"|", b"ref"}
_INLINE_ARG = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)")
SHAPE_TOKENS = 20  # statements this long on average are logic even when their shapes repeat
MAX_MEMBER_CHANGES = 1  # renamed copies: fields or methods that differ (more: other data, other work)
MAX_MEMBER_DRIFT = 4  # near-miss functions: fields and methods used by one and not the other


class _Lexed:
    """`lex` of byte ranges, remembered under a budget of tokens: the clone report compares a copy with
    each of its partners and a function with each near-miss candidate (on 180k lines, 4,318 ranges
    lexed where 1,761 differ). Keyed by the text itself (a bytes object hashes once): never stale."""

    BUDGET = 100_000  # tokens kept (a few MB) before it starts again

    def __init__(self) -> None:
        self._memo: dict[tuple[bytes, int, int], list] = {}
        self._tokens = 0

    def __call__(self, data: bytes, start: int, end: int) -> list[tuple[int, bytes, int]]:
        key = (data, start, end)
        hit = self._memo.get(key)
        if hit is None:
            hit = lex(data, start, end)
            if self._tokens + len(hit) > self.BUDGET:
                self._memo.clear()
                self._tokens = 0
            self._memo[key] = hit
            self._tokens += len(hit)
        return hit


def differences(a: bytes, a0: int, a1: int, b: bytes, b0: int, b1: int, lexed=lex) -> list[tuple[str, str]] | None:
    """The distinct (here, there) token pairs that differ between two normalised-equal ranges, leaving
    out locals and parameters that are bound inside the range and renamed consistently. None when the
    ranges do not align, or when they touch different fields or call different methods. (`lexed`: a
    `lex` that may remember.)"""
    ta, tb = drop_uses(lexed(a, a0, a1)), drop_uses(lexed(b, b0, b1))
    if len(ta) != len(tb):
        return None
    pairs: dict[tuple[bytes, bytes], bool] = {}
    fwd: dict[bytes, bytes] = {}
    back: dict[bytes, bytes] = {}
    bound: set[bytes] = set()
    member_pairs: set[tuple[bytes, bytes]] = set()
    prev = b""
    in_signature = bool(ta) and ta[0][1] in (b"fn", b"pub", b"async", b"const", b"unsafe", b"extern")
    pattern_end: bytes | None = None  # inside a `let`/`for`/closure pattern: the token that ends it
    for n, ((_, x, kx), (_, y, ky)) in enumerate(zip(ta, tb)):
        if x == b"{" and pattern_end is None:
            in_signature = False
        nxt = ta[n + 1][1] if n + 1 < len(ta) else b""
        if pattern_end is not None and x == pattern_end:
            pattern_end = None
        elif x == b"let":
            pattern_end = b"="
        elif x == b"for":
            pattern_end = b"in"
        elif x == b"|" and prev in (b"(", b",", b"=", b"move", b"{", b";", b""):
            pattern_end = b"|"
        if kx == Kind.IDENT and (
            prev in _BINDERS
            or prev == b"fn"
            or (in_signature and prev in (b"(", b",") and nxt == b":")
            or (pattern_end is not None and nxt not in (b"(", b"{", b"::") and prev != b"::" and x[:1].islower())
        ):
            bound.add(x)  # a local, a closure or fn parameter, or the function's own name
        if x != y:
            if kx != ky:
                return None
            pairs.setdefault((x, y), False)
            if prev == b".":
                member_pairs.add((x, y))
        if kx == Kind.IDENT:
            fwd.setdefault(x, y)
            back.setdefault(y, x)
        prev = x
    if len(member_pairs) > MAX_MEMBER_CHANGES:
        return None
    out = []
    renamed = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in fwd.items() if k in bound and back.get(v) == k}
    for x, y in pairs:
        consistent = fwd.get(x) == y and back.get(y) == x
        if x in bound and consistent:
            continue
        if x[:1] == b'"' and _INLINE_ARG.sub(lambda m: "{" + renamed.get(m.group(1), m.group(1)), x.decode("utf-8", "replace")) == y.decode("utf-8", "replace"):
            continue  # a format string whose inline arguments follow the renamed locals
        out.append((x.decode("utf-8", "replace"), y.decode("utf-8", "replace")))
    return out


def similarity(a: bytes, a_stmts: list[tuple[int, int]], b: bytes, b_stmts: list[tuple[int, int]], floor: float = 0.0, lexed=lex) -> float:
    """Token similarity of two function bodies (given as their statements' byte ranges), variables and
    literals normalised. 0 when they touch different fields or methods, or when fewer than half of
    their statements are alike: a near-miss repeats most steps and changes a few. 0 also when a cheap
    upper bound of the similarity is under `floor`."""
    la = [lexed(a, s, e) for s, e in a_stmts]
    lb = [lexed(b, s, e) for s, e in b_stmts]
    if len(members([t for x in la for t in x]) ^ members([t for x in lb for t in x])) > MAX_MEMBER_DRIFT:
        return 0.0
    sa = [semi_normalised(x) for x in la]
    sb = [semi_normalised(x) for x in lb]
    pool = Counter(tuple(x) for x in sb)
    alike = 0
    for x in sa:
        if pool[tuple(x)] > 0:
            pool[tuple(x)] -= 1
            alike += 1
    if alike * 2 < max(len(sa), len(sb)):
        return 0.0
    matcher = SequenceMatcher(None, [t for x in sa for t in x], [t for x in sb for t in x], autojunk=False)
    return matcher.ratio() if matcher.quick_ratio() >= floor else 0.0
