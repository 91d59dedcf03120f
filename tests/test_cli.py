"""`ferrolens check` and friends, run as a user runs them (a subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT, needs_rustc

DEMO = ROOT / "examples" / "demo"


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ferrolens", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("target"))
    return target


def test_text_output_and_exit_code(demo: Path):
    proc = run("check", "--no-cache", cwd=demo)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.strip().split("\n")
    assert any(l.startswith("src/main.rs:") and " eager_fallback " in l for l in lines)
    assert any(l.startswith("src/report.rs:4:9: alloc_in_loop ") for l in lines)
    assert lines[-1].startswith("Found 11 findings")
    assert any(l.startswith("src/stats.rs:26:1: duplicate_code function `top_customers` duplicated at src/report.rs:15-25") and l.endswith("[~]") for l in lines)


def test_json_shape(demo: Path):
    proc = run("check", "--no-cache", "--output-format", "json", ".", cwd=demo)
    data = json.loads(proc.stdout)
    assert len(data) == 11
    keys = {"rule", "group", "severity", "message", "path", "start", "end", "fix", "related"}
    for f in data:
        assert set(f) == keys
        assert set(f["start"]) == {"line", "column"} and f["start"]["line"] >= 1 and f["start"]["column"] >= 1
        assert f["severity"] in {"error", "warning", "info", "hint"}
        if f["fix"] is not None:
            assert set(f["fix"]) == {"applicability", "message", "edits"}
            assert f["fix"]["applicability"] in {"safe", "unsafe"}
            for e in f["fix"]["edits"]:
                assert set(e) == {"start", "end", "content"}


def test_columns_count_unicode_characters(tmp_path: Path):
    src = tmp_path / "u.rs"
    src.write_text('fn f(o: Option<String>) -> String { let _e = "😀中"; o.unwrap_or(format!("x{}", 1)) }\n')
    data = json.loads(run("check", "--no-cache", "--output-format", "json", str(src)).stdout)
    line = src.read_text().split("\n")[0]
    assert data[0]["start"] == {"line": 1, "column": line.index("unwrap_or") + 1}


def test_sarif(demo: Path):
    proc = run("check", "--no-cache", "--output-format", "sarif", cwd=demo)
    doc = json.loads(proc.stdout)
    assert doc["version"] == "2.1.0"
    run_ = doc["runs"][0]
    assert run_["tool"]["driver"]["name"] == "ferrolens"
    assert {r["id"] for r in run_["tool"]["driver"]["rules"]} >= {"eager_fallback", "alloc_in_loop"}
    assert len(run_["results"]) == 11
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in run_["results"])


def test_select_and_ignore(demo: Path):
    only = json.loads(run("check", "--no-cache", "--output-format", "json", "--select", "alloc_in_loop", cwd=demo).stdout)
    assert {f["rule"] for f in only} == {"alloc_in_loop"}
    none = run("check", "--no-cache", "--ignore", "perf,dry", cwd=demo)
    assert none.returncode == 0 and "All checks passed." in none.stdout


def test_diff_does_not_write(demo: Path):
    before = (demo / "src" / "main.rs").read_text()
    proc = run("check", "--no-cache", "--diff", cwd=demo)
    assert proc.returncode == 1
    assert "+            let price = prices.get(name).copied().unwrap_or_else(|| lookup_price(name));" in proc.stdout
    assert (demo / "src" / "main.rs").read_text() == before


@needs_rustc
def test_fix_applies_safe_fixes_and_keeps_behaviour(demo: Path, tmp_path: Path):
    main = demo / "src" / "main.rs"
    os.chmod(main, 0o640)
    before_output = _cargo_run(demo)
    proc = run("check", "--no-cache", "--fix", cwd=demo)
    assert proc.returncode == 1, "the unsafe fix is left, so findings remain"
    assert "Fixed 8 findings." in proc.stdout
    remaining = json.loads(run("check", "--no-cache", "--output-format", "json", cwd=demo).stdout)
    perf = [f for f in remaining if f["rule"] != "duplicate_code"]
    assert [(f["rule"], f["fix"]["applicability"]) for f in perf] == [("alloc_in_loop", "unsafe")]
    assert len(remaining) - len(perf) == 2, "the copied function is left to the editor's refactoring action"
    assert stat.S_IMODE(os.stat(main).st_mode) == 0o640, "permissions are kept"
    assert not list(demo.rglob("*.ferrolens")), "no temporary files left behind"
    assert _cargo_run(demo) == before_output
    proc = run("check", "--no-cache", "--fix", "--unsafe-fixes", "--ignore", "dry", cwd=demo)
    assert proc.returncode == 0, proc.stdout
    assert _cargo_run(demo) == before_output


def _cargo_run(crate: Path) -> str:
    proc = subprocess.run(["cargo", "run", "-q", "--offline"], cwd=crate, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_fix_keeps_crlf_line_endings(tmp_path: Path):
    src = tmp_path / "crlf.rs"
    src.write_bytes(
        b"fn f(rows: &[&str]) -> usize {\r\n    let mut n = 0;\r\n    for r in rows {\r\n        let mut s = String::new();\r\n"
        b"        s.push_str(r);\r\n        n += s.len();\r\n    }\r\n    n\r\n}\r\n"
    )
    run("check", "--no-cache", "--fix", str(src))
    data = src.read_bytes()
    assert b"let mut s = String::new();\r\n    for r in rows" in data
    assert data.count(b"\n") == data.count(b"\r\n")


def test_bad_files_are_skipped_with_a_message(tmp_path: Path):
    (tmp_path / "bad.rs").write_bytes(b"fn main() { let s = \"\xff\xfe\"; }\n")
    (tmp_path / "bin.rs").write_bytes(b"\x00\x01\x02")
    (tmp_path / "empty.rs").write_bytes(b"")
    (tmp_path / "bom.rs").write_bytes(b"\xef\xbb\xbffn f(o: Option<String>) -> String { o.unwrap_or(format!(\"x{}\", 1)) }\n")
    (tmp_path / "huge.rs").write_text("// x\n" * 100)
    (tmp_path / "ferrolens.toml").write_text("max_file_size = 200\n")
    proc = run("check", "--no-cache", "--output-format", "json", str(tmp_path), cwd=tmp_path)
    assert "bad.rs: skipped: not valid UTF-8 (byte 21" in proc.stderr
    assert "bin.rs: skipped: binary file" in proc.stderr
    assert "huge.rs: skipped:" in proc.stderr and "size limit" in proc.stderr
    findings = json.loads(proc.stdout)
    assert [(f["path"], f["start"]["line"]) for f in findings] == [("bom.rs", 1)]
    assert proc.returncode == 1
    # the text summary counts them: "All checks passed." must not cover a file that was not read
    text = run("check", "--no-cache", str(tmp_path), cwd=tmp_path)
    assert "Found 1 finding (1 fixable with --fix ([*])). 3 files were skipped (see the messages above)." in text.stdout
    (tmp_path / "bom.rs").unlink()
    alone = run("check", "--no-cache", "bad.rs", cwd=tmp_path)
    assert alone.stdout.strip() == "All checks passed. 1 file was skipped (see the message above)." and alone.returncode == 0


def test_bom_survives_fix(tmp_path: Path):
    src = tmp_path / "bom.rs"
    src.write_bytes(b"\xef\xbb\xbffn f(o: Option<String>) -> String { o.unwrap_or(format!(\"x{}\", 1)) }\n")
    run("check", "--no-cache", "--fix", str(src))
    assert src.read_bytes().startswith(b"\xef\xbb\xbffn f(o: Option<String>) -> String { o.unwrap_or_else(")


def test_broken_config_and_unknown_keys_warn_but_run(tmp_path: Path):
    (tmp_path / "Cargo.toml").write_text("[package\nname = 1")
    (tmp_path / "a.rs").write_text("fn main() {}\n")
    proc = run("check", "--no-cache", str(tmp_path / "a.rs"), cwd=tmp_path)
    assert proc.returncode == 0 and "Cargo.toml: not read" in proc.stderr
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "x"\n[package.metadata.ferrolens]\nselekt = ["perf"]\n')
    proc = run("check", "--no-cache", str(tmp_path / "a.rs"), cwd=tmp_path)
    assert proc.returncode == 0 and "unknown setting 'selekt'" in proc.stderr


def test_usage_errors_exit_2(tmp_path: Path):
    assert run("check", str(tmp_path / "missing")).returncode == 2
    assert run("check", "--output-format", "xml").returncode == 2
    assert run("rule", "no_such_rule").returncode == 2


def test_walk_skips_target_hidden_and_gitignored(tmp_path: Path):
    body = "fn f(o: Option<String>) -> String { o.unwrap_or(format!(\"x{}\", 1)) }\n"
    for rel in ["src/a.rs", "target/debug/b.rs", ".hidden/c.rs", "gen/d.rs", "keep/e.rs"]:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body)
    (tmp_path / ".gitignore").write_text("gen/\n")
    data = json.loads(run("check", "--no-cache", "--output-format", "json", ".", cwd=tmp_path).stdout)
    assert sorted(f["path"] for f in data) == ["keep/e.rs", "src/a.rs"]


def test_cache_makes_rerun_identical(demo: Path):
    first = run("check", "--output-format", "json", cwd=demo)
    assert (demo / ".ferrolens_cache").is_dir()
    second = run("check", "--output-format", "json", cwd=demo)
    assert first.stdout == second.stdout
    (demo / "src" / "report.rs").write_text("pub fn summary(_: &[u32]) -> String { String::new() }\n")
    third = json.loads(run("check", "--output-format", "json", cwd=demo).stdout)
    assert {f["path"] for f in third} == {"src/main.rs", "src/stats.rs"}


def test_rules_and_rule_docs():
    listing = run("rules").stdout
    assert "eager_fallback" in listing and "alloc_in_loop" in listing and "or_fun_call" in listing
    docs = run("rule", "alloc_in_loop").stdout
    for heading in ("## What it does", "## Why it matters", "## Example", "## Use instead"):
        assert heading in docs


def test_many_files_use_the_process_pool(tmp_path: Path):
    body = "fn f(o: Option<String>) -> String { o.unwrap_or(format!(\"x{}\", 1)) }\n"
    for i in range(40):
        (tmp_path / f"f{i}.rs").write_text(body)
    data = json.loads(run("check", "--no-cache", "--jobs", "2", "--output-format", "json", str(tmp_path)).stdout)
    assert len(data) == 40


def test_readme_rules_table_is_in_sync():
    from ferrolens.cli import rules_markdown

    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- rules-table")
    table = readme[readme.index("\n", start) + 1 : readme.index("<!-- /rules-table -->")]
    assert table == rules_markdown(), "regenerate with `ferrolens rules --format markdown`"


def test_unreadable_config_file_is_a_usage_error(tmp_path: Path):
    (tmp_path / "a.rs").write_text("fn main() {}\n")
    (tmp_path / "bad.toml").write_text("select = [")
    proc = run("check", "--no-cache", "--config", str(tmp_path / "bad.toml"), str(tmp_path / "a.rs"))
    assert proc.returncode == 2 and "bad.toml: not read" in proc.stderr


def test_serve_accepts_the_stdio_flag_clients_add():
    # vscode-languageclient appends --stdio for stdio transports; the server must start, not exit 2
    proc = subprocess.run([sys.executable, "-m", "ferrolens", "serve", "--stdio"], input="", capture_output=True, text=True, timeout=30)
    assert "unrecognized arguments" not in proc.stderr


def test_editor_side_settings_are_not_reported_as_unknown():
    from ferrolens import config

    _, warnings = config.merge(config.Settings(), {"server": {"path": "x"}, "trace": {"server": "off"}, "select": ["perf"]}, "editor settings")
    assert warnings == []


@pytest.mark.parametrize(
    "head, generated",
    [
        (b"// This file is @generated by syn-internal-codegen.\n", True),
        (b"#![allow(dead_code)]\n/*\n * @generated by prost\n */\n", True),
        (b"//! Code @generated by a build script\n", True),
        (b"/* automatically generated by rust-bindgen 0.59.2 */\n", True),
        (b"// DO NOT EDIT THIS FILE. IT WAS AUTOMATICALLY GENERATED BY:\n//\n//   ucd-generate age ./ucd\n", True),
        (b"// !!! DO NOT EDIT !!! Generated by util/genhuff\n", True),
        (b"// Do not edit this list without updating the docs\n", False),  # no word of generation
        (b"a\nb\nc\nd\ne\n// @generated\n", False),  # past the first five lines (rustfmt's rule)
        (b'const MARK: &str = "@generated";\n', False),  # not in a comment
    ],
)
def test_the_generated_marker(head, generated):
    from ferrolens.analyzers.source import is_generated

    assert is_generated(head + b"fn f() {}\n") is generated


def test_generated_files_are_left_out_unless_asked(tmp_path: Path):
    body = "pub fn f(items: &[u32]) -> Vec<String> {\n    let mut out = Vec::new();\n    for i in items {\n        out.push(format!(\"{i}\"));\n    }\n    out\n}\n"
    src = tmp_path / "src"
    src.mkdir()
    (src / "gen.rs").write_text("// @generated by a build script: do not edit\n" + body)
    (src / "lib.rs").write_text("mod gen;\n")

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ferrolens", "check", "--output-format", "json", *extra, str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)

    for _ in range(2):  # the second run reads the cache: the same answer
        proc = run()
        assert proc.returncode == 0 and json.loads(proc.stdout) == []
        assert "1 file of generated code not checked" in proc.stderr
    (tmp_path / "ferrolens.toml").write_text("include_generated = true\n")
    proc = run()
    assert proc.returncode == 1 and "missing_with_capacity" in {f["rule"] for f in json.loads(proc.stdout)}
    assert "generated code" not in proc.stderr


@pytest.mark.parametrize(
    "raw, field, expected",
    [
        ({"select": "perf, dry"}, "select", ["perf", "dry"]),  # one comma-separated string, as on the command line
        ({"select": ["perf"]}, "select", ["perf"]),
        ({"dryIncludeTests": True}, "dry_include_tests", True),
        ({"maxFileSize": 5.0}, "max_file_size", 5),  # a JSON client's 5.0
        ({"drySimilarity": 1}, "dry_similarity", 1.0),
        ({"severity": {"alloc_in_loop": "error"}}, "severity", {"alloc_in_loop": "error"}),
    ],
)
def test_settings_take_values_as_written(raw, field, expected):
    from ferrolens import config

    settings, warnings = config.merge(config.Settings(), raw, "src")
    assert warnings == [] and getattr(settings, field) == expected


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"select": [1]}, "select"),
        ({"dryIncludeTests": "0"}, "dry_include_tests"),  # no string is a boolean (cattrs made "0" true)
        ({"maxFileSize": "5"}, "max_file_size"),
        ({"maxFileSize": 5.5}, "max_file_size"),
        ({"dryMinTokens": True}, "dry_min_tokens"),
        ({"severity": ["x"]}, "severity"),
    ],
)
def test_a_bad_setting_is_one_warning_and_the_default(raw, field):
    from ferrolens import config

    settings, warnings = config.merge(config.Settings(), raw, "src")
    assert len(warnings) == 1 and f"bad value for {next(iter(raw))!r}" in warnings[0]
    assert getattr(settings, field) == getattr(config.Settings(), field)


def test_a_workspace_of_5000_files(tmp_path: Path):
    body = 'fn f{i}(o: Option<String>) -> String {{ o.unwrap_or(format!("x{{}}", {i})) }}\n'
    for i in range(5000):
        d = tmp_path / "src" / f"m{i // 100}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}.rs").write_text(body.format(i=i))
    proc = run("check", "--no-cache", "--no-progress", "--output-format", "json", "--select", "eager_fallback", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert len(json.loads(proc.stdout)) == 5000


def _apply_json_edits(text: str, edits: list[dict]) -> str:
    """Apply edits given as 1-based line/column (characters) positions, last first."""
    lines = text.split("\n")

    def offset(pos: dict) -> int:
        return sum(len(l) + 1 for l in lines[: pos["line"] - 1]) + pos["column"] - 1

    spans = sorted(((offset(e["start"]), offset(e["end"]), e["content"]) for e in edits), reverse=True)
    for start, end, content in spans:
        text = text[:start] + content + text[end:]
    return text


@needs_rustc
@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")
def test_cross_file_duplicate_action_compiles_and_keeps_output(demo: Path):
    """The demo's copied function becomes a call of the original in the other module; the crate
    still builds and prints the same."""
    def build_and_run() -> str:
        proc = subprocess.run(["cargo", "run", "-q", "--offline"], cwd=demo, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    before = build_and_run()
    data = json.loads(run("check", "--no-cache", "--output-format", "json", cwd=demo).stdout)
    fixes = [f for f in data if f["rule"] == "duplicate_code" and f["fix"]]
    assert [f["fix"]["message"] for f in fixes] == ["make `top_customers` call `crate::report::rank` (its body is a copy)"]
    target = demo / fixes[0]["path"]
    target.write_text(_apply_json_edits(target.read_text(), fixes[0]["fix"]["edits"]))
    assert build_and_run() == before
    after = json.loads(run("check", "--no-cache", "--output-format", "json", cwd=demo).stdout)
    assert not [f for f in after if f["rule"] == "duplicate_code"]


CRATE = ROOT / "tests" / "fixtures" / "crates" / "actors"


def test_crate_wide_rules_follow_types_into_other_files(tmp_path: Path):
    """large_enum_variant sizes a type declared in another file; bounded_channel_cycle connects actors
    of two files, each finding pointing at the other file; the cached re-run says the same."""
    crate = tmp_path / "actors"
    shutil.copytree(CRATE, crate)
    for attempt in range(2):  # the second run reads the cache
        out = run("check", "--select", "large_enum_variant,bounded_channel_cycle", "--output-format", "json", str(crate))
        assert out.returncode == 1, out.stderr
        found = {(Path(f["path"]).name, f["start"]["line"], f["rule"]): f for f in json.loads(out.stdout)}
        assert sorted(found) == [
            ("main.rs", 8, "large_enum_variant"),
            ("main.rs", 20, "bounded_channel_cycle"),
            ("referee.rs", 7, "bounded_channel_cycle"),
        ], attempt
        (rel,) = found[("main.rs", 20, "bounded_channel_cycle")]["related"]
        assert Path(rel["path"]).name == "referee.rs" and rel["start"]["line"] == 7
    # the type shrinks in its own file: the enum in the other file is no longer flagged
    types = crate / "src" / "types.rs"
    types.write_text(types.read_text().replace("[u8; 256]", "[u8; 4]"))
    out = run("check", "--select", "large_enum_variant", "--output-format", "json", str(crate))
    assert json.loads(out.stdout) == []


def test_second_pass_in_the_workers_that_kept_the_files(tmp_path: Path):
    """With enough files for worker processes, the crate-wide rules' second pass runs in the worker that
    checked each file, from what it kept: the same findings as one process that reads every file."""
    crate = tmp_path / "actors"
    shutil.copytree(CRATE, crate)
    for k in range(40):  # (a check of 32 files or more runs in worker processes)
        (crate / "src" / f"pad_{k}.rs").write_text(f"pub fn pad_{k}(x: u32) -> u32 {{\n    x + {k}\n}}\n")
    outs = [run("check", "--no-cache", "--jobs", jobs, "--select", "large_enum_variant,bounded_channel_cycle", "--output-format", "json", str(crate)) for jobs in ("2", "1")]
    assert outs[0].returncode == outs[1].returncode == 1, outs[0].stderr
    assert outs[0].stdout == outs[1].stdout
    found = sorted((Path(f["path"]).name, f["start"]["line"], f["rule"]) for f in json.loads(outs[0].stdout))
    assert found == [("main.rs", 8, "large_enum_variant"), ("main.rs", 20, "bounded_channel_cycle"), ("referee.rs", 7, "bounded_channel_cycle")]


def _remember(task):
    import os as _os

    if task[0] == "keep":
        globals().setdefault("_KEPT_HERE", []).append(task[1])
        return _os.getpid()
    if task[0] == "fail":
        raise ValueError("this task fails")
    if task[0] == "sleep":
        time.sleep(task[1])
        return None
    return globals().get("_KEPT_HERE", [])


def test_worker_pool_keeps_each_workers_state_and_reports_failures():
    from ferrolens.pool import WorkerError, Workers

    with Workers(2, _remember) as workers:
        done = sorted(workers.map_unordered(("keep", k) for k in range(10)))
        assert [k for k, _, _ in done] == list(range(10)) and {w for _, w, _ in done} <= {0, 1}
        for w in (0, 1):  # each worker answers with what it alone was given
            workers.send(w, ("show",))
            assert workers.receive(w) == [k for k, who, _ in done if who == w]
        with pytest.raises(WorkerError, match="this task fails"):
            list(workers.map_unordered([("fail",)]))
        workers.send(0, ("show",))  # a failed task leaves its worker serving
        assert isinstance(workers.receive(0), list)
    # each worker holds two tasks (the next waits in its pipe); a failure leaves the others undone, and
    # closing then stops the workers at once instead of waiting for them
    workers = Workers(2, _remember)
    with pytest.raises(WorkerError, match="this task fails"):
        list(workers.map_unordered([("fail",), ("sleep", 30), ("sleep", 30), ("sleep", 30)]))
    started = time.monotonic()
    workers.close()
    assert time.monotonic() - started < 5


def test_check_reads_cargo_toml(tmp_path: Path):
    crate = tmp_path / "deps"
    shutil.copytree(ROOT / "tests" / "fixtures" / "build" / "unused_dependency" / "crate", crate, ignore=shutil.ignore_patterns("Cargo.fixed.toml"))
    out = run("check", "--select", "build", "--output-format", "json", str(crate))
    found = sorted((Path(f["path"]).name, f["start"]["line"], f["rule"]) for f in json.loads(out.stdout))
    assert found == [("Cargo.toml", n, "unused_dependency") for n in (8, 16, 21, 25)]
    (crate / "Cargo.toml").write_text("[package\nname = 1\n")
    out = run("check", "--select", "build", str(crate))
    assert out.returncode == 1 and "manifest_syntax" in out.stdout and "Traceback" not in out.stderr


DRY_ACROSS = ROOT / "tests" / "fixtures" / "crates" / "dry_across"


@needs_rustc
@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")
def test_statement_runs_copied_across_modules_are_extracted_into_the_parent_module(tmp_path: Path):
    """billing.rs and shipping.rs repeat a run with other variables and another label: the action
    puts one pub(crate) fn into main.rs (the module that declares both, with the std import it needs),
    calls it from both files, and the crate builds and prints the same."""
    from ferrolens.analyzers.dry.fingerprint import fingerprint
    from ferrolens.analyzers.dry.index import CloneIndex
    from ferrolens.analyzers.rules.dry.duplicate_code import findings
    from ferrolens.analyzers.source import parse

    crate = tmp_path / "dry_across"
    shutil.copytree(DRY_ACROSS, crate)

    def build_and_run() -> str:
        proc = subprocess.run(["cargo", "run", "-q", "--offline"], cwd=crate, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    before = build_and_run()
    index = CloneIndex()
    for path in sorted((crate / "src").glob("*.rs")):
        data = path.read_bytes()
        index.update(fingerprint(path.relative_to(crate).as_posix(), data, parse(data).root_node))
    (finding,) = findings(index, "src/billing.rs")
    fix = finding.fix
    assert fix.message == "extract the 2 copies into `crate::shared_report_invoices`"
    assert sorted(fe.path for fe in fix.files) == ["src/main.rs", "src/shipping.rs"]
    own = (crate / "src" / "billing.rs").read_bytes()
    for edit in sorted(fix.edits, key=lambda e: e.start, reverse=True):
        own = own[: edit.start] + edit.content.encode() + own[edit.end :]
    (crate / "src" / "billing.rs").write_bytes(own)
    for fe in fix.files:
        assert (crate / fe.path).read_text() == fe.old
        (crate / fe.path).write_text(fe.new)
    main = (crate / "src" / "main.rs").read_text()
    assert "pub(crate) fn shared_report_invoices(amounts: &[u32], out: &mut String, limit: u32, value: &str)" in main
    assert "    use std::fmt::Write;\n" in main
    assert 'crate::shared_report_invoices(weights, buf, max, "parcel");' in (crate / "src" / "shipping.rs").read_text()
    assert build_and_run() == before
