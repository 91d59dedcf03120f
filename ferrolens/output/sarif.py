"""SARIF 2.1.0, as GitHub code scanning and other CI tools read it."""

from __future__ import annotations

import json

from ferrolens import __version__
from ferrolens.analyzers.registry import all_rules
from ferrolens.output import FileReport

LEVEL = {"error": "error", "warning": "warning", "info": "note", "hint": "note"}


def _region(start: dict, end: dict) -> dict:
    return {"startLine": start["line"], "startColumn": start["column"], "endLine": end["line"], "endColumn": end["column"]}


def render(reports: list[FileReport]) -> str:
    rules = list(all_rules().values())
    index = {r.name: i for i, r in enumerate(rules)}
    results = []
    for rep in reports:
        for f in rep.findings:
            res = {
                "ruleId": f["rule"],
                "ruleIndex": index.get(f["rule"], 0),
                "level": LEVEL[f["severity"]],
                "message": {"text": f["message"]},
                "locations": [
                    {"physicalLocation": {"artifactLocation": {"uri": f["path"]}, "region": _region(f["start"], f["end"])}}
                ],
            }
            if f["related"]:
                res["relatedLocations"] = [
                    {
                        "id": i,
                        "message": {"text": r["message"]},
                        "physicalLocation": {"artifactLocation": {"uri": r["path"]}, "region": _region(r["start"], r["end"])},
                    }
                    for i, r in enumerate(f["related"])
                ]
            if f["fix"] is not None:
                res["fixes"] = [
                    {
                        "description": {"text": f["fix"]["message"]},
                        "artifactChanges": [
                            {
                                "artifactLocation": {"uri": f["path"]},
                                "replacements": [
                                    {"deletedRegion": _region(e["start"], e["end"]), "insertedContent": {"text": e["content"]}}
                                    for e in f["fix"]["edits"]
                                ],
                            }
                        ],
                    }
                ]
            results.append(res)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ferrolens",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/ferrolens/",
                        "rules": [
                            {
                                "id": r.name,
                                "shortDescription": {"text": r.summary},
                                "fullDescription": {"text": r.summary},
                                "help": {"text": r.docs.strip(), "markdown": r.docs_markdown()},
                                "helpUri": r.source or "https://pypi.org/project/ferrolens/",
                                "defaultConfiguration": {"level": LEVEL[r.severity.label], "enabled": r.default_enabled},
                                "properties": {"group": r.group, **({"clippy": r.clippy} if r.clippy else {})},
                            }
                            for r in rules
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
