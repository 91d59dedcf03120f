"""ferrolens benchmarks: one command prints the table and writes benchmarks/RESULTS.md (with the DRY peer, jscpd, from dry.py; also written to DRY.md).

    python benchmarks/run.py [--quick]

Inputs are real Rust sources from Debian's librust-*-dev packages (/usr/share/cargo/registry), glued into
files of 1k, 10k and 50k lines. Everything is measured through a raw stdio LSP client (no test framework
in the loop), with a peer measured in the same run:
- keystroke latency: single-character edits at random positions (typed, then deleted), some in bursts of 5
  with no pause, then a pause; didChange -> publishDiagnostics for that version; p50/p95/max.
  Peer: a stock pygls 2 server that publishes empty diagnostics on every change (the framework's floor,
  with pygls's own document handling).
- cold start: process start -> first diagnostics for the demo crate's main.rs.
- `ferrolens check` over the corpus: wall time, CPU time, files/s, lines/s, peak RSS; a second, cached run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ferrolens.analyzers.engine import Engine  # noqa: E402
from ferrolens.analyzers.registry import all_rules  # noqa: E402
from ferrolens.analyzers.source import SourceFile, is_generated  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REGISTRY = Path("/usr/share/cargo/registry")
WORK = Path(tempfile.gettempdir()) / "ferrolens-bench"  # outside the repo: its .gitignore must not apply

PEER_SERVER = r'''
from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
server = LanguageServer("stock-pygls", "0")
@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls, params):
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[], version=params.text_document.version))
@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls, params):
    doc = ls.workspace.get_text_document(params.text_document.uri)
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=doc.uri, diagnostics=[], version=params.text_document.version))
server.start_io()
'''


CRATES = ("regex", "serde", "syn", "tokio", "rayon", "clap")


def corpus_dirs() -> list[Path]:
    return sorted(d for d in REGISTRY.iterdir() if d.is_dir() and d.name.split("-")[0] in CRATES)


def corpus_files() -> list[Path]:
    return sorted(p for d in corpus_dirs() for p in d.rglob("*.rs") if p.is_file())


def corpus_copy() -> Path:
    """A private copy of the corpus, so the check cache is written beside it, never into /usr/share."""
    import shutil

    target = WORK / "corpus"
    if not target.is_dir():
        for d in corpus_dirs():
            shutil.copytree(d, target / d.name, ignore=shutil.ignore_patterns(".*"))
    return target


def make_inputs(sizes: list[int]) -> dict[int, str]:
    """Files of about the given line counts, glued from whole corpus files that parse cleanly (and still
    do once glued: crate-level `//!` docs and `#![..]` attributes are only valid at the top)."""

    files = [p for p in corpus_files() if 50 < p.stat().st_size < 200_000 and "/tests/" not in str(p)]
    random.Random(7).shuffle(files)
    out = {}
    for size in sizes:
        lines: list[str] = []
        for p in files:
            try:
                text = p.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            kept = "\n".join(l for l in text.split("\n") if not l.lstrip().startswith(("//!", "#![")))
            if SourceFile(kept.encode()).root.has_error:
                continue
            lines.extend(kept.split("\n"))
            if len(lines) >= size:
                break
        out[size] = "\n".join(lines) + "\n"
    return out


class RawClient:
    """A minimal LSP client over stdio that timestamps every publishDiagnostics by (uri, version)."""

    def __init__(self, cmd: list[str]) -> None:
        self.cmd = cmd
        self.published: dict[tuple[str, int | None], float] = {}
        self.events: dict[tuple[str, int | None], asyncio.Event] = {}
        self.responses: dict[int, asyncio.Future] = {}
        self.next_id = 1
        self.index_status: dict = {}
        self.index_done = asyncio.Event()

    async def start(self) -> None:
        self.started = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *self.cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        self.reader = asyncio.create_task(self._read())

    def _send(self, msg: dict) -> None:
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params) -> dict:
        i = self.next_id
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.responses[i] = fut
        self._send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        await self.proc.stdin.drain()
        return await fut

    def notify(self, method: str, params) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def waiter(self, uri: str, version: int) -> asyncio.Event:
        return self.events.setdefault((uri, version), asyncio.Event())

    async def _read(self) -> None:
        out = self.proc.stdout
        while True:
            header = await out.readuntil(b"\r\n\r\n")
            length = int([l for l in header.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
            msg = json.loads(await out.readexactly(length))
            if msg.get("method") == "textDocument/publishDiagnostics":
                key = (msg["params"]["uri"], msg["params"].get("version"))
                self.published[key] = time.perf_counter()
                self.waiter(*key).set()
            elif msg.get("method") == "$/ferrolens/indexStatus":
                self.index_status = msg["params"]
                if not msg["params"].get("indexing"):
                    self.index_done.set()
            elif "id" in msg and "method" in msg:  # a request from the server: answer null
                self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            elif "id" in msg and msg["id"] in self.responses:
                self.responses.pop(msg["id"]).set_result(msg)

    async def initialize(self, root: Path) -> None:
        caps = {"general": {"positionEncodings": ["utf-16"]}, "textDocument": {"publishDiagnostics": {"versionSupport": True}}}
        await self.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": caps})
        self.notify("initialized", {})

    async def stop(self) -> int:
        rss = self.rss_kb()
        try:
            await asyncio.wait_for(self.request("shutdown", None), 10)
            self.notify("exit", None)
            await self.proc.stdin.drain()
            await asyncio.wait_for(self.proc.wait(), 10)
        except Exception as exc:
            print(f"{self.cmd[-1]}: no clean exit after shutdown ({type(exc).__name__}): killed", file=sys.stderr)
            self.proc.kill()
            await self.proc.wait()  # (reaped while the loop runs: else its transport is closed after it)
        self.reader.cancel()
        return rss

    def rss_kb(self) -> int:
        try:
            with open(f"/proc/{self.proc.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):  # peak resident set
                        return int(line.split()[1])
        except OSError:
            pass
        return 0


def utf16_pos(text: str, index: int) -> dict:
    before = text[:index]
    line = before.count("\n")
    col = before[before.rfind("\n") + 1 :]
    return {"line": line, "character": len(col.encode("utf-16-le")) // 2}


async def typing_latency(cmd: list[str], text: str, edits: int, seed: int = 1) -> tuple[list[float], int]:
    client = RawClient(cmd)
    await client.start()
    # a workspace folder of its own (the file alone), so no start-up index of other files competes
    # with the typing (index times are measured on their own below)
    folder = WORK / "typing"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "typing.rs").write_text(text)
    await client.initialize(folder)
    uri = (folder / "typing.rs").as_uri()
    opened = client.waiter(uri, 1)
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": text}})
    await asyncio.wait_for(opened.wait(), 120)
    rng = random.Random(seed)
    version = 1
    latencies = []
    n = 0
    while n < edits:
        burst = 5 if rng.random() < 0.3 else 1
        # the burst's positions first (a utf-16 position in a 50k-line text takes the client a few ms),
        # so its messages go out back to back, as the editor would send them
        places = [utf16_pos(text, rng.randrange(len(text))) for _ in range(burst)]
        sent = []
        for p in places:
            # type a character at a random place, then delete it again: the text keeps its size
            version += 1
            client.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": {"start": p, "end": p}, "text": "x"}]},
            )
            sent.append((version, time.perf_counter()))
            version += 1
            end = {"line": p["line"], "character": p["character"] + 1}
            client.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": {"start": p, "end": end}, "text": ""}]},
            )
            sent.append((version, time.perf_counter()))
        await client.proc.stdin.drain()
        last_version, last_sent = sent[-1]
        await asyncio.wait_for(client.waiter(uri, last_version).wait(), 60)
        latencies.append((client.published[(uri, last_version)] - last_sent) * 1000)
        n += 1
        await asyncio.sleep(0.03 + rng.random() * 0.05)  # a pause between bursts
    rss = await client.stop()
    return latencies, rss


async def cold_start(cmd: list[str]) -> float:
    demo = ROOT / "examples" / "demo"
    text = (demo / "src" / "main.rs").read_text()
    client = RawClient(cmd)
    await client.start()
    await client.initialize(demo)
    uri = (demo / "src" / "main.rs").as_uri()
    w = client.waiter(uri, 1)
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": text}})
    await asyncio.wait_for(w.wait(), 60)
    took = (client.published[(uri, 1)] - client.started) * 1000
    await client.stop()
    return took


async def index_workspace(cmd: list[str], root: Path) -> dict:
    """Start the server on a workspace folder and wait until its clone index is built (the
    `$/ferrolens/indexStatus` notification); report the time from start and the server's RSS."""
    client = RawClient(cmd)
    await client.start()
    t0 = time.perf_counter()
    await client.initialize(root)
    await asyncio.wait_for(client.index_done.wait(), 600)
    took = time.perf_counter() - t0
    rss = client.rss_kb()
    await client.stop()
    files = list(root.rglob("*.rs"))
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    return {"files": client.index_status.get("total", 0), "lines": lines, "seconds": took, "server_seconds": client.index_status.get("seconds", 0), "rss_mb": rss / 1024}


