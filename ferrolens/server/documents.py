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


def open_document(uri: str, version: int, text: str, max_size: int, key: str = "") -> Document:
    data = encode_utf8(text)
    if len(data) > max_size:
        return Document(uri, version, None, f"ferrolens skipped this file: {len(data):,} bytes is over the size limit ({max_size:,}; setting maxFileSize)", key=key)
    return Document(uri, version, SourceFile(data, key or uri), key=key)


def apply_changes(doc: Document, changes, enc: str, max_size: int) -> None:
    """Apply didChange content changes in order; the tree is reparsed once, when next analysed."""
    for change in changes:
        rng = getattr(change, "range", None)
        if rng is None or doc.src is None:
            fresh = open_document(doc.uri, doc.version, change.text, max_size, doc.key)
            doc.src, doc.problem = fresh.src, fresh.problem
            doc.cache = ItemCache()
            continue
        src = doc.src
        start = src.offset(rng.start.line, rng.start.character, enc)
        end = src.offset(rng.end.line, rng.end.character, enc)
        if end < start:
            start, end = end, start
        src.apply_edit(start, end, encode_utf8(change.text), reparse=False)
        if len(src.data) > max_size:
            doc.src, doc.problem = None, f"ferrolens stopped analysing this file: it grew over the size limit ({max_size:,} bytes)"
            return
