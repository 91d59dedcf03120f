"""Refactoring actions for clones: make a copy call the other, or extract a shared function."""

from __future__ import annotations


def fixes_for(index, clone) -> list:
    return []