async def open_workspace(cmd: list[str], target_lines: int) -> dict:
    """Open whole corpus files in the server until `target_lines` lines are open; wait for every file's
    diagnostics; report the time and the server's RSS (what an editor with that many files open costs).
    The workspace folder is empty, so this measures open documents only (see index_workspace)."""
    files = sorted(p for p in REGISTRY.rglob("*.rs") if p.is_file() and p.stat().st_size < 500_000)
    client = RawClient(cmd)
    await client.start()
    empty = WORK / "empty-workspace"
    empty.mkdir(parents=True, exist_ok=True)
    await client.initialize(empty)
    lines = opened = 0
    waits = []
    t0 = time.perf_counter()
    for p in files:
        text = p.read_text(encoding="utf-8", errors="replace")
        uri = p.as_uri()
        waits.append(client.waiter(uri, 1))
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": text}})
        lines += text.count("\n")
        opened += 1
        if lines >= target_lines:
            break
    await client.proc.stdin.drain()
    for w in waits:
        await asyncio.wait_for(w.wait(), 300)
    took = time.perf_counter() - t0
    rss = client.rss_kb()
    await client.stop()
    return {"files": opened, "lines": lines, "seconds": took, "rss_mb": rss / 1024}


def clippy_peer() -> dict | None:
    """`cargo clippy` on the demo crate after a one-line edit (what Clippy costs per change), next to
    `ferrolens check` on the same crate."""
    if shutil.which("cargo") is None:
        return None
    crate = WORK / "demo-clippy"
    if crate.exists():
        shutil.rmtree(crate)
    shutil.copytree(ROOT / "examples" / "demo", crate, ignore=shutil.ignore_patterns("target", ".ferrolens_cache"))
    env = dict(os.environ, CARGO_TARGET_DIR=str(crate / "target"))
    subprocess.run(["cargo", "clippy", "-q"], cwd=crate, env=env, capture_output=True)  # warm: deps and first build
    times, ours = [], []
    for i in range(3):
        main_rs = crate / "src" / "main.rs"
        main_rs.write_text(main_rs.read_text() + f"// edit {i}\n")
        t0 = time.perf_counter()
        subprocess.run(["cargo", "clippy", "-q"], cwd=crate, env=env, capture_output=True)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ferrolens", "check", "--no-cache", "--no-progress", "."], cwd=crate, capture_output=True)
        ours.append(time.perf_counter() - t0)
    return {"clippy": statistics.median(times), "ferrolens": statistics.median(ours)}


