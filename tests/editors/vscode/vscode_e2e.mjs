// ferrolens in a real VS Code: code-server (the VS Code workbench served to a browser), driven by
// Debian's Chromium through playwright-core. Installs the packaged .vsix, opens a copy of the demo
// crate, checks the Problems panel lists ferrolens diagnostics, applies a quick fix with Ctrl+. and
// checks the file on disk changed; a stand-in second extension publishes its own diagnostics on the
// same file. Writes a JSON result and a screenshot.
//
//   node vscode_e2e.mjs --vsix ferrolens.vsix --server /path/to/ferrolens --crate /tmp/demo \
//        --out result.json --screenshot quickfix.png
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const here = path.dirname(new URL(import.meta.url).pathname);
const codeServer = path.join(here, "node_modules", ".bin", "code-server");
const result = { steps: [] };
const t0 = Date.now();

async function step(name, fn) {
  const start = Date.now();
  try {
    await fn();
    result.steps.push({ name, ms: Date.now() - start, ok: true });
  } catch (e) {
    result.steps.push({ name, ms: Date.now() - start, ok: false, error: String(e && e.stack || e) });
    throw e;
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "ferrolens-vscode-"));
const userData = path.join(work, "user");
const extensions = path.join(work, "extensions");
fs.mkdirSync(path.join(userData, "User"), { recursive: true });
fs.writeFileSync(
  path.join(userData, "User", "settings.json"),
  JSON.stringify({
    "ferrolens.server.path": args.server,
    "workbench.startupEditor": "none",
    "security.workspace.trust.enabled": false,
    "workbench.tips.enabled": false,
    "telemetry.telemetryLevel": "off",
    "extensions.autoUpdate": false,
    "workbench.enableExperiments": false,
    "ferrolens.trace.server": "messages",
  }),
);

// the stand-in for rust-analyzer: a second extension with its own diagnostics on Rust files
const stub = path.join(work, "stub-ra");
fs.mkdirSync(stub);
fs.writeFileSync(path.join(stub, "package.json"), JSON.stringify({
  name: "stub-ra", publisher: "test", version: "0.0.1", engines: { vscode: "^1.82.0" },
  main: "./extension.js", activationEvents: ["onLanguage:rust"],
  contributes: { commands: [{ command: "stubRa.ignoreZeroedVec", title: "Stub: ignore zeroed_vec" }] },
}));
fs.writeFileSync(path.join(stub, "extension.js"), `
const vscode = require("vscode");
exports.activate = (ctx) => {
  const coll = vscode.languages.createDiagnosticCollection("stub-ra");
  const publish = (doc) => { if (doc.languageId === "rust") {
    const d = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), "stub-ra: another server's diagnostic", vscode.DiagnosticSeverity.Information);
    d.source = "stub-ra"; coll.set(doc.uri, [d]); } };
  vscode.workspace.textDocuments.forEach(publish);
  ctx.subscriptions.push(coll, vscode.workspace.onDidOpenTextDocument(publish), vscode.workspace.onDidChangeTextDocument((e) => publish(e.document)));
  // what a user does in the Settings editor, as a command the test can run from the palette
  ctx.subscriptions.push(vscode.commands.registerCommand("stubRa.ignoreZeroedVec", () =>
    vscode.workspace.getConfiguration("ferrolens").update("ignore", ["zeroed_vec"], vscode.ConfigurationTarget.Global)));
};`);

// package the stub with the extension's own vsce (a folder cannot be installed as such)
const vsce = path.join(here, "..", "..", "..", "editors", "vscode", "node_modules", ".bin", "vsce");
fs.writeFileSync(path.join(stub, "README.md"), "A stand-in for rust-analyzer in ferrolens's tests.\n");
const packed = spawnSync(vsce, ["package", "--skip-license", "--allow-missing-repository", "-o", path.join(work, "stub-ra.vsix")], { cwd: stub, encoding: "utf8" });
if (packed.status !== 0) throw new Error("packaging the stub failed: " + packed.stdout + packed.stderr);

function cs(extra, opts = {}) {
  return spawnSync(codeServer, ["--extensions-dir", extensions, "--user-data-dir", userData, ...extra], { encoding: "utf8", timeout: 240000, ...opts });
}

