"""heavy_features: tokio's "full" feature where the sources use a few of its parts."""

from __future__ import annotations

import re

from ferrolens.analyzers.manifest import ManifestContext
from ferrolens.analyzers.model import Applicability, Edit, Fix, Severity
from ferrolens.analyzers.registry import FixKind, Rule

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
_TOKIO_MODULE = re.compile(r"\btokio::(" + "|".join(MODULES) + r")\b")
_TOKIO_USE_LIST = re.compile(r"use\s+tokio::\{([^}]*)")
_MODULE_WORD = re.compile(r"\b(" + "|".join(MODULES) + r")\b")
IO_UTIL = re.compile(r"\b(AsyncReadExt|AsyncWriteExt|AsyncBufReadExt|AsyncSeekExt|BufReader|BufWriter|BufStream|copy_bidirectional|duplex|split)\b")
IO_STD = re.compile(r"\btokio::io::(stdin|stdout|stderr)\b|\bio::(stdin|stdout|stderr)\(")
MACROS = re.compile(r"#\[\s*tokio::(main|test)\b|\btokio::(select|join|try_join|pin)!|\b(select|join|try_join)!")


def used_features(texts: list[str]) -> set[str]:
    out: set[str] = set()
    for t in texts:
        if "tokio" not in t:
            continue
        # `tokio::net`, or `net` inside a `use tokio::{..}` list (one scan each instead of one per module)
        named = set(_TOKIO_MODULE.findall(t))
        for group in _TOKIO_USE_LIST.findall(t):
            named.update(_MODULE_WORD.findall(group))
        out.update(MODULES[m] for m in named)
        if re.search(r"\btokio::spawn\b|\bspawn_blocking\b", t):
            out.add("rt")
        if IO_UTIL.search(t):
            out.add("io-util")
        if IO_STD.search(t):
            out.add("io-std")
        if MACROS.search(t):
            out.add("macros")
        for m in re.finditer(r"#\[\s*tokio::(main|test)\s*(\([^)]*\))?", t):
            args = m.group(2) or ""
            out.add("rt")
            if m.group(1) == "main" and "current_thread" not in args or "multi_thread" in args:
                out.add("rt-multi-thread")
        if re.search(r"new_multi_thread|Runtime::new\(", t):
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
