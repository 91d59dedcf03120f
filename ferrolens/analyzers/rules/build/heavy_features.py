"""heavy_features: tokio's "full" feature where the sources use a few of its parts."""

from __future__ import annotations

import re

from ferrolens.analyzers.manifest import ManifestContext
from ferrolens.analyzers.model import Applicability, Edit, Fix, Severity
from ferrolens.analyzers.registry import FixKind, Rule
from ferrolens.analyzers.syntax import word_char

DOCS = """
## What it does
Flags `features = ["full"]` on the `tokio` dependency when the package's sources use only some of
what "full" turns on, and offers the smaller list computed from the sources: `tokio::net` needs
`net`, `tokio::fs` `fs`, `tokio::time` `time`, `tokio::sync` `sync`, `tokio::process` `process`,
`tokio::signal` `signal`, `AsyncReadExt`/`AsyncWriteExt`/`BufReader` and friends `io-util`,
`tokio::io::stdin/stdout/stderr` `io-std`, `#[tokio::main]`/`#[tokio::test]`/`select!`/`join!`
`macros`, a multi-threaded runtime `rt-multi-thread`, and `spawn`/`task`/`runtime` `rt`.

## Why it matters
"full" compiles every part of tokio (and pulls in what those parts depend on) into every build of
your crate. Most programs use a handful of them; the others are compile time spent for nothing.

## Example
```toml
tokio = { version = "1", features = ["full"] }
```

## Use instead
```toml
tokio = { version = "1", features = ["macros", "rt-multi-thread", "sync", "time"] }
```

## Fix safety
Unsafe: the list comes from the names the sources spell out; a feature needed in a way the text does
not show (a re-export, a macro of another crate) would be missed, and `cargo check --all-targets`
tells. Only offered when `"full"` is the only item of the list.
"""

FULL = ("fs", "io-std", "io-util", "macros", "net", "parking_lot", "process", "rt", "rt-multi-thread", "signal", "sync", "time")
MODULES = {"net": "net", "fs": "fs", "time": "time", "sync": "sync", "process": "process", "signal": "signal", "task": "rt", "runtime": "rt"}
# `tokio::<module>`; the `\b` before it is checked apart (`_starts_word`): a pattern that starts with
# `\b` is tried at every position of the text, one that starts with a word is looked for
_TOKIO_MODULE = re.compile(r"tokio::(" + "|".join(MODULES) + r")\b")
_TOKIO_USE_LIST = re.compile(r"use\s+tokio::\{([^}]*)")
_MODULE_WORD = re.compile(r"\b(" + "|".join(MODULES) + r")\b")
IO_UTIL = re.compile(r"\b(AsyncReadExt|AsyncWriteExt|AsyncBufReadExt|AsyncSeekExt|BufReader|BufWriter|BufStream|copy_bidirectional|duplex|split)\b")
IO_STD = re.compile(r"\btokio::io::(stdin|stdout|stderr)\b|\bio::(stdin|stdout|stderr)\(")
MACROS = re.compile(r"#\[\s*tokio::(main|test)\b|\btokio::(select|join|try_join|pin)!|\b(select|join|try_join)!")
_SPAWN = re.compile(r"\btokio::spawn\b|\bspawn_blocking\b")
_MAIN_ATTR = re.compile(r"#\[\s*tokio::(main|test)\s*(\([^)]*\))?")
_MULTI_THREAD = re.compile(r"new_multi_thread|Runtime::new\(")
# the words IO_UTIL looks for, without its `\b`: a quick scan that says whether IO_UTIL can match
# (tokio-util's sources: 37 ms against 5)
_IO_UTIL_WORDS = re.compile(r"AsyncReadExt|AsyncWriteExt|AsyncBufReadExt|AsyncSeekExt|BufReader|BufWriter|BufStream|copy_bidirectional|duplex|split")
_MACRO_HINTS = ("select!", "join!", "tokio::main", "tokio::test", "tokio::pin")  # one of them is in every match of MACROS


def _starts_word(t: str, i: int) -> bool:
    r"""A word starts at t[i] (what `\b` before a word says)."""
    return i == 0 or not word_char(t[i - 1])


def used_features(texts: list[str]) -> set[str]:
    r"""The tokio features the sources need. A feature found once is not looked for again, and each
    pattern that starts with `\b` (slow to scan for) runs only on a text holding a word it needs."""
    out: set[str] = set()
    for t in texts:
        if "tokio" not in t:
            continue
        # `tokio::net`, or `net` inside a `use tokio::{..}` list (one scan each instead of one per module)
        if "tokio::" in t:
            named = {m.group(1) for m in _TOKIO_MODULE.finditer(t) if _starts_word(t, m.start())}
            for group in _TOKIO_USE_LIST.findall(t):
                named.update(_MODULE_WORD.findall(group))
            out.update(MODULES[m] for m in named)
        if "rt" not in out and "spawn" in t and _SPAWN.search(t):
            out.add("rt")
        if "io-util" not in out and _IO_UTIL_WORDS.search(t) and IO_UTIL.search(t):
            out.add("io-util")
        if "io-std" not in out and ("stdin" in t or "stdout" in t or "stderr" in t) and IO_STD.search(t):
            out.add("io-std")
        if "macros" not in out and any(h in t for h in _MACRO_HINTS) and MACROS.search(t):
            out.add("macros")
        for m in _MAIN_ATTR.finditer(t):
            args = m.group(2) or ""
            out.add("rt")
            if m.group(1) == "main" and "current_thread" not in args or "multi_thread" in args:
                out.add("rt-multi-thread")
        if "rt-multi-thread" not in out and _MULTI_THREAD.search(t):
            out.add("rt-multi-thread")
    return out


def check(ctx: ManifestContext, _root):
    m, pkg = ctx.manifest, ctx.package
    if not pkg.sources:
        return
    for table, name, spec, entry in m.dependencies():
        if name != "tokio" or table == "build-dependencies" or not isinstance(spec, dict):
            continue
        if spec.get("features") != ["full"]:
            continue
        feats = m.entries.get(entry.path + ("features",))
        if feats is None or feats.value is None:
            continue
        used = used_features(list(pkg.sources.values()))
        if not used or used >= set(FULL) - {"parking_lot"}:
            continue
        wanted = sorted(used)
        yield ctx.finding(
            feats.node,
            f"tokio's \"full\" builds {len(FULL)} features; the sources use {len(wanted)}: {', '.join(wanted)}",
            fix=Fix(
                Applicability.UNSAFE,
                "Use only the features the sources need",
                (Edit(feats.value.start_byte, feats.value.end_byte, "[" + ", ".join(f'"{w}"' for w in wanted) + "]"),),
            ),
        )


RULE = Rule(
    name="heavy_features",
    group="build",
    summary='tokio with features = ["full"] where the sources need a few of its features',
    docs=DOCS,
    check=check,
    severity=Severity.INFO,
    fix=FixKind.UNSAFE,
    source="https://corrode.dev/blog/tips-for-faster-rust-compile-times/",
    scope="manifest",
)
