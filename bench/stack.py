"""The whole assistant, started for a benchmark: web service, action server and Rasa on a fresh
SQLite database (or the one given) and a snapshot of the FAQ index, on ports from a base.

    with running_assistant(model, REPO / "var" / "faq_index", work, port_base=18600) as stack:
        stack.settings.servers.rasa_url   # http://127.0.0.1:18605
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.runtime.processes import ManagedProcess, assistant_processes, start_in_order
from bot.settings import Settings
from bot.store.migrate import upgrade

REPO = Path(__file__).resolve().parent.parent


@dataclass
class RunningAssistant:
    settings: Settings
    processes: list[ManagedProcess]


def wechat_overrides(api_url: str) -> dict[str, Any]:
    """Settings for the WeChat channel in safe mode, talking to the fake WeChat API at
    ``api_url`` (the fake's credentials, from :mod:`testkit.fake_wechat`)."""
    from testkit.fake_wechat import APP_ID, APP_SECRET, ENCODING_AES_KEY, TOKEN

    return dict(
        wechat_token=TOKEN,
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_encoding_aes_key=ENCODING_AES_KEY,
        wechat_api_base_url=api_url,
    )


def snapshot_index(faq_index: Path, work: Path) -> Path:
    """A copy of the FAQ index in ``work`` (others may rebuild the original meanwhile)."""
    index_dir = work / "faq_index"
    if not index_dir.exists():
        shutil.copytree(faq_index, index_dir, symlinks=True)
    return index_dir


def bench_settings(work: Path, **overrides: Any) -> dict[str, Any]:
    """What every benchmarked assistant runs with (its ports and ``overrides`` aside): a fresh
    SQLite database and run directory in ``work``, round-the-clock hours, one client playing
    every customer."""
    return {
        "rasa_api_token": uuid.uuid4().hex,
        "run_dir": work / "run",
        "credentials_file": REPO / "credentials.yml",
        "endpoints_file": REPO / "endpoints.yml",
        "database_url": f"sqlite:///{work / 'app.db'}",
        "business_hours": "00:00-24:00",  # what the bot promises must not depend on the hour
        "tickets_per_address_per_hour": 100_000,  # one client plays every customer
        **overrides,
    }


@contextlib.contextmanager
def running_assistant(
    model: Path, faq_index: Path, work: Path, port_base: int, **overrides: Any
) -> Iterator[RunningAssistant]:
    """Start the assistant (Rasa on ``port_base + 5``, actions ``+ 55``, web ``+ 80``) and stop
    it when the block ends. ``overrides`` are settings (``database_url``, WeChat's, ...)."""
    os.environ["FAQ_INDEX_DIR"] = str(snapshot_index(faq_index, work))
    ports = dict(rasa_port=port_base + 5, action_port=port_base + 55, web_port=port_base + 80)
    settings = Settings(**bench_settings(work, **{**ports, **overrides}))
    asyncio.run(upgrade(settings.database.database_url))
    processes = assistant_processes(settings, model, work)
    start_in_order(processes, settings.supervision.startup_timeout)
    try:
        yield RunningAssistant(settings, processes)
    finally:
        for process in reversed(processes):
            process.stop()
