"""Clone detection: ferrolens (duplicate_code) against jscpd on the same real crate sources.

    python benchmarks/dry.py                # both tools on both sets -> benchmarks/DRY.md
    python benchmarks/dry.py --show ferrolens|jscpd   # print unreviewed sampled clone pairs with code

Inputs: the `src/` folders of crates from Debian's librust-*-dev packages (/usr/share/cargo/registry),
copied into a scratch folder so both tools see the same files under the same names: a ~50k-line set
(clap, rayon) and a ~200k-line set (tokio, syn, gimli, hyper, chrono). jscpd comes from npm (installed
into benchmarks/.jscpd on first use) and runs with the same thresholds (50 tokens, 5 lines) and no file
size limit.

Reported per tool and set: wall time, peak RSS, clone pairs. Precision: up to SAMPLE pairs per tool
(seeded) are reviewed by hand; verdicts live in dry-verdicts.json, keyed by tool and the two ranges.
Recall: the share of jscpd's pairs that ferrolens also reports (a finding overlapping one side with a
related copy overlapping the other), over all of them and over the ones reviewed as true clones.
The incremental cost is measured in process on the 200k set: one keystroke in a random function of a
random file, then re-fingerprint, update the index and recompute that file's clones.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
REGISTRY = Path("/usr/share/cargo/registry")
WORK = Path(os.environ.get("FERROLENS_BENCH_DIR", "/tmp/ferrolens-bench")) / "dry"
VERDICTS = HERE / "dry-verdicts.json"
SAMPLE = 30
SETS = {
    "50k": ["clap-4.0.32", "rayon-1.6.1"],
    "200k": ["tokio-1.24.2", "syn-1.0.107", "gimli-0.27.0", "hyper-0.14.19", "chrono-0.4.23"],
}
JSCPD_DIR = HERE / ".jscpd"


def prepare(name: str) -> Path:
    target = WORK / name
    if target.is_dir():
        return target
    for crate in SETS[name]:
        src = REGISTRY / crate / "src"
        if not src.is_dir():
            sys.exit(f"{src} is missing: apt-get install librust-{crate.rsplit('-', 1)[0]}-dev")
        shutil.copytree(src, target / crate / "src")
    return target


def jscpd() -> Path:
    exe = JSCPD_DIR / "node_modules" / ".bin" / "jscpd"
    if not exe.exists():
        JSCPD_DIR.mkdir(exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(JSCPD_DIR), "--no-audit", "--no-fund", "jscpd@4.3.0"], check=True, capture_output=True)
    return exe


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds and peak RSS (MB) of a command, through GNU time."""
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], cwd=cwd, capture_output=True, text=True)
    wall = time.monotonic() - start
    rss = int(proc.stderr.strip().split("\n")[-1]) / 1024
    return wall, rss, proc


def lines_of(path: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in path.rglob("*.rs"))


# -- the two tools ----------------------------------------------------------------------------------
Pair = tuple[tuple[str, int, int], tuple[str, int, int]]  # (path, first line, last line) x 2, 1-based


def norm_pair(a, b) -> Pair:
    return tuple(sorted([a, b]))  # type: ignore[return-value]


def run_ferrolens(folder: Path, jobs: int = 0) -> tuple[float, float, set[Pair], dict]:
    cmd = [sys.executable, "-m", "ferrolens", "check", ".", "--select", "duplicate_code", "--no-cache", "--no-progress", "--output-format", "json"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    wall, rss, proc = timed(cmd, folder)
    findings = json.loads(proc.stdout)
    pairs: set[Pair] = set()
    for f in findings:
        here = (f["path"], f["start"]["line"], f["end"]["line"])
        for r in f["related"]:
            pairs.add(norm_pair(here, (r["path"], r["start"]["line"], r["end"]["line"])))
    kinds = {}
    for f in findings:
        msg = f["message"]
        kind = "near-miss" if "% alike" in msg else "renamed" if "(identifiers renamed" in msg else "identical"
        kinds[kind] = kinds.get(kind, 0) + 1
    return wall, rss, pairs, kinds


def run_jscpd(folder: Path) -> tuple[float, float, set[Pair]]:
    out = WORK / f"jscpd-{folder.name}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(jscpd()), ".", "--format", "rust", "--min-tokens", "50", "--min-lines", "5", "--max-lines", "10000000",
           "--max-size", "100mb", "--reporters", "json", "--output", str(out), "--silent"]
    wall, rss, proc = timed(cmd, folder)
    data = json.loads((out / "jscpd-report.json").read_text())
    pairs = set()
    for d in data["duplicates"]:
        a, b = d["firstFile"], d["secondFile"]
        pairs.add(norm_pair((a["name"].removeprefix("./"), a["start"], a["end"]), (b["name"].removeprefix("./"), b["start"], b["end"])))
    return wall, rss, pairs


