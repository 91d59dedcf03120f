"""Rust tokens for clone detection: a byte-level lexer and the normalisation of Type-2 clones.

tree-sitter decides *where* units begin and end (functions, blocks, statements); the tokens inside a
unit come from this lexer, which runs in C (`re`) instead of a Python walk over every leaf node (0.15-0.5
us a node, see shared/performance-notes.md). Comments and whitespace are dropped, so two units with the
same token text are Type-1 clones; with identifiers and literals normalised they are Type-2 clones.
"""

from __future__ import annotations

import hashlib
import re

TOKEN = re.compile(
    rb"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)
  | (?P<str>b?r(?P<hashes>\#*)"(?:.|\n)*?"(?P=hashes)|b?"(?:[^"\\]|\\.|\\\n)*")
  | (?P<char>b?'(?:[^'\\\n]|\\[^\n]{1,10}?)')
  | (?P<life>'[A-Za-z_][A-Za-z0-9_]*)
  | (?P<num>[0-9][0-9_]*(?:\.[0-9][0-9_]*(?![A-Za-z_.]))?(?:[eE][+-]?[0-9_]+)?[A-Za-z0-9_]*)
  | (?P<ident>(?:r\#)?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>::|->|=>|==|!=|<=|>=|&&|\|\||\+=|-=|\*=|/=|%=|\^=|&=|\|=|<<=|>>=|\.\.=|\.\.\.|\.\.|[^\sA-Za-z0-9_])
    """,
    re.VERBOSE | re.DOTALL,
)

KEYWORDS = frozenset(
    b"""as async await break const continue crate dyn else enum extern false fn for if impl in let loop
    match mod move mut pub ref return self Self static struct super trait true type unsafe use where while
    union""".split()
)
# primitive types stay as they are: renaming `u8` to `u64` is not a harmless rename
PRIMITIVES = frozenset(b"i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f32 f64 bool char str".split())

IDENT, LITERAL, LIFETIME = b"$i", b"$l", b"$'"


class Kind:
    IDENT = 1
    LITERAL = 2
    OTHER = 0


def lex(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, bytes, int]]:
    """(offset, token text, kind) of every token in data[start:end], comments and whitespace left out."""
    out = []
    append = out.append
    for m in TOKEN.finditer(data, start, len(data) if end is None else end):
        group = m.lastgroup
        if group == "ws" or group == "comment":
            continue
        text = m.group()
        if group == "ident":
            kind = Kind.OTHER if text in KEYWORDS or text in PRIMITIVES else Kind.IDENT
        elif group in ("str", "char", "num"):
            kind = Kind.LITERAL
        else:
            kind = Kind.OTHER
        append((m.start(), text, kind))
    return out


def drop_uses(tokens: list[tuple[int, bytes, int]]) -> list[tuple[int, bytes, int]]:
    """The tokens without the `use` declarations inside them (a block that imports what it needs is
    the same logic as one whose file imports it: `use` lists are not duplicated logic)."""
    if not any(t[1] == b"use" for t in tokens):
        return tokens
    out: list[tuple[int, bytes, int]] = []
    skipping = False
    prev = b"{"
    for tok in tokens:
        text = tok[1]
        if skipping:
            if text == b";":
                skipping = False
                prev = b";"
            continue
        if text == b"use" and prev in (b"{", b";", b"}"):
            skipping = True
            continue
        out.append(tok)
        prev = text
    return out


def normalised(tokens: list[tuple[int, bytes, int]]) -> list[bytes]:
    return [IDENT if k == Kind.IDENT else LITERAL if k == Kind.LITERAL else t for _, t, k in tokens]


def digest(parts: list[bytes]) -> int:
    """A stable 64-bit hash (the same in every process, unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(b"\x00".join(parts), digest_size=8).digest(), "little")


_KEEP_AFTER = {b".", b"::"}
_KEEP_BEFORE = {b"(", b"!", b"::"}


def semi_normalised(tokens: list[tuple[int, bytes, int]]) -> list[bytes]:
    """Variables and literals normalised; fields, methods, functions, macros and paths kept: two
    functions that touch other fields or call other methods do not look alike."""
    out = []
    prev = b""
    for i, (_, t, k) in enumerate(tokens):
        if k == Kind.LITERAL:
            out.append(LITERAL)
        elif k == Kind.IDENT and prev not in _KEEP_AFTER and (i + 1 >= len(tokens) or tokens[i + 1][1] not in _KEEP_BEFORE):
            out.append(IDENT)
        else:
            out.append(t)
        prev = t
    return out


def members(tokens: list[tuple[int, bytes, int]]) -> set[bytes]:
    """Names used after a `.`: the fields and methods a piece of code touches."""
    return {tokens[i][1] for i in range(1, len(tokens)) if tokens[i - 1][1] == b"." and tokens[i][2] == Kind.IDENT}
