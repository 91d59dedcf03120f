"""UI-style fixtures, one per rule: tests/fixtures/<group>/<rule>.rs and <rule>.fixed.rs.

A line ending in `//~ rule[, rule]` must be reported for those rules; no other line may be. Applying all
fixes (until stable) must give the .fixed.rs file; both files must compile with rustc and, when they have
`main`, print the same thing. Header lines: `//@ needs: tokio` (built by cargo against Debian's crate sources,
see helpers.py) and `//@ crate: lib, depends on rustc-hash` (the crate info the rules see). FERROLENS_BLESS=1 rewrites the .fixed.rs files from the current output.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from helpers import FIXTURES, compile_and_run, needs_rustc
from ferrolens.analyzers.engine import Engine, RuleSelection
from ferrolens.analyzers.fix import apply_edits, fix_until_stable
from ferrolens.analyzers.model import CrateInfo
from ferrolens.analyzers.registry import all_rules
from ferrolens.analyzers.source import SourceFile

MARKER = re.compile(r"//~\s*([a-z_][a-z0-9_]*(?:\s*,\s*[a-z_][a-z0-9_]*)*)\s*$")
CASES = sorted(p for p in FIXTURES.glob("*/*.rs") if not p.name.endswith(".fixed.rs"))


def engine_for(rule: str) -> Engine:
    return Engine(RuleSelection((all_rules()[rule],)))


_CRATE = re.compile(rb"^//@\s*crate:\s*(\w+)(?:\s*,\s*depends on\s*(.+))?$", re.M)


def crate_info(data: bytes) -> CrateInfo | None:
    """`//@ crate: lib, depends on rustc-hash, tokio` in a fixture: what its Cargo.toml would say."""
    m = _CRATE.search(data)
    if m is None:
        return None
    deps = [d.strip().replace("-", "_") for d in (m.group(2) or b"").decode().split(",") if d.strip()]
    lib = m.group(1) == b"lib"
    return CrateInfo("fixture", frozenset(deps), lib=lib, public=lib)


def analyze(rule: str, data: bytes):
    return engine_for(rule).analyze(SourceFile(data), crate=crate_info(data))


def expected_lines(text: str, rule: str) -> set[int]:
    out = set()
    for i, line in enumerate(text.split("\n"), 1):
        m = MARKER.search(line)
        if m and rule in {n.strip() for n in m.group(1).split(",")}:
            out.add(i)
    return out


@pytest.fixture(params=CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def case(request) -> Path:
    return request.param


def test_every_rule_has_a_fixture():
    have = {p.stem for p in CASES} | {p.name for p in (FIXTURES / "build").iterdir() if p.is_dir()}  # Cargo.toml rules: tests/test_manifests.py
    missing = sorted(set(all_rules()) - have)
    assert not missing, f"rules without a fixture: {missing}"


def test_reported_lines_are_exactly_the_marked_ones(case: Path):
    rule = case.stem
    data = case.read_bytes()
    src = SourceFile(data)
    got = {src.position(f.start)[0] + 1 for f in analyze(rule, data)}
    want = expected_lines(data.decode(), rule)
    assert want, "a fixture needs at least one positive"
    assert sorted(got - want) == [], "reported on lines not marked"
    assert sorted(want - got) == [], "marked lines not reported"


def test_fixes_give_the_expected_output(case: Path):
    rule = case.stem
    fixed, _ = fix_until_stable(case.read_bytes(), lambda d: analyze(rule, d), unsafe=True)
    expected = case.with_name(rule + ".fixed.rs")
    if os.environ.get("FERROLENS_BLESS"):
        expected.write_bytes(fixed)
    assert expected.exists(), f"missing {expected.name} (run with FERROLENS_BLESS=1 to create it)"
    assert fixed.decode() == expected.read_text()
    # nothing fixable is left, and the fixed file parses cleanly
    assert not [f for f in analyze(rule, fixed) if f.fix]
    assert not SourceFile(fixed).root.has_error


@needs_rustc
def test_original_and_fixed_compile_and_print_the_same(case: Path, tmp_path: Path):
    fixed = case.with_name(case.stem + ".fixed.rs")
    before = compile_and_run(case, tmp_path)
    after = compile_and_run(fixed, tmp_path)
    assert before == after


@needs_rustc
def test_safe_fixes_alone_compile_and_keep_output(case: Path, tmp_path: Path):
    rule = case.stem
    data, n = fix_until_stable(case.read_bytes(), lambda d: analyze(rule, d), unsafe=False)
    target = tmp_path / f"{rule}.safe.rs"
    target.write_bytes(data)
    assert compile_and_run(target, tmp_path) == compile_and_run(case, tmp_path)


@needs_rustc
def test_each_alternative_fix_has_a_compiling_variant(case: Path, tmp_path: Path):
    """Where the receiver kind is not evident, one of the offered variants must compile."""
    rule = case.stem
    data = case.read_bytes()
    for i, finding in enumerate(f for f in analyze(rule, data) if f.alternatives):
        ok = []
        for j, alt in enumerate(finding.alternatives):
            target = tmp_path / f"alt_{i}_{j}.rs"
            target.write_bytes(apply_edits(data, alt.edits))
            try:
                compile_and_run(target, tmp_path)
                ok.append(alt)
            except AssertionError:
                pass
        assert ok, f"no variant of {finding.message!r} compiles"
