"""Engine behaviour: hot paths, top-level errors, summary-driven cache invalidation, dropped trees."""

import tomllib

import pytest

from ferrolens.analyzers.engine import Engine, RuleSelection
from ferrolens.analyzers.model import Severity
from ferrolens.analyzers.registry import all_rules
from ferrolens.analyzers.source import SourceFile

SRC = b"""
fn cold() -> String {
    format!("cold")
}

fn helper() -> String {
    format!("called from a loop")
}

fn driver(n: usize) -> usize {
    let mut total = 0;
    for _ in 0..n {
        total += helper().len();
        total += format!("in the loop").len();
    }
    let header = format!("{}", "loop header only");
    total + header.len()
}
"""


def findings(severities=None):
    engine = Engine(RuleSelection((all_rules()["format_literal"],), severities or {}))
    src = SourceFile(SRC)
    return {src.data[f.start : f.end].decode(): f for f in engine.analyze(src)}


def test_hot_paths_are_marked_and_raised():
    got = findings()
    base = all_rules()["format_literal"].severity
    cold = got['format!("cold")']
    assert not cold.hot and cold.severity == base and "hot path" not in cold.message
    called = got['format!("called from a loop")']
    assert called.hot and called.severity == base.raised()
    assert "`helper` is called from a loop" in called.message
    inside = got['format!("in the loop")']
    assert inside.hot and "inside a loop" in inside.message
    assert not got['format!("{}", "loop header only")'].hot


def test_configured_severity_is_raised_too():
    got = findings({"format_literal": Severity.HINT})
    assert got['format!("in the loop")'].severity == Severity.INFO
    assert got['format!("cold")'].severity == Severity.HINT


def test_well_formed_items_keep_findings_when_the_top_level_does_not_parse():
    # an unbalanced brace and a half-typed impl make tree-sitter's root an ERROR node
    data = (
        b'use std::fmt;\nfn a() -> String { format!("x") }\n    let x = 1;\n    x\n}\n\n'
        b'impl Foo {\n    fn c(&self) {\n'
    )
    src = SourceFile(data)
    assert src.root.is_error
    engine = Engine(RuleSelection((all_rules()["format_literal"],)))
    got = [src.data[f.start : f.end] for f in engine.analyze(src)]
    assert got == [b'format!("x")']


def test_cached_findings_follow_the_summary_parts_they_read():
    from ferrolens.analyzers.engine import ItemCache

    engine = Engine(RuleSelection((all_rules()["chunks_exact"],)))
    body = b"\nfn f(a: &[u8; 12]) -> u32 { a.chunks(N).map(|c| c[0] as u32).sum() }\n"
    cache = ItemCache()
    src = SourceFile(b"const N: usize = 4;" + body)
    assert [f.fix is not None for f in engine.analyze(src, cache)] == [True]  # 12 % 4 == 0: provable
    src = SourceFile(b"const N: usize = 5;" + body)  # only the const changed: `f` is redone
    assert [f.fix is not None for f in engine.analyze(src, cache)] == [False]


def test_a_dropped_tree_is_reparsed_on_the_next_edit():
    from ferrolens.analyzers.source import parse

    src = SourceFile(b'fn f() -> String { format!("a") }\n')
    src.drop_tree()
    assert not src.has_tree
    src.apply_edit(0, 0, b"// note\n")  # an edit while the tree is gone: no tree.edit, a fresh parse later
    assert str(src.root) == str(parse(src.data).root_node)
    engine = Engine(RuleSelection((all_rules()["format_literal"],)))
    assert [src.data[f.start : f.end] for f in engine.analyze(src)] == [b'format!("a")']


def test_an_unchanged_impl_is_rechecked_when_a_declaration_it_reads_changes():
    from ferrolens.analyzers.engine import ItemCache

    engine = Engine(RuleSelection((all_rules()["chunks_exact"],)))
    body = b"\nstruct S;\nimpl S {\n    fn f(&self, a: &[u8; 12]) -> u32 { a.chunks(N).map(|c| c[0] as u32).sum() }\n}\n"
    cache = ItemCache()
    assert [f.fix is not None for f in engine.analyze(SourceFile(b"const N: usize = 4;" + body), cache)] == [True]
    # the impl's bytes are the same, so it is taken from the cache, but its method read `N`
    assert [f.fix is not None for f in engine.analyze(SourceFile(b"const N: usize = 5;" + body), cache)] == [False]
    assert [f.fix is not None for f in engine.analyze(SourceFile(b"const N: usize = 6;" + body), cache)] == [True]


# -- rules that read the crate (its Cargo.toml) -------------------------------------------------------
from ferrolens.analyzers.model import CrateInfo  # noqa: E402

