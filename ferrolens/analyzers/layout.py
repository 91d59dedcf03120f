"""Type sizes, estimated from the text of a type (x86_64, the layout rustc picks today).

`layout_of("Option<Box<[u8; 100]>>", resolver)` gives size, alignment and whether the type has a
niche (bit patterns it never uses, which `Option` and enums can take for their tag). Anything that is
not known for certain (a foreign type, a generic, a `#[repr]` type, a niche we cannot count) is None:
never guessed, so a size this module gives is the size `std::mem::size_of` reports (the tests check
that against rustc).

Rules of thumb it follows: a struct or tuple is its fields sorted by alignment, so its size is their
sum rounded up to the largest alignment; a fieldful enum with no niches in any variant stores a tag
of the smallest integer that counts its variants, then each variant's fields; `Option<T>` is `T`
when `T` has a niche, else a tag plus `T`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ferrolens.analyzers.summary import memo_by_state


@dataclass(frozen=True, slots=True)
class Layout:
    size: int
    align: int
    niche: bool | None  # True: has unused bit patterns; False: none; None: not known

    def __str__(self) -> str:
        return f"{self.size} bytes"


def _l(size: int, align: int, niche: bool | None = False) -> Layout:
    return Layout(size, align, niche)


WORD = 8
PRIMITIVES = {
    "u8": _l(1, 1), "i8": _l(1, 1), "u16": _l(2, 2), "i16": _l(2, 2), "u32": _l(4, 4), "i32": _l(4, 4),
    "f32": _l(4, 4), "u64": _l(8, 8), "i64": _l(8, 8), "f64": _l(8, 8), "usize": _l(8, 8), "isize": _l(8, 8),
    "u128": _l(16, 16), "i128": _l(16, 16), "bool": _l(1, 1, True), "char": _l(4, 4, True), "()": _l(0, 1),
}
# std types by their last path segment: (size, align, niche)
STD = {
    "String": _l(24, 8, True), "Vec": _l(24, 8, True), "PathBuf": _l(24, 8, True), "OsString": _l(24, 8, True),
    "Box": _l(8, 8, True), "Rc": _l(8, 8, True), "Arc": _l(8, 8, True), "NonNull": _l(8, 8, True),
    "HashMap": _l(48, 8, True), "HashSet": _l(48, 8, True), "BTreeMap": _l(24, 8, None), "BTreeSet": _l(24, 8, None),
    "VecDeque": _l(32, 8, None), "Duration": _l(16, 8, True), "NonZeroU8": _l(1, 1, True), "NonZeroU16": _l(2, 2, True),
    "NonZeroU32": _l(4, 4, True), "NonZeroU64": _l(8, 8, True), "NonZeroUsize": _l(8, 8, True),
    "AtomicBool": _l(1, 1, False), "AtomicU8": _l(1, 1), "AtomicU16": _l(2, 2), "AtomicU32": _l(4, 4),
    "AtomicU64": _l(8, 8), "AtomicUsize": _l(8, 8), "AtomicI32": _l(4, 4), "AtomicI64": _l(8, 8),
    "PhantomData": _l(0, 1), "PhantomPinned": _l(0, 1),
}
POINTERS = {"Box", "Rc", "Arc", "NonNull"}  # one word, or two for an unsized pointee
MAPS = {"HashMap": 2, "HashSet": 1}  # generic arguments of the default-hasher form
_UNSIZED_NAMES = re.compile(r"^(?:str|dyn\b.*|(?:std::(?:path|ffi)::)?(?:Path|OsStr|CStr))$", re.S)


def is_unsized(t: str) -> bool:
    t = t.strip()
    if t.startswith("[") and t.endswith("]"):
        return len(split_args(t[1:-1].replace(";", ","))) == 1  # `[T]`, not `[T; N]`
    return bool(_UNSIZED_NAMES.match(t))

Resolver = Callable[[str, int], "Layout | None"]


def struct_layout(fields: list[Layout]) -> Layout:
    """Fields reordered by rustc (largest alignment first): no inner padding."""
    align = max((f.align for f in fields), default=1)
    size = _round(sum(f.size for f in fields), align)
    niche: bool | None = False
    for f in fields:
        if f.niche is True:
            niche = True
        elif f.niche is None and niche is False:
            niche = None
    return Layout(size, align, niche)


def tagged_enum_layout(variants: list[list[Layout]]) -> Layout | None:
    """An enum whose variants hold no niches: a tag, then each variant's fields (smallest alignment
    first, packed after the tag). None when a niche could shrink it (rustc may then use it)."""
    if any(f.niche is not False for v in variants for f in v):
        return None
    if not variants:
        return Layout(0, 1, False)
    if all(not v for v in variants):
        return Layout(0 if len(variants) == 1 else 1, 1, len(variants) < 256) if len(variants) <= 256 else None
    if len(variants) > 256:
        return None
    align = max(max((f.align for f in v), default=1) for v in variants)
    size = 0
    for v in variants:
        offset = 1
        for f in sorted(v, key=lambda f: f.align):
            offset = _round(offset, f.align) + f.size
        size = max(size, offset)
    return Layout(_round(size, align), align, len(variants) < 256)


def _round(n: int, align: int) -> int:
    return (n + align - 1) // align * align


def split_args(text: str) -> list[str]:
    """Top-level comma-separated parts of a generic or tuple argument list."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    last = "".join(cur).strip()
    if last:
        parts.append(last)
    return parts


