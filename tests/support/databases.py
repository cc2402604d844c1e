"""Throw-away application databases for tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def copy_sqlite(source: Path, target: Path) -> str:
    """Copy the SQLite database ``source`` to ``target`` (a consistent copy, whatever its journal
    mode); the URL of the copy."""
    original, copy = sqlite3.connect(source), sqlite3.connect(target)
    try:
        original.backup(copy)
    finally:
        original.close()
        copy.close()
    return f"sqlite:///{target}"
