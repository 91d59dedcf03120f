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


def test_a_comma_before_a_comment_is_a_token_and_no_token_is_empty():
    # on Python 3.11.0-3.11.4 (Debian 12's python3) the lexer's possessive group took this comma as layout
    # and gave an empty token after it: `check` died with an IndexError on such files
    data = b"enum E {\n    A(A),\n\n    /// doc\n    B(B),\n}\nfn f() { g(a,\n  b,\n); }\n"
    # (a comma that ends a line before a closing bracket stays layout, as rustfmt writes it)
    assert [t for t, _ in texts(data)] == [
        b"enum", b"E", b"{", b"A", b"(", b"A", b")", b",", b"B", b"(", b"B", b")", b"}",
        b"fn", b"f", b"(", b")", b"{", b"g", b"(", b"a", b",", b"b", b")", b";", b"}",
    ]  # fmt: skip


def test_possessive_quantifiers_only_on_single_characters():
    """CPython before 3.11.5 matches a possessive repeat of a group wrongly (gh-106052); the lexer must
    give the same tokens on every 3.11, so it keeps `*+` to char classes (checked on the parsed pattern)."""
    import re._parser as sre_parse

    from ferrolens.analyzers.dry.tokens import TOKEN

    possessive = sre_parse.POSSESSIVE_REPEAT
    single = {sre_parse.LITERAL, sre_parse.NOT_LITERAL, sre_parse.IN, sre_parse.ANY, sre_parse.CATEGORY}
    found = []

    def walk(items) -> None:
        for op, av in items:
            if op is possessive:
                found.append(av)
                body = list(av[2])
                assert len(body) == 1 and body[0][0] in single, f"a possessive repeat over {body}"
            for sub in av if isinstance(av, (list, tuple)) else ():
                if isinstance(sub, sre_parse.SubPattern):
                    walk(sub)
                elif isinstance(sub, (list, tuple)):
                    for x in sub:
                        if isinstance(x, sre_parse.SubPattern):
                            walk(x)

    walk(sre_parse.parse(TOKEN.pattern.decode("latin-1"), TOKEN.flags))
    assert found  # (the walk reaches them: the identifier's and the spaces' loops are possessive)


def test_non_ascii_and_control_bytes_are_single_tokens():
    data = "let é = \"ü\"; \x01".encode()
    assert [k for _, k in texts(data)] == [Kind.OTHER, Kind.OTHER, Kind.OTHER, Kind.OTHER, Kind.LITERAL, Kind.OTHER, Kind.OTHER]


def test_lex_texts_is_lex_without_offsets():
    from ferrolens.analyzers.dry.tokens import lex_texts

    data = b"fn f() { let x = \"a\"; // tail\n x }  /* end */ "
    assert lex_texts(data, 0, len(data)) == [t for _, t, _ in lex(data)]
    assert lex_texts(data, 3, 8) == [t for _, t, _ in lex(data, 3, 8)]


def test_fingerprints_survive_pickling():
    # check's workers send every file's units to the parent: Run and FnUnit pickle as their fields
    import pickle

    from ferrolens.analyzers.dry.fingerprint import fingerprint
    from ferrolens.analyzers.source import parse

    data = b"fn f(a: u32) -> u32 {\n    let b = a + 1;\n    let c = b * 2;\n    c\n}\nimpl S {\n    fn g(&self) -> u32 { match self.0 { 1 => 2, _ => 3 } }\n}\n"
    units = fingerprint("a.rs", data, parse(data).root_node)
    back = pickle.loads(pickle.dumps(units))
    assert units.runs and units.fns
    assert back.runs == units.runs and back.fns == units.fns and back.run_base == units.run_base and back.fn_first == units.fn_first


def test_the_parts_around_a_copy_parse_like_the_whole_file_there():
    # duplicate_code's actions parse only the top-level items around the copies (and the `use`s); of an
    # impl, trait or mod, its head, the body items around the copies and its closing brace
    from collections import namedtuple
    from pathlib import Path

    from ferrolens.analyzers.dry.fingerprint import FileUnits, fingerprint
    from ferrolens.analyzers.source import parse, parse_parts

    Span = namedtuple("Span", "start end")
    checked = 0
    for path in sorted((Path(__file__).parent / "fixtures").rglob("*.rs")):
        data = path.read_bytes()
        whole = parse(data).root_node
        units = fingerprint(str(path), data, whole, include_tests=True)
        again = FileUnits.from_json(str(path), data, units.to_json())  # (what the cache keeps)
        assert (again.tops, again.uses, again.bodies, again.broken) == (units.tops, units.uses, units.bodies, whole.has_error)
        for k in range(len(units.fns)):
            span = Span(*units.fn_span(k))
            part = parse_parts(data, units.parts_around([span])).root_node
            a, b = whole.descendant_for_byte_range(span.start, span.end), part.descendant_for_byte_range(span.start, span.end)
            assert (a.type, a.start_byte, a.end_byte, str(a)) == (b.type, b.start_byte, b.end_byte, str(b)), (path, span)
            assert [u.start_byte for u in part.named_children if u.type == "use_declaration"] == [s for s, _ in units.uses]
            checked += 1
    assert checked > 100


def test_file_units_pickle_as_plain_tuples_and_come_back_as_named_ones():
    """check's workers pickle every file's units for the parent: the runs and functions travel as
    plain tuples (no Python call per named tuple) and are named tuples again on arrival."""
    import pickle
    from pathlib import Path

    from ferrolens.analyzers.dry.fingerprint import FnUnit, Run, fingerprint
    from ferrolens.analyzers.source import parse

    data = (Path(__file__).parent / "fixtures" / "dry" / "duplicate_code.rs").read_bytes()
    units = fingerprint("duplicate_code.rs", data, parse(data).root_node)
    units.line(0)  # (a line index made: it travels too)
    back = pickle.loads(pickle.dumps(units))
    assert units.runs and units.fns
    assert all(getattr(back, slot) == getattr(units, slot) for slot in units.__slots__)
    assert {type(r) for r in back.runs} == {Run} and {type(f) for f in back.fns} == {FnUnit}
    assert back.fns[0].name == units.fns[0].name and back.runs[0].sig == units.runs[0].sig
