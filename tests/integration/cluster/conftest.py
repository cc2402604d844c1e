"""One local cluster for the whole package: ``python -m bot cluster`` with 2 Rasa servers, 2
action servers and 2 web services behind nginx (ports 18100-18199), on PostgreSQL databases of
its own, a Redis database of its own and a RabbitMQ node of its own (``cluster_broker``, AMQP
on 127.0.0.1:5673, so that a test may restart it), all removed afterwards.

Tests may kill replicas (the supervisor restarts them) and restart the broker; a test that
needs all of them up waits for the restart itself. Set TEST_CLUSTER_REDIS_DB to move it to
another Redis database.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import ClusterRun
from tests.support.rabbitmq_node import NoRabbitMQServer, RabbitMQNode

REDIS_SERVER = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
REDIS_DB = int(os.environ.get("TEST_CLUSTER_REDIS_DB", "12"))
PORTS = (18100, 18110, 18120)  # nginx: Rasa, actions, web; replica i: the port + i
BROKER_PORTS = (5673, 25673)  # the cluster's RabbitMQ node: AMQP, Erlang distribution


def _redis(url: str) -> None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2)
        client.ping()
        client.flushdb()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {url} ({exc}); set TEST_REDIS_URL")


def _warm_up(run: ClusterRun) -> None:
    """One turn on each Rasa server directly: a fresh one loads its tokenizer's dictionary
    and builds its model's graphs at its first message (seconds), which tests would count."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.runtime.chat import send

    token = run.secrets["REST_CHANNEL_TOKEN"]
    names = [f"rasa-{i}" for i in range(1, run.replicas + 1)]

    def turn(name: str) -> list[dict]:
        return send(
            run.replica_url(name), f"warm-up-{name}", "Where is my order?", 120, None, token
        )

    with ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(turn, names))


@pytest.fixture(scope="session")
def cluster_broker(tmp_path_factory) -> Iterator[RabbitMQNode]:
    """The cluster's RabbitMQ: a node of its own, which a test may stop and start (the
    machine's shared one serves other tests meanwhile); stopped and its files removed at the
    end."""
    try:
        node = RabbitMQNode(tmp_path_factory.mktemp("rabbitmq"), *BROKER_PORTS)
    except NoRabbitMQServer as exc:
        pytest.skip(str(exc))
    try:
        node.start()
        yield node
    finally:
        node.remove()


@pytest.fixture(scope="session")
def cluster(
    tmp_path_factory, rasa_model: Path, postgres, cluster_broker: RabbitMQNode
) -> Iterator[ClusterRun]:
    from bot.runtime.load_balancer import nginx_binary

    try:
        nginx_binary()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    redis_url = f"{REDIS_SERVER}/{REDIS_DB}"
    _redis(redis_url)
    work = tmp_path_factory.mktemp("cluster")
    run = ClusterRun(
        work,
        rasa_model,
        PORTS,
        DATABASE_URL=postgres.new_database(),  # and <name>_tracker: both dropped by postgres
        REDIS_URL=redis_url,
        EVENT_BROKER_URL=cluster_broker.url,
        EVENT_QUEUE="test-cluster-events",
        AUTO_ASSIGN="false",
        # A restarted Rasa server loads its model: give it time on a busy machine.
        STARTUP_TIMEOUT="400",
        # The Rasa server left alone after a kill answers its probes late (NLU runs on its
        # event loop, busy with everyone's turns): with the 2 s default it is taken for hung
        # and killed too, as `make cluster` knows (it passes the same).
        PROBE_TIMEOUT="10",
    )
    started = time.monotonic()
    try:
        run.start(timeout=400)
        run.started_in = time.monotonic() - started
        _warm_up(run)
        yield run
    finally:
        run.stop()
        run.kill_leftovers()
        import redis

        redis.Redis.from_url(redis_url, socket_timeout=2).flushdb()
