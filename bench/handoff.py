"""How fast people and customers reach each other through the console.

Starts the whole assistant on a fresh SQLite database, signs an agent in to the console in
Chromium (the queue page open), then repeats: a customer on socket.io asks for a person; we time
until the ticket's row appears on the open queue page (no reload); the agent opens the ticket,
replies in the page, and we time until the customer's socket receives the reply.

    .venv/bin/python -m bench.handoff [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.ingestion import newest_model
from bot.runtime.processes import assistant_processes, start_in_order
from bot.settings import Settings
from bot.store.migrate import upgrade
from testkit.agents import add_agent
from testkit.customers import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Customer


async def measure(settings: Settings, rounds: int) -> tuple[list[float], list[float]]:
    from playwright.async_api import async_playwright

    to_console, to_customer = [], []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context()  # one agent: the pages share the session cookie
        queue = await context.new_page()
        await queue.goto(f"{settings.servers.web_url}/console/login")
        await queue.get_by_label("User name").fill("bench")
        await queue.get_by_label("Password").fill(PASSWORD)
        await queue.get_by_role("button", name="Sign in").click()
        await queue.wait_for_url("**/console/")
        ticket_page = await context.new_page()
        for n in range(rounds):
            async with Customer(settings.servers.rasa_url) as customer:
                asked = time.perf_counter()
                await customer.say("I want to talk to a human")
                opened = await customer.hear("I've passed this to our team (ticket ")
                ticket_id = opened["text"].split("(ticket ")[1].split(")")[0]
                await queue.locator(f'tr[data-ticket="{ticket_id}"]').wait_for(timeout=30_000)
                to_console.append(time.perf_counter() - asked)

                opened_page = await ticket_page.goto(
                    f"{settings.servers.web_url}/console/tickets/{ticket_id}"
                )
                if opened_page is None or not opened_page.ok:
                    status = opened_page.status if opened_page else "no answer"
                    raise RuntimeError(f"ticket page {ticket_id}: {status}")
                text = f"Hello from the console, round {n}."
                await ticket_page.get_by_label("Reply to the customer").fill(text)
                sent = time.perf_counter()
                await ticket_page.get_by_role("button", name="Send reply").click()
                await customer.hear(text)
                to_customer.append(time.perf_counter() - sent)
        await browser.close()
    return to_console, to_customer


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.handoff", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-handoff-") as tmp:
        work = Path(tmp)
        settings = Settings(
            rasa_port=17105,
            action_port=17155,
            web_port=17180,
            run_dir=work / "run",
            database_url=f"sqlite:///{work / 'app.db'}",
            business_hours="00:00-23:59",
        )
        asyncio.run(upgrade(settings.database.database_url))
        asyncio.run(add_agent(settings.database.database_url, "bench", "Bench Agent", PASSWORD))
        processes = assistant_processes(settings, newest_model(), work)
        start_in_order(processes, settings.supervision.startup_timeout)
        try:
            to_console, to_customer = asyncio.run(measure(settings, args.rounds))
        finally:
            for process in reversed(processes):
                process.stop()
    print("| wait | rounds | p50 ms | max ms |")
    print("|---|---|---|---|")
    for name, values in (
        ("customer's escalating message -> ticket on the open queue page", to_console),
        ("agent's reply (click) -> customer's socket", to_customer),
    ):
        print(
            f"| {name} | {len(values)} | {statistics.median(values) * 1000:.0f} | "
            f"{max(values) * 1000:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
