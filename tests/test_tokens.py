"""The clone detector's lexer (ferrolens/analyzers/dry/tokens.py)."""

from ferrolens.analyzers.dry.tokens import Kind, lex


def texts(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int]]:
    return [(t, k) for _, t, k in lex(data, start, end)]


def test_tokens_kinds_and_offsets():
    data = b"""fn f<'a>(x: &'a str) -> u8 { // note
    let s = br#"a "q" b"#; /* block */ let c = b'\\n'; r#type + 1_000u32 + 2.5 + x.0 }"""
    toks = lex(data)
    assert all(data[o : o + len(t)] == t for o, t, _ in toks)
    kinds = dict((t, k) for _, t, k in toks)
    assert kinds[b"f"] == kinds[b"x"] == kinds[b"r#type"] == Kind.IDENT
    assert kinds[b"fn"] == kinds[b"u8"] == kinds[b"'a"] == kinds[b"->"] == Kind.OTHER
    for lit in (b'br#"a "q" b"#', b"b'\\n'", b"1_000u32", b"2.5"):
        assert kinds[lit] == Kind.LITERAL, lit
    assert b"note" not in kinds and b"block" not in kinds
    # a range gives the same tokens as the whole, and nothing of a trailing comment
    assert texts(data, 0, data.index(b"let s")) == [(t, k) for o, t, k in toks if o < data.index(b"let s")]


def test_unterminated_strings_and_comments_lex_in_linear_time():
    # `(?:.|\n)*?` in the raw-string pattern backtracked 2^n over n newlines: this input never finished
    for opener in (b'r#"', b'"', b'"\\', b"/*"):
        data = b"fn f() {" + opener + b"\n x \\\n" * 60 + b"}"
        toks = texts(data)
        assert toks[:3] == [(b"fn", Kind.OTHER), (b"f", Kind.IDENT), (b"(", Kind.OTHER)]
        assert toks[-1] == (b"}", Kind.OTHER)


def test_non_ascii_and_control_bytes_are_single_tokens():
    data = "let é = \"ü\"; \x01".encode()
    assert [k for _, k in texts(data)] == [Kind.OTHER, Kind.OTHER, Kind.OTHER, Kind.OTHER, Kind.LITERAL, Kind.OTHER, Kind.OTHER]