_LIFETIME = re.compile(r"'[A-Za-z_][A-Za-z0-9_]*\s*")
_INT = re.compile(r"^(\d[\d_]*)(?:usize|u32|u64)?$")


def array_len(text: str, consts: dict[str, str]) -> int | None:
    text = text.strip()
    m = _INT.match(text)
    if m is None and text in consts:
        m = _INT.match(consts[text].strip())
    return int(m.group(1).replace("_", "")) if m else None


def layout_of(text: str, resolve: Resolver | None = None, consts: dict[str, str] | None = None, depth: int = 0) -> Layout | None:
    """The layout of the type written `text`, or None when it is not known for certain. `resolve`
    gives the layouts of local types (by name); `consts` the values of local constants."""
    if depth > 12:
        return None
    consts = consts or {}
    t = " ".join(text.split())
    if not t:
        return None
    if t.startswith("&") or t.startswith("*"):
        pointee = _LIFETIME.sub("", t.lstrip("&*").strip())
        for prefix in ("mut ", "const "):
            if pointee.startswith(prefix):
                pointee = pointee[len(prefix):]
        fat = is_unsized(pointee)
        return Layout(2 * WORD if fat else WORD, WORD, t.startswith("&"))
    if t.startswith("(") and t.endswith(")"):
        inner = t[1:-1].strip()
        if not inner:
            return PRIMITIVES["()"]
        parts = split_args(inner)
        fields = [layout_of(p, resolve, consts, depth + 1) for p in parts]
        return None if any(f is None for f in fields) else struct_layout(fields)  # type: ignore[arg-type]
    if t.startswith("[") and t.endswith("]"):
        inner = t[1:-1]
        parts = inner.rsplit(";", 1)
        if len(parts) != 2:
            return None  # a bare slice is unsized
        elem = layout_of(parts[0], resolve, consts, depth + 1)
        n = array_len(parts[1], consts)
        if elem is None or n is None:
            return None
        return Layout(elem.size * n, elem.align, elem.niche if n > 0 else False)
    if t in PRIMITIVES:
        return PRIMITIVES[t]
    head, args = t, ""
    if "<" in t and t.endswith(">"):
        head, args = t[: t.index("<")].strip(), t[t.index("<") + 1 : -1]
    last = head.rsplit("::", 1)[-1]
    if "::" in head and not head.startswith(("std::", "core::", "alloc::")):
        return None  # another crate's type
    generic = split_args(args) if args else []
    if last == "Option" and len(generic) == 1:
        inner_l = layout_of(generic[0], resolve, consts, depth + 1)
        if inner_l is None or inner_l.niche is None:
            return None
        if inner_l.niche:
            return Layout(inner_l.size, inner_l.align, None)
        return Layout(_round(inner_l.size + inner_l.align, inner_l.align), inner_l.align, True)
    if last in POINTERS:
        fat = len(generic) == 1 and is_unsized(generic[0])
        return Layout(2 * WORD if fat else WORD, WORD, True)
    if last in MAPS:
        return STD[last] if len(generic) in (0, MAPS[last]) else None
    if last in STD:
        if head != last and not head.startswith(("std::", "core::", "alloc::")):
            return None
        return STD[last]
    if resolve is not None and "::" not in head and not generic:
        return resolve(head, depth + 1)
    return None


