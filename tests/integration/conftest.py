"""Start the real action server and Rasa server once for the integration tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.runtime.chat import send
from bot.runtime.processes import (
    ManagedProcess,
    assistant_processes,
    web_server,
)
from bot.settings import Settings
from bot.store.migrate import upgrade
from testkit.customers import CHROMIUM, CHROMIUM_ARGS
from testkit.fake_wechat import APP_ID as WECHAT_APP_ID
from testkit.fake_wechat import APP_SECRET as WECHAT_APP_SECRET
from testkit.fake_wechat import ENCODING_AES_KEY as WECHAT_AES_KEY
from testkit.fake_wechat import TOKEN as WECHAT_TOKEN
from testkit.fake_wechat import FakeWeChat, ThreadedFakeWeChat
from tests.support.supervisor import Supervisor

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def rasa_model() -> Path:
    """The model ``make test`` trained (RASA_MODEL), else the newest in models/."""
    given = os.environ.get("RASA_MODEL")
    if given:
        if not Path(given).is_file():
            pytest.fail(f"RASA_MODEL={given} does not exist")
        return Path(given)
    models = sorted((REPO / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.skip("no trained Rasa model: run `make train` (make test does)")
    return models[-1]


class Assistant:
    """The running servers of one test stack: web (ingestion), actions and Rasa."""

    def __init__(self, settings: Settings, processes: dict[str, ManagedProcess]) -> None:
        self.settings = settings
        self.processes = processes

    def send(self, message: str, sender: str, metadata: dict | None = None) -> list[dict]:
        token = self.settings.rasa.rest_channel_token.get_secret_value()
        return send(self.settings.servers.rasa_url, sender, message, metadata=metadata, token=token)

    def tracker(self, sender: str) -> dict:
        token = self.settings.rasa.rasa_api_token.get_secret_value()
        url = f"{self.settings.servers.rasa_url}/conversations/{sender}/tracker?token={token}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())

    def health(self) -> dict:
        with urllib.request.urlopen(
            f"{self.settings.servers.web_url}/health", timeout=10
        ) as response:
            return json.loads(response.read())

    def kill_web(self) -> None:
        """SIGKILL the web service, ingestion worker and all: no chance to finish anything."""
        self.processes["web"].kill()

    @contextlib.contextmanager
    def actions_paused(self) -> Iterator[None]:
        """The action server stops (SIGSTOP) until the block ends: a bot that is slow to
        answer, for real."""
        group = self.processes["actions"].process.pid
        os.killpg(group, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(group, signal.SIGCONT)

    def start_web(self) -> None:
        # Tests restart it from worker threads, which end before the stack is stopped.
        self.processes["web"].start(die_with_starter=False)
        self.processes["web"].wait_ready(self.settings.supervision.startup_timeout)


def copy_faq_index(work: Path) -> Path:
    """A copy of the FAQ index ``make test`` built, in ``work``: what agents add to the FAQ in
    one test's servers must not reach the others'."""
    built = Path(os.environ.get("TEST_FAQ_INDEX_DIR", REPO / "var" / "faq_index"))
    if not (built / "CURRENT").is_file():
        pytest.fail(f"no FAQ index in {built}: run `make index` (make test does)")
    index_dir = work / "faq_index"
    shutil.copytree(built, index_dir, symlinks=True)
    return index_dir


@contextlib.contextmanager
def lone_web_service(settings: Settings, index_dir: Path) -> Iterator[Settings]:
    """The web service alone (Rasa and the action server never started), as the assistant
    starts it, on ``settings`` (its database migrated) and the FAQ index in ``index_dir``."""
    process = ManagedProcess(web_server(settings))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FAQ_INDEX_DIR", str(index_dir))
        process.start()
    try:
        process.wait_ready(settings.supervision.startup_timeout)
        yield settings
    finally:
        process.stop()


def start_together(processes: list[ManagedProcess], timeout: float) -> None:
    """Start every process at once, then wait until each is ready; on failure stop them all.

    Unlike ``make run`` (:func:`bot.runtime.processes.start_in_order`), the servers' start-ups
    overlap: Rasa calls the action server and the web service only for a message, and the web
    service calls neither before a request, so none needs another up to become ready.
    """
    started: list[ManagedProcess] = []
    try:
        for process in processes:
            process.start()
            started.append(process)
        for process in processes:
            process.wait_ready(timeout)
    except BaseException:
        for process in reversed(started):
            process.stop()
        raise


def start_stack(
    work: Path, model: Path, database_url: str, ports: tuple[int, int, int], **extra
) -> tuple[Assistant, list[ManagedProcess]]:
    """Migrate ``database_url`` and start web, action and Rasa servers on ``ports``."""
    os.environ["FAQ_INDEX_DIR"] = str(copy_faq_index(work))
    rasa_port, action_port, web_port = ports
    # Test modules sign agents in to one shared stack: automatic assignment would hand every
    # test's ticket to whichever agent of another module signed in last (and refuse the test's
    # own agent, 409). Assignment is tested on stacks of its own (test_agents_browser.py).
    extra.setdefault("auto_assign", False)
    settings = Settings(
        rasa_port=rasa_port,
        action_port=action_port,
        web_port=web_port,
        rasa_api_token=uuid.uuid4().hex,
        run_dir=work / "run",
        credentials_file=REPO / "credentials.yml",
        endpoints_file=REPO / "endpoints.yml",
        database_url=database_url,
        **extra,
    )
    asyncio.run(upgrade(database_url))
    processes = assistant_processes(settings, model, work)
    start_together(processes, settings.supervision.startup_timeout)
    return Assistant(settings, {p.name: p for p in processes}), processes


def stop_all(processes: list[ManagedProcess]) -> None:
    """Stop every process at once (each gets SIGTERM, then SIGKILL after its grace time): the
    test is over, so no order matters, and a stack stops in the time of its slowest server."""
    with ThreadPoolExecutor(max_workers=len(processes) or 1) as pool:
        list(pool.map(ManagedProcess.stop, processes))


IDENTITY_SECRET = "integration-identity-secret"


@pytest.fixture(scope="session")
def fake_wechat() -> Iterator[ThreadedFakeWeChat]:
    """WeChat's API servers, faked on loopback, for the assistant's WeChat channel."""
    with ThreadedFakeWeChat(FakeWeChat()) as server:
        yield server


@pytest.fixture(scope="session")
def assistant(
    tmp_path_factory, rasa_model: Path, fake_wechat: ThreadedFakeWeChat
) -> Iterator[Assistant]:
    """The whole assistant on a SQLite application database, with its WeChat channel in
    safe mode pointed at the fake WeChat API."""
    work = tmp_path_factory.mktemp("assistant")
    ports = (
        int(os.environ.get("TEST_RASA_PORT", "15005")),
        int(os.environ.get("TEST_ACTION_PORT", "15055")),
        int(os.environ.get("TEST_WEB_PORT", "15080")),
    )
    assistant, processes = start_stack(
        work,
        rasa_model,
        f"sqlite:///{work / 'app.db'}",
        ports,
        identity_secret=IDENTITY_SECRET,
        business_hours="00:00-24:00",  # what the bot promises should not depend on the hour
        wechat_token=WECHAT_TOKEN,
        wechat_app_id=WECHAT_APP_ID,
        wechat_app_secret=WECHAT_APP_SECRET,
        wechat_encoding_aes_key=WECHAT_AES_KEY,
        wechat_api_base_url=fake_wechat.url,
    )
    try:
        yield assistant
    finally:
        stop_all(processes)


@pytest.fixture(scope="session")
def postgres_assistant(tmp_path_factory, rasa_model: Path, postgres) -> Iterator[Assistant]:
    """The whole assistant on PostgreSQL (app database, broker table and tracker store)."""
    work = tmp_path_factory.mktemp("assistant-pg")
    assistant, processes = start_stack(
        work,
        rasa_model,
        postgres.new_database(),
        (15105, 15155, 15180),
        identity_secret=IDENTITY_SECRET,
    )
    try:
        yield assistant
    finally:
        stop_all(processes)


@pytest.fixture(scope="session")
def rabbitmq_assistant(tmp_path_factory, rasa_model: Path) -> Iterator[Assistant]:
    """The whole assistant with RabbitMQ as Rasa's event broker (SQLite app database)."""
    import aio_pika

    url = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    queue = f"test-assistant-{uuid.uuid4().hex[:8]}"

    async def probe(delete: bool = False) -> None:
        connection = await aio_pika.connect(url, timeout=5)
        async with connection:
            if delete:
                channel = await connection.channel()
                await channel.queue_delete(queue)

    try:
        asyncio.run(probe())
    except Exception as exc:  # no server: skip, and say why
        pytest.skip(f"no RabbitMQ at {url} ({exc}); set TEST_RABBITMQ_URL")
    work = tmp_path_factory.mktemp("assistant-rabbitmq")
    assistant, processes = start_stack(
        work,
        rasa_model,
        f"sqlite:///{work / 'app.db'}",
        (15205, 15255, 15280),
        identity_secret=IDENTITY_SECRET,
        event_broker_url=url,
        event_queue=queue,
    )
    try:
        yield assistant
    finally:
        stop_all(processes)
        asyncio.run(probe(delete=True))


