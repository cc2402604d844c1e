"""Agents' accounts: argon2 password hashes, server-side sessions, CSRF tokens, login limits.

The browser holds only a random session token in an HttpOnly cookie; the database keeps its
SHA-256 digest, the agent and the session's CSRF token, which every state-changing request must
send back (form field ``csrf_token`` or header ``X-CSRF-Token``). Failed sign-ins are counted
per user name and per address; past the limit, sign-in is refused for a while whatever the
password.

>>> async with sessions() as session, session.begin():  # doctest: +SKIP
...     await create_agent(session, "ann", "Ann", "a long passphrase", "admin")
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Agent, AgentRole, AgentSession, LoginAttempt

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
SESSION_LIFETIME = timedelta(hours=12)
LOCKOUT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20

_hasher = PasswordHasher()
# Verified against when the user does not exist, so that a wrong name costs the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthError(Exception):
    """A sign-in or account change that cannot be done; the message is safe to show."""


class TooManyAttempts(AuthError):
    pass


@dataclass(frozen=True)
class SignedIn:
    agent_id: int
    username: str
    display_name: str
    role: str
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        return self.role == AgentRole.ADMIN.value


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


async def create_agent(
    session: AsyncSession, username: str, display_name: str, password: str, role: str
) -> Agent:
    username = (username or "").strip().lower()
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace("-", "").replace(".", "").isalnum()
    ):
        raise AuthError("a user name is 1-64 letters, digits, '.', '-' or '_'")
    if role not in (AgentRole.AGENT.value, AgentRole.ADMIN.value):
        raise AuthError("the role is agent or admin")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AuthError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if await session.scalar(select(Agent.id).where(Agent.username == username)):
        raise AuthError(f"an agent {username!r} exists already")
    agent = Agent(
        username=username,
        display_name=(display_name or username).strip()[:100],
        password_hash=_hasher.hash(password),
        role=role,
        active=True,
        created_at=_now(),
    )
    session.add(agent)
    await session.flush()
    return agent


async def _failures(session: AsyncSession, key: str) -> int:
    return await session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.key == key, LoginAttempt.at >= _now() - LOCKOUT_WINDOW)
    )


async def sign_in(
    session: AsyncSession, username: str, password: str, address: str
) -> tuple[str, SignedIn]:
    """A new session token for good credentials; raises :class:`AuthError` otherwise.

    Commits ``session`` either way: a failed attempt must be counted even though it raises.
    """
    username = (username or "").strip().lower()[:64]
    user_key, address_key = f"user:{username}", f"ip:{address}"[:160]
    if (
        await _failures(session, user_key) >= MAX_FAILURES_PER_USER
        or await _failures(session, address_key) >= MAX_FAILURES_PER_ADDRESS
    ):
        raise TooManyAttempts("too many failed sign-ins; try again in 15 minutes")
    agent = await session.scalar(select(Agent).where(Agent.username == username))
    try:
        _hasher.verify(agent.password_hash if agent else _DUMMY_HASH, password or "")
        ok = agent is not None and agent.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        session.add(LoginAttempt(key=user_key, at=_now()))
        session.add(LoginAttempt(key=address_key, at=_now()))
        await session.commit()
        log.info("failed sign-in for %r from %s", username, address)
        raise AuthError("wrong user name or password")
    if _hasher.check_needs_rehash(agent.password_hash):
        agent.password_hash = _hasher.hash(password)
    await session.execute(delete(LoginAttempt).where(LoginAttempt.key == user_key))
    token = secrets.token_urlsafe(32)
    record = AgentSession(
        token_digest=_digest(token),
        agent_id=agent.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=_now(),
        expires_at=_now() + SESSION_LIFETIME,
    )
    session.add(record)
    agent.last_seen_at = _now()
    await session.commit()
    return token, SignedIn(
        agent.id, agent.username, agent.display_name, agent.role, record.csrf_token
    )


async def signed_in(session: AsyncSession, token: str | None) -> SignedIn | None:
    """The agent behind a session token, if the session is alive and the agent active."""
    if not token or len(token) > 200:
        return None
    row = (
        await session.execute(
            select(AgentSession, Agent)
            .join(Agent, AgentSession.agent_id == Agent.id)
            .where(AgentSession.token_digest == _digest(token))
        )
    ).first()
    if row is None:
        return None
    record, agent = row
    if record.expires_at <= _now() or not agent.active:
        return None
    return SignedIn(agent.id, agent.username, agent.display_name, agent.role, record.csrf_token)


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())


async def sign_out(session: AsyncSession, token: str | None) -> None:
    if token:
        await session.execute(
            delete(AgentSession).where(AgentSession.token_digest == _digest(token))
        )
