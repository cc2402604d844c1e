"""Argon2 off the event loop: hashes made and checked in the hash pool's threads."""

from __future__ import annotations

import threading

import bot.domain.passwords
from bot.domain.passwords import hash_password, needs_rehash, verify_password


async def test_a_hash_checks_its_password_and_no_other():
    stored = await hash_password("a long passphrase")
    assert stored.startswith("$argon2id$")
    assert await verify_password(stored, "a long passphrase")
    assert not await verify_password(stored, "another passphrase")
    assert not needs_rehash(stored)


async def test_no_user_and_a_broken_hash_are_no_match():
    assert not await verify_password(None, "a long passphrase")
    assert not await verify_password("not a hash", "a long passphrase")


async def test_hashes_run_in_the_pool_not_on_the_loop(monkeypatch):
    threads: list[threading.Thread] = []
    real = bot.domain.passwords._verify_now

    def spy(password_hash: str, password: str) -> bool:
        threads.append(threading.current_thread())
        return real(password_hash, password)

    monkeypatch.setattr(bot.domain.passwords, "_verify_now", spy)
    await verify_password(None, "x")
    assert threads and threads[0] is not threading.main_thread()
    assert threads[0].name.startswith("argon2")
