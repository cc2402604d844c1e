"""One socket.io audience across several Rasa servers: python-socketio's Redis client manager.

Importable without Rasa (only python-socketio and redis), so that it runs in both venvs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from socketio import AsyncRedisManager

CHANNEL_PREFIX = "shop-assistant:socketio"


def shared_client_manager(redis_url: str) -> AsyncRedisManager | None:
    """python-socketio's Redis client manager on ``redis_url`` (None when it is empty): every
    server given one on the same Redis database delivers each other's emits to its own sockets.
    The Redis channel is named after the database, since Redis's publish/subscribe spans all
    of a server's databases: two deployments (or test runs) on separate databases of one
    Redis never hear each other.

    >>> shared_client_manager("") is None
    True
    >>> shared_client_manager("redis://127.0.0.1:6379/3").channel
    'shop-assistant:socketio:3'
    """
    if not redis_url:
        return None
    database = urlsplit(redis_url).path.strip("/") or "0"
    return AsyncRedisManager(redis_url, channel=f"{CHANNEL_PREFIX}:{database}")
