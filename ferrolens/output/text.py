from __future__ import annotations

from ferrolens.output import FileReport

# rules whose actions change several places at once (refactorings): offered in the editor, never applied
# by --fix
EDITOR_ONLY = {"duplicate_code"}


def render(reports: list[FileReport], fix_mode: bool, unsafe: bool) -> str:
    lines = []
    total = fixable = unsafe_fixable = fixed = refactorings = 0
    for rep in reports:
        fixed += rep.fixed
        for f in rep.findings:
            total += 1
            mark = ""
            if f["fix"] is not None and f["rule"] in EDITOR_ONLY:
                refactorings += 1
                mark = " [~]"
            elif f["fix"] is not None:
                if f["fix"]["applicability"] == "safe":
                    fixable += 1
                    mark = " [*]"
                else:
                    unsafe_fixable += 1
                    mark = " [-]"
            lines.append(
                f"{f['path']}:{f['start']['line']}:{f['start']['column']}: {f['rule']} {f['message']}{mark}"
            )
    if fixed:
        lines.append(f"Fixed {fixed} finding{'s' if fixed != 1 else ''}.")
    if total:
        parts = []
        if fixable:
            parts.append(f"{fixable} fixable with --fix ([*])")
        if unsafe_fixable and not unsafe:
            parts.append(f"{unsafe_fixable} more with --unsafe-fixes ([-])")
        if refactorings:
            parts.append(f"{refactorings} with a refactoring action in the editor ([~])")
        tail = f" ({', '.join(parts)})" if parts else ""
        lines.append(f"Found {total} finding{'s' if total != 1 else ''}{tail}.{_skipped(reports)}")
    elif not fixed:
        lines.append(f"All checks passed.{_skipped(reports)}")
    return "\n".join(lines) + "\n"


def _skipped(reports: list[FileReport]) -> str:
    """How many files were not checked (each has its one message on stderr): "All checks passed."
    alone would say a file that is not UTF-8, too large or unreadable had been looked at."""
    n = sum(1 for rep in reports if rep.problem)
    return f" {n} file{'s were' if n != 1 else ' was'} skipped (see the message{'s' if n != 1 else ''} above)." if n else ""
