"""Agents' accounts: argon2 password hashes, server-side sessions, CSRF tokens, sign-in limits.

The browser holds only a random session token in an HttpOnly cookie; the database keeps its
SHA-256 digest, the agent and the session's CSRF token, which every state-changing request must
send back (form field ``csrf_token`` or header ``X-CSRF-Token``).

Guessing is limited in two ways. Each client address may make :data:`MAX_ATTEMPTS_PER_ADDRESS`
failed sign-ins per :data:`ATTEMPT_WINDOW`; the limit is atomic: an attempt is recorded (and
committed) before it is counted, so parallel guesses cannot all see a count under the limit.
Each user name gets a delay that grows with its recent failures (:func:`user_delay`) but never
refuses the right password, so a stranger can slow an agent's sign-in but not lock her out.
Argon2 runs off the event loop, a few hashes at a time (:mod:`bot.domain.passwords`).

>>> async with sessions() as session, session.begin():  # doctest: +SKIP
...     await create_agent(session, "ann", "Ann", "a long passphrase", "admin")
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.passwords import hash_password, needs_rehash, verify_password
from bot.store.models import Agent, AgentRole, AgentSession, LoginAttempt

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
# Longer passwords cannot be set, so a longer guess is wrong without hashing it.
MAX_PASSWORD_LENGTH = 1024
MAX_USERNAME_LENGTH = 64
SESSION_LIFETIME = timedelta(hours=12)
ATTEMPT_WINDOW = timedelta(minutes=15)
MAX_ATTEMPTS_PER_ADDRESS = 20
# Seconds of delay per recent failure of a user name, and the most it grows to.
USER_DELAY_STEP = 0.5
MAX_USER_DELAY = 3.0


class AuthError(Exception):
    """A sign-in or account change that cannot be done; the message is safe to show."""


class TooManyAttempts(AuthError):
    """The client address failed too often lately; refused whatever the password."""


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


# --- accounts -----------------------------------------------------------------------------------


def valid_username(username: str) -> bool:
    """1-64 letters, digits, '.', '-' or '_' (``username`` already stripped and lower-cased)."""
    return (
        0 < len(username) <= MAX_USERNAME_LENGTH
        and username.replace("_", "").replace("-", "").replace(".", "").isalnum()
    )


async def create_agent(
    session: AsyncSession, username: str, display_name: str, password: str, role: str
) -> Agent:
    username = (username or "").strip().lower()
    if not valid_username(username):
        raise AuthError("a user name is 1-64 letters, digits, '.', '-' or '_'")
    if role not in (AgentRole.AGENT.value, AgentRole.ADMIN.value):
        raise AuthError("the role is agent or admin")
    _check_new_password(password)
    if await session.scalar(select(Agent.id).where(Agent.username == username)):
        raise AuthError(f"an agent {username!r} exists already")
    agent = Agent(
        username=username,
        display_name=(display_name or username).strip()[:100],
        password_hash=await hash_password(password),
        role=role,
        active=True,
        created_at=_now(),
    )
    session.add(agent)
    await session.flush()
    return agent


async def set_password(session: AsyncSession, username: str, password: str) -> Agent:
    """Give agent ``username`` a new password and end their sessions; raises :class:`AuthError`
    for an unknown agent or an unacceptable password."""
    _check_new_password(password)
    agent = await session.scalar(
        select(Agent).where(Agent.username == (username or "").strip().lower())
    )
    if agent is None:
        raise AuthError(f"there is no agent {username!r}")
    agent.password_hash = await hash_password(password)
    await session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
    await session.flush()
    return agent


def _check_new_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AuthError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthError(f"the password has more than {MAX_PASSWORD_LENGTH} characters")


# --- sign-in limits -----------------------------------------------------------------------------


def user_delay(failures: int) -> float:
    """Seconds a sign-in for a user name waits, after ``failures`` recent failures for it."""
    return min(MAX_USER_DELAY, USER_DELAY_STEP * max(0, failures))


async def _pause(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class _Attempt:
    """One sign-in's rows in ``login_attempts``: kept if it fails, removed if it succeeds."""

    user_key: str
    address_key: str
    ids: tuple[int, int]