def _median_run(runs: list[dict]) -> dict:
    """The run with the median wall time (of an odd number)."""
    return sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]


def _walls(runs: list[dict]) -> str:
    return ", ".join(f"{r['wall']:.2f}" for r in runs)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


# packages (by name, without the version) whose files `check` reads: at least 180k lines checked, the
# size issue 9 names (the generated files among them, syn's `gen/` and two of regex's test tables, are
# read but not checked)
SUBSET = ("tokio", "tokio-util", "tokio-macros", "syn", "syn-mid", "serde", "regex", "regex-automata")


def check_corpus(extra: list[str], subset: tuple[str, ...] = ()) -> dict:
    """`ferrolens check` over the corpus copy (or the `subset` packages in it)."""
    corpus = corpus_copy()
    targets = sorted(d.name for d in corpus.iterdir() if d.is_dir() and d.name.rsplit("-", 1)[0] in subset) if subset else ["."]
    files = [p for t in targets for p in (corpus / t).rglob("*.rs")]
    texts = [p.read_bytes() for p in files]
    lines = sum(t.count(b"\n") for t in texts)
    checked = sum(t.count(b"\n") for t in texts if not is_generated(t))  # (`check` leaves generated code out)
    cmd = [sys.executable, "-m", "ferrolens", "check", "--output-format", "json", "--no-progress", *extra, *targets]
    # a wrapper process reports the peak RSS of its own descendants only (the check and its workers)
    # and their CPU time (user + system): on a shared machine it varies less than the wall time
    wrap = "import resource,subprocess,sys; subprocess.run(sys.argv[1:]); u=resource.getrusage(resource.RUSAGE_CHILDREN); print(u.ru_utime+u.ru_stime, u.ru_maxrss, file=sys.stderr)"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", wrap, *cmd], capture_output=True, text=True, cwd=corpus)
    wall = time.perf_counter() - t0
    cpu, rss_kb = proc.stderr.strip().split("\n")[-1].split()
    findings = json.loads(proc.stdout) if proc.stdout.strip().startswith("[") else []
    return {"files": len(files), "lines": lines, "checked": checked, "wall": wall, "cpu": float(cpu), "rss_mb": int(rss_kb) / 1024, "findings": len(findings)}