HASHING = b"""use std::collections::HashMap;
use std::collections::HashSet as Set;

fn f() -> usize {
    let m: HashMap<u8, u8> = HashMap::new();
    let s: Set<u8> = Set::new();
    m.len() + s.len()
}
"""


def _std_hash(crate, explicit=frozenset()):
    engine = Engine(RuleSelection((all_rules()["std_hash"],), explicit=explicit))
    return engine.analyze(SourceFile(HASHING), crate=crate)


def test_std_hash_is_quiet_unless_the_crate_chose_a_fast_hasher_or_it_is_selected():
    assert _std_hash(None) == []
    assert _std_hash(CrateInfo("c", frozenset({"serde"}))) == []
    # a crate that depends on rustc-hash: flagged with the fix; aliased imports are left alone
    with_dep = _std_hash(CrateInfo("c", frozenset({"rustc_hash"})))
    assert [f.fix is not None for f in with_dep] == [True]
    # selected by name in a crate without a fast hasher: flagged, but no fix (no dependency to use)
    selected = _std_hash(None, frozenset({"std_hash"}))
    assert [f.fix for f in selected] == [None]


def test_missing_inline_only_in_library_files():
    src = b"pub fn one() -> u32 {\n    1\n}\n"
    engine = Engine(RuleSelection((all_rules()["missing_inline_cross_crate"],)))
    assert engine.analyze(SourceFile(src), crate=CrateInfo("c", lib=False)) == []
    assert engine.analyze(SourceFile(src)) == []
    assert engine.analyze(SourceFile(src), crate=CrateInfo("c", lib=True)) == []  # a private module
    assert len(engine.analyze(SourceFile(src), crate=CrateInfo("c", lib=True, public=True))) == 1


def test_crate_info_is_read_from_the_manifest(tmp_path):
    from ferrolens.crates import crate_of

    (tmp_path / "src" / "bin").mkdir(parents=True)
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nname = "my-crate"\nversion = "0.1.0"\n\n[dependencies]\nrustc-hash = "1"\nrenamed = { package = "tokio", version = "1" }\n'
        '[target.\'cfg(unix)\'.dependencies]\nlibc = "0.2"\n'
    )
    for f in ("src/lib.rs", "src/util.rs", "src/main.rs", "src/bin/tool.rs", "src/inner.rs"):
        (tmp_path / f).write_text("")
    (tmp_path / "src" / "lib.rs").write_text("pub mod util;\nmod inner;\n")
    info = crate_of(tmp_path / "src" / "util.rs")
    assert info.name == "my_crate" and info.lib and info.public
    assert not crate_of(tmp_path / "src" / "inner.rs").public
    assert {"rustc_hash", "renamed", "tokio", "libc"} <= info.dependencies
    assert not crate_of(tmp_path / "src" / "main.rs").lib
    assert not crate_of(tmp_path / "src" / "bin" / "tool.rs").lib
    (tmp_path / "Cargo.toml").write_text("[package\nname = ")  # broken: no info, no exception
    assert crate_of(tmp_path / "src" / "util.rs") is None


def test_disallowed_types_edit_keeps_the_rest_of_the_file():
    from ferrolens.analyzers.tomledit import add_disallowed_types

    entries = [("std::collections::HashMap", "why")]
    created = add_disallowed_types(None, entries)
    assert tomllib.loads(created) == {"disallowed-types": [{"path": "std::collections::HashMap", "reason": "why"}]}
    old = "# c\nmsrv = '1.70'  # x\n"
    assert add_disallowed_types(old, entries).startswith(old)
    assert add_disallowed_types(created, entries) is None  # listed already
    assert add_disallowed_types("disallowed-types = ['std::collections::HashMap']\n", entries) is None
    assert add_disallowed_types("broken = [", entries) is None  # never rewrite a file that does not parse
    assert add_disallowed_types("disallowed-types = 3\n", entries) is None


