"""Cargo.toml (and .cargo/config.toml) documents: a tolerant parse with positions, and the rules of the
`build` group.

The text is parsed twice: by tree-sitter-toml, which keeps byte positions and survives broken files
(diagnostics land on the exact key or dependency line), and by tomllib for the values. A manifest that
tomllib rejects gets one `manifest_syntax` finding on the broken spot and no rule runs on it. Edits are
byte edits like the Rust rules' (one line inserted, one entry removed), so the rest of the file stays
byte-identical; a table created from nothing is written with tomlkit.

What a rule may know beyond the manifest arrives as a `Package` (gathered by ferrolens/packages.py):
the package's Rust sources, its lock file, the workspace root's manifest. Nothing here reads files.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

import tree_sitter_toml
from tree_sitter import Language, Node, Parser

from ferrolens.analyzers.model import Edit, Finding, Fix, Severity

KIND_MANIFEST = "manifest"
KIND_CONFIG = "cargo-config"
MANIFEST_SCOPES = (KIND_MANIFEST, KIND_CONFIG, "toml")  # rule scopes of TOML documents ("toml": both)


@lru_cache(maxsize=1)
def toml_language() -> Language:
    return Language(tree_sitter_toml.language())


def parse_toml(data: bytes):
    return Parser(toml_language()).parse(data)


@dataclass(frozen=True)
class Entry:
    """A key with its value: `key` is the key node (the table header for a table), `node` the whole
    pair (or the whole table), `value` the value node (None for a table)."""

    path: tuple[str, ...]
    key: Node
    node: Node
    value: Node | None


def _key_parts(node: Node, data: bytes) -> list[str]:
    if node.type == "dotted_key":
        out: list[str] = []
        for c in node.named_children:
            out += _key_parts(c, data)
        return out
    text = data[node.start_byte : node.end_byte].decode("utf-8", "replace")
    if node.type == "quoted_key":
        text = text[1:-1]
    return [text]


@dataclass
class Package:
    """The world around a manifest, as far as the rules need it."""

    sources: dict[str, str] = field(default_factory=dict)  # path relative to the package -> Rust text
    lock: str | None = None  # Cargo.lock of the workspace (text)
    root_manifest: str | None = None  # the workspace root's Cargo.toml path, when this is a member
    root_text: str | None = None  # ... and its text
    members: int = 1  # packages in the workspace
    bin_targets: bool = False  # the package builds a binary (src/main.rs, src/bin/, [[bin]])
    root: str = ""  # the package's folder
    lib_target: bool = False  # ... and a library
    inside_package: bool = False  # the folder sits inside another package's (a fuzz or bench harness)


class Manifest:
    def __init__(self, data: bytes, path: str = "", kind: str = KIND_MANIFEST) -> None:
        self.data = data
        self.path = path
        self.kind = kind
        self.tree = parse_toml(data)
        self.error: tuple[int, int, str] | None = None
        try:
            self.doc = tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            self.doc = {}
            self.error = self._error_span(str(exc))
        self.entries: dict[tuple[str, ...], Entry] = {}
        self.tables: dict[tuple[str, ...], Entry] = {}
        self._index()

    @property
    def root(self) -> Node:
        return self.tree.root_node

    def _error_span(self, message: str) -> tuple[int, int, str]:
        at = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if at is not None:  # tomllib's position: the rest of that line
            lines = self.data.split(b"\n")
            line = min(int(at.group(1)), len(lines)) - 1
            start = sum(len(x) + 1 for x in lines[:line])
            text = lines[line].decode("utf-8", "replace")
            col = len(text[: int(at.group(2)) - 1].encode("utf-8"))
            end = start + len(lines[line])
            begin = start + col if start + col < end else start  # at the end of the line: the whole line
            return begin, max(end, begin), message[: at.start()].strip()
        bad = next((n for n in _walk(self.root) if n.type == "ERROR" or n.is_missing), None)
        if bad is not None:
            return bad.start_byte, max(bad.end_byte, bad.start_byte + 1), message
        return 0, min(len(self.data), 1), message

    def _index(self) -> None:
        data = self.data
        for child in self.root.named_children:
            if child.type in ("table", "table_array_element"):
                header = next((c for c in child.named_children if c.type in ("bare_key", "quoted_key", "dotted_key")), None)
                if header is None:
                    continue
                prefix = tuple(_key_parts(header, data))
                if child.type == "table":
                    self.tables.setdefault(prefix, Entry(prefix, header, child, None))
                for pair in child.named_children:
                    if pair.type == "pair":
                        self._pair(prefix, pair)
            elif child.type == "pair":
                self._pair((), child)

    def _pair(self, prefix: tuple[str, ...], pair: Node) -> None:
        parts = [c for c in pair.named_children if c.type != "comment"]  # a trailing comment is a child too
        key = parts[0] if parts else None
        value = parts[1] if len(parts) > 1 else None
        if key is None:
            return
        path = prefix + tuple(_key_parts(key, self.data))
        self.entries.setdefault(path, Entry(path, key, pair, value))
        if value is not None and value.type == "inline_table":
            for inner in value.named_children:
                if inner.type == "pair":
                    self._pair(path, inner)

    # -- values ------------------------------------------------------------------------------------
    def get(self, *path: str):
        cur = self.doc
        for p in path:
            if not isinstance(cur, dict) or p not in cur:
                return None
            cur = cur[p]
        return cur

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def dependencies(self) -> Iterator[tuple[str, str, object, Entry]]:
        """(table, name as written, spec, entry) of every dependency, target-specific ones included."""
        tables = [(t,) for t in DEP_TABLES]
        for target in (self.get("target") or {}):
            tables += [("target", target, t) for t in DEP_TABLES]
        for table in tables:
            deps = self.get(*table)
            if not isinstance(deps, dict):
                continue
            for name, spec in deps.items():
                entry = self.entries.get(table + (name,)) or self.tables.get(table + (name,))
                if entry is not None:
                    yield table[-1], name, spec, entry

    def rustflags(self) -> Iterator[tuple[Entry, str]]:
        """The `rustflags` entries of a Cargo config (`[build]`, `[target.<triple>]`) with their text."""
        for path, entry in self.entries.items():
            if path[-1] == "rustflags" and path[0] in ("build", "target") and entry.value is not None:
                yield entry, self.text(entry.value)

    def line_span(self, node: Node) -> tuple[int, int]:
        """The whole lines `node` covers, with the newline after them (a table: its header and its
        entries, not the blank lines that tree-sitter counts in it)."""
        last = node
        if node.type in ("table", "table_array_element") and node.named_child_count:
            last = node.named_children[-1]
        elif node.type == "pair" and node.next_named_sibling is not None and node.next_named_sibling.type == "comment" and node.next_named_sibling.start_point[0] == node.end_point[0]:
            last = node.next_named_sibling
        start = self.data.rfind(b"\n", 0, node.start_byte) + 1
        end = last.end_byte
        if end > last.start_byte and self.data[end - 1 : end] == b"\n":
            end -= 1
        end = self.data.find(b"\n", end)
        return start, len(self.data) if end < 0 else end + 1


DEP_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


class ManifestContext:
    def __init__(self, manifest: Manifest, package: Package | None) -> None:
        self.manifest = manifest
        self.package = package or Package()
        self.rule = ""

    def finding(self, at: Node | tuple[int, int], message: str, fix: Fix | None = None, alternatives=(), related=(), severity: Severity | None = None) -> Finding:
        start, end = (at.start_byte, at.end_byte) if isinstance(at, Node) else at
        return Finding(self.rule, start, end, message, severity, fix, tuple(alternatives), tuple(related))


def analyze_manifest(manifest: Manifest, package: Package | None, rules) -> list[Finding]:
    """Findings of the `scope="manifest"` (or "cargo-config") rules in `rules` on one document."""
    ctx = ManifestContext(manifest, package)
    out: list[Finding] = []
    for rule in rules:
        if rule.scope not in (manifest.kind, "toml"):
            continue
        if (manifest.error is not None) != (rule.scope == "toml"):
            continue  # a file that does not parse gets the syntax finding only
        ctx.rule = rule.name
        for f in rule.check(ctx, manifest.root) or ():
            out.append(f if f.severity is not None else Finding(f.rule, f.start, f.end, f.message, rule.severity, f.fix, f.alternatives, f.related, f.hot))
    return sorted(out, key=lambda f: (f.start, f.end, f.rule))


def insert_in_table(manifest: Manifest, table: tuple[str, ...], line: str) -> Edit:
    """An edit that adds `line` (`key = value  # comment`) to `table`: after its last entry when the
    table exists, else a new table at the end of the file."""
    entry = manifest.tables.get(table)
    if entry is not None:
        pairs = [c for c in entry.node.named_children if c.type == "pair"]
        anchor = pairs[-1] if pairs else entry.key
        _, end = manifest.line_span(anchor)
        return Edit(end, end, line + "\n")
    data = manifest.data
    sep = "" if not data or data.endswith(b"\n\n") else ("\n" if data.endswith(b"\n") else "\n\n")
    header = ".".join(p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else f'"{p}"' for p in table)
    return Edit(len(data), len(data), f"{sep}[{header}]\n{line}\n")

