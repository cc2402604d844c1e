import pytest

from actions import customers


@pytest.fixture(autouse=True)
def no_shared_database(monkeypatch, tmp_path):
    """Actions that look up profiles use a throw-away database, never var/app.db."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'actions-app.db'}")
    monkeypatch.setattr(customers, "_sessions", None)