SUPERVISED_PORTS = (17605, 17655, 17680)  # Rasa, action server, web service
SUPERVISED_WECHAT = {
    "WECHAT_TOKEN": f"wxtoken{uuid.uuid4().hex}",
    "WECHAT_APP_ID": "wx0123456789abcdef",
    "WECHAT_APP_SECRET": f"wxsecret{uuid.uuid4().hex}",
    "WECHAT_ENCODING_AES_KEY": uuid.uuid4().hex + uuid.uuid4().hex[:11],
    "WECHAT_API_BASE_URL": "http://127.0.0.1:9",  # never called
}


@pytest.fixture(scope="session")
def supervised_run(tmp_path_factory, rasa_model: Path) -> Iterator[Supervisor]:
    """One ``python -m bot run`` (what ``make run`` starts) for the session, its default probe
    settings, WeChat on (more secrets to keep off command lines), on a fresh database that
    an earlier tool left world-readable (the run must tighten it, and make the first admin).

    A whole supervised stack takes a minute to start, so the modules that test the run as a
    whole share it, in file order: test_faults.py crashes each server and the supervisor
    itself (then starts a new supervisor on the same run directory and database),
    test_hardening.py looks at what the run exposes, test_run_supervisor.py stops it with
    SIGTERM. Each module also passes alone.
    """
    work = tmp_path_factory.mktemp("supervised")
    supervisor = Supervisor(work, rasa_model, SUPERVISED_PORTS, **SUPERVISED_WECHAT)
    previous = os.umask(0o022)
    try:
        asyncio.run(upgrade(f"sqlite:///{supervisor.database}"))
    finally:
        os.umask(previous)
    supervisor.database.chmod(0o644)
    try:
        supervisor.start()
        yield supervisor
    finally:
        supervisor.stop()
        supervisor.kill_leftovers()


@pytest.fixture()
async def browser():
    """Chromium (``CHROMIUM``, headless), closed after the test; every page of a test is in it."""
    from playwright.async_api import async_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()
