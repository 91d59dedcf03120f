"""ferrolens in a real VS Code (code-server in Debian's Chromium, driven by playwright-core).

Heavy (it installs code-server from npm and starts a browser), so it runs only with
FERROLENS_VSCODE_E2E=1:

    FERROLENS_VSCODE_E2E=1 .venv/bin/python -m pytest tests/test_vscode.py

Needs Node 20, npm and Debian's `chromium`, `ripgrep` and `libkrb5-dev`; `tests/editors/vscode/install.sh`
installs code-server without its GitHub download.
The screenshot of the quick-fix menu is written to tests/editors/vscode/artifacts/quickfix.png.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

pytestmark = pytest.mark.skipif(os.environ.get("FERROLENS_VSCODE_E2E") != "1", reason="set FERROLENS_VSCODE_E2E=1")

EXT = ROOT / "editors" / "vscode"
E2E = ROOT / "tests" / "editors" / "vscode"


def npm(args: list[str], cwd: Path) -> None:
    env = dict(os.environ, npm_config_unsafe_perm="true")  # code-server's postinstall asks for it
    proc = subprocess.run(["npm", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, f"npm {' '.join(args)} in {cwd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def test_vscode_end_to_end(tmp_path: Path):
    npm(["install", "--no-audit", "--no-fund"], EXT)
    npm(["run", "package"], EXT)
    if not (E2E / "node_modules" / "code-server" / "lib" / "vscode" / "node_modules.asar").exists():
        proc = subprocess.run(["sh", str(E2E / "install.sh")], capture_output=True, text=True, timeout=1800)
        assert proc.returncode == 0, f"install.sh failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    crate = tmp_path / "demo"
    shutil.copytree(ROOT / "examples" / "demo", crate, ignore=shutil.ignore_patterns("target", ".ferrolens_cache"))
    server = Path(sys.executable).parent / "ferrolens"
    artifacts = E2E / "artifacts"
    artifacts.mkdir(exist_ok=True)
    out = tmp_path / "result.json"
    proc = subprocess.run(
        ["node", str(E2E / "vscode_e2e.mjs"), "--vsix", str(EXT / "ferrolens.vsix"), "--server", str(server),
         "--crate", str(crate), "--out", str(out), "--screenshot", str(artifacts / "quickfix.png")],
        capture_output=True, text=True, timeout=600,
    )
    assert out.exists(), f"no result:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(out.read_text())
    (artifacts / "result.json").write_text(json.dumps(result, indent=1))
    assert result["ok"], f"{result.get('error')}\n{json.dumps(result['steps'], indent=1)}"
    assert '"== statistics ==".to_string()' in (crate / "src" / "stats.rs").read_text()
    assert any("top_customers" in l and "src/report.rs:15-25" in l for l in result["duplicate"]), result["duplicate"]
