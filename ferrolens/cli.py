"""The command line: `ferrolens check|rules|rule|serve`."""

from __future__ import annotations

import argparse
import difflib
import gc
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from ferrolens import __version__
from ferrolens.pool import WorkerError, Workers

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _UsageError(Exception):
    """A problem with what the user asked for: reported on stderr, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ferrolens", description="Performance and DRY hints for Rust.")
    p.add_argument("--version", action="version", version=f"ferrolens {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="check Rust files and folders (default: the current folder)")
    c.add_argument("paths", nargs="*", type=Path, help="files or folders")
    c.add_argument("--output-format", choices=("text", "json", "sarif"), default="text")
    c.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    c.add_argument("--unsafe-fixes", action="store_true", help="with --fix or --diff: also apply unsafe fixes")
    c.add_argument("--diff", action="store_true", help="print the fixes as a diff instead of writing them")
    c.add_argument("--select", default=None, help="comma-separated rules or groups (`all` for every rule)")
    c.add_argument("--ignore", default=None, help="comma-separated rules or groups to leave out")
    c.add_argument("--config", type=Path, default=None, help="a ferrolens.toml to use instead of the one found")
    c.add_argument("--no-cache", action="store_true", help="neither read nor write .ferrolens_cache")
    c.add_argument("--jobs", type=int, default=0, help="worker processes (default: one per core)")
    c.add_argument("--no-progress", action="store_true", help="never draw the progress bar")
    c.add_argument("--statistics", action="store_true", help="also print duplicated lines per file and in total (a clone report)")

    rl = sub.add_parser("rules", help="list every rule")
    rl.add_argument("--format", choices=("text", "markdown"), default="text")
    r = sub.add_parser("rule", help="print one rule's docs")
    r.add_argument("name")
    s = sub.add_parser("serve", help="run the language server on stdio")
    s.add_argument("--log-file", type=Path, default=None)
    # LSP clients such as vscode-languageclient announce the transport; stdio is the only one
    s.add_argument("--stdio", action="store_true", help="use stdio (the default and only transport)")
    return p


def main(argv: list[str] | None = None) -> int:
    from ferrolens import tune_gc

    tune_gc()  # also for check's worker processes (forked: they inherit it)
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from ferrolens.server.server import run

        return run(log_file=args.log_file)
    if args.command == "rules":
        return _rules(args.format)
    if args.command == "rule":
        return _rule(args.name)
    return _check(args)


# set by `entry`: the process ends right after the run (os._exit), so what `_check_frozen` built (every
# file's report and fingerprints, the clone index) is left for the exit in `_LEFT` instead of being
# freed object by object when it returns (35-40 ms on T3)
_EXIT_AFTER = False
_LEFT: list = []


def entry() -> None:
    """The `ferrolens` command: `main`, then, for a check, an exit that skips freeing the objects one by
    one (every file's fingerprints: 0.07-0.1 s on 180k lines, measured). The output is flushed first;
    the server exits the usual way, which closes its log."""
    global _EXIT_AFTER
    argv = sys.argv[1:]
    _EXIT_AFTER = "serve" not in argv
    code = main(argv)
    if not _EXIT_AFTER:
        raise SystemExit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # a closed pipe (`| head`): nothing more to say
        pass
    os._exit(code)


def _default_label(rule) -> str:
    return "assist" if rule.assist else "on" if rule.default_enabled else "off"


def rules_markdown() -> str:
    from ferrolens.analyzers.registry import all_rules

    out = ["| rule | group | default | fix | mirrors Clippy | what it flags |", "| --- | --- | --- | --- | --- | --- |"]
    for r in all_rules().values():
        clippy = f"`{r.clippy}`" if r.clippy else "-"
        out.append(f"| `{r.name}` | {r.group} | {_default_label(r)} | {r.fix} | {clippy} | {r.summary} |")
    return "\n".join(out) + "\n"


def _rules(fmt: str = "text") -> int:
    from ferrolens.analyzers.registry import all_rules

    if fmt == "markdown":
        sys.stdout.write(rules_markdown())
        return EXIT_CLEAN

    rows = [("rule", "group", "default", "fix", "clippy", "summary")]
    for r in all_rules().values():
        rows.append((r.name, r.group, _default_label(r), r.fix, r.clippy or "-", r.summary))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5])
    return EXIT_CLEAN


def _rule(name: str) -> int:
    from ferrolens.analyzers.registry import all_rules

    rule = all_rules().get(name)
    if rule is None:
        print(f"ferrolens: no rule named {name!r}; `ferrolens rules` lists them", file=sys.stderr)
        return EXIT_ERROR
    print(rule.docs_markdown())
    return EXIT_CLEAN


# -- check ------------------------------------------------------------------------------------------
def _settings(args) -> tuple[object, Path, list[str]]:
    from ferrolens import config

    first = args.paths[0] if args.paths else Path(".")
    root = config.find_root(first)
    settings, warnings = config.load_files(root)
    if args.config is not None:
        problems: list[str] = []
        doc = config.read_toml(args.config, problems)
        if doc is None:
            raise _UsageError(problems[0])
        settings, w = config.merge(settings, doc, str(args.config))
        warnings += w
    cli = {}
    if args.select is not None:
        cli["select"] = [s.strip() for s in args.select.split(",") if s.strip()]
    if args.ignore is not None:
        cli["ignore"] = [s.strip() for s in args.ignore.split(",") if s.strip()]
    settings, w = config.merge(settings, cli, "command line")
    return settings, root, warnings + w


class _Plan:
    """What `check` derives from its settings, worked out once per settings object (not per file): the
    selection, whether duplicate_code and crate-wide rules are on, and the engines of both passes."""

    def __init__(self, settings) -> None:
        from ferrolens import config

        self.settings = settings  # (held: the plan is looked up by this object's identity, then its repr)
        self.key = repr(settings)
        self.selection = config.selection(settings)
        self.dry = any(r.name == DUPLICATE_CODE for r in self.selection.rules)
        self.crate_wide = any(r.crate_wide for r in self.selection.rules)
        self.include_tests = config.dry_options(settings).include_tests
        self.include_generated = settings.include_generated
        self._engines: dict[bool, object] = {}

    def engine(self, crate_wide_only: bool = False):
        """The engine `check` runs; `crate_wide_only`: just the crate-wide rules (the second pass)."""
        engine = self._engines.get(crate_wide_only)
        if engine is None:
            from dataclasses import replace

            from ferrolens.analyzers.engine import Engine

            def on_error(rule, exc):
                print(f"ferrolens: internal error in rule {rule.name}: {exc!r} (other rules still ran)", file=sys.stderr)

            # duplicate_code needs every file: the workers fingerprint, the parent process reports
            # clones; assists are editor actions on request, not findings
            rules = tuple(r for r in self.selection.rules if r.name != DUPLICATE_CODE and not r.assist and (r.crate_wide or not crate_wide_only))
            engine = self._engines[crate_wide_only] = Engine(replace(self.selection, rules=rules), on_error=on_error)
        return engine


_PLAN: _Plan | None = None


def _plan(settings) -> _Plan:
    """The plan of these settings; a worker gets a new settings object with every batch (unpickled), the
    same settings all the same: the plan and its engines are kept."""
    global _PLAN
    if _PLAN is None or _PLAN.settings is not settings:
        if _PLAN is not None and _PLAN.key == repr(settings):
            _PLAN.settings = settings
        else:
            _PLAN = _Plan(settings)
    return _PLAN


DUPLICATE_CODE = "duplicate_code"
DRY_CACHE_KEY = " duplicate_code"  # (a leading space: never a file name)


def is_cargo_config(path: Path) -> bool:
    return path.name in ("config.toml", "config") and path.parent.name == ".cargo"


def _process_manifest(path: Path, display: str, data: bytes, settings, report):
    """The `build` rules on a Cargo.toml; the package's sources are read for the rules that need them."""
    from ferrolens.analyzers.manifest import KIND_CONFIG, KIND_MANIFEST, MANIFEST_SCOPES, Manifest, analyze_manifest
    from ferrolens.analyzers.source import SourceFile
    from ferrolens.output import finding_json
    from ferrolens.packages import package_of

    rules = [r for r in _plan(settings).selection.rules if r.scope in MANIFEST_SCOPES]
    if not rules:
        return report
    kind = KIND_CONFIG if is_cargo_config(path) else KIND_MANIFEST
    manifest = Manifest(data, display, kind)
    src = SourceFile(data, display, tree=manifest.tree)
    package = package_of(path) if kind == KIND_MANIFEST else None
    report.findings = [finding_json(src, display, f) for f in analyze_manifest(manifest, package, rules)]
    report.uncached = True  # its findings depend on every source file of the package
    return report


def process_file(path: Path, display: str, settings, fix: bool, unsafe: bool, diff: bool, external=None):
    """Check one file. Crate-wide rules see `external` (the crate's other files); on the first pass it
    is a recorder, and the report says which names it was asked for (`missed`), so `_check` knows
    which files need a second pass once every file's type facts are in."""
    from ferrolens.analyzers.crate_types import CrateTypes, TypeFacts
    from ferrolens.analyzers.engine import ItemCache
    from ferrolens.analyzers.fix import fix_until_stable
    from ferrolens.analyzers.source import SourceFile, is_generated
    from ferrolens.analyzers.summary import FileSummary
    from ferrolens.crates import crate_of, manifest_of, real_path
    from ferrolens.files import BOM, check_bytes
    from ferrolens.output import FileReport, finding_json

    report = FileReport(display)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        report.problem = f"cannot read: {exc.strerror or exc}"
        report.io_error = True
        return report
    loaded = check_bytes(raw, settings.max_file_size)
    if loaded.data is None:
        report.problem = loaded.problem
        return report
    if path.name == "Cargo.toml" or is_cargo_config(path):
        return _process_manifest(path, display, loaded.data, settings, report)
    plan = _plan(settings)
    if not plan.include_generated and is_generated(loaded.data):
        report.generated = True  # (nothing read from it: no findings, no type facts, no fingerprints)
        return report
    second_pass = external is not None and external.missed is None
    engine = plan.engine(crate_wide_only=second_pass)
    crate = crate_of(path)
    data = loaded.data
    crate_wide = plan.crate_wide
    if external is None and crate_wide:
        external = CrateTypes.recorder()
    if fix or diff:
        new, applied = fix_until_stable(data, lambda d: engine.analyze(SourceFile(d, display), crate=crate, external=external), unsafe)
        if new != data:
            if diff:
                report.diff = "".join(
                    difflib.unified_diff(
                        data.decode("utf-8").splitlines(keepends=True),
                        new.decode("utf-8").splitlines(keepends=True),
                        fromfile=f"a/{display}",
                        tofile=f"b/{display}",
                    )
                )
                report.fixed = applied
            else:
                problem = atomic_write(path, raw, (BOM if loaded.bom else b"") + new)
                if problem:
                    report.problem, report.io_error = problem, True
                else:
                    data, report.fixed = new, applied
    src = SourceFile(data, display)
    cache = ItemCache(batch=True)
    report.findings = [finding_json(src, display, f) for f in engine.analyze(src, cache, crate=crate, external=external)]
    if crate_wide and not second_pass:
        manifest = manifest_of(real_path(path))
        report.manifest = str(manifest) if manifest else ""
        report.facts = TypeFacts.of(display, cache.merged or FileSummary.of(src), src.root, data).to_json()
        report.missed = sorted(external.missed or ())
        if report.missed or _holds_channels(report.facts):
            # it may need a second pass (`_second_plan`): what that needs is kept, in this process
            _KEPT[display] = (src, cache, crate, settings)
    if plan.dry and not second_pass:
        from ferrolens.analyzers.dry.fingerprint import fingerprint, is_test_path

        include_tests = plan.include_tests
        if include_tests or not is_test_path(display):
            report.units = fingerprint(display, data, src.root, include_tests)
    return report


# display name -> (source, item cache, crate info, settings) of the files a first pass checked in this
# process whose rules looked for a type of another file, or that hold channels: their second pass
_KEPT: dict[str, tuple] = {}


def _second_again(path: Path, display: str, settings, external):
    """A file's second pass: from what its first pass kept in this process when it can (no parse, no
    walk; the engine's item cache checks again only the items whose rules read the crate's types,
    `external`), else from the file. Returns the crate-wide rules' findings in a report."""
    from ferrolens.output import FileReport, finding_json

    kept = _KEPT.pop(display, None)
    if kept is None:
        return process_file(path, display, settings, False, False, False, external=external)
    src, cache, crate, settings = kept
    wide = _crate_wide_rules()
    report = FileReport(display)
    report.findings = [finding_json(src, display, f) for f in _plan(settings).engine().analyze(src, cache, crate=crate, external=external) if f.rule in wide]
    return report


def _crate_wide_rules() -> set[str]:
    from ferrolens.analyzers.registry import all_rules

    return {name for name, rule in all_rules().items() if rule.crate_wide}


def _holds_channels(facts: dict) -> bool:
    """Whether a file's type facts (JSON) list channels it sends on or receives from."""
    return any(site[2] != "holds" for site in facts["sites"])


def _worker_task(task: tuple):
    """What check's workers do: a batch of files' first pass, or (once every file's facts are in) the
    second pass of files they checked, with their crates' types."""
    if task[0] == "first":
        return [process_file(*item) for item in task[1]]
    _, items, crates = task
    return [_second_again(path, display, settings, crates[manifest]) for path, display, settings, manifest in items]


def _forked_map(fn, items: list, jobs: int, worth: bool = True) -> list:
    """`fn` over `items`, in `jobs` forked workers when it is `worth` it: the workers see what the
    parent built (an index, type facts) without a copy. One item at a time: the items are shares."""
    import multiprocessing

    if jobs > 1 and worth and len(items) > 1 and "fork" in multiprocessing.get_all_start_methods():
        out: list = [None] * len(items)
        with Workers(min(jobs, len(items)), fn) as pool:  # (lighter than a ProcessPoolExecutor: 20-30 ms)
            for k, _, result in pool.map_unordered(items, ahead=1):  # (few big tasks: none queued behind a busy worker at the end)
                out[k] = result
        return out
    return [fn(item) for item in items]


_SECOND: tuple | None = None  # (files, reports, settings, crates) while the second pass runs
_CLONES: tuple | None = None  # (index, engine, reports, statistics) while the clone report runs


def _second_item(i: int):
    files, reports, settings, crates = _SECOND
    rep = reports[i]
    return _second_again(files[i], rep.path, settings, crates[rep.manifest])


def _second_plan(reports: list, early: "_Early") -> tuple[list[tuple[int, str]], dict]:
    """Crate-wide rules: once every file's type facts are in, the files to check again (crate-wide
    rules only) are those whose rules looked for a type another file of their crate declares, or whose
    actors' channels meet another file's. Returns them (index, digest of the crate's facts) with the
    crates' type facts. The cache keeps the first pass, plus the second one keyed by that digest,
    reused while those facts are unchanged: such files are settled here."""
    from ferrolens.analyzers.crate_types import CrateTypes

    by_crate: dict[str, list] = {}
    raw_facts: dict[str, list] = {}  # the same as they came from the workers (JSON-ready)
    for rep in reports:
        if rep is not None and rep.facts is not None and rep.manifest:
            by_crate.setdefault(rep.manifest, []).append(early.facts_of(rep))
            raw_facts.setdefault(rep.manifest, []).append((rep.path, rep.facts))
    crates = {m: CrateTypes.build(facts) for m, facts in by_crate.items() if len(facts) > 1}
    digests: dict[str, str] = {}  # a stable digest of each crate's facts: second-pass results are cached by it
    todo: list[tuple[int, str]] = []
    for i, rep in enumerate(reports):
        ct = crates.get(rep.manifest) if rep is not None and rep.facts is not None else None
        if ct is None:
            continue
        own_channels = _holds_channels(rep.facts)
        other_channels = any(site.kind != "holds" and site.path != rep.path for site in ct.sites)
        if not ((own_channels and other_channels) or ct.knows(n for n in rep.missed if ct.origin.get(n) != rep.path)):
            continue
        if rep.manifest not in digests:
            raw = json.dumps(sorted(raw_facts[rep.manifest], key=lambda pf: pf[0]), sort_keys=True, default=str)
            digests[rep.manifest] = hashlib.sha256(raw.encode()).hexdigest()[:16]
        digest = digests[rep.manifest]
        hit = rep.second_cache
        if isinstance(hit, dict) and hit.get("digest") == digest:
            rep.first_pass, rep.findings, rep.second_digest = rep.findings, hit["findings"], digest
            continue
        todo.append((i, digest))
    return todo, crates


def _second_merge(reports: list, todo: list[tuple[int, str]], redone: list) -> None:
    wide = _crate_wide_rules()
    for (i, digest), again in zip(todo, redone):
        rep = reports[i]
        # the other rules' findings stand from the first pass; the crate-wide ones are redone
        again.findings = sorted([f for f in rep.findings if f["rule"] not in wide] + again.findings, key=lambda f: (f["start"]["line"], f["start"]["column"], f["rule"]))
        again.second_digest, again.manifest = digest, rep.manifest
        again.units, again.cached_units, again.facts, again.missed = rep.units, rep.cached_units, rep.facts, rep.missed
        again.fixed, again.diff, again.first_pass = rep.fixed, rep.diff, rep.findings
        reports[i] = again


def _after_item(task: tuple):
    """One task of the work after the first pass: a file's second pass, or a share of the clone report."""
    return _second_item(task[1]) if task[0] == "second" else _clone_findings(task[1])


def _finish_files(files: list[Path], reports: list, settings, jobs: int, clones: bool, statistics: bool, early: "_Early", workers=None, owners: dict[int, int] | None = None) -> tuple[dict[str, list], str]:
    """After the first pass: the second pass of the crate-wide rules (if selected) and the clone report
    (if `clones`). A file checked by one of the first pass's `workers` (`owners`) has its second pass
    there, from what that worker kept, while the clone report runs; the clone report and the other
    files' second pass run in one set of forked workers, which see what the parent built (the crates'
    type facts, the clone index) without a copy. Returns duplicate_code's findings per file
    (JSON-ready) and the statistics table (or "")."""
    global _SECOND, _CLONES
    todo, crates = _second_plan(reports, early) if _plan(settings).crate_wide else ([], {})
    asked: dict[int, list[tuple[int, str]]] = {}  # worker -> the files it makes the second pass of
    if workers is not None:
        for i, digest in todo:
            if i in owners:
                asked.setdefault(owners[i], []).append((i, digest))
        for worker, mine in asked.items():
            manifests = {reports[i].manifest for i, _ in mine}
            items = [(files[i], reports[i].path, settings, reports[i].manifest) for i, _ in mine]
            workers.send(worker, ("second", items, {m: crates[m] for m in manifests}))
        todo = [(i, digest) for i, digest in todo if i not in owners]
    tasks: list[tuple] = []
    reps: list = []
    if clones:
        index, engine, reps = _clone_setup([r for r in reports if r is not None], settings, early.index)
        _CLONES = (index, engine, reps, statistics)
        # the clone report in shares of neighbouring files (copies are mostly near each other: a share
        # reuses its pair results and parsed partners), then the second pass
        n = jobs * 8
        parts = [list(range(k * len(reps) // n, (k + 1) * len(reps) // n)) for k in range(n)]
        # the biggest first (by units: the work the report makes), so no worker is left with one at the end
        parts.sort(key=lambda part: -sum(len(reps[i].units.runs) + len(reps[i].units.fns) for i in part))
        tasks = [("clones", part) for part in parts]
    _SECOND = (files, reports, settings, crates)
    tasks += [("second", i) for i, _ in todo]
    try:
        results = _forked_map(_after_item, tasks, jobs, len(todo) >= 16 or len(reps) >= 64)
    finally:
        _SECOND = _CLONES = None
    shares = len(tasks) - len(todo)  # the clone report's results come first
    _second_merge(reports, todo, results[shares:])
    for worker, mine in asked.items():
        _second_merge(reports, mine, workers.receive(worker))
    if not clones:
        return {}, ""
    return _clone_report([r for part in results[:shares] for r in part], statistics)


def _units_from_json(path: Path, display: str, raw: dict):
    """The cached fingerprints of an unchanged file, with its bytes read again (None if unreadable)."""
    from ferrolens.analyzers.dry.fingerprint import FileUnits
    from ferrolens.files import check_bytes

    try:
        loaded = check_bytes(path.read_bytes(), 1 << 62)
        if loaded.data is None:
            return None
        return FileUnits.from_json(display, loaded.data, raw)
    except (OSError, KeyError, TypeError, ValueError):
        return None


def _clone_setup(done: list, settings, index) -> tuple:
    """The clone index of every file's fingerprints (`index` holds those that came in during the first
    pass), the engine that finishes duplicate_code's findings, and the reports it covers."""
    from ferrolens.analyzers.engine import Engine

    reps = [rep for rep in done if rep.units is not None]
    for rep in reps:
        if index.files.get(rep.path) is not rep.units:
            index.update(rep.units, track=False)
    return index, Engine(_plan(settings).selection, workspace=index), reps


class _Early:
    """What the parent can build from each first-pass report while the workers are still busy (it
    would otherwise wait for them): the clone index, and the files' type facts read back."""

    def __init__(self, settings) -> None:
        from ferrolens import config
        from ferrolens.analyzers.dry.index import CloneIndex

        self.index = CloneIndex(config.dry_options(settings))  # (the clone report's order of files does not matter)
        self._facts: dict[str, object] = {}

    def add(self, rep) -> None:
        if rep.units is not None:
            self.index.update(rep.units, track=False)  # (no clone is asked for before every file is in)
        if rep.facts is not None and rep.manifest:
            self.facts_of(rep)

    def facts_of(self, rep):
        from ferrolens.analyzers.crate_types import TypeFacts

        facts = self._facts.get(rep.path)
        if facts is None or facts[0] is not rep.facts:
            facts = self._facts[rep.path] = (rep.facts, TypeFacts.from_json(rep.facts))
        return facts[1]


def _clone_report(results: list, statistics: bool) -> tuple[dict[str, list], str]:
    """The duplicate_code findings per file (JSON-ready) and the statistics table (or "")."""
    found = {path: extra for path, extra, _ in results if extra}
    if not statistics:
        return found, ""
    rows = [row for _, _, row in results]
    out = ["", "Duplicated lines (duplicate_code):", f"{'file':<60} {'lines':>8} {'duplicated':>11} {'%':>6}"]
    for path, dup, total, _ in sorted(rows, key=lambda r: (-r[1], r[0])):
        if dup:
            out.append(f"{path:<60} {total:>8} {dup:>11} {100 * dup / max(total, 1):>5.1f}%")
    dup, total, clones = (sum(r[k] for r in rows) for k in (1, 2, 3))
    out.append(f"{'total (' + str(len(rows)) + ' files, ' + str(clones) + ' duplicated places)':<60} {total:>8} {dup:>11} {100 * dup / max(total, 1):>5.1f}%")
    return found, "\n".join(out) + "\n"


def _clone_findings(which: list[int]) -> list[tuple[str, list, tuple | None]]:
    """(path, duplicate_code findings as JSON, statistics row or None) of the reports numbered `which`."""
    from ferrolens.analyzers.rules.dry.duplicate_code import findings
    from ferrolens.analyzers.source import SourceFile
    from ferrolens.output import finding_json

    index, engine, reps, statistics = _CLONES
    out = []
    for i in which:
        rep = reps[i]
        src = SourceFile(rep.units.data, rep.path, parsed=False)  # positions; a tree only if an action needs one
        extra = [finding_json(src, rep.path, f) for f in engine.finish(src, findings(index, rep.path))]
        row = (rep.path, *index.duplicated_lines(rep.path), len(index.clones(rep.path))) if statistics else None
        out.append((rep.path, extra, row))
    return out


def atomic_write(path: Path, original: bytes, new: bytes) -> str | None:
    """Write through a temporary file and a rename, keeping permissions; refuse when the file changed
    since it was read. Returns a problem description, or None on success."""
    try:
        if path.read_bytes() != original:
            return "not fixed: the file changed while it was being checked"
        mode = path.stat().st_mode
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".ferrolens", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(new)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode & 0o7777)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        return f"not fixed: cannot write ({exc.strerror or exc})"
    return None


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class _Progress:
    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self.start = time.monotonic()
        self.shown = False

    def step(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled or time.monotonic() - self.start < 0.5:
            return
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {self.done}/{self.total} files")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


def _code_fingerprint() -> str:
    """Size and mtime of every module of ferrolens: an edited or upgraded install never reads old results."""
    package = Path(__file__).resolve().parent
    parts = []
    for p in sorted(package.rglob("*.py")):
        st = p.stat()
        parts.append(f"{p.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def _cache_path(root: Path, settings) -> Path:
    key = f"{__version__}|{_code_fingerprint()}|{settings!r}|{os.environ.get('FERROLENS_EXTRA_RULES', '')}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return root / ".ferrolens_cache" / f"check-{digest}.json"


def _write_cache(cache_file: Path, content: dict) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        (cache_file.parent / ".gitignore").write_text("*\n")
        tmp = cache_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(content))
        os.replace(tmp, cache_file)
    except OSError:
        pass  # a read-only tree just runs without a cache


def _check(args) -> int:
    from ferrolens.crates import frozen

    with frozen():  # the crate facts and resolved paths of a file are looked up once in a run
        try:
            return _check_frozen(args)
        except WorkerError as exc:
            print(f"ferrolens: internal error, please report it: {exc}", file=sys.stderr)
            return EXIT_ERROR
        finally:
            _KEPT.clear()


def _check_frozen(args) -> int:
    from ferrolens.crates import real_path, relative_text, stamp as crate_stamp
    from ferrolens.files import walk
    from ferrolens.output import FileReport

    if args.unsafe_fixes and not (args.fix or args.diff):
        print("ferrolens: --unsafe-fixes goes with --fix or --diff", file=sys.stderr)
        return EXIT_ERROR
    paths = args.paths or [Path(".")]
    missing = [p for p in paths if not p.exists()]
    if missing:
        for p in missing:
            print(f"ferrolens: {p}: no such file or folder", file=sys.stderr)
        return EXIT_ERROR
    try:
        settings, root, warnings = _settings(args)
    except _UsageError as exc:
        print(f"ferrolens: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for w in warnings:
        print(f"ferrolens: warning: {w}", file=sys.stderr)
    cwd = Path.cwd()
    files = [p for p in walk(paths, (".rs", "Cargo.toml")) if p.suffix == ".rs" or p.name == "Cargo.toml"]
    # a project's Cargo config sits in a hidden folder the walk skips: taken from the folders named
    files += [p / ".cargo" / "config.toml" for p in paths if p.is_dir() and (p / ".cargo" / "config.toml").is_file()]

    def display(p: Path) -> str:
        rel = relative_text(real_path(p), cwd)
        return rel if rel is not None else p.as_posix()

    writing = args.fix or args.diff
    use_cache = not (args.no_cache or writing)
    cache_file = _cache_path(root, settings) if use_cache else None  # (its name reads every module's stamp)
    cache: dict = {}
    if cache_file is not None and cache_file.is_file():
        try:
            cache = json.loads(cache_file.read_text())
        except (OSError, ValueError):
            cache = {}
    reports: list[FileReport | None] = [None] * len(files)
    keys: list[str | None] = [None] * len(files)  # taken before analysis, so a file edited meanwhile is redone next time
    todo = []
    for i, p in enumerate(files):
        name = display(p) if use_cache else None  # (else named as the workers take them: `named`)
        if use_cache:
            try:
                st = p.stat()
                keys[i] = key = f"{st.st_mtime_ns}:{st.st_size}:{crate_stamp(p)}"
            except OSError:
                key = None
            hit = cache.get(name)
            if key and hit and hit.get("key") == key:
                reports[i] = rep = FileReport(name, hit["findings"], hit.get("problem"), generated=bool(hit.get("generated")))
                if hit.get("crate"):
                    rep.manifest, rep.facts, rep.missed = hit["crate"]
                    rep.second_cache = hit.get("second")
                rep.cached_units = hit.get("units")
                continue
        todo.append((i, (p, name, settings, args.fix, args.unsafe_fixes, args.diff)))

    def named(item: tuple) -> tuple:
        return item if item[1] is not None else (item[0], display(item[0]), *item[2:])

    early = _Early(settings)
    workers = None  # (the first pass's worker processes, when there are)
    collecting = False  # whether the garbage collector was on before they came
    owners: dict[int, int] = {}  # file number -> the worker that checked it
    progress = _Progress(len(files), sys.stderr.isatty() and not args.no_progress)
    progress.step(len(files) - len(todo))
    jobs = args.jobs or os.cpu_count() or 1
    try:
        if jobs > 1 and len(todo) >= 32:
            # the biggest files first and small batches at the end, so no worker is left alone with a big
            # file while the other has nothing to do; manifests lead (each reads its package's sources)
            order = sorted(todo, key=lambda it: (it[1][0].suffix != ".rs", _file_size(it[1][0])), reverse=True)
            size = max(2, len(order) // (jobs * 16))
            batches = [order[k : k + size] for k in range(0, len(order), size)]
            # the workers stay until the second pass, which they make of the files they checked
            workers = Workers(jobs, _worker_task)
            # the parent only gathers what they send (the clone index holds most of it): no cycle to
            # collect there, and one young-object collection over that index took 72-89 ms on T3 (it
            # stays off to the exit under the `ferrolens` command: turned on again, it would collect then)
            collecting = gc.isenabled() and not _EXIT_AFTER
            gc.disable()
            # (the batches are named as they go: the first ones are at work while the others are named)
            for k, worker, results in workers.map_unordered(("first", [named(it) for _, it in b]) for b in batches):
                for (i, _), rep in zip(batches[k], results):
                    reports[i] = rep
                    owners[i] = worker
                    early.add(rep)
                progress.step(len(batches[k]))
        else:
            for i, item in todo:
                reports[i] = rep = process_file(*named(item))
                early.add(rep)
                progress.step()
        progress.close()
        # duplicate_code reads every file: its findings are reused from the cache only when no file changed
        dry, clones = {}, _plan(settings).dry
        if clones:
            names = sorted(r.path for r in reports if r is not None)
            rust_todo = [item for _, item in todo if item[0].suffix == ".rs"]  # manifests are always re-read
            cached = cache.get(DRY_CACHE_KEY) if use_cache and not rust_todo else None
            if isinstance(cached, dict) and cached.get("files") == names and not args.statistics:
                dry, clones = cached.get("findings", {}), False
            for i, rep in enumerate(reports if clones else ()):
                if rep is not None and rep.units is None and rep.cached_units is not None:
                    rep.units = _units_from_json(files[i], rep.path, rep.cached_units)
                    if rep.units is None:  # unreadable since it was looked at: analysed again
                        reports[i] = process_file(files[i], rep.path, settings, args.fix, args.unsafe_fixes, args.diff)
        found, stats = _finish_files(files, reports, settings, jobs, clones, args.statistics, early, workers, owners)
    finally:
        if workers is not None:
            workers.close()
            if collecting:
                gc.enable()
    dry = found if clones else dry
    done = [r for r in reports if r is not None]
    if _EXIT_AFTER:
        _LEFT.append(locals())  # (see _EXIT_AFTER)

    if use_cache:
        new_cache = {
            rep.path: {
                "key": key,
                "findings": rep.first_pass if rep.first_pass is not None else rep.findings,
                "problem": rep.problem,
                "generated": rep.generated,
                "units": rep.cached_units if rep.cached_units is not None else rep.units.to_json() if rep.units is not None else None,
                "crate": [rep.manifest, rep.facts, rep.missed] if rep.facts is not None else None,
                "second": {"digest": rep.second_digest, "findings": rep.findings} if rep.first_pass is not None else None,
            }
            for key, rep in zip(keys, done)
            if key is not None and not rep.io_error and not rep.uncached
        }
        if _plan(settings).dry:
            new_cache[DRY_CACHE_KEY] = {"files": sorted(r.path for r in done), "findings": dry}
        if new_cache != cache:  # (a re-run on an unchanged tree writes nothing)
            _write_cache(cache_file, new_cache)

    for rep in done:
        if rep.path in dry:
            rep.findings = sorted(rep.findings + dry[rep.path], key=lambda f: (f["start"]["line"], f["start"]["column"], f["rule"]))
    io_error = False
    for rep in done:
        if rep.problem:
            io_error = io_error or rep.io_error
            print(f"{rep.path}: {rep.problem}", file=sys.stderr)
    generated = sum(rep.generated for rep in done)
    if generated:
        print(f"ferrolens: {generated} file{'s' if generated != 1 else ''} of generated code not checked (a marker in the first lines; setting include_generated = true checks them)", file=sys.stderr)
    if args.diff:
        sys.stdout.write("".join(r.diff for r in done))
    if args.output_format == "json":
        from ferrolens.output import json_lines_array

        sys.stdout.write(json_lines_array([f for r in done for f in r.findings]))
    elif args.output_format == "sarif":
        from ferrolens.output import sarif

        sys.stdout.write(sarif.render(done))
    elif not args.diff:
        from ferrolens.output import text

        sys.stdout.write(text.render(done, args.fix, args.unsafe_fixes))
    if stats:
        (sys.stderr if args.output_format != "text" else sys.stdout).write(stats)
    if io_error:
        return EXIT_ERROR
    remaining = any(r.findings for r in done) or (args.diff and any(r.diff for r in done))
    return EXIT_FINDINGS if remaining else EXIT_CLEAN
