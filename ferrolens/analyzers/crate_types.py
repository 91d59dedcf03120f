"""The types a crate declares across its files, for rules that follow a type out of the file they check.

Each file contributes its `TypeFacts` (taken from its FileSummary, so computing them costs no extra
parse): the structs, enums and aliases it declares, and its actors' channel fields. `CrateTypes.build`
merges the facts of a crate's other files; a rule sees the result as `ctx.summary.external` and only
reads it when the file itself does not declare the name it is looking for (so a file's cached findings
depend on the other files only where they did read it).

Names are matched by their last segment, the way a file sees them after `use crate::..::Name`: a name
declared in two files of the crate is ambiguous and stays unknown, and a name the file imports from
another crate is never looked up here. Nothing is guessed: an unknown type stays unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ferrolens.analyzers.layout import Layout, file_resolver, split_args
from ferrolens.analyzers.summary import FileSummary, resolve_path

SENDER = "tokio::sync::mpsc::Sender"
RECEIVER = "tokio::sync::mpsc::Receiver"
TYPE_PARTS = ("types", "fields", "variants", "aliases", "opaque", "consts")


@dataclass(frozen=True, slots=True)
class FieldSite:
    """A struct field of an actor graph: a channel end (`kind` Sender/Receiver of `message`) or a held
    struct (`kind` "holds", `message` the held type's name)."""

    owner: str
    field: str
    kind: str
    message: str
    path: str = ""
    line: int = 0  # 0-based line of the field's declaration


def channel_of(imports: dict[str, str], ty: str) -> tuple[str, str] | None:
    """("Sender"|"Receiver", message type) for a tokio mpsc field type, the path resolved through `imports`."""
    ty = "".join(ty.split())
    if "<" not in ty or not ty.endswith(">"):
        return None
    head, args = ty[: ty.index("<")], ty[ty.index("<") + 1 : -1]
    full = resolve_path(imports, head)
    parts = split_args(args)
    if full in (SENDER, RECEIVER) and len(parts) == 1:
        message = parts[0]
        if "<" not in message:
            message = message.rsplit("::", 1)[-1]  # `crate::Move` and `Move` are the same message type
        return full.rsplit("::", 1)[-1], message
    return None


def actor_sites(summary: FileSummary, path: str = "", lines: dict[tuple[str, str], int] | None = None) -> list[FieldSite]:
    """The channel ends and held local structs of a file's struct fields."""
    out = []
    lines = lines or {}
    for (owner, name), ty in summary.fields.items():
        ch = channel_of(summary.imports, ty)
        bare = "".join(ty.split())
        if ch is not None:
            out.append(FieldSite(owner, name, ch[0], ch[1], path, lines.get((owner, name), 0)))
        elif bare in summary.types:
            out.append(FieldSite(owner, name, "holds", bare, path, lines.get((owner, name), 0)))
    return out


@dataclass
class TypeFacts:
    """What one file tells the rest of its crate."""

    path: str
    summary: FileSummary  # the type parts only (TYPE_PARTS)
    sites: tuple[FieldSite, ...] = ()

    @classmethod
    def of(cls, path: str, summary: FileSummary, root=None, data: bytes = b"") -> "TypeFacts":
        part = FileSummary()
        for name in TYPE_PARTS:
            value = getattr(summary, name)
            setattr(part, name, dict(value) if isinstance(value, dict) else set(value))
        lines = _field_lines(root, data) if root is not None and any(channel_of(summary.imports, t) for t in summary.fields.values()) else {}
        return cls(path, part, tuple(actor_sites(summary, path, lines)))

    def to_json(self) -> dict:
        s = self.summary
        return {
            "path": self.path,
            "types": sorted(s.types),
            "opaque": sorted(s.opaque),
            "fields": [[o, f, t] for (o, f), t in s.fields.items()],
            "variants": {k: [[n, list(ts)] for n, ts in v] for k, v in s.variants.items()},
            "aliases": s.aliases,
            "consts": s.consts,
            "sites": [[x.owner, x.field, x.kind, x.message, x.line] for x in self.sites],
        }

    @classmethod
    def from_json(cls, raw: dict) -> "TypeFacts":
        s = FileSummary()
        s.types, s.opaque = set(raw["types"]), set(raw["opaque"])
        s.fields = {(o, f): t for o, f, t in raw["fields"]}
        s.variants = {k: tuple((n, tuple(ts)) for n, ts in v) for k, v in raw["variants"].items()}
        s.aliases, s.consts = dict(raw["aliases"]), dict(raw["consts"])
        path = raw["path"]
        return cls(path, s, tuple(FieldSite(o, f, k, m, path, line) for o, f, k, m, line in raw["sites"]))


def _field_lines(root, data: bytes) -> dict[tuple[str, str], int]:
    out = {}
    for item in root.children:
        if item.type != "struct_item":
            continue
        body = item.child_by_field_name("body")
        name = item.child_by_field_name("name")
        if body is None or name is None or body.type != "field_declaration_list":
            continue
        owner = data[name.start_byte : name.end_byte].decode("utf-8", "replace")
        for decl in body.named_children:
            fname = decl.child_by_field_name("name") if decl.type == "field_declaration" else None
            if fname is not None:
                out[(owner, data[fname.start_byte : fname.end_byte].decode("utf-8", "replace"))] = decl.start_point[0]
    return out


@dataclass
class CrateTypes:
    """The merged facts of a crate's files (but the one being checked)."""

    summary: FileSummary = field(default_factory=FileSummary)
    origin: dict[str, str] = field(default_factory=dict)  # type name -> the file declaring it
    sites: tuple[FieldSite, ...] = ()
    missed: set[str] | None = None  # when set, names looked up (CLI: which files need a second look)
    _resolve: object = None
    _digest: int | None = 0  # None: not worked out yet (see `digest`)

    @property
    def digest(self) -> int:
        """A hash of the facts: an analysis that read them is redone when it changes. Worked out on
        first use: `check` builds every crate's facts in its parent process, where sorting them took
        80 ms on 180k lines that no worker waited for."""
        if self._digest is None:
            self._digest = hash((self.summary.digest(), self.sites))
        return self._digest

    def __getstate__(self) -> dict:
        # (sent to check's workers without its resolver, a closure made again where it is needed)
        return {**self.__dict__, "_resolve": None}

    @classmethod
    def build(cls, facts, exclude: str | None = None) -> "CrateTypes":
        merged = FileSummary()
        origin: dict[str, str] = {}
        ambiguous: set[str] = set()
        sites: list[FieldSite] = []
        for f in sorted(facts, key=lambda f: f.path):
            if f.path == exclude:
                continue
            for name in f.summary.types | set(f.summary.aliases):
                if name in origin and origin[name] != f.path:
                    ambiguous.add(name)
                origin[name] = f.path
            merged.merge(f.summary)
            sites.extend(f.sites)
        merged.opaque |= ambiguous
        for name in ambiguous:
            merged.aliases.pop(name, None)
        return cls(merged, origin, tuple(sites), _digest=None)

    @classmethod
    def recorder(cls) -> "CrateTypes":
        """Knows no types; notes every name asked for."""
        return cls(missed=set())

    def layout(self, name: str, depth: int) -> Layout | None:
        if self.missed is not None:
            self.missed.add(name)
        if name not in self.origin:
            return None
        if self._resolve is None:
            self._resolve = file_resolver(self.summary)
        return self._resolve(name, depth)  # type: ignore[operator]

    def knows(self, names) -> bool:
        """Whether any of `names` is a type of the crate whose layout is known (worth a second look)."""
        return any(n in self.origin and self.layout(n, 0) is not None for n in names)

