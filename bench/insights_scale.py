"""How fast the insights report answers over a large quarter (issue 16: the dashboard for 90 days
over one million interactions in under 1 s on PostgreSQL, a few seconds on SQLite).

Creates a database (PostgreSQL: a new database on the server of ``TEST_POSTGRES_URL``, as the
tests use it, default ``postgresql://postgres@127.0.0.1:5432/postgres``; dropped at the end
unless ``--keep``. SQLite: a file in the temporary directory), migrates it with the project's
migrations, fills it with :mod:`bench.insights_dataset` by bulk inserts, and times the report as
the console and ``GET /api/insights`` ask for it: ungrouped, by day, by week, one channel by day,
the dashboard (the range and the range before it, by day) and the dashboard of the last 7 days.
Each case runs once to warm up, then ``--runs`` times; the table shows the median and the
slowest run in seconds.

With ``--before REVISION`` the database is first migrated to that revision only and measured,
then migrated to the newest and measured again (same rows): the effect of the migrations after
REVISION. ``--reuse URL`` measures a database a ``--keep`` run filled (same shape arguments),
after migrating it to the newest revision: the effect of a code change on the same rows. With
both, the kept database is measured first as it stands (``REVISION`` names the revision it is
at, for the record; the report reads the day roll-up of 0012, not the ticket facts of 0013),
then migrated and measured again: e.g. a database kept at 0012, before and after 0013.

    .venv/bin/python -m bench.insights_scale --database postgresql --interactions 1000000 \\
        --days 90 [--before 0008] [--runs 5] [--keep] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.insights_dataset import Dataset, Shape, chunks, generate
from bot.domain.insights import InsightsFilter, insights
from bot.domain.insights.filters import ChannelGroup, Grouping
from bot.domain.insights.ticket_facts import facts_hours, rebuild_insights
from bot.store.db import create_engine, session_factory
from bot.store.migrate import upgrade
from bot.store.models import Agent, Conversation, Customer, Interaction, OutboxMessage, Ticket
from bot.store.rollup import rollup_zone
from testkit.postgres import admin_connection, postgres_database_url

END = date(2026, 11, 29)  # a fixed last day: the same command gives the same rows
CHUNK = 5_000
DAY = Grouping.DAY
TABLES = (
    (Agent, "agents"),
    (Customer, "customers"),
    (Conversation, "conversations"),
    (Interaction, "interactions"),
    (Ticket, "tickets"),
    (OutboxMessage, "outbox"),
)


@dataclass(frozen=True)
class Case:
    name: str
    reports: tuple[InsightsFilter, ...]  # asked one after another, in one session


def cases(shape: Shape) -> list[Case]:
    """The reports timed: over the shape's whole range, and the dashboard of its last week."""

    def dates(days: int, ago: int = 0, group: Grouping | None = None) -> InsightsFilter:
        last = shape.end - timedelta(days=ago)
        return InsightsFilter(last - timedelta(days=days - 1), last, group)

    whole, by_day = dates(shape.days), dates(shape.days, group=Grouping.DAY)
    return [
        Case("report", (whole,)),
        Case("by day", (by_day,)),
        Case("by week", (dates(shape.days, group=Grouping.WEEK),)),
        Case("widget only, by day", (replace(by_day, channel=ChannelGroup.WIDGET),)),
        Case("dashboard: range + previous, by day", (by_day, dates(shape.days, shape.days, DAY))),
        Case("dashboard: last 7 days + previous, by day", (dates(7, 0, DAY), dates(7, 7, DAY))),
    ]


# --- the database --------------------------------------------------------------------------------


async def new_database(kind: str) -> str:
    """The URL of a new, empty database of ``kind`` (``sqlite`` or ``postgresql``)."""
    name = f"insights_scale_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        return f"sqlite:///{Path(tempfile.gettempdir()) / name}.db"
    connection = await admin_connection()
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return postgres_database_url(name)


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    connection = await admin_connection()
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        await connection.close()


