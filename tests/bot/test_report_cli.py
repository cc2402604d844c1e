"""``python -m bot report``: the JSON's named counts, the table, and exit status 2 on bad dates."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from bot.__main__ import main
from bot.store import rollup
from bot.store.db import create_engine, session_factory
from bot.store.models import Conversation, Customer, Interaction

COUNTS = (
    "conversations",
    "conversations_with_questions",
    "bot_resolved",
    "handed_over",
    "answered",
    "clarified",
    "not_found",
    "tickets",
    "ratings",
)
# 10:00 on Monday 2 March 2026 in Shanghai (BUSINESS_TIMEZONE's default).
MONDAY_MORNING = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def _seed(database_url: str) -> None:
    """One widget conversation: a question answered, a question not found."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            customer = Customer(tags=[], first_seen=MONDAY_MORNING, last_seen=MONDAY_MORNING)
            session.add(customer)
            await session.flush()
            conversation = Conversation(
                sender_id="web-cli",
                customer_id=customer.id,
                channel="socketio",
                started_at=MONDAY_MORNING,
                last_message_at=MONDAY_MORNING,
            )
            session.add(conversation)
            await session.flush()
            for key, decision in enumerate(("answer", "escalate")):
                session.add(
                    Interaction(
                        event_key=f"cli-{key}",
                        customer_id=customer.id,
                        conversation_id=conversation.id,
                        channel="socketio",
                        direction="customer",
                        text="where is my order?",
                        faq_decision=decision,
                        faq_id="order_track" if decision == "answer" else None,
                        language="en",
                        timestamp=MONDAY_MORNING,
                    )
                )
            await session.flush()
            await rollup.refresh(session, conversation.id, [MONDAY_MORNING])  # as the writers do
    finally:
        await engine.dispose()


@pytest.fixture()
def seeded(database_url, monkeypatch) -> str:
    asyncio.run(_seed(database_url))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BUSINESS_TIMEZONE", "Asia/Shanghai")
    return database_url


def test_json_has_the_named_counts(seeded, capsys):
    assert main(["report", "--from", "2026-03-02", "--to", "2026-03-02", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert all(type(report[key]) is int for key in COUNTS)
    assert [report[key] for key in COUNTS] == [1, 1, 1, 0, 1, 0, 1, 0, 0]
    assert report["satisfaction_average"] is None
    assert (report["from"], report["to"], report["timezone"]) == (
        "2026-03-02",
        "2026-03-02",
        "Asia/Shanghai",
    )


def test_filters_and_groups(seeded, capsys):
    arguments = ["report", "--from", "2026-03-01", "--to", "2026-03-08", "--json"]
    assert main([*arguments, "--channel", "wechat"]) == 0
    assert json.loads(capsys.readouterr().out)["conversations"] == 0
    assert main([*arguments, "--language", "en", "--group", "week"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["conversations"] for row in report["series"]] == [0, 1]


def test_the_table_is_readable(seeded, capsys):
    assert main(["report", "--from", "2026-03-02", "--to", "2026-03-02", "--group", "day"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("Insights 2026-03-02 .. 2026-03-02 (Asia/Shanghai")
    assert "bot resolved" in table and "100.0%" in table and "order_track" in table


def test_the_roll_up_is_rebuilt_in_a_new_business_timezone(seeded, capsys, monkeypatch):
    monkeypatch.setenv("BUSINESS_TIMEZONE", "Europe/London")  # Monday 02:00 UTC is Monday
    assert main(["insights", "rebuild"]) == 0
    assert capsys.readouterr().out == (
        "insights roll-up rebuilt in Europe/London: 1 conversation days, 1 customer days, "
        "1 FAQ entry days, 0 ticket facts\n"
    )
    assert main(["report", "--from", "2026-03-02", "--to", "2026-03-02", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["timezone"], report["conversations"], report["answered"]) == (
        "Europe/London",
        1,
        1,
    )


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        (["--from", "2026-02-30", "--to", "2026-03-02"], "from is not a date"),
        (["--from", "yesterday", "--to", "2026-03-02"], "from is not a date"),
        (["--from", "2026-03-03", "--to", "2026-03-02"], "is after"),
        (["--from", "2026-03-02"], "required: --to"),
    ],
)
def test_bad_dates_exit_with_status_2(seeded, capsys, dates, message):
    with pytest.raises(SystemExit) as stopped:
        main(["report", *dates, "--json"])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert message in error and "python -m bot report" in error


def test_the_command_runs_as_a_program(seeded):
    def run(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot", "report", *arguments],
            env={**os.environ, "DATABASE_URL": seeded, "BUSINESS_TIMEZONE": "Asia/Shanghai"},
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = run("--from", "2026-03-02", "--to", "2026-03-02", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answered"] == 1
    refused = run("--from", "2026-03-02", "--to", "02/03/2026")
    assert refused.returncode == 2 and "to is not a date" in refused.stderr and not refused.stdout
