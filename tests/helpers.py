from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def rustc_available() -> bool:
    return shutil.which("rustc") is not None


def compile_and_run(source: Path, workdir: Path) -> str | None:
    """Compile with rustc (edition 2021); run it when it has `main`. Returns stdout (None for a lib)."""
    is_bin = "fn main(" in source.read_text()
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
