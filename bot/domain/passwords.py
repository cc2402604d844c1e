"""Argon2 password hashes, computed off the event loop.

A hash takes 64 MiB and a few tenths of a CPU-second, by design: run on the event loop, every
sign-in would stop the whole web service for that long (guessing unknown user names took
``/health`` from 3 ms to 5 s). Hashes run in a thread pool of their own, at most
:data:`MAX_CONCURRENT_HASHES` at a time (more guesses queue instead of starving the machine), in
threads of lower priority than the event loop.

>>> stored = asyncio.run(hash_password("a long passphrase"))
>>> asyncio.run(verify_password(stored, "a long passphrase"))
True
>>> asyncio.run(verify_password(stored, "a guess"))
False
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import secrets
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Half the CPUs, 1 to 4: argon2 itself runs 4 lanes in parallel threads per hash.
MAX_CONCURRENT_HASHES = max(1, min(4, (os.cpu_count() or 2) // 2))
# How much lower hashing threads run than the event loop (a nice value, Linux only).
HASH_THREAD_NICENESS = 10

_hasher = PasswordHasher()
T = TypeVar("T")


def _yield_the_cpu() -> None:
    """Run this hashing thread (and the threads argon2 starts from it) at a lower priority, so
    that a busy machine still schedules the event loop first. Linux only: there a thread's id
    names it for ``setpriority``; elsewhere the same call would renice a whole process."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_THREAD_NICENESS)


@functools.cache
def _hash_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        MAX_CONCURRENT_HASHES, thread_name_prefix="argon2", initializer=_yield_the_cpu
    )


async def _off_loop(function: Callable[..., T], *args: str) -> T:
    return await asyncio.get_running_loop().run_in_executor(_hash_pool(), function, *args)


def _verify_now(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that a wrong name costs the same time."""
    return _hasher.hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    """The argon2 hash of ``password``, computed in the hash pool.

    Args:
        password: the password as typed.

    Returns:
        The encoded hash, with its parameters and salt.
    """
    return await _off_loop(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``, checked in the hash pool.

    Args:
        password_hash: a hash from :func:`hash_password`; ``None`` for a user that does not
            exist, checked against a dummy hash all the same, so that both take as long.
        password: the password as typed.

    Returns:
        ``True`` only for a match; a malformed hash is no match.
    """
    if password_hash is None:
        password_hash = await _off_loop(_dummy_hash)
    return await _off_loop(_verify_now, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Whether ``password_hash`` was made with weaker parameters than today's (cheap: no hash)."""
    return _hasher.check_needs_rehash(password_hash)
