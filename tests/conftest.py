"""Fixtures shared by every test: a small bilingual FAQ and an index built from it."""

from __future__ import annotations

import asyncio
import textwrap
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from _pytest.doctest import DoctestModule  # not exported by pytest; pytest is pinned
from argon2 import PasswordHasher

import bot.domain.passwords
from faq_index import Embedder, build_index, load_sources
from testkit.postgres import POSTGRES_ADMIN_URL, admin_connection, postgres_database_url
from tests.support.databases import copy_sqlite

REPO = Path(__file__).resolve().parent.parent

SMALL_FAQ = textwrap.dedent(
    """\
    entries:
      - id: order_track
        category: orders
        zh:
          questions: ["我的订单到哪了？", "怎么查物流", "快递到哪里了", "包裹什么时候到"]
          answer: 登录后进入「我的订单」即可查看物流。
        en:
          questions: ["Where is my order?", "How do I track my parcel?", "Track my package", "When will my delivery arrive?"]
          answer: Open "My orders" to see the tracking.
      - id: refund_time
        category: returns
        zh:
          questions: ["退款多久到账？", "退款什么时候到", "钱多久退回来", "退款进度"]
          answer: 退款在 1-7 个工作日内原路退回。
        en:
          questions: ["How long does a refund take?", "When will I get my money back?", "Refund timing", "Refund status"]
          answer: Refunds reach your original payment method within 1-7 business days.
      - id: password_reset
        category: account
        zh:
          questions: ["忘记密码怎么办？", "怎么重置密码", "密码找回", "登录密码忘了"]
          answer: 在登录页点击「忘记密码」，通过手机验证码重置。
        en:
          questions: ["I forgot my password", "How do I reset my password?", "Password recovery", "Can't remember my login password"]
          answer: Click "Forgot password" on the sign-in page and follow the SMS code.
      - id: invoice
        category: payment
        zh:
          questions: ["怎么开发票？", "发票怎么申请", "需要电子发票", "开票"]
          answer: 订单完成后在订单详情中申请电子发票。
        en:
          questions: ["How do I get an invoice?", "Request an invoice", "I need a receipt for my order", "Invoice please"]
          answer: Request an e-invoice from the order details once the order is complete.
    """
)


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(
    file_path: Path, parent: pytest.Collector
) -> Generator[None, list[pytest.Collector], list[pytest.Collector]]:
    """No doctests under tests/: ``--doctest-modules`` (pyproject.toml) is for the packages'
    docstrings. Collected as doctest modules, the several ``conftest.py`` would clash."""
    collectors = yield
    return [c for c in collectors if not isinstance(c, DoctestModule)]


# Argon2's lowest cost for the passwords of in-process tests: the application's (64 MiB, a few
# tenths of a CPU-second per hash, by design) made the agents' sign-ins the larger part of the web
# service's tests on a busy machine. Hashes keep their format; a test that measures what the cost
# does asks for it with ``@pytest.mark.real_password_cost``.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_password_hashes(request, monkeypatch) -> None:
    if request.node.get_closest_marker("real_password_cost") is None:
        monkeypatch.setattr(bot.domain.passwords, "_hasher", CHEAP_HASHER)


@pytest.fixture(scope="session")
def embedder():
    return Embedder.load()


