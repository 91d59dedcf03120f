"""Property tests: random edit sequences on real files through the document store and the engine."""

from __future__ import annotations


import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import FIXTURES, ROOT
from ferrolens.analyzers.engine import ITEM_KINDS, Engine, ItemCache, RuleSelection, error_ranges
from ferrolens.analyzers.fix import apply_edits, non_overlapping
from ferrolens.analyzers.model import Edit
from ferrolens.analyzers.registry import all_rules
from ferrolens.analyzers.source import UTF8, UTF16, UTF32, SourceFile, parse

SEEDS = sorted(p.read_bytes() for p in [*FIXTURES.glob("*/*.rs"), *(ROOT / "examples").rglob("*.rs")])
ENGINE = Engine(RuleSelection(tuple(all_rules().values())))
SNIPPETS = [
    "", "x", "\n", "{", "}", "(", ")", ";", "/*", "*/", '"', "😀", "中文", "é", "\r\n", "\t",
    "let mut v = Vec::new();", "v.push(1);", ".unwrap_or(format!(\"{}\", 1))", "for i in 0..3 {", "fn g() {}",
    "// ferrolens: allow(all)\n", "impl S {", "loop {", "\ud800",
]

edit_strategy = st.tuples(st.floats(0, 1), st.floats(0, 0.05), st.sampled_from(SNIPPETS) | st.text(max_size=6))


def _char_boundary(data: bytes, at: int) -> int:
    while 0 < at < len(data) and (data[at] & 0xC0) == 0x80:
        at -= 1
    return at


def _naive_position(data: bytes, offset: int, enc: str) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n")
    col = before[before.rfind(b"\n") + 1 :].decode("utf-8", "surrogatepass")
    if enc == UTF8:
        return line, len(col.encode("utf-8", "surrogatepass"))
    if enc == UTF16:
        return line, sum(2 if ord(c) > 0xFFFF else 1 for c in col)
    return line, len(col)


