"""Settings: one dataclass, every field defaulted, each value checked against its field's type.

Sources, later ones winning: `[workspace.metadata.ferrolens]` / `[package.metadata.ferrolens]` in
Cargo.toml, `ferrolens.toml`, then (in the editor) LSP `initializationOptions` and
`workspace/didChangeConfiguration`, or (in batch) the command line. Keys may be camelCase (LSP) or
snake_case (TOML). Unknown keys and bad values produce one clear warning each and fall back to the
default; they never stop the tool. A value is taken as it is written, never coerced (`"0"` is no
boolean, `"perf"` no list but one name, `1` no string); a list of names may also be one comma-separated
string, as on the command line.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from ferrolens.analyzers.dry.index import DryOptions
from ferrolens.analyzers.engine import RuleSelection
from ferrolens.analyzers.model import Severity
from ferrolens.analyzers.registry import all_rules, groups


@dataclass
class Settings:
    select: list[str] = field(default_factory=list)  # rule or group names; empty = the default set; "all"
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)  # rule -> error|warning|info|hint|off
    hide_clippy_mirrored: bool = False  # hide rules that a Clippy lint already reports
    max_file_size: int = 2_000_000  # bytes; larger files are skipped with a message
    include_generated: bool = False  # also check code generator output (`@generated` and the like: source.is_generated)
    debounce_ms: int = -1  # -1: adaptive (once the input has been quiet for 1 ms; bursts that arrive during an analysis are coalesced into the next)
    # duplicate_code: the smallest clone reported, test code, how different a renamed copy may be, and
    # how alike a near-miss function must be
    dry_min_tokens: int = 50
    dry_min_lines: int = 5
    dry_include_tests: bool = False
    dry_max_differences: int = 4
    dry_similarity: float = 0.85


_TYPES = get_type_hints(Settings)
_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _structure(value: Any, typ) -> Any:
    """`value` as a `typ` (a field's type), or TypeError saying what was expected: a value is taken as
    written, never coerced (cattrs made `"0"` true and `"perf"` the names p, e, r, f)."""
    if typ is bool:
        if type(value) is bool:
            return value
        raise TypeError("expected true or false")
    if typ is int:
        if type(value) is int or (type(value) is float and value.is_integer()):  # (a JSON client may send 50.0)
            return int(value)
        raise TypeError("expected a whole number")
    if typ is float:
        if type(value) in (int, float):
            return float(value)
        raise TypeError("expected a number")
    if typ == list[str]:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise TypeError("expected a list of names, or one comma-separated string")
    if typ == dict[str, str]:
        if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return dict(value)
        raise TypeError("expected a table of names to strings")
    raise TypeError(f"no reader for {typ}")  # (a new field's type: add it above)


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower().replace("-", "_")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


CLIENT_SIDE = {"server", "trace"}  # `ferrolens.server.path`, `ferrolens.trace.server`: read by the clients


def merge(base: Settings, raw: Any, source: str) -> tuple[Settings, list[str]]:
    """Overlay the keys present in `raw` onto `base`. Returns the new settings and warnings."""
    warnings: list[str] = []
    if raw is None or raw == []:  # an empty Lua table arrives as a JSON array
        return base, warnings
    if not isinstance(raw, dict):
        return base, [f"{source}: settings must be a table/object, got {type(raw).__name__}"]
    values = dataclasses.asdict(base)
    for key, value in raw.items():
        name = _snake(str(key))
        field = _FIELDS.get(name)
        if field is None and name in CLIENT_SIDE:
            continue  # the editor's own settings in the same section (how to start us, LSP tracing)
        if field is None:
            warnings.append(f"{source}: unknown setting {key!r} (known: {', '.join(camel(n) for n in _FIELDS)})")
            continue
        try:
            values[name] = _structure(value, _TYPES[name])
        except TypeError as exc:
            warnings.append(f"{source}: bad value for {key!r}: {value!r} ({exc})")
    settings = Settings(**values)
    warnings.extend(_validate(settings, source))
    return settings, warnings


def _validate(s: Settings, source: str) -> list[str]:
    known = set(all_rules()) | groups() | {"all"}
    out = [f"{source}: unknown rule or group {n!r}" for n in [*s.select, *s.ignore] if n not in known]
    for rule, level in s.severity.items():
        if rule not in all_rules():
            out.append(f"{source}: severity for unknown rule {rule!r}")
        elif level != "off":
            try:
                Severity.parse(level)
            except ValueError as exc:
                out.append(f"{source}: {exc}")
    return out


def dry_options(s: Settings) -> DryOptions:
    return DryOptions(
        min_tokens=max(s.dry_min_tokens, 10),
        min_lines=max(s.dry_min_lines, 1),
        include_tests=s.dry_include_tests,
        max_differences=max(s.dry_max_differences, 0),
        similarity=min(max(s.dry_similarity, 0.5), 1.0),
    )


def selection(s: Settings) -> RuleSelection:
    rules = all_rules()
    chosen = set()
    if not s.select:
        chosen = {n for n, r in rules.items() if r.default_enabled}
    for name in s.select:
        if name == "all":
            chosen |= set(rules)
        elif name in rules:
            chosen.add(name)
        else:
            chosen |= {n for n, r in rules.items() if r.group == name}
    explicit = frozenset(n for n in s.select if n in rules)
    for name in s.ignore:
        chosen -= {n for n, r in rules.items() if n == name or r.group == name or name == "all"}
    if s.hide_clippy_mirrored:
        chosen -= {n for n, r in rules.items() if r.clippy}
    severities = {}
    for rule, level in s.severity.items():
        if level == "off":
            chosen.discard(rule)
            continue
        try:
            severities[rule] = Severity.parse(level)
        except ValueError:
            pass
    return RuleSelection(tuple(rules[n] for n in sorted(chosen)), severities, explicit & chosen)


def read_toml(path: Path, warnings: list[str]) -> dict | None:
    """The parsed file, or None (with a warning) when it cannot be read or does not parse."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        warnings.append(f"{path}: not read ({exc}); using defaults")
        return None


def load_files(root: Path) -> tuple[Settings, list[str]]:
    """Settings from Cargo.toml metadata and ferrolens.toml in `root` (a folder)."""
    settings, warnings = Settings(), []
    cargo = root / "Cargo.toml"
    doc = read_toml(cargo, warnings) if cargo.is_file() else None
    for table in ("workspace", "package"):
        section = doc.get(table) if doc else None
        meta = section.get("metadata", {}) if isinstance(section, dict) else {}
        if isinstance(meta, dict) and "ferrolens" in meta:
            settings, w = merge(settings, meta["ferrolens"], f"{cargo} [{table}.metadata.ferrolens]")
            warnings += w
    own = root / "ferrolens.toml"
    doc = read_toml(own, warnings) if own.is_file() else None
    if doc is not None:
        settings, w = merge(settings, doc, str(own))
        warnings += w
    return settings, warnings


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` with a ferrolens.toml or Cargo.toml (the outermost
    Cargo.toml that declares a [workspace] wins over a member's)."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    found = None
    for folder in [start, *start.parents]:
        if (folder / "ferrolens.toml").is_file():
            return folder
        cargo = folder / "Cargo.toml"
        if cargo.is_file():
            if found is None:
                found = folder
            try:
                if "workspace" in tomllib.loads(cargo.read_text(encoding="utf-8")):
                    return folder
            except Exception:
                pass
    return found or start
