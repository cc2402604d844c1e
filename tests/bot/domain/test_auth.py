"""Sign-in against guessing: hashes off the event loop, an atomic per-address limit, a per-user
delay that slows guesses without locking the agent out; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

import bot.domain.auth
import bot.domain.passwords
from bot.domain.auth import AuthError, TooManyAttempts, create_agent, sign_in
from bot.store.models import AgentSession, LoginAttempt

PASSWORD = "ann's long passphrase"


class SpyHasher(PasswordHasher):
    """Counts verifications and remembers the threads they ran in."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[threading.Thread] = []

        self.niceness: list[int] = []

    def verify(self, hash_, password):
        self.threads.append(threading.current_thread())
        if sys.platform == "linux":
            self.niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return super().verify(hash_, password)


@pytest.fixture()
def spy(monkeypatch) -> SpyHasher:
    hasher = SpyHasher()
    monkeypatch.setattr(bot.domain.passwords, "_hasher", hasher)
    return hasher


@pytest.fixture()
def pauses(monkeypatch) -> list[float]:
    """The per-user delays sign-in asks for, recorded instead of slept."""
    asked: list[float] = []

    async def pause(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(bot.domain.auth, "_pause", pause, raising=False)
    return asked


@pytest.fixture()
async def ann(sessions) -> str:
    async with sessions() as session, session.begin():
        await create_agent(session, "ann", "Ann", PASSWORD, "agent")
    return "ann"


async def attempt(sessions, username: str, password: str, address: str) -> str:
    """``"ok"``, ``"wrong"`` or ``"refused"``: what one sign-in came to."""
    try:
        async with sessions() as session:
            await sign_in(session, username, password, address)
    except TooManyAttempts:
        return "refused"
    except AuthError:
        return "wrong"
    return "ok"


async def test_passwords_are_verified_off_the_event_loop(sessions, ann, spy, pauses):
    assert await attempt(sessions, "ann", "a wrong guess!", "10.0.0.1") == "wrong"
    assert await attempt(sessions, "nobody", "a wrong guess!", "10.0.0.1") == "wrong"
    assert await attempt(sessions, "ann", PASSWORD, "10.0.0.1") == "ok"
    assert len(spy.threads) == 3
    assert threading.main_thread() not in spy.threads


@pytest.mark.skipif(sys.platform != "linux", reason="threads are reniced on Linux only")
async def test_hashing_yields_the_cpu_to_the_event_loop(sessions, ann, spy, pauses):
    assert await attempt(sessions, "ann", "a wrong guess!", "10.0.0.1") == "wrong"
    loop_niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert spy.niceness and all(n > loop_niceness for n in spy.niceness)


async def test_parallel_guesses_never_pass_the_address_limit(sessions, ann, spy, pauses):
    limit = bot.domain.auth.MAX_ATTEMPTS_PER_ADDRESS
    outcomes = await asyncio.gather(
        *(attempt(sessions, "ann", f"guess number {i}", "10.0.0.1") for i in range(30))
    )
    checked = len(spy.threads)
    assert 0 < checked <= limit
    assert outcomes.count("wrong") == checked and outcomes.count("refused") == 30 - checked
    # Later guesses may use what is left of the allowance, never more.
    for i in range(limit):
        await attempt(sessions, "ann", f"late guess {i}", "10.0.0.1")
    assert len(spy.threads) == limit
    # The address is spent: refused even with the right password, which is not checked.
    assert await attempt(sessions, "ann", PASSWORD, "10.0.0.1") == "refused"
    assert len(spy.threads) == limit


async def test_parallel_guesses_for_many_names_share_the_address_limit(sessions, spy, pauses):
    # Checking the count before recording the attempt let 34 of these reach argon2 (SQLite).
    outcomes = await asyncio.gather(
        *(attempt(sessions, f"user{i}", "a wrong guess!", "10.0.0.9") for i in range(40))
    )
    assert 0 < len(spy.threads) <= bot.domain.auth.MAX_ATTEMPTS_PER_ADDRESS
    assert outcomes.count("refused") == 40 - len(spy.threads)


async def test_a_stranger_slows_an_agents_sign_in_but_cannot_lock_her_out(sessions, ann, pauses):
    for i in range(8):
        assert await attempt(sessions, "ann", f"guess number {i}", "10.0.0.1") == "wrong"
    assert pauses[0] == 0  # the first guess is not slowed
    assert pauses == sorted(pauses) and pauses[-1] > pauses[1] > 0  # each failure adds delay
    assert max(pauses) <= bot.domain.auth.MAX_USER_DELAY

    assert await attempt(sessions, "ann", PASSWORD, "10.0.0.2") == "ok"
    assert 0 < pauses[-1] <= bot.domain.auth.MAX_USER_DELAY  # she waited, and got in
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AgentSession)) == 1

    assert await attempt(sessions, "ann", "one more guess", "10.0.0.3") == "wrong"
    assert pauses[-1] == 0  # her sign-in cleared the failures of her name