def test_short_items_copied_into_another_file_are_one_copy_and_accessor_idioms_are_not():
    """Runs of small items: an error type with its two impls copied identically into another module is
    reported; the same accessors written for another type (renamed one-line bodies) are not."""
    from ferrolens.analyzers.dry.fingerprint import fingerprint
    from ferrolens.analyzers.dry.index import CloneIndex
    from ferrolens.analyzers.source import parse

    error = (
        "pub struct ReuniteError(pub u32, pub u32);\n\n"
        "impl std::fmt::Display for ReuniteError {\n"
        "    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {\n"
        "        write!(f, \"tried to reunite halves that are not from the same socket\")\n"
        "    }\n}\n\n"
        "impl std::error::Error for ReuniteError {}\n"
    )
    accessors = (
        "pub struct {T} {{ {buf}: Vec<u8>, {pos}: usize }}\n\n"
        "impl {T} {{\n"
        "    pub fn get_ref(&self) -> &Vec<u8> {{\n        &self.{buf}\n    }}\n"
        "    pub fn get_mut(&mut self) -> &mut Vec<u8> {{\n        &mut self.{buf}\n    }}\n"
        "    pub fn position(&self) -> usize {{\n        self.{pos}\n    }}\n"
        "    pub fn into_inner(self) -> Vec<u8> {{\n        self.{buf}\n    }}\n"
        "}}\n"
    )
    files = {
        "src/tcp.rs": "use std::io;\n\n" + error + "\n" + accessors.format(T="Reader", buf="inner", pos="pos"),
        "src/unix.rs": "use std::fmt;\n\n" + error + "\n" + accessors.format(T="Writer", buf="buf", pos="written"),
    }
    index = CloneIndex()
    for key, text in files.items():
        data = text.encode()
        index.update(fingerprint(key, data, parse(data).root_node))
    (clone,) = index.clones("src/tcp.rs")
    assert clone.unit == "items" and clone.kind == "identical"
    assert files["src/tcp.rs"][clone.start :].startswith("pub struct ReuniteError")
    assert [p.path for p in clone.partners] == ["src/unix.rs"]


@pytest.mark.parametrize("copies, reported", [(100, True), (101, False)])
def test_code_in_more_than_max_copies_places_is_a_pattern(copies, reported):
    """web-sys repeats one block in 2,300 generated files: comparing every place with every other one
    took 8 minutes and 7 GB on the Debian registry. Past MAX_COPIES places a function or a statement
    run is a pattern and is not reported (up to it, every place is)."""
    from ferrolens.analyzers.dry.fingerprint import fingerprint
    from ferrolens.analyzers.dry.index import MAX_COPIES, CloneIndex
    from ferrolens.analyzers.source import parse

    assert MAX_COPIES == 100
    body = (
        "pub fn total(items: &[u64], factor: u64) -> u64 {{\n"
        "    let mut sum = 0;\n    for item in items {{\n        sum += item * factor + {n};\n    }}\n"
        "    let scaled = sum / 2 + factor;\n    println!(\"{{}}\", scaled);\n    scaled\n}}\n"
    )
    index = CloneIndex()
    for k in range(copies):
        data = body.format(n=1).encode()
        index.update(fingerprint(f"src/m{k}.rs", data, parse(data).root_node))
    clones = index.clones("src/m0.rs")
    assert bool(clones) is reported
    if reported:
        assert len(clones[0].partners) == copies - 1


def test_shifting_a_finding_keeps_every_field_and_moves_every_offset():
    """`Finding.shifted` names its fields one by one (it runs for every finding after each keystroke):
    a field added to Finding must be carried over too."""
    from dataclasses import fields, replace

    from ferrolens.analyzers.model import Applicability, Edit, FileEdit, Finding, Fix, Related, Severity

    fix = Fix(Applicability.UNSAFE, "m", (Edit(10, 12, "x"),), (FileEdit("a.toml", "old", "new"),))
    f = Finding("rule", 10, 20, "msg", Severity.HINT, fix, (fix,), (Related(30, 40, "r"), Related(1, 2, "o", "b.rs")), True, "call")
    assert all(getattr(f, x.name) != x.default for x in fields(Finding)), "give every field a non-default value here"
    moved = f.shifted(5)
    fix5 = replace(fix, edits=(Edit(15, 17, "x"),))
    assert moved == replace(f, start=15, end=25, fix=fix5, alternatives=(fix5,), related=(Related(35, 45, "r"), Related(1, 2, "o", "b.rs")))


def test_rule_queries_run_as_one_give_each_query_its_own_matches():
    """The item queries of every rule and the summaries' loop calls, run as one query per item, hand
    each query exactly the matches it finds alone, in the same order, on every item of every rule
    fixture."""
    from pathlib import Path

    from tree_sitter import QueryCursor

    from ferrolens.analyzers.context import compile_query
    from ferrolens.analyzers.engine import iter_items
    from ferrolens.analyzers.summary import LOOP_CALLS

    shared = Engine(RuleSelection(tuple(all_rules().values())))._item_queries.ready()
    assert {q for r in all_rules().values() for q in r.queries} | {LOOP_CALLS} == set(shared.sources) and len(shared.sources) >= 8

    def shape(matches):
        return [sorted((name, [(n.start_byte, n.end_byte, n.type) for n in nodes]) for name, nodes in caps.items()) for caps in matches]

    compared = found = 0
    for path in sorted(Path(__file__).parent.joinpath("fixtures").rglob("*.rs")):
        src = SourceFile(path.read_bytes(), str(path))
        for item, *_ in iter_items(src.root, src.data):
            together = shared.run(item)
            for k, query in enumerate(shared.sources):
                cursor = QueryCursor(compile_query(query))
                cursor.set_byte_range(item.start_byte, item.end_byte)
                alone = [caps for _, caps in cursor.matches(item)]
                assert shape(together[k]) == shape(alone), (path.name, item.start_point, query)
                compared += 1
                found += len(alone)
    assert compared > 1000 and found > 100


