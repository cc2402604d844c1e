"""Rasa's lock store in Redis when REDIS_URL is set: several Rasa servers take turns on one
conversation only through a lock they share."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from bot.runtime.processes import endpoints_for, rasa_server
from bot.runtime.rasa_stores import (
    BROKER_PASSWORD_ENV,
    LOCK_STORE_PASSWORD_ENV,
    rasa_store_endpoints,
)
from bot.settings import Settings
from tests.support.rasa_python import run_under_rasa

REPO = Path(__file__).resolve().parents[3]


def settings(tmp_path: Path, **values) -> Settings:
    return Settings(
        endpoints_file=REPO / "endpoints.yml",
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        run_dir=tmp_path,
        _env_file=None,
        **values,
    )


def test_without_redis_rasa_keeps_its_lock_store_in_memory(tmp_path):
    stores, env = rasa_store_endpoints(settings(tmp_path, redis_url=""))
    assert "lock_store" not in stores
    assert LOCK_STORE_PASSWORD_ENV not in env


def test_with_redis_every_rasa_server_locks_in_that_database(tmp_path):
    chosen = settings(tmp_path, redis_url="redis://10.0.0.7:6390/4")
    written = yaml.safe_load(endpoints_for(chosen, tmp_path / "endpoints.yml").read_text())
    assert written["lock_store"] == {"type": "redis", "url": "10.0.0.7", "port": 6390, "db": 4}


def test_the_redis_password_is_only_named_in_the_file_and_given_in_rasas_environment(tmp_path):
    chosen = settings(tmp_path, redis_url="rediss://shop:p%40ss-s3cret@redis.internal/0")
    path = endpoints_for(chosen, tmp_path / "endpoints.yml")
    assert "s3cret" not in path.read_text()
    lock = yaml.safe_load(path.read_text())["lock_store"]
    assert lock == {
        "type": "redis",
        "url": "redis.internal",
        "port": 6379,
        "db": 0,
        "use_ssl": True,
        "username": "shop",
        "password": "${" + LOCK_STORE_PASSWORD_ENV + "}",
    }
    env = rasa_server(chosen, tmp_path / "m.tar.gz", path, tmp_path / "c.yml").env
    assert env[LOCK_STORE_PASSWORD_ENV] == "p@ss-s3cret"


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://127.0.0.1:6379/0", "redis:// or rediss://"),
        ("redis://127.0.0.1:6379/locks", "is a number"),
    ],
)
def test_a_url_rasa_could_not_use_is_refused_before_anything_starts(tmp_path, url, complaint):
    with pytest.raises(ValueError, match=complaint):
        rasa_store_endpoints(settings(tmp_path, redis_url=url))


def test_rasa_itself_builds_its_redis_lock_store_from_the_file(tmp_path):
    chosen = settings(tmp_path, redis_url="redis://:from-env-only@127.0.0.1:6379/5")
    path = endpoints_for(chosen, tmp_path / "endpoints.yml")
    read = (
        "import json, sys; from rasa.utils.endpoints import read_endpoint_config;"
        "from rasa.core.lock_store import LockStore;"
        "store = LockStore.create(read_endpoint_config(sys.argv[1], 'lock_store'));"
        "kw = store.red.connection_pool.connection_kwargs;"
        "print(json.dumps([type(store).__name__, kw['host'], kw['port'], kw['db'],"
        " kw['password']]))"
    )
    env = {LOCK_STORE_PASSWORD_ENV: "from-env-only", "ACTION_SERVER_TOKEN": "t"}
    built = run_under_rasa("-c", read, str(path), env=env)
    assert built == ["RedisLockStore", "127.0.0.1", 6379, 5, "from-env-only"]


def test_with_rabbitmq_rasa_builds_the_broker_that_confirms_before_answering(tmp_path):
    # Rasa loads a broker `type` it does not know by module path, then calls its
    # from_endpoint_config (which connects): here the same class, built without connecting.
    chosen = settings(tmp_path, event_broker_url="amqp://shop:from-env-only@10.0.0.8:5673/")
    path = endpoints_for(chosen, tmp_path / "endpoints.yml")
    read = (
        "import json, sys; from rasa.utils.endpoints import read_endpoint_config;"
        "from rasa.shared.utils.common import class_from_module_path;"
        "from rasa.core.brokers.pika import PikaEventBroker;"
        "config = read_endpoint_config(sys.argv[1], 'event_broker');"
        "cls = class_from_module_path(config.type);"
        "broker = cls(config.url, **config.kwargs);"
        "print(json.dumps([cls.__name__, issubclass(cls, PikaEventBroker), broker.host,"
        " broker.port, broker.username, broker.password, list(broker.queues)]))"
    )
    env = {BROKER_PASSWORD_ENV: "from-env-only", "ACTION_SERVER_TOKEN": "t"}
    built = run_under_rasa("-c", read, str(path), env=env)
    assert built == [
        "DurableEventBroker",
        True,
        "10.0.0.8",
        5673,
        "shop",
        "from-env-only",
        [chosen.ingestion.event_queue],
    ]


def test_an_sqlite_tracker_store_is_in_wal_mode_before_rasa_opens_it(tmp_path):
    endpoints_for(settings(tmp_path), tmp_path / "run" / "endpoints.yml")
    with sqlite3.connect(tmp_path / "rasa_tracker.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_without_rabbitmq_rasa_builds_the_batched_sql_broker_on_the_application_database(
    tmp_path,
):
    chosen = settings(tmp_path)
    path = endpoints_for(chosen, tmp_path / "endpoints.yml")
    read = (
        "import asyncio, json, sys; from rasa.utils.endpoints import read_endpoint_config;"
        "from rasa.core.brokers.broker import EventBroker;"
        "config = read_endpoint_config(sys.argv[1], 'event_broker');"
        "broker = asyncio.run(EventBroker.create(config));"
        "print(json.dumps([type(broker).__name__, str(broker.engine.url)]))"
    )
    built = run_under_rasa("-c", read, str(path), env={"ACTION_SERVER_TOKEN": "t"})
    assert built == ["BatchedSqlEventBroker", f"sqlite:///{tmp_path / 'app.db'}"]