PARSE_PEER = """
import sys, time
from pathlib import Path
import tree_sitter_rust
from tree_sitter import Language, Parser
texts = [p.read_bytes() for t in sys.argv[1:] for p in sorted(Path(t).rglob("*.rs"))]
parser = Parser(Language(tree_sitter_rust.language()))
t0 = time.perf_counter()
for text in texts:
    parser.parse(text)
print(time.perf_counter() - t0)
"""


def parse_peer(subset: tuple[str, ...]) -> float:
    """The machine's speed at the moment: tree-sitter parsing the `subset` packages' files, in one
    process (C code like a good part of a check; this VM's speed varies by a third from minute to
    minute, and a check's time means little without it)."""
    corpus = corpus_copy()
    targets = sorted(d.name for d in corpus.iterdir() if d.is_dir() and d.name.rsplit("-", 1)[0] in subset)
    proc = subprocess.run([sys.executable, "-c", PARSE_PEER, *targets], capture_output=True, text=True, cwd=corpus, check=True)
    return float(proc.stdout.strip())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer edits (for a smoke run)")
    args = ap.parse_args()
    if not REGISTRY.is_dir():
        print("no Rust sources in /usr/share/cargo/registry: apt-get install librust-regex-dev librust-syn-dev ...", file=sys.stderr)
        return 2
    WORK.mkdir(exist_ok=True)
    sizes = [1000, 10_000, 50_000]
    inputs = make_inputs(sizes)
    edits = 30 if args.quick else 120
    ours = [sys.executable, "-m", "ferrolens", "serve"]
    peer_path = WORK / "stock_pygls_server.py"
    peer_path.write_text(PEER_SERVER)
    peer = [sys.executable, str(peer_path)]

    rows = []
    for size in sizes:
        for name, cmd in (("ferrolens", ours), ("stock pygls (no analysis)", peer)):
            lat, rss = asyncio.run(typing_latency(cmd, inputs[size], edits))
            rows.append((size, name, statistics.median(lat), pct(lat, 95), max(lat), rss / 1024))
    actual = {size: inputs[size].count("\n") for size in sizes}
    findings_in = {size: len(Engine().analyze(SourceFile(inputs[size].encode()))) for size in sizes}
    starts = [asyncio.run(cold_start(ours)) for _ in range(3)]
    workspace = asyncio.run(open_workspace(ours, 500_000))
    indexed = [asyncio.run(index_workspace(ours, root)) for root in (corpus_copy(), REGISTRY)]
    clippy = clippy_peer()

    check_rows = []
    check_corpus([])  # fills the cache for the "cached re-run" row
    runs = [("all default rules", ["--no-cache"]), ("cached re-run (nothing changed)", [])]
    runs += [(f"--select {name}", ["--no-cache", "--select", name]) for name in sorted(all_rules())]
    for label, extra in runs:
        check_rows.append((label, check_corpus(extra)))
    subset, parses, no_dry = [], [], []
    for _ in range(7):  # each check followed by the peer, so both see the machine as it was
        subset.append(check_corpus(["--no-cache"], SUBSET))
        parses.append(parse_peer(SUBSET))
        # what the clone detection costs: the same check without it (it reads every file's tokens)
        no_dry.append(check_corpus(["--no-cache", "--ignore", "duplicate_code"], SUBSET))
    ratios = [r["wall"] / p for r, p in zip(subset, parses)]
    check_rows[2:2] = [
        (f"all default rules, the {', '.join(SUBSET)} packages only: median of 7 ({_walls(subset)} s); after each, tree-sitter "
         f"parsed the same files in one process in a median {statistics.median(parses):.2f} s: check / parse "
         f"median {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}x)", _median_run(subset)),
        (f"the same packages, all default rules but duplicate_code (`--ignore duplicate_code`), in the same rounds: "
         f"median of 7 ({_walls(no_dry)} s)", _median_run(no_dry)),
    ]

    out = []
    out.append(f"# ferrolens benchmarks\n\nMachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}. "
               f"Command: `python benchmarks/run.py{' --quick' if args.quick else ''}`. {edits} bursts per file size.\n")
    out.append("## Keystroke latency: didChange -> publishDiagnostics for that version (ms)\n")
    out.append("Each file is whole corpus files glued together (it parses without errors); every edit is")
    out.append("re-analysed by all default rules (the findings column counts them on the unedited file).\n")
    out.append("| file | server | p50 | p95 | max | peak RSS (MB) | findings |")
    out.append("| --- | --- | --- | --- | --- | --- | --- |")
    for size, name, p50, p95, mx, rss in rows:
        shown = findings_in[size] if name == "ferrolens" else "-"
        out.append(f"| {actual[size]:,} lines | {name} | {p50:.1f} | {p95:.1f} | {mx:.1f} | {rss:.0f} | {shown} |")
    out.append("\nRatio ferrolens / stock pygls (p50): " + ", ".join(
        f"{actual[size]:,} lines {a[2] / b[2]:.2f}x" for size in sizes for a in rows for b in rows
        if a[0] == b[0] == size and a[1] == "ferrolens" and b[1] != "ferrolens"))
    out.append(f"\n## Cold start (process start -> first diagnostics, demo crate main.rs)\n\nmedian of 3: {statistics.median(starts):.0f} ms (runs: {', '.join(f'{s:.0f}' for s in starts)})\n")
    out.append("## A big workspace in the editor\n")
    out.append(f"{workspace['files']:,} corpus files ({workspace['lines']:,} lines) opened in one server: all diagnostics after "
               f"{workspace['seconds']:.1f} s; server RSS {workspace['rss_mb']:.0f} MB.\n")
    out.append("The workspace clone index (duplicate_code), built in the background at start-up (worker processes):\n")
    out.append("| workspace folder | files indexed | lines | start -> index ready (s) | server RSS after (MB) |")
    out.append("| --- | --- | --- | --- | --- |")
    for root, r in zip(("the corpus copy", "all of /usr/share/cargo/registry"), indexed):
        out.append(f"| {root} | {r['files']:,} | {r['lines']:,} | {r['seconds']:.1f} | {r['rss_mb']:.0f} |")
    out.append("")
    if clippy:
        out.append("## Peer: `cargo clippy` after a one-line edit (demo crate, warm)\n")
        out.append(f"median of 3: cargo clippy {clippy['clippy'] * 1000:.0f} ms, `ferrolens check` (a new process, no cache) "
                   f"{clippy['ferrolens'] * 1000:.0f} ms; ratio {clippy['clippy'] / clippy['ferrolens']:.1f}x\n")
    out.append("## `ferrolens check` over the corpus\n")
    out.append("Lines checked leaves out the files of generated code (a generated marker in their first lines), which `check` reads but does not check;")
    out.append("lines/s counts the lines checked.\n")
    out.append("| run | files | lines | lines checked | wall (s) | CPU (s) | files/s | lines/s | peak RSS (MB) | findings |")
    out.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, r in check_rows:
        out.append(f"| {label} | {r['files']:,} | {r['lines']:,} | {r['checked']:,} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['files'] / r['wall']:,.0f} | {r['checked'] / r['wall']:,.0f} | {r['rss_mb']:.0f} | {r['findings']} |")
    # the DRY peer (jscpd on the same sources) in the same run; its full report is DRY.md
    import dry

    dry_text = dry.build_report()
    (HERE / "DRY.md").write_text(dry_text)
    out.append("")
    out.extend("#" + line if line.startswith("#") else line for line in dry_text.split("\n"))
    text = "\n".join(out) + "\n"
    print(text)
    (HERE / "RESULTS.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
