"""A synthetic shop's quarter for the insights benchmark, shaped like what the assistant stores.

The rows are those the ingestion worker (:mod:`bot.workers.ingestion`) and the ticket life cycle
(:mod:`bot.domain.tickets`) write, with the values they really use:

- customers, new or returning (some first seen before the range), each with the language of
  their conversations; conversations on the widget (``socketio``, ids ``web-…``), WeChat
  (``wechat``, OpenID-like ids) and REST, in English or Chinese, with one to three visits;
- interactions: the customer's message and the bot's replies of each turn carry the turn's
  decision slots (``faq_decision`` ``answer`` / ``clarify`` / ``escalate``, ``faq_id``,
  ``faq_category``, ``faq_score``) and its ``language``; a verdict (``feedback`` ``helpful`` /
  ``not_helpful``) is on the customer's reply, with the rated entry's ``faq_id``; a did-you-mean
  button chosen is intent ``choose_faq`` answered; WeChat follows are ``subscribe`` messages;
  agents' replies are ``agent`` rows with their name in ``author``;
- tickets by reason (requested, not found twice, not helpful, complaint, clarification refused),
  replied and resolved by agents within or outside business hours, some resolved without a
  reply, some reopened, some still waiting; rated 1-5 after the rating request was delivered;
- outbox rows: each agent reply, and each resolution's ``resume`` (the rating request).

Texts are the shipped FAQ's questions and answers, so rows have their real sizes. Everything is
drawn from one seeded generator: the same :class:`Shape` gives the same rows.

>>> data = generate(Shape(interactions=300, days=3, end=date(2026, 11, 30)))
>>> len(data.interactions) >= 300, data.interactions[0]["id"], data.tickets[0]["id"]
(True, 1, 1)
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.domain.insights.periods import local_midnight
from bot.settings.hours import BusinessHours

FAQ_DIR = Path(__file__).resolve().parent.parent / "data" / "faq"
HOURS = BusinessHours.parse("09:00-21:00", "Asia/Shanghai")  # the settings' defaults
CHANNELS = {"socketio": 0.6, "wechat": 0.3, "rest": 0.1}
LANGUAGES = {"en": 0.5, "zh": 0.5}
DECISIONS = {"answer": 0.64, "clarify": 0.14, "escalate": 0.22}
# Local hour of day -> weight: a shop's customers write mostly from morning to late evening.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 10, 10, 10, 9, 8, 8, 9, 10, 9, 6, 3]
AGENTS = 12
Row = dict[str, Any]


@dataclass(frozen=True)
class Shape:
    """How many interactions, over how many days up to ``end`` (inclusive, local dates)."""

    interactions: int
    days: int
    end: date
    seed: int = 16
    hours: BusinessHours = HOURS

    @property
    def first(self) -> date:
        return self.end - timedelta(days=self.days - 1)

    @property
    def start_instant(self) -> datetime:
        return local_midnight(self.first, self.timezone)

    @property
    def end_instant(self) -> datetime:
        return local_midnight(self.end + timedelta(days=1), self.timezone)

    @property
    def timezone(self) -> ZoneInfo:
        return self.hours.timezone


@dataclass(frozen=True)
class Entry:
    id: str
    category: str
    questions: dict[str, list[str]]
    answers: dict[str, str]


@dataclass
class Dataset:
    """Rows for each table, ready for ``insert(table)`` (ids included, in time order)."""

    agents: list[Row] = field(default_factory=list)
    customers: list[Row] = field(default_factory=list)
    conversations: list[Row] = field(default_factory=list)
    interactions: list[Row] = field(default_factory=list)
    tickets: list[Row] = field(default_factory=list)
    outbox: list[Row] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in vars(self).items()}


def faq_entries(directory: Path = FAQ_DIR) -> list[Entry]:
    """The shipped FAQ's entries with English and Chinese questions and answers."""
    entries = []
    for path in sorted(directory.glob("*.yml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8"))["entries"]:
            languages = [lang for lang in LANGUAGES if lang in raw]
            entries.append(
                Entry(
                    raw["id"],
                    raw.get("category") or "other",
                    {lang: list(raw[lang]["questions"]) for lang in languages},
                    {lang: str(raw[lang]["answer"]) for lang in languages},
                )
            )
    return [e for e in entries if set(e.questions) == set(LANGUAGES)]


