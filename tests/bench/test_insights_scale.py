"""The insights scale benchmark: its data looks like the assistant's, and the report runs on it."""

from __future__ import annotations

import itertools
import json
import tempfile
from datetime import date
from pathlib import Path

import pytest

from bench.insights_dataset import Shape, generate
from bench.insights_scale import cases, main, run

SHAPE = Shape(interactions=3_000, days=14, end=date(2026, 11, 29))


def test_the_dataset_is_reproducible_and_in_time_order():
    data = generate(SHAPE)
    assert data == generate(SHAPE)
    assert data != generate(Shape(3_000, 14, SHAPE.end, seed=SHAPE.seed + 1))
    rows = data.interactions
    assert [row["id"] for row in rows] == list(range(1, len(rows) + 1))
    assert all(a["timestamp"] <= b["timestamp"] for a, b in itertools.pairwise(rows))
    assert all(SHAPE.start_instant <= row["timestamp"] < SHAPE.end_instant for row in rows)
    assert len({row["event_key"] for row in rows}) == len(rows)
    assert 3_000 <= len(rows) < 3_100


def test_the_dataset_has_every_kind_of_row_the_report_counts():
    data = generate(SHAPE)
    customer = [row for row in data.interactions if row["direction"] == "customer"]
    assert {row["faq_decision"] for row in customer} == {None, "answer", "clarify", "escalate"}
    assert {row["feedback"] for row in customer} == {None, "helpful", "not_helpful"}
    assert all(row["faq_id"] for row in customer if row["feedback"])
    assert {"choose_faq", "subscribe", "rate"} <= {row["intent"] for row in customer}
    assert {row["channel"] for row in data.conversations} == {"socketio", "wechat", "rest"}
    assert {row["language"] for row in data.interactions} == {"en", "zh"}
    assert {row["reason"] for row in data.tickets} == {
        "requested",
        "not_found",
        "not_helpful",
        "complaint",
        "clarification_refused",
    }
    assert any(row["reopened"] for row in data.tickets)
    assert any(row["status"] == "resolved" and not row["first_reply_at"] for row in data.tickets)
    assert {row["kind"] for row in data.outbox} == {"reply", "resume"}
    assert any(row["satisfaction"] for row in data.tickets)


async def test_the_report_runs_on_the_generated_data(tmp_path: Path):
    result = await run("sqlite", SHAPE, runs=1, url=f"sqlite:///{tmp_path / 'scale.db'}")
    totals = result["totals"]
    assert totals["conversations"] > 0 and totals["customer_messages"] > 0
    assert 0 < totals["answered"] <= totals["questions"]
    assert totals["answered"] + totals["clarified"] + totals["not_found"] == totals["questions"]
    assert totals["bot_resolved"] + totals["handed_over"] <= totals["conversations_with_questions"]
    assert totals["handed_over"] <= totals["tickets"] == result["rows"]["tickets"]
    assert 0 < totals["ratings"] <= totals["ratings_asked"]
    assert 1 <= totals["satisfaction_average"] <= 5
    assert list(result["after"]) == [case.name for case in cases(SHAPE)]
    assert len(result["after"]) == 6
    assert all(0 < t["median"] <= t["max"] for t in result["after"].values())


def test_the_command_prints_json_and_removes_its_database(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["--interactions", "400", "--days", "3", "--runs", "1", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["database"] == "sqlite" and result["url"] is None
    assert result["rows"]["interactions"] >= 400
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("arguments", [["--interactions", "0"], ["--days", "400"], ["--runs", "0"]])
def test_bad_arguments_stop_before_anything_is_created(arguments, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(SystemExit) as stopped:
        main(arguments)
    assert stopped.value.code == 2
    assert list(tmp_path.iterdir()) == []
