"""``python -m bot agents add|password``: the password comes from stdin and never shows up anywhere."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
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


def set_password(database_url: str, password: str, name: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "agents", "password", name],
        input=password + "\n",
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_new_password_replaces_the_old_and_ends_the_agents_sessions(database_url, sessions):
    from bot.domain.auth import AuthError, sign_in, signed_in

    assert add_agent(database_url, PASSWORD, "ann").returncode == 0
    async with sessions() as session:
        token, _ = await sign_in(session, "ann", PASSWORD, "127.0.0.1")

    changed = set_password(database_url, "a brand new passphrase", "ann")

    assert changed.returncode == 0, changed.stderr
    assert "a brand new passphrase" not in changed.stdout + changed.stderr
    async with sessions() as session:
        assert await signed_in(session, token) is None
        with pytest.raises(AuthError):
            await sign_in(session, "ann", PASSWORD, "127.0.0.2")
        assert await sign_in(session, "ann", "a brand new passphrase", "127.0.0.3")


async def test_a_short_password_or_an_unknown_agent_changes_nothing(database_url, sessions):
    assert add_agent(database_url, PASSWORD, "bo").returncode == 0
    async with sessions() as session:
        before = await session.scalar(select(Agent.password_hash).where(Agent.username == "bo"))

    short = set_password(database_url, "short", "bo")
    unknown = set_password(database_url, "a brand new passphrase", "nobody")

    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    assert unknown.returncode == 1 and "no agent 'nobody'" in unknown.stderr
    async with sessions() as session:
        after = await session.scalar(select(Agent.password_hash).where(Agent.username == "bo"))
    assert after == before