def event_key(seed: int, interaction_id: int) -> str:
    """A unique 64-hex digest, the shape of ingestion's ``event_key``."""
    return hashlib.sha256(f"insights-scale:{seed}:{interaction_id}".encode()).hexdigest()


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


class _Generator:
    def __init__(self, shape: Shape, entries: list[Entry]) -> None:
        self.shape = shape
        self.rng = random.Random(shape.seed)
        self.entries = entries
        # A few entries answer most questions (Zipf-like), as in any shop.
        self.entry_weights = [1 / (rank + 1) for rank in range(len(entries))]
        self.data = Dataset()
        self.messages = 0  # interactions generated so far (inside the range)
        self.agents = [
            {
                "id": n + 1,
                "username": f"agent{n + 1:02d}",
                "display_name": f"Agent {n + 1:02d}",
                "password_hash": "!",  # cannot sign in
                "role": "admin" if n < 2 else "agent",
                "active": True,
                "created_at": shape.start_instant - timedelta(days=365),
                "last_seen_at": None,
            }
            for n in range(AGENTS)
        ]
        self.data.agents = self.agents

    # --- the frame: days, visits, customers ----------------------------------------------------

    def run(self) -> Dataset:
        shape = self.shape
        for day_index in range(shape.days):
            day = shape.first + timedelta(days=day_index)
            target = shape.interactions * (day_index + 1) // shape.days
            last = day_index == shape.days - 1
            while self.messages < target or (last and self.messages < shape.interactions):
                self._conversation(self._moment_on(day))
        return self._finish()

    def _moment_on(self, day: date) -> datetime:
        hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
        start = local_midnight(day, self.shape.timezone)
        local = start.astimezone(self.shape.timezone).replace(hour=hour)
        return local.astimezone(UTC) + timedelta(seconds=self.rng.randrange(3600))

    def _customer(self, when: datetime, language: str) -> Row:
        rng = self.rng
        if self.data.customers and rng.random() < 0.25:
            return rng.choice(self.data.customers)
        first_seen = when
        if rng.random() < 0.1:  # known from before the range
            first_seen = when - timedelta(days=rng.uniform(self.shape.days, 365))
        customer: Row = {
            "id": len(self.data.customers) + 1,
            "name": None,
            "email": None,
            "phone": None,
            "language": language,
            "first_seen": first_seen,
            "last_seen": first_seen,
            "tags": [],
            "notes": None,
            "unsubscribed_at": None,
        }
        self.data.customers.append(customer)
        return customer

    def _conversation(self, when: datetime) -> None:
        rng = self.rng
        channel = _pick(rng, CHANNELS)
        language = _pick(rng, LANGUAGES)
        customer = self._customer(when, language)
        customer["language"] = language
        number = len(self.data.conversations) + 1
        prefix = {"socketio": "web-", "wechat": "oWx", "rest": "rest-"}[channel]
        conversation = {
            "id": number,
            "sender_id": f"{prefix}{number:08d}{rng.getrandbits(64):016x}",
            "customer_id": customer["id"],
            "channel": channel,
            "started_at": when,
            "last_message_at": when,
        }
        self.data.conversations.append(conversation)
        visit = _Visit(self, conversation, customer, language)
        if channel == "wechat" and customer["first_seen"] == when and rng.random() < 0.5:
            visit.say("customer", when, intent="subscribe", text="")
            visit.say("bot", when + timedelta(seconds=1), text=visit.welcome())
        for number_of_visit in range(rng.choices([1, 2, 3], [0.78, 0.16, 0.06])[0]):
            if number_of_visit:
                when = when + timedelta(days=rng.uniform(0.5, 20))
            if when >= self.shape.end_instant:
                break
            visit.clock = when
            visit.run()

    # --- ids in time order ---------------------------------------------------------------------

    def _finish(self) -> Dataset:
        data = self.data
        data.interactions.sort(key=lambda row: (row["timestamp"], row["id"]))
        for number, row in enumerate(data.interactions, start=1):
            row["id"] = number
            row["event_key"] = event_key(self.shape.seed, number)
        data.tickets.sort(key=lambda row: (row["created_at"], row["id"]))
        for number, row in enumerate(data.tickets, start=1):
            row["id"] = number
        for row in data.outbox:
            row["ticket_id"] = row.pop("ticket")["id"]
        data.outbox.sort(key=lambda row: (row["created_at"], row["ticket_id"]))
        for number, row in enumerate(data.outbox, start=1):
            row["id"] = number
        return data