def test_a_rule_whose_query_does_not_compile_fails_alone():
    """A rule of one's own with a query tree-sitter rejects: that rule reports an internal error on
    the items it looks at, the other rules' queries still run as one and find what they find alone."""
    from pathlib import Path

    from ferrolens.analyzers.registry import Rule

    broken = Rule(name="broken_query", group="perf", summary="", docs="", check=lambda ctx, item: ctx.matches("(call_expression @oops", item), queries=("(call_expression @oops",))
    defaults = RuleSelection.default()
    data = Path(__file__).parent.joinpath("fixtures/perf/needless_collect.rs").read_bytes()
    errors = []
    with_broken = Engine(RuleSelection((*defaults.rules, broken)), on_error=lambda rule, exc: errors.append(rule.name)).analyze(SourceFile(data))
    alone = Engine(defaults).analyze(SourceFile(data))
    assert [(f.rule, f.start) for f in with_broken] == [(f.rule, f.start) for f in alone] and alone
    assert errors and set(errors) == {"broken_query"}


def test_a_batch_index_that_tracks_no_affected_files_finds_the_same_clones():
    """`check` indexes every file before it asks for any clone, so it skips working out which files
    each update affects (`track=False`): the clones of every file are the same as with tracking."""
    from pathlib import Path

    from ferrolens.analyzers.dry.fingerprint import fingerprint
    from ferrolens.analyzers.dry.index import CloneIndex
    from ferrolens.analyzers.source import parse

    files = sorted(Path(__file__).parent.joinpath("fixtures").rglob("*.rs"))
    units = [fingerprint(str(p), p.read_bytes(), parse(p.read_bytes()).root_node) for p in files]
    tracked, batch = CloneIndex(), CloneIndex()
    for u in units:
        assert str(u.path) in tracked.update(u)
        assert batch.update(u, track=False) == {u.path}

    def shape(index, path):
        return [(c.start, c.end, c.kind, [(p.path, p.start) for p in c.partners]) for c in index.clones(path)]

    assert all(shape(batch, u.path) == shape(tracked, u.path) for u in units)
    assert sum(len(batch.clones(u.path)) for u in units) > 10


def test_item_keys_read_attributes_from_the_children_lists_as_the_tree_links_them():
    """`iter_items` (and the engine's walk) take an item's outer attributes and its parent's type from
    the children lists they go through: the same as `prev_named_sibling` and `parent` give, on every
    item of the fixtures and of broken code (attributes before a stray token, a comment between)."""
    from pathlib import Path

    from ferrolens.analyzers.dry.fingerprint import _attributes, with_attribute_texts
    from ferrolens.analyzers.engine import _attributes_start, iter_items
    from ferrolens.analyzers.summary import summarize_item
    from ferrolens.analyzers.syntax import descendants

    texts = [p.read_bytes() for p in sorted(Path(__file__).parent.joinpath("fixtures").rglob("*.rs"))]
    texts.append(b"#[a]\n#[b] ) fn f() {}\n#[c]\n// note\nfn g() {}\nimpl S {\n    #[inline] #[cold]\n    fn h() {}\n    ; #[x] fn k() {}\n}\n#[cfg(test)] /* c */ #[x] mod t {}\n")
    checked = with_attrs = 0
    for data in texts:
        src = SourceFile(data, "x.rs")
        for item, _, start, where, container in iter_items(src.root, src.data):
            assert start == _attributes_start(item), (data[:60], item.start_point)
            assert where == item.parent.type
            assert container == (item.parent.parent if where == "declaration_list" else None)
            # (a summary told where its item sits is the one that looks it up)
            assert summarize_item(item, src.data, place=(where, container)) == summarize_item(item, src.data)
            checked += 1
            with_attrs += start != item.start_byte
        # the clone fingerprint's reading of the attributes (comments between them skipped)
        for node in [src.root, *(n for n in descendants(src.root) if n.type == "declaration_list")]:
            for child, prev, attrs in with_attribute_texts(node.children, data):
                assert attrs == _attributes(child, data), (data[:60], child.start_point)
                assert prev == (child.prev_sibling.type if child.prev_sibling is not None else None)
    assert checked > 1000 and with_attrs > 50