async def test_the_delay_is_capped(sessions, ann, pauses):
    for i in range(bot.domain.auth.MAX_ATTEMPTS_PER_ADDRESS):
        await attempt(sessions, "ann", f"guess number {i}", f"10.0.1.{i}")
    assert pauses[-1] == bot.domain.auth.MAX_USER_DELAY
    assert await attempt(sessions, "ann", PASSWORD, "10.0.0.2") == "ok"


def test_the_delay_grows_with_each_recent_failure_up_to_a_cap():
    assert bot.domain.auth.user_delay(0) == 0
    assert bot.domain.auth.user_delay(2) == pytest.approx(2 * bot.domain.auth.USER_DELAY_STEP)
    assert bot.domain.auth.user_delay(10_000) == bot.domain.auth.MAX_USER_DELAY


async def test_an_address_with_too_many_failures_is_refused(sessions, ann, pauses):
    for i in range(bot.domain.auth.MAX_ATTEMPTS_PER_ADDRESS):
        assert await attempt(sessions, f"user{i}", "a wrong guess!", "10.0.0.1") == "wrong"
    assert await attempt(sessions, "ann", PASSWORD, "10.0.0.1") == "refused"
    assert await attempt(sessions, "ann", PASSWORD, "10.0.0.2") == "ok"


async def test_a_success_does_not_reset_the_address_limit(sessions, ann, pauses):
    """An agent cannot use her own account to wipe the failures of her address."""
    for i in range(bot.domain.auth.MAX_ATTEMPTS_PER_ADDRESS - 1):
        await attempt(sessions, "bob", f"guess number {i}", "10.0.0.1")
    assert await attempt(sessions, "ann", PASSWORD, "10.0.0.1") == "ok"
    assert await attempt(sessions, "bob", "another guess", "10.0.0.1") == "wrong"
    assert await attempt(sessions, "ann", PASSWORD, "10.0.0.1") == "refused"


@pytest.mark.parametrize(
    "username", ["ann\x00", "a" * 65, "ann\udc80", "<ann>", "", "ann bob", "an\nn"]
)
async def test_impossible_user_names_are_wrong_and_never_stored_as_given(sessions, ann, username):
    assert await attempt(sessions, username, PASSWORD, "10.0.0.1") == "wrong"
    async with sessions() as session:
        keys = (await session.scalars(select(LoginAttempt.key))).all()
    assert all("\x00" not in key and "\udc80" not in key for key in keys)


async def test_overlong_passwords_are_wrong_without_hashing(sessions, ann, spy):
    assert await attempt(sessions, "ann", "x" * 100_000, "10.0.0.1") == "wrong"
    assert spy.threads == []
    async with sessions() as session, session.begin():
        with pytest.raises(AuthError):
            await create_agent(session, "cyd", "Cyd", "x" * 100_000, "agent")
