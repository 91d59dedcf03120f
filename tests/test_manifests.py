"""The Cargo.toml rules on small real crates: tests/fixtures/build/<rule>/<case>/ (manifest, sources,
lock file). A line marked `#~ rule` must be reported, no other; the first action of every finding,
applied in a copy of the case, must give each `Cargo.fixed.toml` beside a `Cargo.toml` (and leave every
other manifest byte-identical), parse, and satisfy `cargo metadata --offline --no-deps`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from ferrolens.analyzers.fix import apply_edits
from ferrolens.analyzers.manifest import KIND_CONFIG, Manifest, analyze_manifest
from ferrolens.analyzers.registry import all_rules
from ferrolens.packages import package_of

BUILD = Path(__file__).parent / "fixtures" / "build"
MARKER = re.compile(r"#~\s*([a-z_]+)\s*$", re.M)
RULES = sorted(p.name for p in BUILD.iterdir() if p.is_dir())
BLESS = os.environ.get("FERROLENS_BLESS") == "1"


def manifests(case: Path) -> list[Path]:
    """The Cargo.toml and .cargo/config.toml files below `case`."""
    return sorted(p for p in case.rglob("*.toml") if p.name == "Cargo.toml" or (p.name == "config.toml" and p.parent.name == ".cargo"))


def fixed_of(path: Path) -> Path:
    return path.with_name(path.stem + ".fixed.toml")


def findings(rule: str, path: Path):
    data = path.read_bytes()
    if path.name == "config.toml":
        return analyze_manifest(Manifest(data, str(path), KIND_CONFIG), None, [all_rules()[rule]])
    return analyze_manifest(Manifest(data, str(path)), package_of(path), [all_rules()[rule]])


def line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


@pytest.mark.parametrize("rule", RULES)
def test_manifest_rule_has_positives_and_negatives(rule: str):
    assert all_rules()[rule].scope in ("manifest", "toml", "cargo-config")
    marked = [p for p in manifests(BUILD / rule) if MARKER.search(p.read_text())]
    unmarked = [p for p in manifests(BUILD / rule) if not MARKER.search(p.read_text())]
    assert marked and unmarked, "a fixture needs a flagged manifest and a negative one"


@pytest.mark.parametrize("rule", RULES)
def test_reported_lines_are_exactly_the_marked_ones(rule: str):
    for path in manifests(BUILD / rule):
        data = path.read_bytes()
        want = {i for i, line in enumerate(data.decode().split("\n"), 1) if (m := MARKER.search(line)) and m.group(1) == rule}
        got = {line_of(data, f.start) for f in findings(rule, path)}
        assert got == want, path


@pytest.mark.parametrize("rule", RULES)
def test_first_actions_give_the_fixed_manifests(rule: str, tmp_path: Path):
    for case in sorted(p for p in BUILD.joinpath(rule).iterdir() if p.is_dir()):
        work = tmp_path / case.name
        shutil.copytree(case, work, ignore=shutil.ignore_patterns("*.fixed.toml"))
        for path in manifests(case):
            edits, files = [], []
            for f in findings(rule, path):
                action = f.fix or (f.alternatives[0] if f.alternatives else None)
                if action is not None:
                    edits += action.edits
                    files += action.files
            target = work / path.relative_to(case)
            target.write_bytes(apply_edits(target.read_bytes(), edits))
            for fe in files:
                other = work / Path(fe.path).relative_to(case)
                assert other.read_text() == (fe.old or ""), "a companion edit was computed from another text"
                other.write_text(fe.new)
        for path in manifests(work):
            expected = fixed_of(case / path.relative_to(work))
            original = case / path.relative_to(work)
            if BLESS and path.read_bytes() != original.read_bytes():
                expected.write_bytes(path.read_bytes())
            if expected.exists():
                assert path.read_text() == expected.read_text(), path
            else:
                assert path.read_bytes() == original.read_bytes(), f"{path} changed without a .fixed.toml beside it"
            if rule != "manifest_syntax":
                tomllib.loads(path.read_text())  # every result still parses
        if shutil.which("cargo") and rule != "manifest_syntax":
            cargo = [p for p in manifests(work) if p.name == "Cargo.toml"]
            roots = [p for p in cargo if "workspace" in tomllib.loads(p.read_text())] or cargo
            for root in roots:
                out = subprocess.run(
                    ["cargo", "metadata", "--offline", "--no-deps", "--format-version", "1", "--manifest-path", str(root)],
                    capture_output=True,
                    text=True,
                )
                assert out.returncode == 0, f"{root}: {out.stderr}"


def test_the_smaller_tokio_feature_list_builds(tmp_path: Path):
    """heavy_features' list is enough: the fixture crate builds with it, against Debian's tokio."""
    from helpers import DEBIAN_REGISTRY, missing_crates

    if not shutil.which("cargo"):
        pytest.skip("cargo is not installed")
    if missing_crates(["tokio"]):
        pytest.skip("needs the Rust sources of tokio: apt-get install librust-tokio-dev")
    case = BUILD / "heavy_features" / "crate"
    work = tmp_path / "crate"
    shutil.copytree(case, work, ignore=shutil.ignore_patterns("Cargo.fixed.toml"))
    (work / "Cargo.toml").write_text((case / "Cargo.fixed.toml").read_text() + "\n[workspace]\n")
    (work / ".cargo").mkdir()
    (work / ".cargo" / "config.toml").write_text(
        f'[source.crates-io]\nreplace-with = "debian"\n[source.debian]\ndirectory = "{DEBIAN_REGISTRY}"\n[net]\noffline = true\n'
    )
    target = Path(__file__).resolve().parent.parent / "target" / "heavy-features"
    out = subprocess.run(["cargo", "run", "--offline", "--quiet"], cwd=work, capture_output=True, text=True, timeout=600, env={**os.environ, "CARGO_TARGET_DIR": str(target)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Some(1)"