let server, browser;
const port = 20000 + Math.floor(Math.random() * 20000);
try {
  await step("install the .vsix", async () => {
    for (const ext of [args.vsix, path.join(work, "stub-ra.vsix")]) {
      const r = cs(["--install-extension", ext]);
      if (r.status !== 0) throw new Error(`install ${ext} failed: ${r.stderr}${r.stdout}`);
    }
  });

  await step("start code-server", async () => {
    server = spawn(codeServer, [
      "--auth", "none", "--bind-addr", `127.0.0.1:${port}`, "--disable-telemetry", "--disable-update-check",
      "--disable-workspace-trust", "--extensions-dir", extensions, "--user-data-dir", userData, args.crate,
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    server.stdout.on("data", (d) => (log += d));
    server.stderr.on("data", (d) => (log += d));
    const deadline = Date.now() + 60000;
    while (!log.includes("HTTP server listening")) {
      if (Date.now() > deadline) throw new Error("code-server did not start:\n" + log);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  browser = await chromium.launch({
    executablePath: args.chromium || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });

  await step("open the workbench and the file", async () => {
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(args.crate)}`);
    await page.waitForSelector(".monaco-workbench", { timeout: 120000 });
    await page.waitForTimeout(3000);
    await page.keyboard.press("Control+P");
    await page.waitForSelector(".quick-input-widget", { state: "visible" });
    await page.keyboard.type("stats.rs");
    // the file search answers when it is ready (later while the workspace is still being indexed):
    // Enter before its row shows opens nothing
    await page.waitForSelector('.quick-input-widget .monaco-list-row:has-text("stats.rs")', { state: "visible", timeout: 30000 });
    await page.keyboard.press("Enter");
    await page.waitForSelector(".monaco-editor .view-lines", { timeout: 30000 });
  });

  await step("Problems panel lists ferrolens diagnostics", async () => {
    await page.keyboard.press("Control+Shift+M");
    const deadline = Date.now() + 90000;
    let text = "";
    for (;;) {
      text = await page.locator(".markers-panel").innerText().catch(() => "");
      if (text.includes("format_literal") && text.includes("stub-ra")) break;
      if (Date.now() > deadline) throw new Error("no ferrolens + stub-ra problems; panel says:\n" + text);
      await page.waitForTimeout(500);
    }
    result.problems = text.split("\n").filter((l) => l.includes("ferrolens") || /\b[a-z]+_[a-z_]+\b/.test(l)).slice(0, 20);
  });

  await step("the workspace index reports the copy in report.rs", async () => {
    // stats.rs is the only open file: its copy of report::rank is found through the background index
    const deadline = Date.now() + 60000;
    for (;;) {
      const text = await page.locator(".markers-panel").innerText().catch(() => "");
      if (text.includes("duplicate_code") && text.includes("src/report.rs")) {
        result.duplicate = text.split("\n").filter((l) => l.includes("duplicated at")).slice(0, 3);
        break;
      }
      if (Date.now() > deadline) throw new Error("no duplicate_code problem; panel says:\n" + text);
      await page.waitForTimeout(500);
    }
    result.status_bar = await page.locator(".statusbar-item").filter({ hasText: "ferrolens" }).first().innerText().catch(() => "");
  });

  await step("settings reach the server live", async () => {
    // the user ignores a rule in their settings: its diagnostics go away without a restart
    await page.keyboard.press("F1");
    await page.waitForSelector(".quick-input-widget", { state: "visible" });
    await page.keyboard.type("Stub: ignore zeroed_vec");
    await page.waitForTimeout(800);
    await page.keyboard.press("Enter");
    const deadline = Date.now() + 30000;
    for (;;) {
      const text = await page.locator(".markers-panel").innerText().catch(() => "");
      if (!text.includes("zeroed_vec") && text.includes("format_literal")) break;
      if (Date.now() > deadline) throw new Error("ignoring zeroed_vec did not reach the server; panel:\n" + text);
      await page.waitForTimeout(300);
    }
  });

  await step("quick fix with Ctrl+.", async () => {
    // go to the `format!` line of the demo's banner() and open the quick fix menu there
    const lines = fs.readFileSync(path.join(args.crate, "src", "stats.rs"), "utf8").split("\n");
    const line = lines.findIndex((l) => l.includes('format!("== statistics ==")')) + 1;
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+G");
    await page.keyboard.type(`${line}:5`);
    await page.keyboard.press("Enter");
    await page.waitForTimeout(500);
    await page.keyboard.press("Control+.");
    const menu = page.locator(".action-widget, .context-view .monaco-list");
    await menu.first().waitFor({ state: "visible", timeout: 20000 });
    await page.waitForTimeout(500);
    if (args.screenshot) await page.screenshot({ path: args.screenshot });
    // pick "Replace with ..." with the keyboard, as a user would (the menu blocks pointer events)
    for (let i = 0; ; i++) {
      const focused = await page.locator(".action-widget .monaco-list-row.focused").first().getAttribute("aria-label").catch(() => "");
      if (focused && focused.includes("Replace with")) break;
      if (i > 8) throw new Error("no 'Replace with' entry in the quick fix menu");
      await page.keyboard.press("ArrowDown");
      await page.waitForTimeout(150);
    }
    result.quick_fix = await page.locator(".action-widget .monaco-list-row.focused").first().getAttribute("aria-label");
    await page.keyboard.press("Enter");
    await page.waitForTimeout(500);
    await page.keyboard.press("Control+S");
    const deadline = Date.now() + 20000;
    while (!fs.readFileSync(path.join(args.crate, "src", "stats.rs"), "utf8").includes('"== statistics ==".to_string()')) {
      if (Date.now() > deadline) throw new Error("the file on disk was not fixed");
      await page.waitForTimeout(300);
    }
  });
  result.ok = true;
} catch (e) {
  result.ok = false;
  result.error = String(e && e.message || e);
} finally {
  result.total_ms = Date.now() - t0;
  if (!result.ok) {
    // the extension host's log and the ferrolens output channel, for the failure message
    const logs = [];
    const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else if (/exthost|ferrolens/i.test(p)) logs.push(p);
    } };
    try { walk(path.join(userData, "logs")); } catch {}
    result.logs = logs.map((p) => `== ${p}\n` + fs.readFileSync(p, "utf8").slice(-3000));
  }
  if (browser) await browser.close().catch(() => {});
  if (server) server.kill();
  fs.writeFileSync(args.out, JSON.stringify(result, null, 1));
}