def overlaps(a: tuple[str, int, int], b: tuple[str, int, int]) -> bool:
    return a[0] == b[0] and a[1] <= b[2] and b[1] <= a[2]


def found(pair: Pair, ours: set[Pair]) -> bool:
    x, y = pair
    return any((overlaps(x, p) and overlaps(y, q)) or (overlaps(x, q) and overlaps(y, p)) for p, q in ours)


# -- review --------------------------------------------------------------------------------------------
def pair_key(tool: str, pair: Pair) -> str:
    return f"{tool}|" + "|".join(f"{p}:{a}-{b}" for p, a, b in pair)


def sample(pairs: set[Pair]) -> list[Pair]:
    ordered = sorted(pairs)
    return ordered if len(ordered) <= SAMPLE else sorted(random.Random(7).sample(ordered, SAMPLE))


def in_scope(folder: Path, side: tuple[str, int, int]) -> bool:
    """Code ferrolens looks at by design: not generated, not a test file, not in a `#[cfg(test)]`
    module (judged from the nearest `#[cfg(test)]` before the range that opens a `mod`)."""
    from ferrolens.analyzers.dry.fingerprint import is_generated, is_test_path

    path, first, _ = side
    data = (folder / path).read_bytes()
    if is_generated(data) or is_test_path(path):
        return False
    head = b"\n".join(data.split(b"\n")[: max(first, 1)])
    at = head.rfind(b"#[cfg(test)]")
    return not (at >= 0 and b"mod " in head[at : at + 200])


def scope_sample(folder: Path, pairs: set[Pair]) -> list[Pair]:
    """jscpd's pairs with both sides in scope, a seeded sample of SAMPLE: the recall sample."""
    scoped = [p for p in sorted(pairs) if in_scope(folder, p[0]) and in_scope(folder, p[1])]
    return scoped if len(scoped) <= SAMPLE else sorted(random.Random(11).sample(scoped, SAMPLE))


def show(folder: Path, tool: str, pairs: list[Pair], verdicts: dict) -> None:
    for pair in pairs:
        key = pair_key(tool, pair)
        if key in verdicts:
            continue
        print("=" * 100)
        print(key)
        for path, a, b in pair:
            lines = (folder / path).read_text(errors="replace").split("\n")
            print(f"--- {path}:{a}-{b}")
            for i in range(a, min(b, a + 25) + 1):
                print(f"{i:5} {lines[i - 1]}")


