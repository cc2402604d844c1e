"""``python -m bot COMMAND``: the application's command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.domain.insights import InsightsFilter
    from bot.store.models import Customer


# Commands that read or change the application's data, on a database that must be migrated.
DATA_COMMANDS = {"profile", "customers", "purge", "agents", "report", "insights"}


async def _schema_is_current(settings: Settings) -> bool:
    from bot.store.migrate import is_current

    return await is_current(settings.database.database_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="migrate, then start the web, action and Rasa servers")
    run.add_argument("--model", type=Path, help="trained Rasa model (default: RASA_MODEL)")
    cluster = commands.add_parser(
        "cluster",
        help="start CLUSTER_REPLICAS Rasa, action and web servers behind nginx "
        "(PostgreSQL, Redis and RabbitMQ needed)",
    )
    cluster.add_argument("--model", type=Path, help="trained Rasa model (default: RASA_MODEL)")
    commands.add_parser("web", help="serve the web service (health, ingestion) on WEB_PORT")
    commands.add_parser("migrate", help="bring the database to the newest schema")
    profile = commands.add_parser("profile", help="print a customer's profile and interactions")
    _customer_key_arguments(profile)
    profile.add_argument("--json", action="store_true", help="machine-readable output")
    customers = commands.add_parser("customers", help="export or delete a customer's data")
    customers.add_argument("action", choices=["export", "delete"])
    _customer_key_arguments(customers)
    commands.add_parser("purge", help="delete conversations older than RETENTION_DAYS")
    agents = commands.add_parser("agents", help="manage the console's agents")
    agents_commands = agents.add_subparsers(dest="agents_command", required=True)
    add = agents_commands.add_parser("add", help="add an agent; the password is read from stdin")
    add.add_argument("name", help="user name (letters, digits, '.', '-', '_')")
    add.add_argument("--role", choices=["agent", "admin"], default="agent")
    add.add_argument("--display-name", help="the name customers see (default: the user name)")
    password = agents_commands.add_parser(
        "password", help="set an agent's password (read from stdin) and end their sessions"
    )
    password.add_argument("name", help="the agent's user name")
    report = commands.add_parser("report", help="how well the assistant serves customers")
    _report_arguments(report)
    rollup = commands.add_parser("insights", help="maintain the insights roll-up")
    rollup.add_argument(
        "action",
        choices=["rebuild"],
        help="recount the roll-up from the stored rows, its days in BUSINESS_TIMEZONE "
        "(after changing it)",
    )
    args = parser.parse_args(argv)

    settings = Settings()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "run":
        from bot.runtime.run import run_assistant

        model = args.model or settings.supervision.rasa_model
        if model is None:
            parser.error("give --model or set RASA_MODEL")
        return run_assistant(settings, model)
    if args.command == "cluster":
        from bot.runtime.cluster_run import run_cluster

        model = args.model or settings.supervision.rasa_model
        if model is None:
            parser.error("give --model or set RASA_MODEL")
        return run_cluster(settings, model)
    if args.command == "web":
        from aiohttp import web

        from bot.web.access_log import PathOnlyAccessLogger
        from bot.web.app import create_app

        web.run_app(
            create_app(settings),
            host=settings.servers.host,
            port=settings.servers.web_port,
            print=None,
            access_log_class=PathOnlyAccessLogger,
        )
        return 0
    if args.command == "migrate":
        from bot.store.migrate import upgrade

        asyncio.run(upgrade(settings.database.database_url))
        return 0
    if args.command in DATA_COMMANDS and not asyncio.run(_schema_is_current(settings)):
        print(
            "python -m bot: the database (DATABASE_URL) is not at the newest schema: run "
            "`python -m bot migrate` first (`make run` does it at every start)",
            file=sys.stderr,
        )
        return 2
    if args.command == "profile":
        return asyncio.run(_print_profile(settings, args.key, args.by, args.json))
    if args.command == "customers":
        return asyncio.run(_customer_data(settings, args.action, args.key, args.by))
    if args.command == "agents":
        secret = sys.stdin.readline().rstrip("\r\n")
        if args.agents_command == "password":
            return asyncio.run(_set_password(settings, args.name, secret))
        return asyncio.run(_add_agent(settings, args.name, args.display_name, secret, args.role))
    if args.command == "report":
        from bot.domain.insights import InsightsError, parse_filter

        try:
            flt = parse_filter(args.start, args.end, args.group, args.channel, args.language)
        except InsightsError as exc:
            report.error(str(exc))  # exit status 2
        return asyncio.run(_report(settings, flt, args.json))
    if args.command == "insights":
        return asyncio.run(_rebuild_rollup(settings))
    if args.command == "purge":
        if not settings.privacy.retention_days:
            print("RETENTION_DAYS is 0: everything is kept, nothing purged", file=sys.stderr)
            return 0
        return asyncio.run(_purge(settings))
    return 2


def _customer_key_arguments(parser: argparse.ArgumentParser) -> None:
    """KEY and --by: a key naming different customers as different kinds is refused without
    --by (see bot.domain.lookup), so that a conversation named like a shop id is never taken for it."""
    parser.add_argument("key", help="a conversation (sender) id, shop customer id or OpenID")
    parser.add_argument(
        "--by",
        choices=["conversation", "shop", "wechat"],
        help="what KEY is; needed when KEY names different customers as different kinds",
    )


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    """The report's dates and filters; checked by bot.domain.insights (bad ones: exit status 2)."""
    parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", required=True, help="last day (inclusive)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--group", help="also each day or week: day, week")
    parser.add_argument("--channel", help="only conversations from: widget, wechat, other")
    parser.add_argument("--language", help="only conversations in: en, zh, zh-TW, zh-HK")


