"""Start the real action server and Rasa server once for the integration tests."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat import send
from bot.processes import ManagedProcess, action_server, endpoints_for, rasa_server
from bot.settings import Settings

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
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: str, sender: str) -> list[dict]:
        return send(self.settings.rasa_url, sender, message)

    def tracker(self, sender: str) -> dict:
        token = self.settings.rasa_api_token.get_secret_value()
        url = f"{self.settings.rasa_url}/conversations/{sender}/tracker?token={token}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, rasa_model: Path) -> Iterator[Assistant]:
    model = rasa_model
    index_dir = Path(os.environ.get("FAQ_INDEX_DIR", REPO / "var" / "faq_index"))
    if not (index_dir / "CURRENT").is_file():
        pytest.fail(f"no FAQ index in {index_dir}: run `make index` (make test does)")
    work = tmp_path_factory.mktemp("assistant")
    settings = Settings(
        rasa_port=int(os.environ.get("TEST_RASA_PORT", "15005")),
        action_port=int(os.environ.get("TEST_ACTION_PORT", "15055")),
        rasa_api_token=uuid.uuid4().hex,
        run_dir=work / "run",
        credentials_file=REPO / "credentials.yml",
        endpoints_file=REPO / "endpoints.yml",
    )
    endpoints = endpoints_for(settings, work / "endpoints.yml")
    os.environ["FAQ_INDEX_DIR"] = str(index_dir)
    processes = [
        ManagedProcess(action_server(settings)),
        ManagedProcess(rasa_server(settings, model, endpoints)),
    ]
    try:
        for process in processes:
            process.start()
            process.wait_ready(settings.startup_timeout)
        yield Assistant(settings)
    finally:
        for process in reversed(processes):
            process.stop()
