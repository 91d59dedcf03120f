"""The data that flows out of the analyzers: findings, fixes and byte-range edits."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    """Ordered so that a higher value is more severe."""

    HINT = 1
    INFO = 2
    WARNING = 3
    ERROR = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> "Severity":
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {value!r} (use error, warning, info or hint)") from None

    def raised(self) -> "Severity":
        return Severity(min(self + 1, Severity.ERROR))


class Applicability(str, enum.Enum):
    SAFE = "safe"  # keeps behaviour: applied by --fix and "fix all"
    UNSAFE = "unsafe"  # may change behaviour or fail to compile: only on request


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace bytes [start, end) of the source by `content`."""

    start: int
    end: int
    content: str

    def shifted(self, delta: int) -> "Edit":
        return Edit(self.start + delta, self.end + delta, self.content)


@dataclass(frozen=True, slots=True)
class FileEdit:
    """A whole-file rewrite of another file (a config the fix belongs with, e.g. clippy.toml): `old` is
    the text the rule saw (None: the file does not exist yet and is created), `new` replaces it."""

    path: str
    old: str | None
    new: str


@dataclass(frozen=True, slots=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]
    files: tuple[FileEdit, ...] = ()  # edits to other files; only interactive actions carry them

    @property
    def is_safe(self) -> bool:
        return self.applicability is Applicability.SAFE

    def shifted(self, delta: int) -> "Fix":
        return Fix(self.applicability, self.message, tuple(e.shifted(delta) for e in self.edits), self.files)


@dataclass(frozen=True, slots=True)
class Related:
    """Another place the finding refers to. In the same file, start and end are byte offsets; in
    another file (`path` set), they are 0-based first and last lines."""

    start: int
    end: int
    message: str
    path: str | None = None  # None: the same file as the finding

    def shifted(self, delta: int) -> "Related":
        return self if self.path is not None else Related(self.start + delta, self.end + delta, self.message)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    start: int
    end: int
    message: str
    severity: Severity | None = None  # None: the rule's default (stamped by the engine)
    fix: Fix | None = None
    # further fixes offered as non-preferred actions, never applied in batch (e.g. Option vs Result)
    alternatives: tuple[Fix, ...] = ()
    related: tuple[Related, ...] = field(default=())
    hot: bool = False  # on a hot path (in a loop, or in a function called from one): one step more severe
    # the finding stands only while the file calls this function inside a loop (checked after the
    # item cache, like `hot`, so that calls appearing in loops never invalidate cached items)
    when_loop_call: str = ""

    def shifted(self, delta: int) -> "Finding":
        if delta == 0:
            return self
        # every field given (a keystroke shifts every finding after it; `replace` costs 3x as much)
        return Finding(
            self.rule,
            self.start + delta,
            self.end + delta,
            self.message,
            self.severity,
            self.fix.shifted(delta) if self.fix else None,
            tuple(f.shifted(delta) for f in self.alternatives) if self.alternatives else (),
            tuple(r.shifted(delta) for r in self.related) if self.related else (),
            self.hot,
            self.when_loop_call,
        )

    def all_fixes(self) -> tuple[Fix, ...]:
        return ((self.fix,) if self.fix else ()) + self.alternatives


@dataclass(frozen=True, slots=True)
class CrateInfo:
    """What a rule may know of the crate a file belongs to (read from its Cargo.toml by the caller)."""

    name: str
    dependencies: frozenset[str] = frozenset()  # crate names as code spells them (`rustc_hash`)
    lib: bool = False  # the file is part of the crate's library target (not a proc-macro crate)
    public: bool = False  # ... in a module other crates can name (`pub mod` all the way from lib.rs)
    # Clippy's config file for this crate: the nearest (.)clippy.toml at or above the crate root, or
    # where one would be created; its text (None: it does not exist). Empty path: unknown.
    clippy_toml: str = ""
    clippy_toml_text: str | None = None
