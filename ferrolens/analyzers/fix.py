"""Applying byte edits: sorted, never overlapping, repeated until stable."""

from __future__ import annotations

from typing import Callable, Iterable

from ferrolens.analyzers.model import Edit, Finding, Fix
from ferrolens.analyzers.source import encode_utf8


def select_fixes(findings: Iterable[Finding], unsafe: bool = False) -> list[Fix]:
    """The fixes to apply: safe ones, plus unsafe ones on request; alternatives never."""
    return [f.fix for f in findings if f.fix is not None and (unsafe or f.fix.is_safe)]


def non_overlapping(fixes: Iterable[Fix]) -> list[Fix]:
    """Keep fixes in order of position; drop any fix whose edits overlap one already taken."""
    taken: list[tuple[int, int]] = []
    out = []
    for fx in sorted(fixes, key=lambda fx: min((e.start for e in fx.edits), default=0)):
        spans = [(e.start, e.end) for e in fx.edits]
        if any(_overlap(a, b) for a in spans for b in taken):
            continue
        if any(_overlap(a, b) for i, a in enumerate(spans) for b in spans[i + 1 :]):
            continue
        taken.extend(spans)
        out.append(fx)
    return out


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    # two insertions at one point conflict too; an insertion touching a replaced range's edge does not
    if a[0] == a[1] and b[0] == b[1]:
        return a[0] == b[0]
    return a[0] < b[1] and b[0] < a[1]


def apply_edits(data: bytes, edits: Iterable[Edit], newline: bytes = b"\n") -> bytes:
    """Apply non-overlapping edits; inserted text takes the file's line ending."""
    out = []
    pos = 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if e.start < pos:
            raise ValueError(f"overlapping edits at byte {e.start}")
        out.append(data[pos : e.start])
        content = encode_utf8(e.content)
        if newline != b"\n":
            content = content.replace(b"\n", newline)
        out.append(content)
        pos = e.end
    out.append(data[pos:])
    return b"".join(out)


def detect_newline(data: bytes) -> bytes:
    crlf = data.count(b"\r\n")
    return b"\r\n" if crlf and crlf * 2 >= data.count(b"\n") else b"\n"


def fix_until_stable(
    data: bytes, analyze: Callable[[bytes], list[Finding]], unsafe: bool = False, max_rounds: int = 10
) -> tuple[bytes, int]:
    """Analyse, apply the chosen fixes, repeat until nothing is left to fix. Returns (data, fixes applied)."""
    newline = detect_newline(data)
    applied = 0
    for _ in range(max_rounds):
        fixes = non_overlapping(select_fixes(analyze(data), unsafe))
        if not fixes:
            break
        new = apply_edits(data, [e for fx in fixes for e in fx.edits], newline)
        if new == data:
            break
        data = new
        applied += len(fixes)
    return data, applied
