"""Where Rasa keeps its trackers and publishes its events, derived from our database settings.

- Event broker: Rasa's SQL broker writes into the ``events`` table of the application database
  (as :class:`connectors.sql_broker.BatchedSqlEventBroker`: a turn's events in one transaction,
  off Rasa's event loop), which the ingestion worker drains (see :mod:`bot.workers.ingestion`);
  with ``EVENT_BROKER_URL``
  (amqp://), Rasa's pika broker publishes to RabbitMQ instead (see :mod:`bot.workers.rabbitmq`),
  as :class:`connectors.durable_broker.DurableEventBroker`: a turn is answered once RabbitMQ has
  confirmed its events.
- Tracker store: Rasa's SQL tracker store (as :class:`connectors.tracker_store.CachedSqlTrackerStore`:
  a conversation's tracker is kept between its turns), in ``var/rasa_tracker.db`` beside a SQLite app
  database (in WAL mode: :func:`prepare_tracker_store`), or in the database ``<name>_tracker`` of the same PostgreSQL server (Rasa creates
  it), unless ``TRACKER_STORE_URL`` names another.
- Lock store: with ``REDIS_URL`` set, Rasa's Redis lock store in that Redis database, so that
  several Rasa servers take turns on a conversation (Rasa's default, in memory, holds only
  within one process); without it, Rasa's in-memory lock store.

Passwords never go into the endpoints file: it refers to ``${RASA_DB_PASSWORD}`` and friends,
which Rasa substitutes from the environment given to its process.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import DatabaseSettings, Settings
from bot.store.db import async_url

TRACKER_PASSWORD_ENV = "RASA_TRACKER_DB_PASSWORD"
BROKER_PASSWORD_ENV = "RASA_BROKER_PASSWORD"
LOCK_STORE_PASSWORD_ENV = "RASA_LOCK_STORE_PASSWORD"
# Rasa's pika broker, which confirms before a turn is answered (connectors/durable_broker.py).
DURABLE_PIKA_BROKER = "connectors.durable_broker.DurableEventBroker"
# Rasa's SQL broker, writing a turn's events together off the event loop (connectors/sql_broker.py).
BATCHED_SQL_BROKER = "connectors.sql_broker.BatchedSqlEventBroker"
# Rasa's SQL tracker store, keeping trackers between turns (connectors/tracker_store.py).
CACHED_SQL_TRACKER_STORE = "connectors.tracker_store.CachedSqlTrackerStore"


def tracker_store_url(database: DatabaseSettings) -> URL:
    if database.tracker_store_url:
        return make_url(database.tracker_store_url)
    app = make_url(database.database_url)
    if app.get_backend_name() == "sqlite":
        directory = Path(app.database or "var/app.db").parent
        return URL.create("sqlite", database=str(directory / "rasa_tracker.db"))
    return app.set(database=f"{app.database}_tracker")


def prepare_tracker_store(database: DatabaseSettings) -> None:
    """Put an SQLite tracker store in WAL mode (kept in the file) before Rasa opens it: Rasa
    commits a turn's events in its event loop, twice a turn, and a commit in SQLite's default
    mode waits for several writes to the disk (about 5 ms here, against under 2 ms in WAL
    mode); readers (a customer's export) no longer wait for it either."""
    url = tracker_store_url(database)
    if url.get_backend_name() != "sqlite":
        return
    path = _sqlite_file(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise ValueError(f"Rasa's stores need an SQLite file, not {url.render_as_string()}")
    return Path(url.database)


def _sql_endpoint(url: URL, password_env: str, env: dict[str, str]) -> dict[str, Any]:
    async_url(url)  # refuses databases we do not support
    if url.get_backend_name() == "sqlite":
        return {"type": "SQL", "dialect": "sqlite", "db": str(_sqlite_file(url).resolve())}
    config: dict[str, Any] = {
        "type": "SQL",
        "dialect": "postgresql",
        "url": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "db": url.database,
    }
    if url.username:
        config["username"] = url.username
    if url.password:
        env[password_env] = url.password
        config["password"] = "${" + password_env + "}"
    return config


def rasa_store_endpoints(settings: Settings) -> tuple[dict[str, Any], dict[str, str]]:
    """(endpoints.yml entries for the tracker store and event broker, env for Rasa)."""
    env: dict[str, str] = {}
    tracker = {
        **_sql_endpoint(tracker_store_url(settings.database), TRACKER_PASSWORD_ENV, env),
        "type": CACHED_SQL_TRACKER_STORE,
    }
    app = make_url(settings.database.database_url)
    if app.get_backend_name() != "sqlite" and not settings.database.tracker_store_url:
        tracker["login_db"] = app.database  # Rasa creates the tracker database from there
    amqp = settings.ingestion.event_broker_url.get_secret_value()
    if amqp:
        broker = _pika_endpoint(make_url(amqp), settings.ingestion.event_queue, env)
    else:
        broker = {**_sql_endpoint(app, BROKER_PASSWORD_ENV, env), "type": BATCHED_SQL_BROKER}
    stores: dict[str, Any] = {"tracker_store": tracker, "event_broker": broker}
    redis_url = settings.wechat.redis_url.get_secret_value()
    if redis_url:
        stores["lock_store"] = redis_lock_store(redis_url, env)
    return stores, env


def redis_lock_store(redis_url: str, env: dict[str, str]) -> dict[str, Any]:
    """Rasa's ``lock_store`` entry for the Redis database of ``redis_url``; its password goes
    into ``env`` (as ``RASA_LOCK_STORE_PASSWORD``), the entry only names it.

    >>> env = {}
    >>> redis_lock_store("redis://:s3cret@10.0.0.5:6380/2", env)
    {'type': 'redis', 'url': '10.0.0.5', 'port': 6380, 'db': 2, 'password': '${RASA_LOCK_STORE_PASSWORD}'}
    >>> env
    {'RASA_LOCK_STORE_PASSWORD': 's3cret'}

    Raises:
        ValueError: not a redis:// or rediss:// URL, or its database is not a number.
    """
    url = urlsplit(redis_url)
    if url.scheme not in ("redis", "rediss"):
        raise ValueError(f"REDIS_URL must be a redis:// or rediss:// URL, not {url.scheme}://")
    db = url.path.strip("/") or "0"
    if not db.isdigit():
        raise ValueError(f"REDIS_URL: the database is a number (redis://host:6379/0), not {db!r}")
    config: dict[str, Any] = {
        "type": "redis",
        "url": url.hostname or "127.0.0.1",
        "port": url.port or 6379,
        "db": int(db),
    }
    if url.scheme == "rediss":
        config["use_ssl"] = True
    if url.username:
        config["username"] = unquote(url.username)
    if url.password:
        env[LOCK_STORE_PASSWORD_ENV] = unquote(url.password)
        config["password"] = "${" + LOCK_STORE_PASSWORD_ENV + "}"
    return config


def _pika_endpoint(url: URL, queue: str, env: dict[str, str]) -> dict[str, Any]:
    if url.drivername not in ("amqp", "amqps"):
        raise ValueError(f"EVENT_BROKER_URL must be an amqp:// URL, not {url.drivername}://")
    config: dict[str, Any] = {
        "type": DURABLE_PIKA_BROKER,
        "url": url.host or "127.0.0.1",
        "port": url.port or 5672,
        "username": url.username or "guest",
        "queues": [queue],
    }
    env[BROKER_PASSWORD_ENV] = url.password or "guest"
    config["password"] = "${" + BROKER_PASSWORD_ENV + "}"
    return config


async def tracker_store_engine(database: DatabaseSettings) -> AsyncEngine | None:
    """An engine on Rasa's tracker store database, or None when Rasa has not created it yet."""
    from bot.store.db import create_engine

    url = tracker_store_url(database)
    if url.get_backend_name() == "sqlite":
        if not _sqlite_file(url).exists():
            return None
        return create_engine(url)
    engine = create_engine(url)
    try:
        async with engine.connect():
            pass
    except Exception as exc:
        if "does not exist" in str(exc):
            await engine.dispose()
            return None
        raise
    return engine