async def fill(engine: AsyncEngine, data: Dataset) -> None:
    """Bulk-insert ``data`` through the models' tables, then refresh PostgreSQL's statistics
    (as its autovacuum would soon after; SQLite is left as the application leaves it)."""
    async with engine.begin() as connection:
        for model, name in TABLES:
            for rows in chunks(getattr(data, name), CHUNK):
                await connection.execute(insert(model), rows)
        if engine.dialect.name == "postgresql":
            # Explicit ids were inserted: move the sequences past them, as the app would find them.
            for model, _ in TABLES:
                table = model.__tablename__
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    )
                )
    await analyze(engine)


async def analyze(engine: AsyncEngine) -> None:
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))


# --- timing --------------------------------------------------------------------------------------


async def time_case(
    sessions: async_sessionmaker[AsyncSession],
    case: Case,
    shape: Shape,
    runs: int,
    rollup: bool = True,
    facts: bool = True,
) -> list[float]:
    """Seconds of each of ``runs`` runs of ``case`` (after one warm-up run); ``rollup``: let
    the report read the roll-up (not before migration 0012 made it); ``facts``: and the ticket
    facts (not before migration 0013)."""
    seconds = []
    for run in range(runs + 1):
        started = time.perf_counter()
        async with sessions() as session:
            for flt in case.reports:
                await insights(
                    session, flt, shape.hours, shape.end_instant, rollup, ticket_facts=facts
                )
        if run:
            seconds.append(time.perf_counter() - started)
    return seconds


async def measure(
    url: str, shape: Shape, runs: int, rollup: bool = True, facts: bool = True
) -> dict[str, dict[str, float]]:
    """Median and max seconds of every case on the database at ``url`` (``rollup``,
    ``facts``: see :func:`time_case`)."""
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        found = {}
        for case in cases(shape):
            seconds = await time_case(sessions, case, shape, runs, rollup, facts)
            found[case.name] = {
                "median": round(statistics.median(seconds), 3),
                "max": round(max(seconds), 3),
            }
            print(f"  {case.name}: median {found[case.name]['median']:.3f} s", file=sys.stderr)
        return found
    finally:
        await engine.dispose()


