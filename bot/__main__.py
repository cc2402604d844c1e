"""``python -m bot COMMAND``: the application's command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from bot.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="migrate, then start the web, action and Rasa servers")
    run.add_argument("--model", type=Path, help="trained Rasa model (default: RASA_MODEL)")
    commands.add_parser("web", help="serve the web service (health, ingestion) on WEB_PORT")
    commands.add_parser("migrate", help="bring the database to the newest schema")
    profile = commands.add_parser("profile", help="print a customer's profile and interactions")
    profile.add_argument("key", help="a conversation (sender) id, shop customer id or OpenID")
    profile.add_argument("--json", action="store_true", help="machine-readable output")
    customers = commands.add_parser("customers", help="export or delete a customer's data")
    customers.add_argument("action", choices=["export", "delete"])
    customers.add_argument("key", help="a conversation (sender) id, shop customer id or OpenID")
    commands.add_parser("purge", help="delete conversations older than RETENTION_DAYS")
    agents = commands.add_parser("agents", help="manage the console's agents")
    agents_commands = agents.add_subparsers(dest="agents_command", required=True)
    add = agents_commands.add_parser("add", help="add an agent; the password is read from stdin")
    add.add_argument("name", help="user name (letters, digits, '.', '-', '_')")
    add.add_argument("--role", choices=["agent", "admin"], default="agent")
    add.add_argument("--display-name", help="the name customers see (default: the user name)")
    args = parser.parse_args(argv)

    settings = Settings()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "run":
        from bot.run import run_assistant

        model = args.model or settings.rasa_model
        if model is None:
            parser.error("give --model or set RASA_MODEL")
        return run_assistant(settings, model)
    if args.command == "web":
        from aiohttp import web

        from bot.web import create_app

        web.run_app(create_app(settings), host=settings.host, port=settings.web_port, print=None)
        return 0
    if args.command == "migrate":
        from bot.migrate import upgrade

        asyncio.run(upgrade(settings.database_url))
        return 0
    if args.command == "profile":
        return asyncio.run(_print_profile(settings, args.key, args.json))
    if args.command == "customers":
        return asyncio.run(_customer_data(settings, args.action, args.key))
    if args.command == "agents":
        password = sys.stdin.readline().rstrip("\r\n")
        return asyncio.run(_add_agent(settings, args.name, args.display_name, password, args.role))
    if args.command == "purge":
        if not settings.retention_days:
            print("RETENTION_DAYS is 0: everything is kept, nothing purged", file=sys.stderr)
            return 0
        return asyncio.run(_purge(settings))
    return 2


async def _add_agent(
    settings: Settings, name: str, display_name: str | None, password: str, role: str
) -> int:
    from bot.auth import AuthError, create_agent
    from bot.db import create_engine, session_factory
    from bot.migrate import upgrade

    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            agent = await create_agent(session, name, display_name or name, password, role)
            print(f"added {agent.role} {agent.username!r}", file=sys.stderr)
        return 0
    except AuthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()


async def _customer_data(settings: Settings, action: str, key: str) -> int:
    from bot.db import create_engine, session_factory
    from bot.privacy import delete_customer, export_customer
    from bot.profiles import find_customer
    from bot.rasa_stores import tracker_store_engine

    engine = create_engine(settings.database_url)
    tracker = await tracker_store_engine(settings) if action == "delete" else None
    try:
        async with session_factory(engine)() as session, session.begin():
            customer = await find_customer(session, key)
            if customer is None:
                print(f"error: no customer or conversation {key!r}", file=sys.stderr)
                return 1
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
    from bot.db import create_engine, session_factory
    from bot.privacy import purge
    from bot.rasa_stores import tracker_store_engine

    engine = create_engine(settings.database_url)
    tracker = await tracker_store_engine(settings)
    try:
        async with session_factory(engine)() as session, session.begin():
            removed = await purge(session, tracker, settings.retention_days)
    finally:
        await engine.dispose()
        if tracker is not None:
            await tracker.dispose()
    print(
        f"purged what was idle for over {settings.retention_days} days: "
        + ", ".join(f"{count} {name}" for name, count in removed.items()),
        file=sys.stderr,
    )
    return 0


async def _print_profile(settings: Settings, key: str, as_json: bool) -> int:
    from bot.db import create_engine, session_factory
    from bot.profiles import find_customer, profile_document

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            customer = await find_customer(session, key)
            if customer is None:
                print(f"error: no customer or conversation {key!r}", file=sys.stderr)
                return 1
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
