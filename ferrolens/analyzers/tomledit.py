"""Format-preserving TOML edits (tomlkit): text in, text out, comments and layout kept."""

from __future__ import annotations


def add_disallowed_types(text: str | None, entries: list[tuple[str, str]]) -> str | None:
    """Add `{ path, reason }` entries to Clippy's `disallowed-types` list (creating it when missing).
    None when every path is listed already or the text is not valid TOML (never guess over a broken file)."""
    import tomlkit  # (only when a fix is built: 20 ms to import)
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(text or "")
    except (TOMLKitError, ValueError):
        return None
    current = doc.get("disallowed-types")
    if current is not None and not isinstance(current, list):
        return None
    listed = {e if isinstance(e, str) else e.get("path") for e in current or [] if isinstance(e, (str, dict))}
    new = [(path, reason) for path, reason in entries if path not in listed]
    if not new:
        return None
    if current is None:
        current = tomlkit.array()
        current.multiline(True)
        doc["disallowed-types"] = current
    for path, reason in new:
        table = tomlkit.inline_table()
        table.update({"path": path, "reason": reason})
        current.append(table)
    return tomlkit.dumps(doc)


def has_table(text: str, path: tuple[str, ...]) -> bool:
    """Whether the TOML `text` defines the table `path` (as a header, a dotted key or inline)."""
    import tomllib

    try:
        cur = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return True  # unknown: never write into a file that does not parse
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            return False
        cur = cur[p]
    return True