async def _record(session: AsyncSession, username: str, address: str) -> _Attempt:
    """Store the attempt before anything is checked, and commit, so that others count it."""
    user_key, address_key = f"user:{username}", f"ip:{address}"[:160]
    now = _now()
    await session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.key.in_((user_key, address_key)), LoginAttempt.at < now - ATTEMPT_WINDOW
        )
    )
    rows = LoginAttempt(key=user_key, at=now), LoginAttempt(key=address_key, at=now)
    session.add_all(rows)
    await session.flush()
    await session.commit()
    return _Attempt(user_key, address_key, (rows[0].id, rows[1].id))


async def _recent(session: AsyncSession, key: str) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.key == key, LoginAttempt.at >= _now() - ATTEMPT_WINDOW)
    )
    return count or 0


async def _forget(session: AsyncSession, attempt: _Attempt) -> None:
    await session.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(attempt.ids)))
    await session.commit()


async def _admit(session: AsyncSession, attempt: _Attempt) -> None:
    """Refuse a spent address, then make the attempt wait for its user name's failures.

    The address's count includes this attempt and every one committed before it, so however
    many run in parallel, at most :data:`MAX_ATTEMPTS_PER_ADDRESS` get past this point.
    """
    if await _recent(session, attempt.address_key) > MAX_ATTEMPTS_PER_ADDRESS:
        await _forget(session, attempt)
        raise TooManyAttempts("too many failed sign-ins from your address; try again later")
    failures = await _recent(session, attempt.user_key) - 1  # not counting this one
    await session.commit()  # hold no connection while waiting
    await _pause(user_delay(failures))


# --- sessions -----------------------------------------------------------------------------------


async def _check_password(session: AsyncSession, username: str, password: str) -> Agent | None:
    """The active agent ``username`` if ``password`` is theirs; no connection is held while
    argon2 runs."""
    agent = await session.scalar(select(Agent).where(Agent.username == username))
    password_hash = agent.password_hash if agent else None
    await session.commit()
    ok = await verify_password(password_hash, password)
    return agent if ok and agent is not None and agent.active else None


async def sign_in(
    session: AsyncSession, username: str, password: str, address: str
) -> tuple[str, SignedIn]:
    """A new session token for good credentials; raises :class:`AuthError` otherwise, and
    :class:`TooManyAttempts` for an address that failed too often lately.

    Commits ``session`` as it goes (a failed attempt must be counted even though it raises),
    so it must keep its objects on commit, as :func:`bot.store.db.session_factory`'s sessions do.
    """
    username = (username or "").strip().lower()
    if not valid_username(username) or len(password or "") > MAX_PASSWORD_LENGTH:
        raise AuthError("wrong user name or password")  # no such account can exist
    attempt = await _record(session, username, address)
    await _admit(session, attempt)
    agent = await _check_password(session, username, password or "")
    if agent is None:
        log.info("failed sign-in for %r from %s", username, address)
        raise AuthError("wrong user name or password")
    return await _open_session(session, agent, password, attempt)


async def _open_session(
    session: AsyncSession, agent: Agent, password: str, attempt: _Attempt
) -> tuple[str, SignedIn]:
    """Store a new session; the user name's failures are cleared, the address's are not."""
    if needs_rehash(agent.password_hash):
        agent.password_hash = await hash_password(password)
    await session.execute(
        delete(LoginAttempt).where(
            (LoginAttempt.key == attempt.user_key) | LoginAttempt.id.in_(attempt.ids)
        )
    )
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
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


async def sign_out(session: AsyncSession, token: str | None) -> None:
    if token:
        await session.execute(
            delete(AgentSession).where(AgentSession.token_digest == _digest(token))
        )
