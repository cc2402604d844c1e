"""A RabbitMQ node of a test's own, so that a test may stop and start it (the machine's shared
RabbitMQ serves other tests meanwhile).

The node runs ``rabbitmq-server`` in the foreground with its name, ports, data, logs,
configuration and Erlang cookie under ``work``: no plugins, AMQP on ``127.0.0.1:port`` only.
:meth:`RabbitMQNode.stop` is RabbitMQ's own graceful stop (SIGTERM to the script, which stops
the node as ``rabbitmqctl stop`` does); durable queues and persistent messages stay in ``work``
for the next :meth:`RabbitMQNode.start`. :meth:`RabbitMQNode.remove` stops it and deletes
``work``.

>>> node = RabbitMQNode(tmp_path / "rabbitmq", port=5673, dist_port=25673)  # doctest: +SKIP
>>> node.start(); node.url  # doctest: +SKIP
'amqp://guest:guest@127.0.0.1:5673/'
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

# Debian's package: /usr/sbin/rabbitmq-server switches to the rabbitmq user and logs into
# /var/log; the script it calls runs the node as whoever we are, where we say.
SERVER_SCRIPTS = (Path("/usr/lib/rabbitmq/bin/rabbitmq-server"),)


class NoRabbitMQServer(RuntimeError):
    """rabbitmq-server is not installed."""


def server_script() -> Path:
    """The ``rabbitmq-server`` script that runs a node in the foreground.

    Raises:
        NoRabbitMQServer: none installed (the message says what to install).
    """
    for script in SERVER_SCRIPTS:
        if script.is_file():
            return script
    found = shutil.which("rabbitmq-server")
    if found and Path(found).resolve() not in (Path("/usr/sbin/rabbitmq-server"),):
        return Path(found)
    raise NoRabbitMQServer(
        "rabbitmq-server is not installed (apt-get install rabbitmq-server): the cluster tests "
        "start a RabbitMQ node of their own, to restart it"
    )


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class RabbitMQNode:
    def __init__(self, work: Path, port: int, dist_port: int) -> None:
        self.work = work
        self.port = port
        self.dist_port = dist_port
        self.name = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.process: subprocess.Popen[bytes] | None = None
        self.script = server_script()

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    @property
    def log(self) -> Path:
        return self.work / "node.out"

    def _environment(self) -> dict[str, str]:
        work = self.work
        (work / "log").mkdir(parents=True, exist_ok=True)
        (work / "enabled_plugins").write_text("[].\n")
        (work / "rabbitmq-env.conf").write_text("")  # not the machine's /etc/rabbitmq one
        (work / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\n"
            "log.console = false\nlog.file.level = warning\n"
        )
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RABBITMQ_", "ERL_"))
        }
        env.update(
            HOME=str(work),  # the Erlang cookie of this node and of its CLI calls
            RABBITMQ_CONF_ENV_FILE=str(work / "rabbitmq-env.conf"),
            RABBITMQ_CONFIG_FILE=str(work / "rabbitmq.conf"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(work / "advanced.config"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(work / "enabled_plugins"),
            RABBITMQ_NODENAME=self.name,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(work / "mnesia"),
            RABBITMQ_LOG_BASE=str(work / "log"),
            RABBITMQ_PID_FILE=str(work / "node.pid"),
            RABBITMQ_PLUGINS_EXPAND_DIR=str(work / "plugins-expand"),
            RABBITMQ_FEATURE_FLAGS_FILE=str(work / "feature_flags"),
            ERL_EPMD_ADDRESS="127.0.0.1",
            ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}",
        )
        return env

    def start(self, timeout: float = 60.0) -> float:
        """Start the node; the seconds until it accepts AMQP connections.

        Raises:
            AssertionError: the port is taken, the node exited or did not answer in time
                (the message has the end of its output).
        """
        if _answers(self.port):
            raise AssertionError(f"127.0.0.1:{self.port} is taken: cannot start {self.name}")
        started = time.monotonic()
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [str(self.script)],
                cwd=self.work,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = started + timeout
        while not self._ready():
            if self.process.poll() is not None:
                raise AssertionError(f"RabbitMQ node {self.name} exited:\n{self._tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"RabbitMQ node {self.name} not up in {timeout:.0f} s")
            time.sleep(0.3)
        return time.monotonic() - started

    def _ready(self) -> bool:
        """AMQP answers: a connection is opened (the port alone opens before the vhost)."""
        if not _answers(self.port):
            return False
        import asyncio

        import aio_pika

        async def connect() -> None:
            connection = await aio_pika.connect(self.url, timeout=3)
            await connection.close()

        try:
            asyncio.run(connect())
        except Exception:
            return False
        return True

    def stop(self, timeout: float = 60.0) -> float:
        """RabbitMQ's graceful stop; the seconds it took (kill -9 of its group after
        ``timeout``)."""
        started = time.monotonic()
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return 0.0
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        self._end_group(process.pid)
        return time.monotonic() - started

    @staticmethod
    def _end_group(group: int) -> None:
        """What the node left in its process group (erl_child_setup, inet_gethost)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)

    def restart(self) -> tuple[float, float]:
        """Stop, then start; (seconds stopping, seconds starting)."""
        stopping = self.stop()
        return stopping, self.start()

    def remove(self) -> None:
        """Stop the node and delete its files."""
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def _tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except FileNotFoundError:
            return ""
