"""The open-document store: duplicate_code findings move with the edits made before its next run."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ferrolens.analyzers.model import Applicability, Edit, Finding, Fix, Related
from ferrolens.server.documents import move_finding, shift_findings


def finding(start, end, related=()):
    return Finding("duplicate_code", start, end, "m", fix=Fix(Applicability.UNSAFE, "f", (Edit(start, end, "x"),)), related=tuple(related))


def test_findings_before_an_edit_stay_and_after_it_move():
    a, b = finding(0, 10), finding(50, 60, [Related(0, 10, "other copy"), Related(3, 4, "elsewhere", path="src/x.rs")])
    (a2, b2) = shift_findings([a, b], [(20, 25, 30)])  # 5 bytes replaced by 10
    assert (a2.start, a2.end) == (0, 10)
    assert (b2.start, b2.end, b2.fix.edits[0].start) == (55, 65, 55)
    assert [(r.start, r.end, r.path) for r in b2.related] == [(0, 10, None), (3, 4, "src/x.rs")]


def test_a_finding_the_edit_touches_is_dropped_until_the_next_run():
    assert shift_findings([finding(10, 30)], [(15, 16, 17)]) == []


def test_insertion_at_the_edges():
    at_start, at_end = finding(10, 20), finding(0, 10)
    moved = shift_findings([at_start, at_end], [(10, 10, 13)])  # 3 bytes inserted at offset 10
    assert [(f.start, f.end) for f in moved] == [(13, 23), (0, 10)]


def test_several_edits_in_order():
    f = finding(100, 120)
    (g,) = shift_findings([f], [(0, 0, 5), (200, 210, 200), (10, 20, 10)])
    assert (g.start, g.end) == (95, 115)


def _shift_reference(findings, edits):
    """Every finding moved offset by offset through every edit (the fast paths must agree)."""
    out = findings
    for edit in edits:
        out = [g for g in (move_finding(f, *edit) for f in out) if g is not None]
    return out


_spans = st.tuples(st.integers(0, 60), st.integers(0, 8)).map(lambda t: (t[0], t[0] + t[1]))


@st.composite
def _findings(draw):
    (s, e), fix_spans, related = draw(_spans), draw(st.lists(_spans, max_size=2)), draw(st.lists(st.tuples(_spans, st.booleans()), max_size=2))
    fix = Fix(Applicability.UNSAFE, "f", tuple(Edit(a, b, "x") for a, b in fix_spans)) if fix_spans else None
    rel = tuple(Related(a, b, "r", path="x.rs" if other else None) for (a, b), other in related)
    return Finding("duplicate_code", s, e, "m", fix=fix, related=rel)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(_findings(), max_size=6), st.lists(st.tuples(_spans, st.integers(0, 6)).map(lambda t: (t[0][0], t[0][1], t[0][0] + t[1])), min_size=1, max_size=3))
def test_shifting_agrees_with_moving_each_offset(findings, edits):
    assert shift_findings(findings, edits) == _shift_reference(findings, edits)


def test_diagnostics_json_is_the_lsp_diagnostic_and_reuses_the_text_of_unchanged_findings():
    import json

    from lsprotocol.converters import get_converter

    from ferrolens.analyzers.model import Severity
    from ferrolens.analyzers.source import SourceFile
    from ferrolens.server import convert

    src = SourceFile(b"fn a() {}\nfn b() {}\n\nfn c() {}\n", "x.rs")
    related = (Related(21, 30, "the copy"), Related(2, 4, "elsewhere", path="src/y.rs"))
    f1 = Finding("duplicate_code", 0, 9, "m1", Severity.WARNING, related=related)
    f2 = Finding("eager_fallback", 10, 19, "m2", Severity.HINT)
    texts: dict = {}
    out = json.loads(convert.diagnostics_json(src, "file:///x.rs", [f1, f2], "utf-16", None, texts))
    conv = get_converter()
    assert out == [conv.unstructure(convert.diagnostic(src, "file:///x.rs", f, "utf-16")) for f in (f1, f2)]
    assert out[0]["relatedInformation"][0]["location"]["range"]["start"] == {"line": 3, "character": 0}
    before = dict(texts)
    src.apply_edit(20, 21, b"")  # the blank line goes: f1's copy moves up a line, f2 stays
    moved = shift_findings([f1, f2], [(20, 21, 20)])
    out = json.loads(convert.diagnostics_json(src, "file:///x.rs", moved, "utf-16", None, texts))
    assert out[0]["relatedInformation"][0]["location"]["range"]["start"] == {"line": 2, "character": 0}
    assert len(texts) == 2
    assert [t for t in texts.values() if t in before.values()] == [before[next(k for k in before if k[0] == "eager_fallback")]]