@settings(max_examples=int(os.environ.get("FERROLENS_FUZZ_EXAMPLES", "100")), derandomize=bool(os.environ.get("CI")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seed=st.sampled_from(SEEDS), edits=st.lists(edit_strategy, min_size=1, max_size=12))
@example(
    # the last deletion lets `#[cold]` belong to `fn already_cold` again, just past the changed text:
    # its group, outside that text, was once kept with the finding made while the attribute was apart
    seed=(FIXTURES / "inline" / "cold_path.fixed.rs").read_bytes(),
    edits=[(0.0, 0.03125, ""), (0.625, 0.03125, ""), (0.0, 0.046875, ""), (0.3984375, 0.03125, ""), (0.75, 0.03125, ""), (0.0, 0.03125, "")],
)
def test_incremental_store_matches_fresh_state(seed: bytes, edits):
    src = SourceFile(seed)
    cache = ItemCache()
    ENGINE.analyze(src, cache)
    for where, span, text in edits:
        data = src.data
        start = _char_boundary(data, int(where * len(data)))
        end = _char_boundary(data, min(len(data), start + int(span * len(data))))
        src.apply_edit(start, end, text.encode("utf-8", "surrogatepass"))
        # the incremental tree is the tree a fresh parse gives; on broken input tree-sitter's error
        # recovery may differ between the two, but then both must be broken
        fresh = parse(src.data).root_node
        if fresh.has_error:
            assert src.root.has_error
        else:
            assert str(src.root) == str(fresh)
        # the chunked line index agrees with counting by hand, in every encoding
        for probe in {0, len(src.data), start, _char_boundary(src.data, len(src.data) // 2)}:
            for enc in (UTF8, UTF16, UTF32):
                line, col = src.position(probe, enc)
                assert (line, col) == _naive_position(src.data, probe, enc)
                inside_crlf = 0 < probe < len(src.data) and src.data[probe - 1 : probe + 1] == b"\r\n"
                # LSP cannot address the point between \r and \n: it maps to the end of the line
                assert src.offset(line, col, enc) == (probe - 1 if inside_crlf else probe)
        # cached, incremental analysis gives what a cold analysis gives
        warm = ENGINE.analyze(src, cache)
        cold = ENGINE.analyze(SourceFile(src.data, tree=src.tree))
        assert warm == cold
        _check_findings(src, warm)



@settings(max_examples=int(os.environ.get("FERROLENS_FUZZ_EXAMPLES", "100")), derandomize=bool(os.environ.get("CI")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    seed=st.sampled_from(SEEDS),
    bursts=st.lists(st.tuples(st.lists(edit_strategy, min_size=1, max_size=5), st.booleans()), min_size=1, max_size=6),
)
@example(
    seed=(FIXTURES / "dry" / "identical_branches.rs").read_bytes(),
    bursts=[([(0.0, 0.006673453600050063, ""), (1.0, 0.0, "let mut v = Vec::new();"), (0.75, 0.01171875, ""), (0.0, 0.037109375, ""), (0.34375, 0.03125, "")], False)],
)
def test_bursts_of_edits_walk_only_what_changed_and_match_a_fresh_analysis(seed: bytes, bursts):
    """Several edits between two analyses (a didChange burst), reparsed once or dropped tree and all:
    the engine walks only the top-level items in the changed text, and still finds what a cold
    analysis finds."""
    src = SourceFile(seed)
    cache = ItemCache()
    ENGINE.analyze(src, cache)
    for edits, drop in bursts:
        for where, span, text in edits:
            data = src.data
            start = _char_boundary(data, int(where * len(data)))
            end = _char_boundary(data, min(len(data), start + int(span * len(data))))
            src.apply_edit(start, end, text.encode("utf-8", "surrogatepass"), reparse=False)
        if drop:
            src.drop_tree()
        warm = ENGINE.analyze(src, cache)
        # a cold analysis of the same text finds the same. On broken input tree-sitter's incremental
        # error recovery may build another tree than a fresh parse (found by a 3,000-example run: a
        # deletion let `fn nested` swallow the five items after it): there the cold analysis gets the
        # same tree; on well-formed input the trees are the same
        fresh = SourceFile(src.data)
        if not fresh.root.has_error:
            assert str(src.root) == str(fresh.root)
        assert warm == ENGINE.analyze(fresh if not fresh.root.has_error else SourceFile(src.data, tree=src.tree))


def _check_findings(src: SourceFile, findings) -> None:
    data = src.data
    bad = error_ranges(src.root) if src.root.has_error else []
    for f in findings:
        assert 0 <= f.start <= f.end <= len(data)
        spans = [(f.start, f.end)] + [(e.start, e.end) for fx in f.all_fixes() for e in fx.edits]
        for s, e in spans:
            assert 0 <= s <= e <= len(data)
            assert not any(s <= be and bs <= e for bs, be in bad), "a finding or fix touches broken syntax"
    fixes = non_overlapping(f.fix for f in findings if f.fix)
    if fixes and not bad:
        fixed = apply_edits(data, [e for fx in fixes for e in fx.edits])
        assert not parse(fixed).root_node.has_error, "a fix introduced a parse error"
    elif fixes:
        # in a file that is already broken, tree-sitter's error recovery may read the whole file
        # differently after any change; what must hold is that the item a fix touches, parsed on its
        # own, is still well-formed after the fix
        for fx in fixes:
            node = src.root.descendant_for_byte_range(fx.edits[0].start, fx.edits[0].start)
            while node is not None and node.type not in ITEM_KINDS:
                node = node.parent
            if node is None or node.has_error:
                continue
            a, b = node.start_byte, node.end_byte
            inside = [Edit(e.start - a, e.end - a, e.content) for e in fx.edits if a <= e.start and e.end <= b]
            if len(inside) != len(fx.edits) or parse(data[a:b]).root_node.has_error:
                continue
            assert not parse(apply_edits(data[a:b], inside)).root_node.has_error, f"a fix broke its item: {fx.message}"


@settings(max_examples=25, deadline=None)
@given(seed=st.sampled_from(SEEDS))
def test_allow_comments_silence_every_finding(seed: bytes):
    src = SourceFile(seed)
    findings = ENGINE.analyze(src)
    lines = seed.split(b"\n")
    for line in sorted({src.position(f.start)[0] for f in findings}, reverse=True):
        lines.insert(line, b"// ferrolens: allow(" + ", ".join(sorted({f.rule for f in findings})).encode() + b")")
    assert ENGINE.analyze(SourceFile(b"\n".join(lines))) == []


def test_clippy_allow_attribute_silences_mirrored_rule():
    code = b"#[allow(clippy::or_fun_call)]\nfn f(o: Option<String>) -> String { o.unwrap_or(format!(\"x{}\", 1)) }\n"
    assert ENGINE.analyze(SourceFile(code)) == []
    inner = b"#![allow(clippy::or_fun_call)]\nfn f(o: Option<String>) -> String { o.unwrap_or(format!(\"x{}\", 1)) }\n"
    assert ENGINE.analyze(SourceFile(inner)) == []
    on_impl = b"struct S;\n#[allow(clippy::or_fun_call)]\nimpl S { fn f(o: Option<String>) -> String { o.unwrap_or(format!(\"x{}\", 1)) } }\n"
    assert ENGINE.analyze(SourceFile(on_impl)) == []
    other = b"#[allow(clippy::needless_range_loop)]\nfn f(o: Option<String>) -> String { o.unwrap_or(format!(\"x{}\", 1)) }\n"
    assert [f.rule for f in ENGINE.analyze(SourceFile(other))] == ["eager_fallback"]


def test_a_raising_rule_is_isolated():
    from ferrolens.analyzers.registry import Rule

    def boom(ctx, item):
        raise ValueError("boom")

    broken = Rule(name="boom", group="test", summary="", docs="", check=boom)
    seen = []
    engine = Engine(RuleSelection((broken, all_rules()["eager_fallback"])), on_error=lambda r, e: seen.append(r.name))
    findings = engine.analyze(SourceFile(b"fn f(o: Option<String>) -> String { o.unwrap_or(format!(\"x{}\", 1)) }\n"))
    assert [f.rule for f in findings] == ["eager_fallback"] and seen == ["boom"]


def test_edits_only_reanalyse_the_touched_item():
    calls = []
    from ferrolens.analyzers.registry import Rule

    def counting(ctx, item):
        calls.append(ctx.text(item.child_by_field_name("name")))
        return ()

    engine = Engine(RuleSelection((Rule(name="count", group="test", summary="", docs="", check=counting),)))
    src = SourceFile(b"fn a() {}\nfn b() {}\nimpl S {\n    fn c() {}\n    fn d() {}\n}\n")
    cache = ItemCache()
    engine.analyze(src, cache)
    assert calls == ["a", "b", "c", "d"]
    calls.clear()
    at = src.data.index(b"fn d() {}") + len(b"fn d() {")
    src.apply_edit(at, at, b" 1; ")
    engine.analyze(src, cache)
    assert calls == ["d"]
    # the walk itself is limited to the changed text: the other top-level items come back from the
    # cache as they were (moved), never re-read from the tree
    before = [g.entries for g in cache.groups]
    calls.clear()
    at = src.data.index(b"fn a() {") + len(b"fn a() {")
    src.apply_edit(at, at, b" 2; ")
    engine.analyze(src, cache)
    after = [g.entries for g in cache.groups]
    assert calls == ["a"]
    assert after[0] is not before[0] and all(a is b for a, b in zip(after[1:], before[1:]))


def _clone_view(index, paths):
    return {
        p: sorted((c.start, c.end, c.unit, c.kind, round(c.similarity, 6), tuple((q.path, q.start, q.end, q.first_line, q.last_line) for q in c.partners)) for c in index.clones(p))
        for p in paths
    }


DRY_SEEDS = sorted(p.read_bytes() for p in [*FIXTURES.glob("dry/*.rs"), *(ROOT / "examples").rglob("*.rs")])


@settings(max_examples=int(os.environ.get("FERROLENS_FUZZ_EXAMPLES", "100")) // 2, derandomize=bool(os.environ.get("CI")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    seeds=st.lists(st.sampled_from(DRY_SEEDS), min_size=2, max_size=3),
    edits=st.lists(st.tuples(st.integers(0, 3), edit_strategy), min_size=1, max_size=8),
)
@example(
    # `impl S {` typed and deleted again: main's body is a macro's token tree, then a block again, with
    # the same bytes (the fingerprint cache once handed the block the token tree's empty units)
    seeds=[(FIXTURES / "dry" / "identical_branches.rs").read_bytes(), (FIXTURES / "dry" / "duplicate_expression.rs").read_bytes()],
    edits=[(0, (0.59375, 0.015625, "impl S {")), (0, (0.59375, 0.015625, ""))],
)
@example(
    seeds=[(FIXTURES / "dry" / "identical_branches.rs").read_bytes(), (FIXTURES / "dry" / "duplicate_expression.rs").read_bytes()],
    edits=[(0, (0.0, 0.0234375, "")), (0, (0.359375, 0.0234375, "loop {")), (2, (0.375, 0.03125, ""))],
)
def test_workspace_clone_index_updated_in_place_matches_a_fresh_one(seeds, edits):
    """The partial updates of the clone index (changed runs and functions only) give the clones a
    fresh index of the same files gives, for every file, after every edit."""
    from ferrolens.analyzers.dry.fingerprint import FingerprintCache, fingerprint
    from ferrolens.analyzers.dry.index import CloneIndex

    files = {f"src/f{i}.rs": SourceFile(data) for i, data in enumerate([*seeds, seeds[0]])}  # the copy makes cross-file clones
    caches = {p: FingerprintCache() for p in files}
    index = CloneIndex()
    for p, src in files.items():
        index.update(fingerprint(p, src.data, src.root, cache=caches[p]))
    paths = sorted(files)
    for which, (where, span, text) in edits:
        p = paths[which % len(paths)]
        src = files[p]
        data = src.data
        start = _char_boundary(data, int(where * len(data)))
        end = _char_boundary(data, min(len(data), start + int(span * len(data))))
        src.apply_edit(start, end, text.encode("utf-8", "surrogatepass"))
        affected = index.update(fingerprint(p, src.data, src.root, cache=caches[p]))
        fresh = CloneIndex()
        for q, other in files.items():
            # a fresh index of the same texts; on broken input tree-sitter's incremental error recovery
            # may build another tree than a fresh parse (`loop {` typed, then a deletion: found by a
            # 3,000-example run), so there it indexes the same tree; on well-formed input the trees match
            tree = parse(other.data).root_node
            if not tree.has_error:
                assert str(other.root) == str(tree)
            fresh.update(fingerprint(q, other.data, other.root if tree.has_error else tree))
        before = {q: v for q, v in _clone_view(index, paths).items()}
        assert before == _clone_view(fresh, paths)
        assert p in affected


# -- Cargo.toml: random edits of the fixture manifests never crash the build rules ------------------
from ferrolens.analyzers.manifest import KIND_CONFIG, KIND_MANIFEST, MANIFEST_SCOPES, Manifest, Package, analyze_manifest  # noqa: E402

TOML_SEEDS = sorted(p.read_bytes() for p in (FIXTURES / "build").rglob("*.toml"))
TOML_SNIPPETS = ["", "[", "]", "=", '"', "'''", "\n", "[dependencies]\n", "x = 1\n", "{", "}", ",", "#", "[[bin]]\n", "😀", "\r\n", "features = [\"full\"]"]
TOML_RULES = [r for r in all_rules().values() if r.scope in MANIFEST_SCOPES]
PACKAGE = Package(sources={"src/lib.rs": "use serde::Serialize;\n", "tests/a.rs": "", "tests/b.rs": "", "tests/c.rs": ""}, bin_targets=True)


@settings(max_examples=int(os.environ.get("FERROLENS_FUZZ_EXAMPLES", "100")), derandomize=bool(os.environ.get("CI")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(TOML_SEEDS), edits=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 0.1), st.sampled_from(TOML_SNIPPETS) | st.text(max_size=5)), max_size=6), kind=st.sampled_from([KIND_MANIFEST, KIND_CONFIG]))
def test_manifest_rules_never_crash_and_stay_inside_the_file(seed, edits, kind):
    data = seed
    for at, width, text in edits:
        start = _char_boundary(data, int(at * len(data)))
        end = _char_boundary(data, min(len(data), start + int(width * len(data))))
        data = data[:start] + text.encode("utf-8", "surrogatepass") + data[end:]
    found = analyze_manifest(Manifest(data, "Cargo.toml", kind), PACKAGE, TOML_RULES)
    for f in found:
        assert 0 <= f.start <= f.end <= len(data)
        for fx in f.all_fixes():
            for e in fx.edits:
                assert 0 <= e.start <= e.end <= len(data)
    if any(f.rule == "manifest_syntax" for f in found):
        assert [f.rule for f in found] == ["manifest_syntax"]  # a broken file gets that one finding only


@settings(max_examples=300, derandomize=bool(os.environ.get("CI")), deadline=None)
@given(edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 6), st.text("ab\n", max_size=6)), min_size=1, max_size=10))
def test_changed_spans_map_every_untouched_byte_back_to_where_it_was(edits):
    """The engine's account of a burst of edits (engine._dirty): outside the spans it reports, every
    byte of the new text is the byte of the old text at the mapped offset."""
    from ferrolens.analyzers.engine import _dirty

    old = b"0123456789" * 8
    src = SourceFile(old)
    cache = ItemCache()
    cache.groups, cache.seen = [], (src, src.log_end)
    for where, span, text in edits:
        start = int(where * len(src.data))
        src.apply_edit(start, min(len(src.data), start + span), text.encode(), reparse=False)
    spans = _dirty(src, cache)
    new = src.data
    assert spans, "every edit is a change"
    for a, b in zip(spans, spans[1:]):
        assert a[1] <= b[0] and a[3] < b[2]
    shift, k = 0, 0
    for p in range(len(new)):
        while k < len(spans) and spans[k][3] <= p:
            shift += spans[k][3] - spans[k][2] - spans[k][1] + spans[k][0]
            k += 1
        if k < len(spans) and spans[k][2] <= p:
            continue  # inside a changed span
        assert new[p] == old[p - shift]