def local_name(imports: dict[str, str], name: str) -> bool:
    """`name` may be a type of this crate: not imported, or imported through crate/self/super."""
    full = imports.get(name)
    return full is None or full.startswith(("crate::", "self::", "super::"))


_RESOLVERS: dict[tuple, Resolver] = {}
_PARTS_READ = ("fields", "consts", "aliases", "opaque", "types", "variants", "imports", "external")


def file_resolver(summary) -> Resolver:
    """Layouts of the structs, enums and aliases a file declares (its FileSummary). Memoised per
    summary state: rules ask once per item, and building it walks every field of the file."""
    return memo_by_state(_RESOLVERS, summary, _PARTS_READ, _build_resolver)


def _build_resolver(summary) -> Resolver:
    fields_of: dict[str, list[str]] = {}
    for (owner, _name), ty in summary.fields.items():
        fields_of.setdefault(owner, []).append(ty)
    consts = summary.consts
    memo: dict[str, Layout | None] = {}

    def resolve(name: str, depth: int) -> Layout | None:
        if name in memo:
            return memo[name]
        memo[name] = None  # a recursive type (through a pointer it would not get here) stays unknown
        out: Layout | None = None
        if name in summary.aliases:
            out = layout_of(summary.aliases[name], resolve, consts, depth)
        elif name in summary.opaque:
            out = None
        elif name not in summary.types:
            # declared in another file of the crate, perhaps (read only now: a file that declares
            # everything it uses never depends on the others)
            ext = summary.external
            if ext is not None and local_name(summary.imports, name):
                out = ext.layout(name, depth)
        elif name in summary.variants:
            variants = [[layout_of(t, resolve, consts, depth) for t in fields] for _v, fields in summary.variants[name]]
            if not any(f is None for v in variants for f in v):
                out = tagged_enum_layout(variants)  # type: ignore[arg-type]
        else:
            fields = [layout_of(t, resolve, consts, depth) for t in fields_of.get(name, [])]
            if not any(f is None for f in fields):
                out = struct_layout(fields)  # type: ignore[arg-type]
        memo[name] = out
        return out

    return resolve


MEMCPY = 128  # bytes: values larger than this are moved with a memcpy call


def size_assertion(ctx, item, name: str, layout: Layout):
    """A fix that adds `const _: () = assert!(size_of::<T>() == N);` after `item` (x86_64 only)."""
    from ferrolens.analyzers.context import fix
    from ferrolens.analyzers.model import Edit

    indent = ctx.line_indent(item.start_byte)
    text = (
        f"\n\n{indent}#[cfg(target_arch = \"x86_64\")]\n"
        f"{indent}const _: () = assert!(std::mem::size_of::<{name}>() == {layout.size});"
    )
    at = item.end_byte  # right after the item: a fix must not depend on text outside it (the item cache)
    return fix(f"Add a static assertion that `{name}` stays {layout.size} bytes", Edit(at, at, text))