@pytest.fixture()
def faq_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "faq"
    directory.mkdir()
    (directory / "faq.yml").write_text(SMALL_FAQ, encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def small_index(tmp_path_factory, embedder) -> Path:
    """A read-only index of SMALL_FAQ; tests that change an index build their own."""
    root = tmp_path_factory.mktemp("small")
    (root / "faq.yml").write_text(SMALL_FAQ, encoding="utf-8")
    build_index(load_sources([root / "faq.yml"]), root / "index", embedder=embedder)
    return root / "index"


# --- the application database, on SQLite and on PostgreSQL -------------------------------------


class PostgresServer:
    """Creates throw-away databases on the test PostgreSQL server."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self._migrated: str | None = None
        self._schema_state: list[dict] = []

    def new_database(self) -> str:
        name = f"bot_test_{uuid.uuid4().hex[:12]}"

        async def create() -> None:
            connection = await admin_connection()
            try:
                await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        asyncio.run(create())
        self.created.append(name)
        return postgres_database_url(name)

    def emptied_migrated_database(self) -> str:
        """The session's database with every migration applied, emptied for the next test.

        Migrated once; then every table but Alembic's is truncated and its identities restarted,
        after closing whatever connection a test left open. A new database per test would cost a
        second each: PostgreSQL checkpoints to drop one.
        """
        if self._migrated is None:
            url = self.new_database()
            migrate_as_shipped(url)
            self._migrated = self.created[-1]
            self._schema_state = asyncio.run(_rows(self._migrated, SCHEMA_STATE))
        else:
            asyncio.run(_empty(self._migrated, self._schema_state))
        return postgres_database_url(self._migrated)

    def drop_all(self) -> None:
        async def drop() -> None:
            connection = await admin_connection()
            try:
                for name in self.created:
                    for database in (name, f"{name}_tracker"):
                        await connection.execute(
                            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
                        )
            finally:
                await connection.close()

        asyncio.run(drop())


# Settings the migrations read (the insights roll-up is counted in the shop's time zone and
# business hours): the session's template databases are migrated with the defaults, whatever the
# test that happens to ask first has put into the environment.
MIGRATION_SETTINGS = ("BUSINESS_HOURS", "BUSINESS_TIMEZONE")


def migrate_as_shipped(url: str) -> None:
    from bot.store.migrate import upgrade

    with pytest.MonkeyPatch.context() as patch:
        for name in MIGRATION_SETTINGS:
            patch.delenv(name, raising=False)
        asyncio.run(upgrade(url))


# Tables whose rows the migrations write (the insights roll-up's time zone and business hours):
# a test may change them (a rebuild in other hours), the next test gets them as migrated.
SCHEMA_STATE = "insights_rollup"


async def _rows(name: str, table: str) -> list[dict]:
    import asyncpg

    connection = await asyncpg.connect(postgres_database_url(name), timeout=5)
    try:
        return [dict(row) for row in await connection.fetch(f"SELECT * FROM {table}")]
    finally:
        await connection.close()


async def _empty(name: str, schema_state: list[dict]) -> None:
    import asyncpg

    admin = await admin_connection()
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()
    connection = await asyncpg.connect(postgres_database_url(name), timeout=5)
    try:
        tables = await connection.fetch(
            "SELECT quote_ident(tablename) AS name FROM pg_tables"
            " WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version'"  # the schema's revision
        )
        listed = ", ".join(table["name"] for table in tables)
        await connection.execute("SET lock_timeout = '20s'")
        await connection.execute(f"TRUNCATE {listed} RESTART IDENTITY CASCADE")
        for row in schema_state:
            columns = ", ".join(row)
            values = ", ".join(f"${n}" for n in range(1, len(row) + 1))
            await connection.execute(
                f"INSERT INTO {SCHEMA_STATE} ({columns}) VALUES ({values})", *row.values()
            )
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        asyncio.run(_postgres_admin_check())
    except Exception as exc:  # no server, refused, bad credentials: skip, and say why
        pytest.skip(f"no PostgreSQL at {POSTGRES_ADMIN_URL} ({exc}); set TEST_POSTGRES_URL")
    server = PostgresServer()
    yield server
    server.drop_all()


async def _postgres_admin_check() -> None:
    connection = await admin_connection()
    await connection.close()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An SQLite application database with every migration applied, once per test session:
    tests take copies (:func:`tests.support.databases.copy_sqlite`), not the half second that migrating takes."""
    path = tmp_path_factory.mktemp("migrated") / "app.db"
    migrate_as_shipped(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, migrated application database of each kind."""
    if request.param == "sqlite":
        return copy_sqlite(request.getfixturevalue("migrated_sqlite"), tmp_path / "app.db")
    return request.getfixturevalue("postgres").emptied_migrated_database()


@pytest.fixture()
async def sessions(database_url):
    from bot.store.db import create_engine, session_factory

    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def tables_containing(engine, marker: str) -> list[str]:
    """The tables of ``engine``'s database with ``marker`` anywhere in any column."""
    from sqlalchemy import MetaData, select

    metadata = MetaData()
    async with engine.connect() as connection:
        await connection.run_sync(metadata.reflect)
        found = []
        for table in metadata.sorted_tables:
            rows = (await connection.execute(select(table))).all()
            if any(marker in str(value) for row in rows for value in row):
                found.append(table.name)
        return found
