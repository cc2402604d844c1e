"""``python -m bot agents add``: the password comes from stdin and never shows up anywhere."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from bot.store.models import Agent

PASSWORD = "correct horse battery staple"


def add_agent(database_url: str, password: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "agents", "add", *args],
        input=password + "\n",
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_an_admin_is_added_with_a_hashed_password(database_url, sessions):
    added = add_agent(database_url, PASSWORD, "lee", "--role", "admin", "--display-name", "Lee")
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr
    async with sessions() as session:
        agent = await session.scalar(select(Agent).where(Agent.username == "lee"))
    assert agent.role == "admin" and agent.display_name == "Lee"
    assert agent.password_hash.startswith("$argon2") and PASSWORD not in agent.password_hash


async def test_a_short_password_or_a_taken_name_is_refused(database_url, sessions):
    short = add_agent(database_url, "short", "kim")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    assert add_agent(database_url, PASSWORD, "kim").returncode == 0
    again = add_agent(database_url, PASSWORD, "kim")
    assert again.returncode == 1 and "exists already" in again.stderr
