"""The topology of ``python -m bot cluster``: several Rasa servers, action servers and web
services behind nginx, on one machine, as production runs them on several.

nginx listens on the ports of the settings (``RASA_PORT``, ``ACTION_PORT``, ``WEB_PORT``), so
that everything that talks to "the" Rasa server, action server or web service (browsers, the
web services' outbox delivery, the Rasa servers' calls to actions) goes through it; replica
``i`` of each kind listens on that port + ``i`` (``CLUSTER_REPLICAS`` of each, default 2):

>>> from bot.settings import Settings
>>> [(r.name, r.port) for r in topology(Settings(cluster_replicas=2, _env_file=None))]
[('web-1', 8001), ('web-2', 8002), ('actions-1', 5056), ('actions-2', 5057), ('rasa-1', 5006), ('rasa-2', 5007)]

Each replica is the server :mod:`bot.runtime.processes` builds for ``python -m bot run``, with
its own port, name, log (``RUN_DIR/rasa-1.log`` ...) and its peers reached through nginx.
What several servers need to share, they share through services (:func:`check_shared_stores`):
PostgreSQL (application database, Rasa's tracker store), Redis (Rasa's lock store, the
widget's socket.io rooms, WeChat's state, the console's live updates) and RabbitMQ (Rasa's
events, consumed by every web service's ingestion in turn).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import make_url

from bot.runtime.processes import (
    ManagedProcess,
    ServiceSpec,
    action_server,
    credentials_for,
    endpoints_for,
    rasa_server,
    web_server,
)
from bot.runtime.rasa_stores import tracker_store_url
from bot.settings import ServerSettings, Settings

Kind = Literal["web", "actions", "rasa"]
KINDS: tuple[Kind, ...] = ("web", "actions", "rasa")  # start order
# Rasa frees a conversation's lock after this many seconds when the server holding it died
# (Rasa's own default is 60: a conversation whose turn was on a killed replica would wait a
# minute). A turn takes a few seconds; an exported TICKET_LOCK_LIFETIME wins.
TICKET_LOCK_LIFETIME = "10"


class ClusterRefused(ValueError):
    """The settings cannot run several servers (a store that only one process can use)."""


@dataclass(frozen=True)
class Replica:
    kind: Kind
    index: int  # from 1
    port: int

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.index}"


def front_port(servers: ServerSettings, kind: Kind) -> int:
    """Where nginx listens for ``kind``: the settings' port of that server."""
    return {"web": servers.web_port, "actions": servers.action_port, "rasa": servers.rasa_port}[
        kind
    ]


def topology(settings: Settings) -> list[Replica]:
    """Every replica in start order (web services, action servers, Rasa servers).

    Raises:
        ClusterRefused: two of the ports (nginx's or the replicas') are the same.
    """
    count = settings.supervision.cluster_replicas
    replicas = [
        Replica(kind, index, front_port(settings.servers, kind) + index)
        for kind in KINDS
        for index in range(1, count + 1)
    ]
    ports = [r.port for r in replicas] + [front_port(settings.servers, k) for k in KINDS]
    if len(set(ports)) != len(ports):
        raise ClusterRefused(
            f"RASA_PORT, ACTION_PORT and WEB_PORT are too close for {count} replicas each "
            f"(replica i listens on the port + i): {sorted(ports)}"
        )
    return replicas


def check_shared_stores(settings: Settings) -> None:
    """Refuse what only one process can use.

    Raises:
        ClusterRefused: SQLite, or no REDIS_URL, or no EVENT_BROKER_URL; the message says what
            to set.
    """
    missing = []
    if make_url(settings.database.database_url).get_backend_name() != "postgresql":
        missing.append(
            "DATABASE_URL must be PostgreSQL (postgresql://user@host:5432/name): SQLite is "
            "one machine's file"
        )
    if not settings.wechat.redis_url.get_secret_value():
        missing.append(
            "REDIS_URL (redis://host:6379/0): Rasa's lock store, the widget's socket.io rooms "
            "and the console's live updates are shared there"
        )
    if not settings.ingestion.event_broker_url.get_secret_value():
        missing.append(
            "EVENT_BROKER_URL (amqp://user:password@host:5672/): the web services take Rasa's "
            "events from RabbitMQ in turn"
        )
    if missing:
        raise ClusterRefused("several servers need shared stores:\n  " + "\n  ".join(missing))


