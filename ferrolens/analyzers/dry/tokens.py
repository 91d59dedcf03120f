"""Rust tokens for clone detection: a byte-level lexer and the normalisation of Type-2 clones.

tree-sitter decides *where* units begin and end (functions, blocks, statements); the tokens inside a
unit come from this lexer, which runs in C (`re`) instead of a Python walk over every leaf node (0.15-0.5
us a node, see shared/performance-notes.md). Comments and whitespace are dropped, so two units with the
same token text are Type-1 clones; with identifiers and literals normalised they are Type-2 clones.
"""

from __future__ import annotations

import hashlib
import re
from itertools import accumulate
from operator import add, itemgetter

# One match per token: the comments and whitespace before it (group 1; a comma that ends a line before a
# closing bracket is layout too: rustfmt adds it when a call is split over lines, and a one-element
# tuple's `(x,)` stays on one line), then the token (group 2; empty only after the last token). The most
# common tokens come first: a plain identifier (not the prefix of `b"..."`, `r#..` or `br'..'`) and
# one-byte punctuation. `findall` builds the whole list in C; offsets come from the lengths (`lex`).
# Group 2 is optional, so a match never fails and nothing backtracks into group 1 (a comment is never
# re-read as tokens). Loops are unrolled (`x*(?:sep x*)*`: a run of spaces or of a string's plain bytes
# is one char-class loop), and no two ways of a repetition match the same text (`.` takes newlines): an
# unterminated string costs one scan, not an exponential backtrack.
# Possessive quantifiers only on single char classes: on a group (`(?:a|b)*+`) Python before 3.11.5
# matches wrongly (CPython gh-106052; Debian 12's python3 is 3.11.2): there group 1 took a `,` that ends
# a line before a doc comment, not a bracket, and an empty token came out mid-file (an IndexError).
TOKEN = re.compile(
    rb"""
    (\s*+(?:(?://[^\n]*+|/\*[^*]*+(?:\*(?!/)[^*]*+)*\*/|,(?=[ \t]*+\r?\n\s*+[)\]}]))\s*+)*)
    (
      [A-Za-z_][A-Za-z0-9_]*+(?!['"\#])
    | [(){}\[\],;?@~$]
    | b?r(\#*)".*?"\3|b?"[^"\\]*+(?:\\.[^"\\]*+)*"
    | b?'(?:[^'\\\n]|\\[^\n]{1,10}?)'
    | '[A-Za-z_][A-Za-z0-9_]*
    | [0-9][0-9_]*(?:\.[0-9][0-9_]*(?![A-Za-z_.]))?(?:[eE][+-]?[0-9_]+)?[A-Za-z0-9_]*
    | (?:r\#)?[A-Za-z_][A-Za-z0-9_]*
    | ::|->|=>|==|!=|<=|>=|&&|\|\||\+=|-=|\*=|/=|%=|\^=|&=|\|=|<<=|>>=|\.\.=|\.\.\.|\.\.|[^\sA-Za-z0-9_]
    )?
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


class _Memo(dict):
    """text -> fn(text), computed on first sight (a file's vocabulary is small; cleared past 200,000
    entries, since literals vary without end)."""

    def __init__(self, fn) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, text: bytes):
        if len(self) > 200_000:
            self.clear()
        self[text] = value = self.fn(text)
        return value


def _kind(text: bytes) -> int:
    c = text[0]
    if 48 <= c <= 57 or (c == 34 and len(text) > 1):  # a number, a string
        return Kind.LITERAL
    if c == 39:  # a char literal, or a lifetime
        return Kind.LITERAL if len(text) >= 3 and text[-1] == 39 else Kind.OTHER
    if c == 95 or 65 <= c <= 90 or 97 <= c <= 122:
        if b'"' in text or b"'" in text:  # b"..", r#"..", b'x'
            return Kind.LITERAL
        return Kind.OTHER if text in KEYWORDS or text in PRIMITIVES else Kind.IDENT
    return Kind.OTHER


_KINDS = _Memo(_kind)
_TRIVIA, _TEXT = itemgetter(0), itemgetter(1)


def lex_columns(data: bytes, start: int = 0, end: int | None = None) -> tuple[list[int], list[bytes]]:
    """The offsets and the texts of the tokens in data[start:end], comments and whitespace left out
    (`lex` without a tuple per token: the clone fingerprint reads them as two lists)."""
    found = TOKEN.findall(data, start, len(data) if end is None else end)
    texts = _texts(found)
    trivia = list(map(len, map(_TRIVIA, found)))
    starts = list(map(add, accumulate(map(add, trivia, map(len, texts)), initial=start), trivia))
    del starts[len(texts) :]
    return starts, texts


def lex_texts(data: bytes, start: int, end: int) -> list[bytes]:
    """The token texts of data[start:end] (`lex_columns` without the offsets: for comparing code)."""
    return _texts(TOKEN.findall(data, start, end))


def _texts(found: list[tuple]) -> list[bytes]:
    """The token texts of `TOKEN.findall`'s matches, without the empty one after trailing comments."""
    texts = list(map(_TEXT, found))
    while texts and not texts[-1]:
        texts.pop()
    return texts


def lex(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, bytes, int]]:
    """(offset, token text, kind) of every token in data[start:end], comments and whitespace left out."""
    starts, texts = lex_columns(data, start, end)
    return list(zip(starts, texts, map(_KINDS.__getitem__, texts)))


def _outside_uses(texts: list[bytes]) -> list[int] | None:
    """The indices of the tokens outside the `use` declarations among them (None when there is none)."""
    if b"use" not in texts:
        return None
    keep: list[int] = []
    skipping = False
    prev = b"{"
    for i, text in enumerate(texts):
        if skipping:
            if text == b";":
                skipping = False
                prev = b";"
            continue
        if text == b"use" and prev in (b"{", b";", b"}"):
            skipping = True
            continue
        keep.append(i)
        prev = text
    return keep


def drop_uses(tokens: list[tuple[int, bytes, int]]) -> list[tuple[int, bytes, int]]:
    """The tokens without the `use` declarations inside them (a block that imports what it needs is
    the same logic as one whose file imports it: `use` lists are not duplicated logic)."""
    keep = _outside_uses(list(map(_TEXT, tokens)))
    return tokens if keep is None else [tokens[i] for i in keep]


def drop_uses_columns(starts: list[int], texts: list[bytes]) -> tuple[list[int], list[bytes]]:
    """`drop_uses` on `lex_columns`' lists."""
    keep = _outside_uses(texts)
    return (starts, texts) if keep is None else ([starts[i] for i in keep], [texts[i] for i in keep])


def _normal(text: bytes) -> bytes:
    """A token's Type-2 form: a variable or a literal stands for any other."""
    kind = _KINDS[text]
    return IDENT if kind == Kind.IDENT else LITERAL if kind == Kind.LITERAL else text


_NORMAL = _Memo(_normal)


def normalised(tokens: list[tuple[int, bytes, int]]) -> list[bytes]:
    return normalised_texts(map(_TEXT, tokens))


def normalised_texts(texts) -> list[bytes]:
    return list(map(_NORMAL.__getitem__, texts))


def digest(parts: list[bytes], _blake2b=hashlib.blake2b, _int=int.from_bytes) -> int:
    """A stable 64-bit hash (the same in every process, unlike `hash`). (The defaults bind the
    callables once: a fingerprint calls this for every statement.)"""
    return _int(_blake2b(b"\x00".join(parts), digest_size=8).digest(), "little")


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
