"""How fast people and customers reach each other through the console.

Starts the whole assistant on a fresh SQLite database, signs an agent in to the console in
Chromium (the queue page open), then repeats: a customer on socket.io asks for a person; we time
until the ticket's row appears on the open queue page (no reload); the agent opens the ticket,
the customer writes again and we time until the message shows in the open ticket page's
transcript; the agent replies in the page, and we time until the customer's socket receives the
reply. Also the console's page weight: the bytes of the queue's and a ticket's page with
everything they load (uncompressed, as the web service sends them).

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
from typing import TYPE_CHECKING, NamedTuple

from bench.ingestion import newest_model
from bot.runtime.processes import assistant_processes, start_in_order
from bot.settings import Settings
from bot.store.migrate import upgrade
from testkit.agents import add_agent
from testkit.customers import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Customer

if TYPE_CHECKING:
    from playwright.async_api import Page, Response


class Timings(NamedTuple):
    to_queue: list[float]
    to_ticket_page: list[float]
    to_customer: list[float]
    page_bytes: dict[str, int]


async def page_weight(page: Page, url: str) -> int:
    """The bytes of ``url`` and of everything its loading fetched (the event stream aside)."""
    sizes: list[int] = []

    async def count(response: Response) -> None:
        if "text/event-stream" not in (response.headers.get("content-type") or ""):
            sizes.append(len(await response.body()))

    def on_response(response: Response) -> None:
        waiting.append(asyncio.ensure_future(count(response)))

    waiting: list[asyncio.Future[None]] = []
    page.on("response", on_response)
    await page.goto(url, wait_until="networkidle")
    await asyncio.gather(*waiting)
    page.remove_listener("response", on_response)
    return sum(sizes)


# In the page, when an element matching a selector holds a text (or, without one, when a new
# such element appears), as the page's wall clock sees it: Playwright's own waiting polls the
# page at growing intervals (up to 500 ms), which would be measured too.
WATCH = """([selector, text]) => {
  const known = new Set([...document.querySelectorAll(selector)].map((node) => node.outerHTML));
  const found = () => [...document.querySelectorAll(selector)].some((node) =>
    text === null ? !known.has(node.outerHTML) : node.textContent.includes(text));
  window.benchSeen = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (found()) { observer.disconnect(); resolve(Date.now()); }
    });
    observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  });
}"""


async def watch(page: Page, selector: str, text: str | None) -> None:
    await page.evaluate(WATCH, [selector, text])


async def seen(page: Page) -> float:
    """When the watched change showed, in seconds since the epoch (same clock as ours)."""
    return float(await page.evaluate("window.benchSeen")) / 1000


async def measure(settings: Settings, rounds: int) -> Timings:
    from playwright.async_api import async_playwright

    to_console, to_ticket_page, to_customer = [], [], []
    weights: dict[str, int] = {}
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
                await watch(queue, "tr[data-ticket]", None)
                asked = time.time()
                await customer.say("I want to talk to a human")
                opened = await customer.hear("I've passed this to our team (ticket ")
                ticket_id = opened["text"].split("(ticket ")[1].split(")")[0]
                to_console.append(await seen(queue) - asked)

                opened_page = await ticket_page.goto(
                    f"{settings.servers.web_url}/console/tickets/{ticket_id}"
                )
                if opened_page is None or not opened_page.ok:
                    status = opened_page.status if opened_page else "no answer"
                    raise RuntimeError(f"ticket page {ticket_id}: {status}")
                await ticket_page.locator("#transcript").wait_for()
                said = f"Are you still there? (round {n})"
                await watch(ticket_page, "#transcript", said)
                written = time.time()
                await customer.say(said)
                to_ticket_page.append(await seen(ticket_page) - written)

                text = f"Hello from the console, round {n}."
                await ticket_page.locator("#reply-text").fill(text)
                sent = time.perf_counter()
                await ticket_page.locator("#reply-form button[type=submit]").click()
                await customer.hear(text)
                to_customer.append(time.perf_counter() - sent)
                if n == 0:
                    weighing = await context.new_page()
                    web = settings.servers.web_url
                    weights["queue"] = await page_weight(weighing, f"{web}/console/")
                    weights["ticket"] = await page_weight(
                        weighing, f"{web}/console/tickets/{ticket_id}"
                    )
                    await weighing.close()
        await browser.close()
    return Timings(to_console, to_ticket_page, to_customer, weights)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


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
            business_hours="00:00-24:00",
        )
        asyncio.run(upgrade(settings.database.database_url))
        asyncio.run(add_agent(settings.database.database_url, "bench", "Bench Agent", PASSWORD))
        processes = assistant_processes(settings, newest_model(), work)
        start_in_order(processes, settings.supervision.startup_timeout)
        try:
            timings = asyncio.run(measure(settings, args.rounds))
        finally:
            for process in reversed(processes):
                process.stop()
    print("| wait | rounds | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, values in (
        ("customer's escalating message -> ticket on the open queue page", timings.to_queue),
        ("customer's message -> shown on the open ticket page", timings.to_ticket_page),
        ("agent's reply (click) -> customer's socket", timings.to_customer),
    ):
        print(
            f"| {name} | {len(values)} | {statistics.median(values) * 1000:.0f} | "
            f"{percentile(values, 0.95) * 1000:.0f} | {max(values) * 1000:.0f} |"
        )
    print()
    for page, size in timings.page_bytes.items():
        print(f"console page weight, {page}: {size / 1024:.1f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