def test_edits_at_the_ends_of_a_file_and_of_an_empty_one():
    """Walks that start after the last top-level child (tree-sitter 0.26's first_child_for_byte would
    crash the process there)."""
    for text, edits in (
        (b"", [(0, 0, b"fn a() { let v = Vec::new(); }\n"), (0, 31, b"")]),
        (b"fn a() {}\n// tail\n", [(18, 18, b"\n\n"), (20, 20, b"fn b() {}")]),
        (b"fn a() {}\n", [(10, 10, b" "), (0, 0, b"\n")]),
    ):
        src, cache = SourceFile(text), ItemCache()
        ENGINE.analyze(src, cache)
        for start, end, new in edits:
            src.apply_edit(start, end, new)
            assert ENGINE.analyze(src, cache) == ENGINE.analyze(SourceFile(src.data))


@settings(max_examples=int(os.environ.get("FERROLENS_FUZZ_EXAMPLES", "100")) * 2, derandomize=bool(os.environ.get("CI")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seed=st.sampled_from(SEEDS), edits=st.lists(edit_strategy, min_size=1, max_size=5))
def test_a_local_reparse_covers_every_range_tree_sitter_says_changed(seed: bytes, edits):
    """When a burst's reparse changed only the top-level children it edited, the source logs those
    children instead of asking tree-sitter for the changed ranges: every range tree-sitter would have
    reported lies in them."""
    from ferrolens.analyzers.source import _local_change

    src = SourceFile(seed)
    for where, span, text in edits:
        data = src.data
        start = _char_boundary(data, int(where * len(data)))
        end = _char_boundary(data, min(len(data), start + int(span * len(data))))
        src.apply_edit(start, end, text.encode("utf-8", "surrogatepass"), reparse=False)
    old, pending = src._tree.copy(), list(src._pending)
    new = src.tree
    local = _local_change(old, new, pending)
    if local is None:
        return
    # the edits' own text, where it sits now (the engine walks it from the EDIT entries)
    spans = list(local)
    for k, (lo, _, hi) in enumerate(pending):
        for s, e, ne in pending[k + 1 :]:
            lo = lo if lo < s else s if lo < e else lo + ne - e
            hi = hi if hi <= s else ne if hi <= e else hi + ne - e
        spans.append((lo, hi))
    for r in old.changed_ranges(new):
        assert any(lo <= r.start_byte and r.end_byte <= hi for lo, hi in spans), (r, spans)
