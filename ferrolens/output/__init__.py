"""Batch output formats: text, JSON and SARIF, all built from the same per-file reports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ferrolens.analyzers.model import Finding
from ferrolens.analyzers.registry import all_rules
from ferrolens.analyzers.source import UTF32, SourceFile


@dataclass
class FileReport:
    path: str
    findings: list[dict] = field(default_factory=list)  # JSON-ready, see `finding_json`
    problem: str | None = None  # why the file was skipped
    fixed: int = 0
    diff: str = ""
    io_error: bool = False  # the file could not be read or written (exit code 2)
    units: object = None  # its clone fingerprints (FileUnits), for the workspace-wide duplicate_code
    cached_units: dict | None = None  # the cache's JSON of them: read into `units` only if the clone report is redone
    # for the crate-wide rules: the manifest of its crate, its type facts (TypeFacts JSON) and the type
    # names its rules looked for but the file does not declare
    manifest: str = ""
    facts: dict | None = None
    missed: list[str] = field(default_factory=list)
    uncached: bool = False  # never reused from the cache (a Cargo.toml: it depends on the sources)
    generated: bool = False  # code generator output: not checked (setting include_generated)
    first_pass: list[dict] | None = None
    second_digest: str = ""  # the crate facts the second pass saw
    second_cache: dict | None = None  # a cached second-pass result ({"digest", "findings"})  # the findings before the second pass (what the cache keeps)


def json_lines_array(items: list) -> str:
    """A JSON array with one item per line: as easy to read and to grep as an indented one, and written
    by json's C encoder (`indent` makes it fall back to Python: 0.3 s for a thousand findings)."""
    if not items:
        return "[]\n"
    return "[\n" + ",\n".join(map(json.dumps, items)) + "\n]\n"


def _pos(src: SourceFile, offset: int) -> dict:
    line, col = src.position(offset, UTF32)
    return {"line": line + 1, "column": col + 1}


def finding_json(src: SourceFile, path: str, f: Finding) -> dict:
    rule = all_rules().get(f.rule)
    return {
        "rule": f.rule,
        "group": rule.group if rule else "",
        "severity": f.severity.label,
        "message": f.message,
        "path": path,
        "start": _pos(src, f.start),
        "end": _pos(src, f.end),
        "fix": None
        if f.fix is None
        else {
            "applicability": f.fix.applicability.value,
            "message": f.fix.message,
            "edits": [
                {"start": _pos(src, e.start), "end": _pos(src, e.end), "content": e.content} for e in f.fix.edits
            ],
        },
        "related": [
            {
                "path": r.path or path,
                # in another file, start and end are 0-based lines
                "start": _pos(src, r.start) if r.path is None else {"line": r.start + 1, "column": 1},
                "end": _pos(src, r.end) if r.path is None else {"line": r.end + 1, "column": 1},
                "message": r.message,
            }
            for r in f.related
        ],
    }
