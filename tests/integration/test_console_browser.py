"""The agent console in real Chromium, with a customer on Rasa's socket.io channel.

A plain agent (no admin rights) signs in; a customer escalates; the ticket appears on the open
queue page without a reload; the agent claims it, and the reply reaches the customer's socket;
resolving asks the customer for a rating. Then an admin signs in (only admins may teach the bot
by default) and "Add to FAQ" teaches the bot, which then answers the same question itself. The
two waits the issue asks to measure are printed (run with -s to see them; bench/RESULTS.md
keeps a run's figures).
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from testkit.agents import add_agent, unique_username
from testkit.customers import PASSWORD, Customer
from tests.integration.conftest import Assistant

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def agent(assistant: Assistant) -> str:
    """A plain agent, as most people at the console are: no admin rights."""
    username = unique_username("chen")
    return asyncio.run(
        add_agent(assistant.settings.database.database_url, username, "Chen Jing", PASSWORD)
    )


@pytest.fixture(scope="module")
def admin(assistant: Assistant) -> str:
    """An admin: only admins may "Add to FAQ" unless AGENTS_MAY_PUBLISH_FAQ is set."""
    username = unique_username("wang")
    return asyncio.run(
        add_agent(
            assistant.settings.database.database_url, username, "Wang Fang", PASSWORD, role="admin"
        )
    )


async def signed_in(browser, assistant: Assistant, username: str, shown_as: str):
    """A page of a browser context of its own (its own cookies), signed in as ``username`` with
    the sign-in form, on the queue."""
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{assistant.settings.servers.web_url}/console/")
    assert page.url.endswith("/console/login")  # no session: the sign-in form
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/console/")
    await page.get_by_text(shown_as).wait_for()
    return page


async def test_an_agent_answers_a_customer_live_and_an_admin_teaches_the_bot(
    assistant: Assistant, agent: str, admin: str, browser
):
    page = await signed_in(browser, assistant, agent, "Chen Jing (agent)")
    assert await page.locator("#nav-dead-letters").count() == 0  # for admins only

    question = f"Do you sell gift cards for the moon {uuid.uuid4().hex[:4]}?"
    answer = "Not yet: our gift cards work on Earth only, in every store and online."
    async with Customer(assistant.settings.servers.rasa_url) as customer:
        await customer.say(question)
        await customer.hear("Sorry, I couldn't find an answer")
        asked = time.perf_counter()
        await customer.say("yes")
        opened = await customer.hear("I've passed this to our team (ticket ")
        ticket_id = opened["text"].split("(ticket ")[1].split(")")[0]

        row = page.locator(f'tr[data-ticket="{ticket_id}"]')
        await row.wait_for(timeout=15_000)  # live, without a reload
        to_console = time.perf_counter() - asked
        assert question in await row.inner_text()

        await row.get_by_role("link").click()
        await page.wait_for_url(f"**/console/tickets/{ticket_id}")
        await page.get_by_text(question).first.wait_for()
        assert await page.locator("#faq-add").count() == 0  # an admin's, by default
        assert await page.locator("#assign-form").count() == 0  # an admin's too

        await page.get_by_role("button", name="Claim").click()
        await page.locator("#assignee", has_text="Chen Jing").wait_for()
        await page.locator("#status", has_text="assigned").wait_for()

        await page.get_by_label("Reply to the customer").fill(answer)
        sent = time.perf_counter()
        await page.get_by_role("button", name="Send reply").click()
        await customer.hear(answer)
        to_customer = time.perf_counter() - sent
        print(f"\nescalation to console: {to_console:.2f} s; reply to socket: {to_customer:.2f} s")

        await page.get_by_role("button", name="Resolve").click()
        prompt = await customer.hear("Your request has been resolved")
        assert [r["payload"] for r in prompt["quick_replies"]][-1] == '/rate{"rating": 5}'
        await page.locator("#status", has_text="resolved").wait_for()

    # An admin turns the agent's answer into an FAQ entry: the form is filled from the
    # ticket's question and the agent's reply.
    teacher = await signed_in(browser, assistant, admin, "Wang Fang (admin)")
    await teacher.locator("#nav-dead-letters").click()  # what only admins see
    await teacher.wait_for_url("**/console/dead-letters")
    await teacher.get_by_role("heading", name="Dead letters").wait_for()
    await teacher.goto(f"{assistant.settings.servers.web_url}/console/tickets/{ticket_id}")
    await teacher.get_by_text("Teach the bot", exact=True).click()  # folded away until asked
    assert await teacher.get_by_label("Answer (new entry)").input_value() == answer
    assert await teacher.get_by_label("Question", exact=True).input_value() == question
    await teacher.get_by_label("Entry id").fill(f"gift_cards_moon_{ticket_id}")
    await teacher.get_by_role("button", name="Add to FAQ").click()
    await teacher.get_by_text("the bot uses it from index").wait_for(timeout=60_000)

    deadline = time.monotonic() + 30
    while True:  # the action server switches to the new index within seconds
        # A new customer each time: a second "not found" in a row would hand them to people.
        async with Customer(assistant.settings.servers.rasa_url) as newcomer:
            await newcomer.say(question)
            first = await asyncio.wait_for(newcomer.received.get(), 30)
        if first.get("text") == answer:
            break
        assert time.monotonic() < deadline, f"the bot still says {first.get('text')!r}"
        await asyncio.sleep(1)


async def test_customer_html_is_shown_as_text_in_the_console(
    assistant: Assistant, agent: str, browser
):
    attack = f'<img src=x onerror="window.pwned=1">{uuid.uuid4().hex[:6]}'
    async with Customer(assistant.settings.servers.rasa_url) as customer:
        await customer.say(attack)
        await customer.hear("")  # whatever the bot makes of it
        await customer.say("talk to a human")
        opened = await customer.hear("I've passed this to our team (ticket ")
    ticket_id = opened["text"].split("(ticket ")[1].split(")")[0]

    page = await signed_in(browser, assistant, agent, "Chen Jing (agent)")
    await page.goto(f"{assistant.settings.servers.web_url}/console/tickets/{ticket_id}")
    await page.get_by_text(attack).first.wait_for()  # the markup, as text
    assert await page.evaluate("window.pwned") is None
    assert await page.locator("img[src=x]").count() == 0
