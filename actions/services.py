"""What the actions use of the application: sessions of its database and its settings.

An action receives them in its constructor, as rasa-sdk's ``ActionQueryKnowledgeBase`` receives
its knowledge base. rasa-sdk makes every action without arguments, so an action that is given
none uses the action server's shared :class:`Services`, made on first use inside the action
server's event loop (which the database engine binds to); tests give their own.

>>> action = ActionEscalate(Services.from_settings(Settings(database_url=url)))  # doctest: +SKIP
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from dataclasses import dataclass

from rasa_sdk import Action
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.store.db import create_engine, session_factory


@dataclass(frozen=True)
class Services:
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(session_factory(create_engine(settings.database.database_url)), settings)

    async def close(self) -> None:
        """Dispose of the database engine (in the event loop that used it)."""
        await self.sessions.kw["bind"].dispose()


_shared: Services | None = None


def shared() -> Services:
    """The action server's services, made from the environment on first use."""
    global _shared
    if _shared is None:
        _shared = Services.from_settings(Settings())
    return _shared


def reset() -> None:
    """Forget the shared services (tests run each in a new event loop)."""
    global _shared
    _shared = None


async def close() -> None:
    """Dispose of the shared services' engine, in the event loop that used it, and forget them."""
    if _shared is not None:
        await _shared.close()
    reset()


class ServiceAction(Action, metaclass=ABCMeta):
    """An action that uses the application: given :class:`Services`, or the shared ones.

    Abstract (rasa-sdk registers only concrete actions): subclasses name themselves.
    """

    def __init__(self, services: Services | None = None) -> None:
        self._services = services

    @property
    def services(self) -> Services:
        return self._services or shared()

    @abstractmethod
    def name(self) -> str: ...