def in_process_incremental(folder: Path, edits: int = 40) -> dict:
    """Index the set in this process, then time single keystrokes (insert a character in a random
    function body) through parse, fingerprint, index update and the file's clones."""
    from ferrolens.analyzers.dry.fingerprint import FingerprintCache, fingerprint
    from ferrolens.analyzers.dry.index import CloneIndex
    from ferrolens.analyzers.source import SourceFile

    def rss_mb() -> float:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    before = rss_mb()
    index = CloneIndex()
    files = sorted(folder.rglob("*.rs"))
    t0 = time.perf_counter()
    for p in files:
        data = p.read_bytes()
        index.update(fingerprint(p.relative_to(folder).as_posix(), data, SourceFile(data).root))
    build = time.perf_counter() - t0
    for p in files:
        index.clones(p.relative_to(folder).as_posix())
    memory = rss_mb() - before
    rng = random.Random(3)
    times = []
    for _ in range(edits):
        p = rng.choice(files)
        key = p.relative_to(folder).as_posix()
        data = p.read_bytes()
        src = SourceFile(data, key)
        cache = FingerprintCache()
        fingerprint(key, data, src.root, cache=cache)
        bodies = [u for u in index.files[key].runs] if key in index.files else []
        if not bodies:
            continue
        r = rng.randrange(len(bodies))
        at = index.files[key].span(r, 0, 1)[1] - 1  # just before a statement's last byte
        start = time.perf_counter()
        src.apply_edit(at, at, b" ")
        units = fingerprint(key, src.data, src.root, cache=cache)
        index.update(units)
        index.clones(key)
        times.append((time.perf_counter() - start) * 1000)
        index.update(fingerprint(key, data, SourceFile(data).root))  # back to the original
    times.sort()
    return {"files": len(files), "build": build, "memory": memory, "p50": statistics.median(times), "p95": times[int(len(times) * 0.95)], "edits": len(times)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--show", choices=("ferrolens", "jscpd", "jscpd-scope"))
    ap.add_argument("--set", default="200k", help="the set --show reviews")
    ap.add_argument("--incremental", type=Path, help="(internal) measure the live index on this folder, print JSON")
    args = ap.parse_args()
    if args.incremental:
        print(json.dumps(in_process_incremental(args.incremental)))
        return 0
    verdicts = json.loads(VERDICTS.read_text()) if VERDICTS.exists() else {}
    if args.show:
        folder = prepare(args.set)
        if args.show == "jscpd-scope":
            show(folder, "jscpd", scope_sample(folder, run_jscpd(folder)[2]), verdicts)
            return 0
        pairs = run_ferrolens(folder)[2] if args.show == "ferrolens" else run_jscpd(folder)[2]
        show(folder, args.show, sample(pairs), verdicts)
        return 0

    text = build_report(verdicts)
    (HERE / "DRY.md").write_text(text)
    print(text)
    return 0


def build_report(verdicts: dict | None = None) -> str:
    """Run both tools on both sets and return the report (markdown). benchmarks/run.py includes it."""
    if verdicts is None:
        verdicts = json.loads(VERDICTS.read_text()) if VERDICTS.exists() else {}
    out = ["# Clone detection: ferrolens against jscpd", ""]
    out.append(f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}. Command: `python benchmarks/dry.py`.")
    out.append("Same files for both tools (crate `src/` folders), same thresholds (50 tokens, 5 lines).")
    out.append("")
    out.append("| set | tool | files | lines | wall (s) | peak RSS (MB) | clone pairs |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    results = {}
    for name in SETS:
        folder = prepare(name)
        files = len(list(folder.rglob("*.rs")))
        lines = lines_of(folder)
        fw, fr, fp, kinds = run_ferrolens(folder)
        f1w, f1r, _, _ = run_ferrolens(folder, jobs=1)
        jw, jr, jp = run_jscpd(folder)
        results[name] = (folder, fp, jp, kinds)
        out.append(f"| {lines // 1000}k | ferrolens | {files} | {lines:,} | {fw:.2f} | {fr:.0f} | {len(fp)} |")
        out.append(f"| {lines // 1000}k | ferrolens `--jobs 1` | {files} | {lines:,} | {f1w:.2f} | {f1r:.0f} | {len(fp)} |")
        out.append(f"| {lines // 1000}k | jscpd 4.3.0 | {files} | {lines:,} | {jw:.2f} | {jr:.0f} | {len(jp)} |")
        out.append(f"| {lines // 1000}k | ratio ferrolens / jscpd | | | {fw / jw:.2f}x | {fr / jr:.2f}x | |")
    out.append("")
    out.append("ferrolens findings by kind: " + "; ".join(f"{n}: " + ", ".join(f"{k} {v}" for k, v in sorted(r[3].items())) for n, r in results.items()))
    out.append("")
    out.append("## Precision (reviewed samples) and recall of jscpd's clones")
    out.append("")
    out.append("Verdicts: `tp` a real duplicate, `out` a real duplicate in code ferrolens leaves out by design (tests,")
    out.append("generated files), `fp` not duplicated logic (imports, doc comments, look-alike code that does other work).")
    out.append("")
    out.append("| set | tool | pairs | sampled | reviewed | true (of which out of scope) | false | precision |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    notes = []
    true_jscpd: dict[str, list[Pair]] = {}
    for name, (folder, fp, jp, _) in results.items():
        for tool, pairs in (("ferrolens", fp), ("jscpd", jp)):
            picked = sample(pairs)
            seen = [verdicts[pair_key(tool, p)] for p in picked if pair_key(tool, p) in verdicts]
            tp = sum(v["verdict"] in ("tp", "out") for v in seen)
            scope = sum(v["verdict"] == "out" for v in seen)
            fpn = len(seen) - tp
            prec = f"{100 * tp / len(seen):.0f}%" if seen else "-"
            out.append(f"| {name} | {tool} | {len(pairs)} | {len(picked)} | {len(seen)} | {tp} ({scope}) | {fpn} | {prec} |")
            for p in picked:
                v = verdicts.get(pair_key(tool, p))
                if v and v["verdict"] == "fp":
                    notes.append(f"- {name} {tool} `{pair_key(tool, p)}`: {v.get('note', '')}")
                if tool == "jscpd" and v and v["verdict"] == "tp":
                    true_jscpd.setdefault(name, []).append(p)
    out.append("")
    for name, (folder, fp, jp, _) in results.items():
        hit = sum(found(p, fp) for p in jp)
        trues = true_jscpd.get(name, [])
        hit_true = sum(found(p, fp) for p in trues)
        missed = [p for p in trues if not found(p, fp)]
        out.append(f"- {name}: ferrolens reports {hit} of jscpd's {len(jp)} pairs ({100 * hit / max(len(jp), 1):.0f}%, tests and generated files included), "
                   + (f"and {hit_true} of the {len(trues)} sampled pairs reviewed as true in-scope clones ({100 * hit_true / len(trues):.0f}%); " if trues else "")
                   + f"jscpd reports {sum(found(p, jp) for p in fp)} of ferrolens's {len(fp)} pairs (the rest are renamed or near-miss copies).")
        for p in missed:
            v = verdicts.get(pair_key("jscpd", p), {})
            out.append(f"  - missed: `{pair_key('jscpd', p)}`: {v.get('note', '')}")
    # recall where it is meant: jscpd's pairs in the code ferrolens reads (not tests, not generated)
    for name in SETS:
        folder, fp, jp, _ = results[name]
        picked = scope_sample(folder, jp)
        seen = {p: verdicts[pair_key("jscpd", p)] for p in picked if pair_key("jscpd", p) in verdicts}
        trues = [p for p, v in seen.items() if v["verdict"] == "tp"]
        hits = [p for p in trues if found(p, fp)]
        scoped_total = sum(in_scope(folder, p[0]) and in_scope(folder, p[1]) for p in jp)
        out.append("")
        out.append(f"Recall in scope ({name} set): of jscpd's {scoped_total} pairs outside tests and generated files, {len(picked)} sampled")
        out.append(f"(seeded), {len(seen)} reviewed, {len(trues)} true clones; ferrolens reports {len(hits)} of them"
                   + (f" ({100 * len(hits) / len(trues):.0f}%)." if trues else "."))
        for p in picked:
            v = seen.get(p)
            if v is not None and v["verdict"] == "tp" and not found(p, fp):
                out.append(f"  - missed: `{pair_key('jscpd', p)}`: {v.get('note', '')}")
        reasons: dict[str, int] = {}
        for p, v in seen.items():
            if v["verdict"] == "fp":
                reasons[v.get("why", "other")] = reasons.get(v.get("why", "other"), 0) + 1
        if reasons:
            out.append("  - not clones (jscpd's false positives in the sample): " + ", ".join(f"{k} {n}" for k, n in sorted(reasons.items(), key=lambda kv: -kv[1])))
    if notes:
        out += ["", "Reviewed false positives:", ""] + notes
    out.append("")
    # in a fresh process, so its RSS growth is the index's (run.py's own heap would hide it)
    proc = subprocess.run([sys.executable, __file__, "--incremental", str(results["200k"][0])], capture_output=True, text=True, cwd=ROOT)
    inc = json.loads(proc.stdout.strip().split("\n")[-1])
    out.append("## The live index (in process, 200k set)")
    out.append("")
    out.append(f"- indexing {inc['files']} files: {inc['build']:.2f} s in one process; index memory (RSS growth, all clones computed): {inc['memory']:.0f} MB")
    out.append(f"- one keystroke (parse, re-fingerprint, update, the file's clones), {inc['edits']} edits: p50 {inc['p50']:.1f} ms, p95 {inc['p95']:.1f} ms")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
