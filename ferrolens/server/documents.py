"""Open documents: our own store of bytes + tree, edited incrementally.

pygls would otherwise rebuild its own copy of the whole text on every keystroke (see the protocol
subclass in server.py); here a change is applied as a byte edit to the SourceFile, the tree is edited,
and the file is reparsed incrementally, once per analysis (a burst of didChange costs one parse).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ferrolens.analyzers.engine import ItemCache
from ferrolens.analyzers.model import Finding
from ferrolens.analyzers.source import SourceFile, encode_utf8


@dataclass
class Document:
    uri: str
    version: int
    src: SourceFile | None  # None: not analysed (too large); see `problem`
    problem: str | None = None
    cache: ItemCache = field(default_factory=ItemCache)
    findings: list[Finding] = field(default_factory=list)
    analyzed: tuple | None = None  # (version, config generation) the findings belong to
    task: object = None  # the pending analysis (asyncio.Task)
    key: str = ""  # its name in the workspace clone index (a path relative to the workspace folder)
    manifest: str = ""  # its crate's Cargo.toml, when the crate-wide rules are on
    kind: str = "rust"  # or manifest.KIND_MANIFEST / KIND_CONFIG: a TOML tree, never read as Rust
    facts_digest: int | None = None  # the summary digest its type facts were last given for
    # duplicate_code runs off the keystroke path: its findings as of the last run, the byte edits made
    # since (start, old end, new end), which shift them until the next run, and its own cache
    dry_findings: list[Finding] = field(default_factory=list)
    dry_edits: list[tuple[int, int, int]] | None = None  # None: never computed (or the text was replaced)
    dry_dirty: bool = False  # the text changed since duplicate_code last ran
    dry_cache: ItemCache = field(default_factory=ItemCache)
    dry_runs: int = 0
    shown: dict = field(default_factory=dict)  # the JSON text of each diagnostic last sent (convert.diagnostics_json)


def open_document(uri: str, version: int, text: str, max_size: int, key: str = "", kind: str = "rust") -> Document:
    data = encode_utf8(text)
    if len(data) > max_size:
        return Document(uri, version, None, f"ferrolens skipped this file: {len(data):,} bytes is over the size limit ({max_size:,}; setting maxFileSize)", key=key, kind=kind)
    if kind != "rust":
        from ferrolens.analyzers.manifest import parse_toml

        return Document(uri, version, SourceFile(data, key or uri, tree=parse_toml(data)), key=key, kind=kind)
    return Document(uri, version, SourceFile(data, key or uri), key=key)


def apply_changes(doc: Document, changes, enc: str, max_size: int) -> None:
    """Apply didChange content changes in order; the tree is reparsed once, when next analysed."""
    for change in changes:
        rng = getattr(change, "range", None)
        if rng is None or doc.src is None:
            fresh = open_document(doc.uri, doc.version, change.text, max_size, doc.key)
            doc.src, doc.problem = fresh.src, fresh.problem
            doc.cache = ItemCache()
            doc.dry_edits, doc.dry_findings = None, []
            continue
        src = doc.src
        start = src.offset(rng.start.line, rng.start.character, enc)
        end = src.offset(rng.end.line, rng.end.character, enc)
        if end < start:
            start, end = end, start
        new = encode_utf8(change.text)
        src.apply_edit(start, end, new, reparse=False)
        if doc.dry_edits is not None:
            doc.dry_edits.append((start, end, start + len(new)))
            doc.dry_dirty = True
        if len(src.data) > max_size:
            doc.src, doc.problem = None, f"ferrolens stopped analysing this file: it grew over the size limit ({max_size:,} bytes)"
            return


def shift_findings(findings: list[Finding], edits: list[tuple[int, int, int]]) -> list[Finding]:
    """Findings of an older text moved through the byte edits made since: offsets before an edit stay,
    offsets after it move; a finding whose range or fix the edit touches is dropped (it is being
    rewritten), a related location the edit touches is left out."""
    out = findings
    for start, old_end, new_end in edits:
        moved = []
        for f in out:
            offsets = _offsets(f)
            if max(offsets) < start:
                moved.append(f)  # wholly before the edit: nothing moves
            elif min(offsets) >= old_end:
                moved.append(f.shifted(new_end - old_end))  # wholly after it: all by the same bytes
            else:
                g = move_finding(f, start, old_end, new_end)
                if g is not None:
                    moved.append(g)
        out = moved
    return out


def move_finding(f: Finding, start: int, old_end: int, new_end: int) -> Finding | None:
    """One finding moved through one edit, offset by offset (None: the edit touches its range or a
    fix). `shift_findings` takes this path only for a finding around the edit."""
    from dataclasses import replace

    from ferrolens.analyzers.model import Edit, Fix, Related

    delta = new_end - old_end

    def keeps(a: int, b: int) -> bool:
        return b <= start or a >= old_end

    def first(x: int) -> int:  # a start offset: text inserted right there goes before it
        return x if x < start else x + delta

    def last(x: int) -> int:  # an end offset: text inserted right there goes after it
        return x if x <= start else x + delta

    spans = [(f.start, f.end)] + [(e.start, e.end) for fx in f.all_fixes() for e in fx.edits]
    if not all(keeps(a, b) for a, b in spans):
        return None
    if delta == 0 and not f.related:
        return f

    def fix(fx: Fix) -> Fix:
        return replace(fx, edits=tuple(Edit(first(e.start), max(first(e.start), last(e.end)), e.content) for e in fx.edits))

    return replace(
        f,
        start=first(f.start),
        end=max(first(f.start), last(f.end)),
        fix=fix(f.fix) if f.fix else None,
        alternatives=tuple(fix(x) for x in f.alternatives),
        related=tuple(
            r if r.path is not None else Related(first(r.start), max(first(r.start), last(r.end)), r.message)
            for r in f.related
            if r.path is not None or keeps(r.start, r.end)
        ),
    )


def _offsets(f: Finding) -> list[int]:
    """Every byte offset of the finding: its range, its fixes' edits, its related places in the file."""
    out = [f.start, f.end]
    for fx in f.all_fixes():
        for e in fx.edits:
            out += (e.start, e.end)
    for r in f.related:
        if r.path is None:
            out += (r.start, r.end)
    return out
