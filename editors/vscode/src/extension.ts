// ferrolens for VS Code: starts `ferrolens serve` and connects it through vscode-languageclient.
// It adds only what rust-analyzer does not: its own diagnostics (source "ferrolens"), quick fixes and
// hovers for them. No formatting, completion or navigation.
import * as cp from "child_process";
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let status: vscode.StatusBarItem;

const SETTINGS = [
  "select",
  "ignore",
  "severity",
  "hideClippyMirrored",
  "maxFileSize",
  "includeGenerated",
  "dryMinTokens",
  "dryMinLines",
  "dryIncludeTests",
  "dryMaxDifferences",
  "drySimilarity",
] as const;

function settings(): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration("ferrolens");
  const out: Record<string, unknown> = {};
  for (const key of SETTINGS) {
    out[key] = cfg.get(key);
  }
  return out;
}

function works(command: string, args: string[]): boolean {
  try {
    const r = cp.spawnSync(command, args, { timeout: 15000, encoding: "utf8" });
    return r.status === 0;
  } catch {
    return false;
  }
}

/** The server command: the `ferrolens.server.path` setting, else `ferrolens` on PATH, else
 * `<python> -m ferrolens`. Undefined (with one clear message) when none of them runs. */
function serverCommand(): { command: string; args: string[] } | undefined {
  const cfg = vscode.workspace.getConfiguration("ferrolens.server");
  const path = (cfg.get<string>("path") || "").trim();
  const python = (cfg.get<string>("python") || "python3").trim();
  const candidates: { command: string; args: string[] }[] = [];
  if (path) {
    candidates.push({ command: path, args: [] });
  } else {
    candidates.push({ command: "ferrolens", args: [] });
    candidates.push({ command: python, args: ["-m", "ferrolens"] });
  }
  for (const c of candidates) {
    if (works(c.command, [...c.args, "--version"])) {
      return c;
    }
  }
  const tried = candidates.map((c) => [c.command, ...c.args].join(" ")).join("`, `");
  vscode.window.showErrorMessage(
    `ferrolens: could not start the language server (tried \`${tried}\`). ` +
      "Install it with `pip install ferrolens` (or `pip install -e <checkout>`), or set `ferrolens.server.path`.",
  );
  return undefined;
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const cmd = serverCommand();
  if (!cmd) {
    status.text = "$(error) ferrolens";
    status.tooltip = "ferrolens: server not found";
    status.show();
    return;
  }
  // no `transport`: vscode-languageclient would append `--stdio`, and stdio is the default anyway
  const serverOptions: ServerOptions = { command: cmd.command, args: [...cmd.args, "serve"] };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "rust" },
      { scheme: "file", pattern: "**/Cargo.toml" },
      { scheme: "file", pattern: "**/.cargo/config.toml" },
    ],
    initializationOptions: settings(),
    synchronize: { configurationSection: "ferrolens" },
    outputChannel: output,
    traceOutputChannel: output,
  };
  client = new LanguageClient("ferrolens", "ferrolens", serverOptions, clientOptions);
  client.onNotification("$/ferrolens/indexStatus", (p: { indexing: boolean; done: number; total: number; seconds?: number }) => {
    if (p.indexing) {
      status.text = `$(sync~spin) ferrolens ${p.done}/${p.total}`;
      status.tooltip = `ferrolens: indexing the workspace for duplicate code (${p.done} of ${p.total} files)`;
    } else {
      status.text = "$(check) ferrolens";
      status.tooltip = `ferrolens: running; ${p.total} workspace files indexed in ${p.seconds ?? 0} s`;
    }
    status.show();
  });
  client.onDidChangeState((e) => {
    if (e.newState === State.Running) {
      status.text = "$(check) ferrolens";
      status.tooltip = "ferrolens: running";
    } else if (e.newState === State.Starting) {
      status.text = "$(sync~spin) ferrolens";
      status.tooltip = "ferrolens: starting";
    } else {
      status.text = "$(error) ferrolens";
      status.tooltip = "ferrolens: stopped (see the ferrolens output)";
    }
    status.show();
  });
  await client.start();
}

async function restart(context: vscode.ExtensionContext): Promise<void> {
  if (client) {
    const old = client;
    client = undefined;
    await old.stop().catch(() => undefined);
  }
  await start(context);
}

/** Open the docs of the ferrolens rule behind a diagnostic on the cursor line (its codeDescription). */
async function showRuleDocs(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    return;
  }
  const line = editor.selection.active.line;
  const diags = vscode.languages
    .getDiagnostics(editor.document.uri)
    .filter((d) => d.source === "ferrolens" && d.range.start.line <= line && d.range.end.line >= line);
  const target = diags.find((d) => typeof d.code === "object" && d.code !== null && "target" in d.code);
  if (!target || typeof target.code !== "object") {
    vscode.window.showInformationMessage("ferrolens: no ferrolens diagnostic on this line");
    return;
  }
  const doc = await vscode.workspace.openTextDocument((target.code as { target: vscode.Uri }).target);
  await vscode.commands.executeCommand("markdown.showPreview", doc.uri).then(undefined, () =>
    vscode.window.showTextDocument(doc),
  );
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("ferrolens");
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 0);
  status.command = "ferrolens.showOutput";
  context.subscriptions.push(
    output,
    status,
    vscode.commands.registerCommand("ferrolens.restartServer", () => restart(context)),
    vscode.commands.registerCommand("ferrolens.showRuleDocs", showRuleDocs),
    vscode.commands.registerCommand("ferrolens.showOutput", () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("ferrolens.server")) {
        void restart(context); // a new executable or interpreter: start over
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
  }
}
