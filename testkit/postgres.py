"""The PostgreSQL server the tests and benchmarks make their throw-away databases on.

``TEST_POSTGRES_URL`` names it (default ``postgresql://postgres@127.0.0.1:5432/postgres``);
its user must be allowed to create and drop databases.

>>> connection = await admin_connection()  # doctest: +SKIP
>>> await connection.execute('CREATE DATABASE "bot_test_1"')  # doctest: +SKIP
>>> await connection.close()  # doctest: +SKIP
>>> postgres_database_url("bot_test_1")  # doctest: +SKIP
'postgresql://postgres@127.0.0.1:5432/bot_test_1'
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy.engine import make_url

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def admin_connection() -> Any:
    """An asyncpg connection to the server's admin database (5 s to connect); the caller
    closes it."""
    import asyncpg

    url = make_url(POSTGRES_ADMIN_URL)
    return await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=5,
    )


def postgres_database_url(name: str) -> str:
    """The URL of the database ``name`` on the same server, as the same user."""
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
