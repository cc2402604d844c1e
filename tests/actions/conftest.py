import pytest

from actions import faq, services
from tests.support.databases import copy_sqlite


@pytest.fixture(autouse=True)
async def actions_database(monkeypatch, tmp_path, migrated_sqlite):
    """Actions that read profiles or open tickets use a throw-away database, never var/app.db;
    business hours that are always open, so that what the bot promises is predictable."""
    url = copy_sqlite(migrated_sqlite, tmp_path / "actions-app.db")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BUSINESS_HOURS", "00:00-24:00")
    services.reset()
    yield url
    await services.close()


@pytest.fixture()
def small_searcher(small_index, monkeypatch):
    """The action server's searcher, on the small test FAQ."""
    monkeypatch.setenv("FAQ_INDEX_DIR", str(small_index))
    faq._load_searcher.cache_clear()
    yield faq.faq_searcher()
    faq.faq_searcher().close()
    faq._load_searcher.cache_clear()
