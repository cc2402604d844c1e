"""Handoff with the real servers: the bot goes quiet, the agent's reply reaches the
conversation through Rasa's HTTP API, resolving hands it back and asks for a rating."""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from testkit.agents import add_agent
from tests.integration.conftest import Assistant

pytestmark = pytest.mark.integration

PASSWORD = "a long enough passphrase"


class Console:
    """The console's JSON API as an integration (or a test) uses it: cookies and CSRF."""

    def __init__(self, base_url: str, username: str) -> None:
        self.base = base_url
        self.csrf = ""
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        token = self.call("GET", "/api/login")["csrf_token"]
        body = {"username": username, "password": PASSWORD}
        self.csrf = self.call("POST", "/api/login", body, csrf=token)["csrf_token"]

    def call(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        csrf: str | None = None,
        timeout: float = 30.0,
    ):
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-CSRF-Token": csrf or self.csrf},
        )
        with self.opener.open(request, timeout=timeout) as response:
            return json.loads(response.read())


@pytest.fixture(scope="module")
def console(assistant: Assistant) -> Console:
    # An admin: "Add to FAQ" is for admins only unless AGENTS_MAY_PUBLISH_FAQ is set.
    asyncio.run(
        add_agent(assistant.settings.database.database_url, "nina", "Nina", PASSWORD, "admin")
    )
    return Console(assistant.settings.servers.web_url, "nina")


def texts(replies: list[dict]) -> list[str]:
    return [r["text"] for r in replies if r.get("text")]


def until(condition, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_the_bot_hands_over_stays_quiet_and_takes_back(assistant: Assistant, console: Console):
    sender = f"handoff-{uuid.uuid4().hex[:8]}"
    opened = texts(assistant.send("I want to talk to a human", sender))
    assert opened[0].startswith("I've passed this to our team (ticket ")
    ticket_id = int(assistant.tracker(sender)["slots"]["handoff_ticket"])

    # Only the first message after the handoff is acknowledged; then the bot says nothing.
    assert len(texts(assistant.send("hello? my parcel is late", sender))) == 1
    assert assistant.send("Where is my order?", sender) == []

    # The agent sees the customer's messages in the ticket.
    said = until(
        lambda: (
            [
                m["text"]
                for m in console.call("GET", f"/api/tickets/{ticket_id}")["transcript"]
                if m["direction"] == "customer"
            ][-1:]
            == ["Where is my order?"]
        ),
        what="the customer's messages in the ticket",
    )
    assert said

    console.call(
        "POST", f"/api/tickets/{ticket_id}/reply", {"text": "Hi, Nina here. It ships today."}
    )
    delivered = until(
        lambda: console.call("GET", f"/api/tickets/{ticket_id}")["replies"][0]["delivered_at"],
        what="delivery of the agent's reply",
    )
    assert delivered
    bot_events = [e for e in assistant.tracker(sender)["events"] if e["event"] == "bot"]
    agent_lines = [e for e in bot_events if (e.get("metadata") or {}).get("agent_name") == "Nina"]
    assert [e["text"] for e in agent_lines] == ["Hi, Nina here. It ships today."]  # once

    console.call("POST", f"/api/tickets/{ticket_id}/resolve", {"note": "shipped"})
    until(
        lambda: assistant.tracker(sender)["slots"]["handoff_ticket"] is None,
        what="the bot taking the conversation back",
    )
    rating_prompt = [e for e in assistant.tracker(sender)["events"] if e["event"] == "bot"][-1]
    assert rating_prompt["text"].startswith("Your request has been resolved")

    thanks = texts(assistant.send('/rate{"rating": 5}', sender))
    assert thanks[0].startswith("Thank you for your rating")
    assert console.call("GET", f"/api/tickets/{ticket_id}")["satisfaction"] == 5

    answer = texts(assistant.send("How do I reset my password?", sender))
    assert answer and "password" in answer[0].lower()  # the bot answers again

    # Regression: any number used to turn a question into a rating of the resolved ticket.
    for question in ("my parcel hasn't arrived yet, it's been 10 days", "已经2天了快递还没到"):
        replies = texts(assistant.send(question, sender))
        assert not any(r.startswith(("Thank you for your rating", "Your request")) for r in replies)
        assert assistant.tracker(sender)["slots"]["rating"] == 5  # searched as a question
    assert console.call("GET", f"/api/tickets/{ticket_id}")["satisfaction"] == 5


def test_two_answers_not_found_in_a_row_escalate(assistant: Assistant, console: Console):
    sender = f"lost-{uuid.uuid4().hex[:8]}"
    first = texts(assistant.send("What is the airspeed velocity of an unladen swallow?", sender))
    assert first[0].startswith("Sorry, I couldn't find an answer")
    second = texts(assistant.send("Which knight says Ni?", sender))
    assert second[0].startswith("I've passed this to our team")
    ticket_id = int(assistant.tracker(sender)["slots"]["handoff_ticket"])
    ticket = console.call("GET", f"/api/tickets/{ticket_id}")
    assert ticket["reason"] == "not_found" and ticket["question"] == "Which knight says Ni?"


def test_the_api_refuses_strangers(assistant: Assistant):
    request = urllib.request.Request(f"{assistant.settings.servers.web_url}/api/tickets")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_an_agents_answer_added_to_the_faq_is_then_the_bots(assistant: Assistant, console: Console):
    question = "Can I pay with seashells?"
    answer = "We take cards, Alipay and WeChat Pay, but no seashells."
    sender = f"learn-{uuid.uuid4().hex[:8]}"
    # Not found, or a "did you mean" among entries earlier modules taught the shared stack's
    # FAQ (CI: an accepted gap group made it one): either way not the answer, and a person helps.
    assert answer not in texts(assistant.send(question, sender))
    opened = texts(assistant.send("I want to talk to a human", sender))
    assert opened[0].startswith("I've passed this to our team")
    ticket_id = int(assistant.tracker(sender)["slots"]["handoff_ticket"])
    console.call("POST", f"/api/tickets/{ticket_id}/reply", {"text": answer})

    added = console.call(
        "POST",
        "/api/faq",
        {
            "kind": "entry",
            "entry_id": "payment_seashells",
            "category": "payment",
            "language": "en",
            "question": question,
            "answer": answer,
            "ticket_id": ticket_id,
        },
        timeout=120,  # the index is rebuilt before the answer: 5 s quiet, 30 s on a busy machine
    )
    assert added["entry_id"] == "payment_seashells" and added["version"]

    asker = f"learned-{uuid.uuid4().hex[:8]}"
    replies = until(
        lambda: (
            (r := texts(assistant.send(question, f"{asker}-{time.monotonic_ns()}")))
            and r[0] == answer
            and r
        ),
        timeout=30,
        what="the action server to switch to the new index",
    )
    assert replies[0] == answer
