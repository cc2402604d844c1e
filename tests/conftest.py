"""Fixtures shared by every test: a small bilingual FAQ and an index built from it."""

from __future__ import annotations

import asyncio
import textwrap
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from _pytest.doctest import DoctestModule  # not exported by pytest; pytest is pinned

from faq_index import Embedder, build_index, load_sources
from testkit.postgres import POSTGRES_ADMIN_URL, admin_connection, postgres_database_url

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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, migrated application database of each kind."""
    from bot.store.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    asyncio.run(upgrade(url))
    return url


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