async def _report(settings: Settings, flt: InsightsFilter, as_json: bool) -> int:
    from bot.domain.insights import insights, render_text
    from bot.store.db import create_engine, session_factory

    engine = create_engine(settings.database.database_url)
    try:
        async with session_factory(engine)() as session:
            document = await insights(session, flt, settings.handoff.hours)
    finally:
        await engine.dispose()
    print(json.dumps(document, ensure_ascii=False, indent=2) if as_json else render_text(document))
    return 0


async def _rebuild_rollup(settings: Settings) -> int:
    from bot.domain.insights.ticket_facts import rebuild_insights
    from bot.store.db import create_engine, session_factory

    engine = create_engine(settings.database.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            rebuilt = await rebuild_insights(session, settings.handoff.hours)
    finally:
        await engine.dispose()
    print(
        f"insights roll-up rebuilt in {rebuilt.timezone}: {rebuilt.conversation_days} "
        f"conversation days, {rebuilt.customer_days} customer days, "
        f"{rebuilt.entry_days} FAQ entry days, {rebuilt.ticket_facts} ticket facts"
    )
    return 0


async def _find_for_command(
    session: AsyncSession, key: str, by: str | None
) -> tuple[Customer | None, int]:
    """The customer KEY names and 0; or None, once the error is printed, and the exit status:
    1 when nothing matches, 2 when KEY names different customers (nothing is done then)."""
    from bot.domain.lookup import AmbiguousKey, CustomerNotFound, KeyKind, resolve_customer

    try:
        return await resolve_customer(session, key, KeyKind(by) if by else None), 0
    except CustomerNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None, 1
    except AmbiguousKey as exc:
        print(f"error: {exc}; nothing was done", file=sys.stderr)
        return None, 2


async def _add_agent(
    settings: Settings, name: str, display_name: str | None, password: str, role: str
) -> int:
    from bot.domain.auth import create_agent
    from bot.store.migrate import upgrade

    async def add(session: AsyncSession) -> str:
        agent = await create_agent(session, name, display_name or name, password, role)
        return f"added {agent.role} {agent.username!r}"

    await upgrade(settings.database.database_url)
    return await _change_account(settings, add)


async def _set_password(settings: Settings, name: str, password: str) -> int:
    from bot.domain.auth import set_password

    async def change(session: AsyncSession) -> str:
        agent = await set_password(session, name, password)
        return f"new password for {agent.username!r}; their sessions ended"

    return await _change_account(settings, change)


async def _change_account(
    settings: Settings, change: Callable[[AsyncSession], Awaitable[str]]
) -> int:
    """Run ``change`` in one transaction; what it did, or why it could not, on stderr."""
    from bot.domain.auth import AuthError
    from bot.store.db import create_engine, session_factory

    engine = create_engine(settings.database.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            print(await change(session), file=sys.stderr)
        return 0
    except AuthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()


async def _customer_data(settings: Settings, action: str, key: str, by: str | None) -> int:
    from bot.domain.privacy import delete_customer, export_customer
    from bot.runtime.rasa_stores import tracker_store_engine
    from bot.store.db import create_engine, session_factory

    engine = create_engine(settings.database.database_url)
    tracker = await tracker_store_engine(settings.database) if action == "delete" else None
    try:
        async with session_factory(engine)() as session, session.begin():
            customer, status = await _find_for_command(session, key, by)
            if customer is None:
                return status
            if action == "export":
                document = await export_customer(session, customer)
                print(json.dumps(document, ensure_ascii=False, indent=2))
                return 0
            customer_id = customer.id
            senders = await delete_customer(session, customer, tracker)
        print(f"deleted customer {customer_id} and {len(senders)} conversations", file=sys.stderr)
        return 0
    finally:
        await engine.dispose()
        if tracker is not None:
            await tracker.dispose()


async def _purge(settings: Settings) -> int:
    from bot.domain.privacy import purge
    from bot.runtime.rasa_stores import tracker_store_engine
    from bot.store.db import create_engine, session_factory

    engine = create_engine(settings.database.database_url)
    tracker = await tracker_store_engine(settings.database)
    try:
        async with session_factory(engine)() as session, session.begin():
            removed = await purge(session, tracker, settings.privacy.retention_days)
    finally:
        await engine.dispose()
        if tracker is not None:
            await tracker.dispose()
    print(
        f"purged what was idle for over {settings.privacy.retention_days} days: "
        + ", ".join(f"{count} {name}" for name, count in removed.items()),
        file=sys.stderr,
    )
    return 0


async def _print_profile(settings: Settings, key: str, by: str | None, as_json: bool) -> int:
    from bot.domain.profiles import profile_document
    from bot.store.db import create_engine, session_factory

    engine = create_engine(settings.database.database_url)
    try:
        async with session_factory(engine)() as session:
            customer, status = await _find_for_command(session, key, by)
            if customer is None:
                return status
            document = await profile_document(session, customer)
    finally:
        await engine.dispose()
    if as_json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    counts = document["counts"]
    print(f"customer {document['id']}: {document['name'] or '(no name)'}")
    print(
        f"  language {document['language']}, seen {document['first_seen']} .. {document['last_seen']}"
    )
    print("  " + ", ".join(f"{name} {value}" for name, value in counts.items()))
    for item in document["interactions"]:
        print(f"  {item['timestamp']} {item['direction']:>8}: {item['text']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
