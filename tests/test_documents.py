"""The open-document store: duplicate_code findings move with the edits made before its next run."""

from __future__ import annotations

from ferrolens.analyzers.model import Applicability, Edit, Finding, Fix, Related
from ferrolens.server.documents import shift_findings


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
