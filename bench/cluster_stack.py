"""The cluster, started for a benchmark: ``python -m bot cluster`` (what ``make cluster`` runs:
2 Rasa servers, 2 action servers and 2 web services behind nginx, supervised) on services of
its own, all removed afterwards: a fresh PostgreSQL database (and Rasa's tracker store database
beside it), a Redis database flushed before and after, and a RabbitMQ queue deleted after.

    with running_cluster(model, REPO / "var" / "faq_index", work, port_base=18900) as cluster:
        cluster.settings.servers.rasa_url   # nginx: http://127.0.0.1:18900
        cluster.rasa_replica_urls           # each Rasa server directly: :18901, :18902

nginx listens on ``port_base`` (Rasa), ``+ 10`` (actions) and ``+ 20`` (web); replica ``i`` of
each kind on that port + ``i``. The services' addresses come from ``BENCH_POSTGRES_URL`` (or the
tests' ``TEST_POSTGRES_URL``), ``BENCH_REDIS_URL`` and ``BENCH_RABBITMQ_URL``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stack import REPO, bench_settings, snapshot_index
from bot.settings import Settings

READY = "Press Ctrl-C to stop."  # python -m bot cluster's banner, once every replica serves
REDIS_SERVER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
REDIS_DB = 13  # the benchmark's own
RABBITMQ_URL = os.environ.get("BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
REPLICAS = 2
STARTUP_TIMEOUT = 400.0  # four model loads on two cores


@dataclass
class RunningCluster:
    settings: Settings  # as the cluster runs with them (nginx's ports)
    process: subprocess.Popen[bytes]
    output: Path

    @property
    def rasa_replica_urls(self) -> list[str]:
        servers = self.settings.servers
        return [
            f"http://{servers.host}:{servers.rasa_port + i}"
            for i in range(1, self.settings.supervision.cluster_replicas + 1)
        ]


# --- its services ---------------------------------------------------------------------------


async def _postgres(*statements: str) -> None:
    from testkit.postgres import admin_connection

    connection = await admin_connection()
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database's URL; it and its ``_tracker`` sibling are dropped afterwards."""
    from testkit.postgres import postgres_database_url

    name = f"bench_load_{uuid.uuid4().hex[:8]}"
    asyncio.run(_postgres(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_database_url(name)
    finally:
        asyncio.run(
            _postgres(
                *(
                    f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'
                    for db in (name, f"{name}_tracker")
                )
            )
        )


@contextlib.contextmanager
def flushed_redis_database(db: int = REDIS_DB) -> Iterator[str]:
    """Redis database ``db``'s URL, emptied before and after."""
    import redis

    url = f"{REDIS_SERVER}/{db}"
    client = redis.Redis.from_url(url, socket_timeout=5)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@contextlib.contextmanager
def own_queue() -> Iterator[str]:
    """A RabbitMQ queue name of the benchmark's own (the cluster declares it); deleted after."""
    import aio_pika

    queue = f"bench-load-{uuid.uuid4().hex[:8]}"

    async def delete() -> None:
        connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
        async with connection:
            await (await connection.channel()).queue_delete(queue)

    try:
        yield queue
    finally:
        asyncio.run(delete())


# --- the cluster ----------------------------------------------------------------------------


def _wait_ready(process: subprocess.Popen[bytes], output: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while READY not in output.read_text(errors="replace"):
        if process.poll() is not None:
            tail = output.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the cluster exited:\n{tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the cluster is not ready after {timeout:.0f} s; see {output}")
        time.sleep(0.5)


def _stop(process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    """SIGTERM (it stops its replicas and nginx), then SIGKILL to its group if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def running_cluster(
    model: Path, faq_index: Path, work: Path, port_base: int, **overrides: Any
) -> Iterator[RunningCluster]:
    """Start the cluster on its own services and stop it (and remove them) when the block
    ends. ``overrides`` are settings, as for :func:`bench.stack.running_assistant`."""
    work.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as on:
        database_url = on.enter_context(fresh_postgres_database())
        redis_url = on.enter_context(flushed_redis_database())
        queue = on.enter_context(own_queue())
        values = bench_settings(
            work,
            rasa_port=port_base,
            action_port=port_base + 10,
            web_port=port_base + 20,
            cluster_replicas=REPLICAS,
            database_url=database_url,
            redis_url=redis_url,
            event_broker_url=RABBITMQ_URL,
            event_queue=queue,
            rest_channel_token=uuid.uuid4().hex,
            action_server_token=uuid.uuid4().hex,
            identity_secret=uuid.uuid4().hex,
            startup_timeout=STARTUP_TIMEOUT,
            probe_timeout=10.0,  # as `make cluster`: a busy Rasa server answers probes late
            **overrides,
        )
        settings = Settings(**values)
        env = {
            **os.environ,
            **settings.environment(),
            "FAQ_INDEX_DIR": str(snapshot_index(faq_index, work)),
        }
        output = work / "cluster.out"
        with open(output, "ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "cluster", "--model", str(model)],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        on.callback(_stop, process)
        _wait_ready(process, output, STARTUP_TIMEOUT + 60)
        yield RunningCluster(settings, process, output)