def behind_nginx(settings: Settings) -> Settings:
    """``settings`` with nginx counted as the proxy in front of every server, unless the
    settings name proxies already: Rasa takes the client's address from the last entry of
    X-Forwarded-For (``RASA_PROXIES_COUNT=1``), the web service trusts that header from nginx's
    address (``TRUSTED_PROXIES``).

    >>> proxied = behind_nginx(Settings(_env_file=None))
    >>> proxied.rasa.rasa_proxies_count, [str(n) for n in proxied.web.trusted_proxies]
    (1, ['127.0.0.1/32'])
    """
    rasa = settings.rasa
    if not rasa.rasa_proxies_count:
        rasa = rasa.model_copy(update={"rasa_proxies_count": 1})
    web = settings.web
    if not web.trusted_proxies:
        web = type(web).model_validate(
            {**web.model_dump(), "trusted_proxies": settings.servers.host}
        )
    return settings.model_copy(update={"rasa": rasa, "web": web})


def replica_settings(settings: Settings, replica: Replica) -> Settings:
    """The settings a replica runs with: its own port; the others' are nginx's."""
    port_field = {"web": "web_port", "actions": "action_port", "rasa": "rasa_port"}[replica.kind]
    servers = settings.servers.model_copy(update={port_field: replica.port})
    return behind_nginx(settings).model_copy(update={"servers": servers})


def replica_spec(settings: Settings, replica: Replica, model: Path, files_dir: Path) -> ServiceSpec:
    """The server of ``replica``, named for it and logging to ``RUN_DIR/<name>.log``."""
    own = replica_settings(settings, replica)
    if replica.kind == "web":
        spec = web_server(own)
    elif replica.kind == "actions":
        spec = action_server(own)
    else:
        spec = rasa_server(own, model, files_dir / "endpoints.yml", files_dir / "credentials.yml")
        lifetime = os.environ.get("TICKET_LOCK_LIFETIME", TICKET_LOCK_LIFETIME)
        spec.env["TICKET_LOCK_LIFETIME"] = lifetime
    log_path = settings.supervision.run_dir / f"{replica.name}.log"
    return dataclasses.replace(spec, name=replica.name, log_path=log_path)


def cluster_processes(settings: Settings, model: Path, files_dir: Path) -> list[ManagedProcess]:
    """Every replica's server, in start order, and nginx last; the Rasa servers' endpoints
    (actions through nginx) and credentials files are written into ``files_dir``, nginx's
    configuration into ``RUN_DIR``.

    Raises:
        ClusterRefused: see :func:`check_shared_stores` and :func:`topology`.
    """
    from bot.runtime.load_balancer import nginx_server

    check_shared_stores(settings)
    replicas = topology(settings)
    endpoints_for(settings, files_dir / "endpoints.yml")
    credentials_for(settings, files_dir / "credentials.yml")
    processes = [ManagedProcess(replica_spec(settings, r, model, files_dir)) for r in replicas]
    processes.append(ManagedProcess(nginx_server(settings, replicas)))
    return processes


async def ensure_databases(settings: Settings) -> list[str]:
    """Create the application database and Rasa's tracker store database on their PostgreSQL
    server when missing (connecting to its ``postgres`` database); the names created. Rasa
    would create the tracker store's itself, but several Rasa servers starting at once would
    each try, and all but one fail."""
    from sqlalchemy import text

    from bot.store.db import create_engine

    created = []
    for url in (make_url(settings.database.database_url), tracker_store_url(settings.database)):
        if url.get_backend_name() != "postgresql" or not url.database:
            continue
        engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                exists = await connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
                )
                if not exists:
                    quoted = url.database.replace('"', '""')
                    await connection.execute(text(f'CREATE DATABASE "{quoted}"'))
                    created.append(url.database)
        finally:
            await engine.dispose()
    return created