class _Visit:
    """One visit of a conversation: its turns, and the ticket it may end in."""

    def __init__(self, gen: _Generator, conversation: Row, customer: Row, language: str) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.conversation = conversation
        self.customer = customer
        self.language = language
        self.clock: datetime = conversation["started_at"]

    # --- rows ----------------------------------------------------------------------------------

    def say(self, direction: str, when: datetime, **fields: Any) -> bool:
        """Store one interaction at ``when``; False (nothing stored) past the range's end."""
        if when >= self.gen.shape.end_instant:
            return False
        row = {
            "id": len(self.gen.data.interactions),  # a tie-breaker until _finish numbers them
            "event_key": "",
            "customer_id": self.customer["id"],
            "conversation_id": self.conversation["id"],
            "channel": self.conversation["channel"],
            "direction": direction,
            "text": "",
            "author": None,
            "intent": None,
            "intent_confidence": None,
            "faq_id": None,
            "faq_category": None,
            "faq_score": None,
            "faq_decision": None,
            "feedback": None,
            "language": self.language,
            "timestamp": when,
        }
        row.update(fields)
        if direction == "customer" and row["intent"] is not None:
            row["intent_confidence"] = round(self.rng.uniform(0.55, 0.99), 4)
        self.gen.data.interactions.append(row)
        self.gen.messages += 1
        self.conversation["last_message_at"] = max(self.conversation["last_message_at"], when)
        self.customer["first_seen"] = min(self.customer["first_seen"], when)
        self.customer["last_seen"] = max(self.customer["last_seen"], when)
        return True

    def _tick(self, low: float, high: float) -> datetime:
        self.clock += timedelta(seconds=self.rng.uniform(low, high))
        return self.clock

    def _turn(self, intent: str, text: str, replies: list[str], **decision: Any) -> bool:
        """A customer message and the bot's replies, all carrying the turn's decision slots."""
        if not self.say("customer", self._tick(15, 180), intent=intent, text=text, **decision):
            return False
        for reply in replies:
            self.say("bot", self._tick(0.5, 2), text=reply, **decision)
        return True

    def welcome(self) -> str:
        return "Hi! Ask me anything about your order." if self.language == "en" else "您好！"

    def _question(self) -> tuple[Entry, str]:
        entry = self.rng.choices(self.gen.entries, self.gen.entry_weights)[0]
        return entry, self.rng.choice(entry.questions[self.language])

    # --- a visit -------------------------------------------------------------------------------

    def run(self) -> None:
        rng = self.rng
        self.clock -= timedelta(seconds=60)  # the first _tick lands near the visit's start
        if rng.random() < 0.15:
            self._turn("greet", "hello" if self.language == "en" else "你好", [self.welcome()])
        not_found_in_a_row = 0
        for _ in range(rng.choices([1, 2, 3, 4], [0.5, 0.3, 0.15, 0.05])[0]):
            draw = rng.random()
            if draw < 0.04:
                self._ask_for("requested", "request_human", "I want to talk to a person")
                return
            if draw < 0.05:
                self._ask_for("complaint", "complain", "This is unacceptable, I want to complain")
                return
            entry, text = self._question()
            decision = _pick(rng, DECISIONS)
            if decision == "answer":
                not_found_in_a_row = 0
                if not self._answered(entry, text, "ask_question") or self._feedback(entry):
                    return
            elif decision == "clarify":
                if not self._clarified(entry, text):
                    return
            else:
                not_found_in_a_row += 1
                scores = {"faq_decision": "escalate", "faq_score": round(rng.uniform(0.1, 0.4), 4)}
                sorry = (
                    "Sorry, I could not find that." if self.language == "en" else "抱歉，没找到。"
                )
                if not self._turn("ask_question", text, [sorry], **scores):
                    return
                if not_found_in_a_row == 2:
                    self._ticket("not_found")
                    return
        if rng.random() < 0.2:
            self._turn("thanks", "thanks" if self.language == "en" else "谢谢", ["You're welcome!"])

    def _answered(self, entry: Entry, text: str, intent: str) -> bool:
        decision = {
            "faq_decision": "answer",
            "faq_id": entry.id,
            "faq_category": entry.category,
            "faq_score": round(self.rng.uniform(0.6, 0.95), 4),
        }
        replies = [entry.answers[self.language]]
        if self.rng.random() < 1 / 3:
            replies.append("Did that help?" if self.language == "en" else "这个回答有帮助吗？")
        return self._turn(intent, text, replies, **decision)

    def _feedback(self, entry: Entry) -> bool:
        """Maybe a verdict on the answer; True when the visit went on to a ticket."""
        if self.rng.random() >= 0.3:
            return False
        helpful = self.rng.random() < 0.75
        verdict = "helpful" if helpful else "not_helpful"
        said = self._turn(
            f"feedback_{verdict}",
            ("thanks, that helped" if helpful else "that did not help"),
            ["Glad to help!" if helpful else "Sorry about that."],
            feedback=verdict,
            faq_id=entry.id,
        )
        if said and not helpful and self.rng.random() < 0.5:
            self._ticket("not_helpful")
            return True
        return False

    def _clarified(self, entry: Entry, text: str) -> bool:
        """A did-you-mean; True when the visit goes on."""
        score = {"faq_decision": "clarify", "faq_score": round(self.rng.uniform(0.4, 0.6), 4)}
        if not self._turn("ask_question", text, ["Did you mean:"], **score):
            return False
        draw = self.rng.random()
        if draw < 0.55:
            return self._answered(entry, f'/choose_faq{{"faq_choice": "{entry.id}"}}', "choose_faq")
        if draw < 0.7:
            if self._turn("deny", "/deny", ["Let me find a person for you."]):
                self._ticket("clarification_refused", said=True)
            return False
        return False  # left without choosing: abandoned

    def _ask_for(self, reason: str, intent: str, text: str) -> None:
        if self._turn(intent, text, []):
            self._ticket(reason)

    # --- a ticket ------------------------------------------------------------------------------

    def _ticket(self, reason: str, said: bool = False) -> None:
        gen, rng = self.gen, self.rng
        opened = self._tick(1, 3)
        if opened >= gen.shape.end_instant:
            return
        if not said:
            self.say("bot", self._tick(0.5, 1), text="I am handing you over to a colleague.")
        agent = rng.choice(gen.agents)
        ticket = {
            "id": len(gen.data.tickets),
            "customer_id": self.customer["id"],
            "conversation_id": self.conversation["id"],
            "channel": self.conversation["channel"],
            "reason": reason,
            "question": None,
            "candidates": [],
            "status": "open",
            "priority": "high" if reason == "complaint" else "normal",
            "created_at": opened,
            "first_reply_at": None,
            "resolved_at": None,
            "assigned_agent_id": None,
            "resolution_note": None,
            "satisfaction": None,
            "reopened": 0,
            "origin": None,
        }
        gen.data.tickets.append(ticket)
        if rng.random() < 0.005:  # forgotten: still waiting for an agent
            return
        reply_at = self._next_open(opened) + timedelta(seconds=rng.lognormvariate(5.0, 1.0))
        if reply_at >= gen.shape.end_instant:  # not answered yet
            return
        if rng.random() < 0.08:  # resolved without a word to the customer
            ticket["assigned_agent_id"] = agent["id"]
            self._resolve(ticket, agent, reply_at)
            return
        ticket["assigned_agent_id"] = agent["id"]
        ticket["status"] = "assigned"
        ticket["first_reply_at"] = reply_at
        self.clock = reply_at
        for n in range(rng.choices([1, 2, 3], [0.5, 0.35, 0.15])[0]):
            if n:
                customer_text = "ok, and then?" if self.language == "en" else "好的，然后呢？"
                if not self.say(
                    "customer", self._tick(20, 300), intent="affirm", text=customer_text
                ):
                    return
                self._tick(30, 600)
            if not self._agent_reply(ticket, agent, self.clock):
                return
        self._resolve(ticket, agent, self._tick(60, 3600))

    def _next_open(self, when: datetime) -> datetime:
        """``when`` if the shop is open then, else its next opening (checked hour by hour)."""
        hours = self.gen.shape.hours
        moment = when
        while not hours.is_open(moment):
            moment = (moment + timedelta(hours=1)).replace(minute=0, second=0)
        return max(moment, when)

    def _agent_reply(self, ticket: Row, agent: Row, when: datetime) -> bool:
        if when >= self.gen.shape.end_instant:
            return False
        text = "Let me check that for you." if self.language == "en" else "我帮您查一下。"
        self._outbox(ticket, agent, "reply", text, when)
        self.say("agent", when + timedelta(seconds=1), text=text, author=agent["display_name"])
        return True

    def _resolve(self, ticket: Row, agent: Row, when: datetime) -> None:
        rng, end = self.rng, self.gen.shape.end_instant
        if when >= end:
            return
        ticket.update(status="resolved", resolved_at=when, resolution_note=None)
        delivered = self._outbox(ticket, agent, "resume", "", when, rng.random() < 0.9)
        if rng.random() < 0.05:  # reopened, then resolved again
            again = when + timedelta(hours=rng.uniform(1, 24))
            if again >= end:
                ticket.update(status="assigned", resolved_at=None, reopened=1)
                return
            ticket.update(resolved_at=again, reopened=1)
            delivered = self._outbox(ticket, agent, "resume", "", again, rng.random() < 0.9)
            when = again
        if delivered is None:
            return
        self.clock = delivered
        self.say("bot", self._tick(0.5, 1), text="How would you rate our help, 1 to 5?")
        if rng.random() < 0.55:
            score = rng.choices(range(1, 6), [5, 5, 10, 30, 50])[0]
            if self.say("customer", self._tick(5, 120), intent="rate", text=str(score)):
                ticket["satisfaction"] = score

    def _outbox(
        self, ticket: Row, agent: Row, kind: str, text: str, when: datetime, delivered: bool = True
    ) -> datetime | None:
        delivered_at = when + timedelta(seconds=self.rng.uniform(0.2, 3)) if delivered else None
        failed = not delivered and self.conversation["channel"] == "wechat"
        self.gen.data.outbox.append(
            {
                "ticket": ticket,
                "conversation_id": self.conversation["id"],
                "agent_id": agent["id"],
                "agent_name": agent["display_name"] if kind == "reply" else None,
                "kind": kind,
                "text": text,
                "created_at": when,
                "attempts": 1 if delivered else 5,
                "next_attempt_at": when,
                "delivered_at": delivered_at,
                "failed_at": when + timedelta(minutes=5) if failed else None,
                "last_error": "48-hour window passed" if failed else None,
            }
        )
        return delivered_at


def generate(shape: Shape, entries: list[Entry] | None = None) -> Dataset:
    """The rows of ``shape`` (about ``shape.interactions`` interactions, never fewer)."""
    if shape.interactions < 1 or shape.days < 1:
        raise ValueError("give at least one interaction and one day")
    return _Generator(shape, entries or faq_entries()).run()


def chunks(rows: list[Row], size: int) -> Iterator[list[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
