"""The data commands of ``python -m bot`` on a database that was never migrated: a clear
message and exit status 2, not a traceback, and nothing written."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.__main__ import main
from bot.store.migrate import is_current, upgrade


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--from", "2026-11-01", "--to", "2026-11-30", "--json"],
        ["profile", "web-someone"],
        ["customers", "export", "web-someone"],
    ],
)
def test_a_data_command_on_an_unmigrated_database_says_to_migrate(
    argv, tmp_path, monkeypatch, capsys
):
    database = tmp_path / "new.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "python -m bot migrate" in error
    assert "Traceback" not in error
    tables = sqlite3.connect(database).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == []


def test_a_migrated_database_is_current(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert asyncio.run(is_current(url)) is False
    asyncio.run(upgrade(url))
    assert asyncio.run(is_current(url)) is True
