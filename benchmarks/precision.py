"""Per-rule precision of ferrolens on real crates (Debian's librust-*-dev sources).

    python benchmarks/precision.py                 # counts, reviewed precision -> PRECISION.md
    python benchmarks/precision.py --show RULE     # print unreviewed sampled findings with context

Runs `ferrolens check --select all` over /usr/share/cargo/registry, samples up to SAMPLE findings per rule
(seeded, so the sample is stable), and scores them against `precision-verdicts.json`: a human verdict
("tp" or "fp", with a note) per finding, keyed by rule, crate-relative path and the flagged source line
(so verdicts survive unrelated line shifts). Unreviewed findings are listed, never guessed.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGISTRY = Path("/usr/share/cargo/registry")
VERDICTS = HERE / "precision-verdicts.json"
SAMPLE = 20


def run_check() -> list[dict]:
    cmd = [sys.executable, "-m", "ferrolens", "check", "--select", "all", "--ignore", "duplicate_code", "--output-format", "json", "--no-cache", "--no-progress", str(REGISTRY)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
    if proc.returncode not in (0, 1):
        sys.exit(f"ferrolens check failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def key(f: dict) -> str:
    path = Path(f["path"])
    rel = path.relative_to(REGISTRY) if path.is_relative_to(REGISTRY) else path
    line = path.read_text(errors="replace").split("\n")[f["start"]["line"] - 1].strip()
    return f"{f['rule']}|{rel}|{line}"


def sample(findings: list[dict], verdicts: dict) -> dict[str, list[dict]]:
    """Up to SAMPLE findings per rule: those reviewed in earlier runs that are still reported, topped
    up with a seeded random draw of the others (so a new rule or a changed count does not reshuffle
    the samples already reviewed)."""
    by: dict[str, list[dict]] = collections.defaultdict(list)
    for f in findings:
        by[f["rule"]].append(f)
    out = {}
    for r, fs in sorted(by.items()):
        fs = sorted(fs, key=key)
        seen = [f for f in fs if key(f) in verdicts]  # all of them: dropping some would bias the score
        rest = [f for f in fs if key(f) not in verdicts]
        need = max(0, min(SAMPLE - len(seen), len(rest)))
        out[r] = sorted(seen + random.Random(f"7:{r}").sample(rest, need), key=key)
    return out


def context(f: dict, around: int = 3) -> str:
    lines = Path(f["path"]).read_text(errors="replace").split("\n")
    n = f["start"]["line"]
    lo, hi = max(1, n - around), min(len(lines), f["end"]["line"] + around)
    return "\n".join(f"{'>' if i == n else ' '}{i:5} {lines[i - 1]}" for i in range(lo, hi + 1))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--show", help="print the unreviewed sampled findings of this rule (or `all`)")
    ap.add_argument(
        "--record",
        nargs="+",
        metavar=("RULE", "VERDICT"),
        help="record verdicts for RULE's unreviewed sample, in --show order: `tp` or `fp:why`",
    )
    args = ap.parse_args()
    if not REGISTRY.is_dir():
        sys.exit("no crate sources: apt-get install $(sed 's/[^ ]*/librust-&-dev/g' benchmarks/corpus-packages.txt)")
    findings = run_check()
    verdicts = json.loads(VERDICTS.read_text()) if VERDICTS.exists() else {}
    picked = sample(findings, verdicts)
    if args.record:
        rule, given = args.record[0], args.record[1:]
        pending = [f for f in picked.get(rule, []) if key(f) not in verdicts]
        if len(given) != len(pending):
            sys.exit(f"{len(pending)} unreviewed findings of {rule}, {len(given)} verdicts given")
        for f, v in zip(pending, given):
            verdict, _, note = v.partition(":")
            if verdict not in ("tp", "fp"):
                sys.exit(f"bad verdict {v!r}")
            verdicts[key(f)] = {"verdict": verdict, "note": note, "message": f["message"]}
        VERDICTS.write_text(json.dumps(dict(sorted(verdicts.items())), indent=1) + "\n")
        return 0
    if args.show:
        for rule, fs in sorted(picked.items()):
            if args.show not in ("all", rule):
                continue
            for f in fs:
                if key(f) in verdicts:
                    continue
                print(f"### {key(f)}\n{f['message']}\n{context(f)}\n")
        return 0
    from ferrolens.analyzers.registry import all_rules

    files = sum(1 for _ in REGISTRY.rglob("*.rs"))
    rows = ["| rule | findings | sampled | reviewed | true | false | precision |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    counts = collections.Counter(f["rule"] for f in findings)
    for rule in sorted(all_rules()):
        fs = picked.get(rule, [])
        seen = [verdicts[key(f)]["verdict"] for f in fs if key(f) in verdicts]
        tp, fp = seen.count("tp"), seen.count("fp")
        prec = f"{100 * tp / (tp + fp):.0f}%" if tp + fp else "-"
        rows.append(f"| `{rule}` | {counts.get(rule, 0)} | {len(fs)} | {tp + fp} | {tp} | {fp} | {prec} |")
    current = {key(f) for f in findings}
    fps = [(k, v["note"] + ("" if k in current else " (no longer flagged)")) for k, v in sorted(verdicts.items()) if v["verdict"] == "fp"]
    out = [
        "# Reviewed precision on real crates",
        "",
        f"`python benchmarks/precision.py` over {files} files of {len(list(REGISTRY.iterdir()))} crates in {REGISTRY}",
        f"(every rule enabled). Up to {SAMPLE} findings per rule are sampled (seeded; reviewed ones stay in) and reviewed by hand;",
        "verdicts live in `benchmarks/precision-verdicts.json`.",
        "",
        *rows,
        "",
    ]
    if fps:
        out += ["## Reviewed false positives", ""] + [f"- `{k}`: {note}" for k, note in fps] + [""]
    text = "\n".join(out)
    (HERE / "PRECISION.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
