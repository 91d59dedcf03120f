#!/usr/bin/env sh
# Install code-server and playwright-core for vscode_e2e.mjs without GitHub: code-server's own
# postinstall would download ripgrep from GitHub releases, which this machine cannot reach. Same steps,
# with Debian's ripgrep binary in place (needs: node 20, npm, apt packages ripgrep libkrb5-dev chromium).
set -eu
export npm_config_yes=true  # node-pty runs `npx node-gyp` in its postinstall
# build the native modules below ./node_modules (everything with an install step or a binding.gyp),
# from source: prebuilt binaries come from GitHub too. code-server's postinstall and ripgrep are skipped.
rebuild_native() {
  native=$(node -e '
const fs = require("fs"), path = require("path");
const out = new Set();
const walk = (dir) => { for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
  if (!e.isDirectory()) continue;
  const p = path.join(dir, e.name);
  if (e.name.startsWith("@")) { walk(p); continue; }
  const pj = path.join(p, "package.json");
  if (!fs.existsSync(pj)) continue;
  const j = JSON.parse(fs.readFileSync(pj, "utf8"));
  const s = j.scripts || {};
  const skip = ["@vscode/ripgrep", "code-server"].includes(j.name);
  if ((s.install || s.postinstall || fs.existsSync(path.join(p, "binding.gyp"))) && !skip) out.add(j.name);
  if (fs.existsSync(path.join(p, "node_modules"))) walk(path.join(p, "node_modules"));
} };
walk("node_modules");
console.log([...out].join(" "));')
  [ -z "$native" ] || npm_config_build_from_source=true npm rebuild --no-audit $native
}

cd "$(dirname "$0")"
npm install --no-audit --no-fund --ignore-scripts
rebuild_native
cs="$PWD/node_modules/code-server"
cd "$cs/lib/vscode"
npm install --omit=dev --no-audit --no-fund --ignore-scripts
rebuild_native
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
cd extensions
npm install --omit=dev --no-audit --no-fund --ignore-scripts
echo "code-server ready: $cs/out/node/entry.js"