async def totals(url: str, shape: Shape) -> dict[str, Any]:
    """The report's top-level figures over the whole range (what the data amounts to)."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            report = await insights(
                session, InsightsFilter(shape.first, shape.end), shape.hours, shape.end_instant
            )
    finally:
        await engine.dispose()
    return {key: value for key, value in report.items() if isinstance(value, int | float | None)}


async def _populate(url: str, shape: Shape, revision: str) -> dict[str, Any]:
    """Migrate the empty database at ``url`` to ``revision`` and fill it; what was done."""
    await upgrade(url, revision)
    started = time.perf_counter()
    data = generate(shape)
    generated = time.perf_counter()
    engine = create_engine(url)
    try:
        await fill(engine, data)
        inserted = time.perf_counter()
        if revision == "head":  # the rows went in past the writers: count the roll-up anew
            await rebuild_rollup(engine, shape)
    finally:
        await engine.dispose()
    return {
        "rows": data.counts(),
        "generate_seconds": round(generated - started, 1),
        "insert_seconds": round(inserted - generated, 1),
        "rollup_seconds": round(time.perf_counter() - inserted, 1),
    }


async def rebuild_rollup(engine: AsyncEngine, shape: Shape) -> None:
    """The insights roll-up and ticket facts recounted from the rows
    (:func:`bot.domain.insights.ticket_facts.rebuild_insights`)."""
    async with session_factory(engine)() as session, session.begin():
        await rebuild_insights(session, shape.hours)
    await analyze(engine)


async def _upgrade(url: str, shape: Shape) -> float:
    """Migrate to the newest revision (from an older one, migrations 0012 and 0013 build the
    roll-up and the ticket facts in ``BUSINESS_TIMEZONE`` and ``BUSINESS_HOURS``: in other
    hours than the shape's, they are rebuilt); how long the migrations took."""
    started = time.perf_counter()
    await upgrade(url)
    migrated = time.perf_counter() - started
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            zone = await rollup_zone(session)
            hours = await facts_hours(session)
        stale = zone is None or zone.key != shape.timezone.key
        if stale or hours is None or hours.text != shape.hours.text:
            await rebuild_rollup(engine, shape)
        await analyze(engine)
    finally:
        await engine.dispose()
    return round(migrated, 1)


async def run(
    kind: str,
    shape: Shape,
    runs: int = 5,
    before: str | None = None,
    keep: bool = False,
    url: str | None = None,
    filled: bool = False,
) -> dict[str, Any]:
    """Generate, fill, measure (before and after the migrations since ``before``, if given).

    Args:
        kind: ``sqlite`` or ``postgresql``.
        shape: the dataset.
        runs: timed runs per case.
        before: a revision to measure at first (``None``: only the newest schema).
        keep: leave the database for inspection (its URL is in the result).
        url: an existing database to use instead of a new one (kept): empty, or ``filled``
            with ``shape``'s rows by an earlier run (then only migrated to the newest schema and
            measured).

    Returns:
        A JSON-ready document: the shape, row counts, generation times, report totals and the
        timings (``before`` and ``after``, each case's ``median`` and ``max`` seconds).
    """
    keep = keep or url is not None
    url = url or await new_database(kind)
    result: dict[str, Any] = {
        "database": kind,
        "url": url if keep else None,
        "shape": {"interactions": shape.interactions, "days": shape.days, "seed": shape.seed},
        "first": shape.first.isoformat(),
        "last": shape.end.isoformat(),
    }
    try:
        if not filled:
            result.update(await _populate(url, shape, before or "head"))
        if before is not None:
            # A database filled by an earlier run is measured as it stands, at its revision
            # (what it has of the roll-up read); a new one reads the raw rows at ``before``.
            print(f"{kind}: at revision {before}", file=sys.stderr)
            result["before"] = await measure(url, shape, runs, rollup=filled, facts=False)
        result["upgrade_seconds"] = await _upgrade(url, shape)
        print(f"{kind}: at the newest revision", file=sys.stderr)
        result["after"] = await measure(url, shape, runs)
        result["totals"] = await totals(url, shape)
    finally:
        if not keep:
            await drop_database(url)
    return result


# --- output --------------------------------------------------------------------------------------


def table(results: Sequence[dict[str, Any]]) -> str:
    """A Markdown table of the timings: one row per database and case."""
    with_before = any("before" in r for r in results)
    header = ["database", "case", "median s", "max s"]
    if with_before:
        header = ["database", "case", "before median s", "before max s", *header[2:], "ratio"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result in results:
        for name, after in result["after"].items():
            cells = [result["database"], name]
            if with_before:
                old = result.get("before", {}).get(name)
                cells += [f"{old['median']:.3f}", f"{old['max']:.3f}"] if old else ["", ""]
            cells += [f"{after['median']:.3f}", f"{after['max']:.3f}"]
            if with_before:
                ratio = old["median"] / after["median"] if old and after["median"] else None
                cells.append(f"{ratio:.1f}x" if ratio else "")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.insights_scale", description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--before", metavar="REVISION", help="measure at this revision first")
    parser.add_argument("--keep", action="store_true", help="keep the database (URL printed)")
    parser.add_argument(
        "--reuse", metavar="URL", help="measure a database a --keep run filled with this shape"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON document")
    args = parser.parse_args(argv)
    if args.interactions < 1 or not 1 <= args.days <= 365 or args.runs < 1:
        parser.error("--interactions and --runs must be positive, --days 1 to 365")
    shape = Shape(args.interactions, args.days, END, seed=args.seed)
    if args.reuse:
        kind = make_url(args.reuse).get_backend_name()
        results = [
            asyncio.run(run(kind, shape, args.runs, args.before, url=args.reuse, filled=True))
        ]
    else:
        kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
        results = [
            asyncio.run(run(kind, shape, args.runs, args.before, args.keep)) for kind in kinds
        ]
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    for result in results:
        if "rows" in result:
            print(
                f"{result['database']}: {result['rows']} rows; generated in "
                f"{result['generate_seconds']} s, inserted in {result['insert_seconds']} s"
            )
        if result["url"]:
            print(f"{result['database']}: kept at {result['url']}")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
