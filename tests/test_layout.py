"""The type-size estimates (ferrolens.analyzers.layout) against what rustc reports: every size the
estimator gives must be exact, and types it cannot know must come back as None, never a guess."""

from __future__ import annotations

import subprocess

from helpers import needs_rustc
from ferrolens.analyzers.layout import layout_of, file_resolver
from ferrolens.analyzers.source import SourceFile
from ferrolens.analyzers.summary import FileSummary

DEFS = """
type Large = [u8; 100];
const N: usize = 32;
struct Unit;
struct P { a: u8, b: u64, c: u8 }
struct T(u32, u16);
struct Nested { p: P, t: T, o: Option<u32> }
enum C { A, B, D }
enum E { A, B(i32), C(u64, u8, u64, u8) }
enum F { X, Y(i32), Z(i32, Large) }
enum G { A(u8), B([u16; 3]) }
struct WithVec { v: Vec<u8>, s: String, b: Box<[u8]>, r: &'static str, d: Box<dyn Fn()> }
struct Big { data: [u64; N], flag: bool }
struct Gen<X> { x: X }
#[repr(C)] struct ReprC { a: u8, b: u64, c: u8 }
enum Disc { A = 1000, B }
enum Niche { A(Vec<u8>), B }
"""
KNOWN = [
    "u8", "bool", "char", "u128", "(u8, u64)", "(u8, u16, u8)", "[u8; 100]", "[u32; N]", "&str", "&[u8]", "&u8",
    "Box<u8>", "Box<[u8]>", "Box<[u8; 4]>", "Option<Box<u8>>", "Option<u32>", "Option<u8>", "Option<u64>",
    "Option<bool>", "Option<char>", "Option<Vec<u8>>", "Option<String>", "Option<(u8,u32)>", "Option<[u8; 3]>",
    "Option<u128>", "Vec<u64>", "String", "std::collections::HashMap<u8, u8>", "std::collections::HashSet<u32>",
    "std::time::Duration", "Option<std::time::Duration>", "std::rc::Rc<str>", "std::sync::Arc<u8>", "Unit", "P",
    "T", "Nested", "C", "E", "F", "G", "Option<C>", "Option<G>", "WithVec", "Big", "Large", "Option<P>",
    "Option<T>", "Option<E>", "(C, u8)", "[C; 3]", "Option<Option<u8>>", "&dyn std::fmt::Debug", "*const u8",
    "*mut [u8]", "Option<&u8>", "std::path::PathBuf", "Box<str>", "std::collections::BTreeMap<u8,u8>",
    "std::sync::atomic::AtomicU32", "std::marker::PhantomData<u64>", "()", "Option<()>", "((), u8)", "Option<F>",
    "i128", "(u8, u128)", "Option<i128>",
]
UNKNOWN = ["Gen<u8>", "ReprC", "Disc", "Niche", "Option<Niche>", "regex::Regex", "Option<std::collections::BTreeMap<u8, u8>>", "[u8]", "Missing"]


def _estimates(types):
    summary = FileSummary.of(SourceFile(DEFS.encode()))
    resolve = file_resolver(summary)
    return [layout_of(t, resolve, summary.consts) for t in types]


def test_unknown_types_are_not_guessed():
    assert _estimates(UNKNOWN) == [None] * len(UNKNOWN)


@needs_rustc
def test_every_estimate_is_the_size_rustc_reports(tmp_path):
    program = "#![allow(dead_code)]\n" + DEFS + "fn main() {\n"
    program += "".join(f'    println!("{{}}", std::mem::size_of::<{t}>());\n' for t in KNOWN) + "}\n"
    src = tmp_path / "sizes.rs"
    src.write_text(program)
    subprocess.run(["rustc", "--edition", "2021", "-A", "warnings", "-o", str(tmp_path / "sizes"), str(src)], check=True)
    real = [int(x) for x in subprocess.run([str(tmp_path / "sizes")], capture_output=True, text=True, check=True).stdout.split()]
    estimates = _estimates(KNOWN)
    assert all(e is not None for e in estimates), [t for t, e in zip(KNOWN, estimates) if e is None]
    wrong = [(t, e.size, r) for t, e, r in zip(KNOWN, estimates, real) if e.size != r]
    assert not wrong, wrong
