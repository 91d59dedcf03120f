from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def rustc_available() -> bool:
    return shutil.which("rustc") is not None


# Fixtures that use crates (`//@ needs: tokio`) are built by cargo against the Rust sources Debian's
# librust-*-dev packages install (a local directory source: no network). `.ci/run` installs them.
DEBIAN_REGISTRY = Path("/usr/share/cargo/registry")
CRATES = {
    "tokio": ('tokio = { version = "1", features = ["full"] }', "librust-tokio-dev"),
    "crossbeam_channel": ('crossbeam-channel = "0.5"', "librust-crossbeam-channel-dev"),
    "flume": ('flume = "0.10"', "librust-flume-dev"),
    "async_channel": ('async-channel = "1"', "librust-async-channel-dev"),
    "rustc_hash": ('rustc-hash = "1"', "librust-rustc-hash-dev"),
}
CARGO_PROJECT = ROOT / "target" / "fixture-crate"
_NEEDS = re.compile(r"^//@\s*needs:\s*(.+)$", re.M)


def needed_crates(text: str) -> list[str]:
    m = _NEEDS.search(text)
    return [c.strip() for c in m.group(1).split(",") if c.strip()] if m else []


def missing_crates(names: list[str]) -> list[str]:
    """The Debian packages to install for `names` (empty when all are there)."""
    have = {p.name.rsplit("-", 1)[0].replace("-", "_") for p in DEBIAN_REGISTRY.glob("*")} if DEBIAN_REGISTRY.is_dir() else set()
    return [CRATES[n][1] for n in names if n not in have]


def _cargo_build(text: str, is_bin: bool) -> Path:
    proj = CARGO_PROJECT
    (proj / "src").mkdir(parents=True, exist_ok=True)
    (proj / ".cargo").mkdir(exist_ok=True)
    (proj / ".cargo" / "config.toml").write_text(
        f'[source.crates-io]\nreplace-with = "debian"\n[source.debian]\ndirectory = "{DEBIAN_REGISTRY}"\n[net]\noffline = true\n'
    )
    deps = "\n".join(spec for spec, _pkg in CRATES.values())
    manifest = f'[package]\nname = "fixture"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n{deps}\n\n[workspace]\n'
    if not (proj / "Cargo.toml").exists() or (proj / "Cargo.toml").read_text() != manifest:
        (proj / "Cargo.toml").write_text(manifest)
    for name in ("main.rs", "lib.rs"):
        (proj / "src" / name).unlink(missing_ok=True)
    (proj / "src" / ("main.rs" if is_bin else "lib.rs")).write_text(text)
    proc = subprocess.run(["cargo", "build", "--offline", "--quiet"], cwd=proj, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"does not compile:\n{proc.stderr}"
    return proj / "target" / "debug" / "fixture"


def compile_and_run(source: Path, workdir: Path) -> str | None:
    """Compile with rustc (edition 2021), or with cargo for fixtures that need crates; run it when it
    has `main`. Returns stdout (None for a lib)."""
    text = source.read_text()
    is_bin = "fn main(" in text
    crates = needed_crates(text)
    if crates:
        missing = missing_crates(crates)
        if missing:
            pytest.skip(f"needs the Rust sources of {', '.join(crates)}: apt-get install {' '.join(missing)}")
        exe = _cargo_build(text, is_bin)
        if not is_bin:
            return None
        run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, f"{source.name} failed at run time:\n{run.stderr}"
        return run.stdout
    out = workdir / (source.stem.replace(".", "_") + ("" if is_bin else ".rlib"))
    cmd = ["rustc", "--edition", "2021", "-A", "warnings", "--crate-name", "fixture", "-o", str(out), str(source)]
    if not is_bin:
        cmd[1:1] = ["--crate-type", "lib"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{source.name} does not compile:\n{proc.stderr}"
    if not is_bin:
        return None
    run = subprocess.run([str(out)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"{source.name} failed at run time:\n{run.stderr}"
    return run.stdout


needs_rustc = pytest.mark.skipif(not rustc_available(), reason="rustc is not installed")
