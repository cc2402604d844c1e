"""The insights tests' hand-built dataset (the metric tests work out every figure of it; the
console's dashboard tests show them).

Business hours Mon-Fri 09:00-18:00 in Shanghai; the report covers Monday 2 and Tuesday 3 March
2026 (times below are Shanghai's). Eight conversations:

====  ========  ========  =====  ===================================================================
conv  customer  channel   lang   what happens
====  ========  ========  =====  ===================================================================
C0    B         socketio  zh     20 Feb: a question answered (before the range: never counted)
C1    A (new)   socketio  en     Mon 10:00 answered (order_track), 10:01 "that helped": bot resolved
C2    B (ret.)  socketio  zh     Mon 11:00 answered (refund_time), 11:02 "did not help" → T1
                                 (not_helpful, Bob replies after 30 min, resolves after 1 h, rated 4)
C3    C (new)   wechat    en     Mon 13:58 follow event, 13:59 answered (invoice), 14:00 "a person"
                                 → T2 (requested), resolved by Ann after 10 min *without a reply*:
                                 handed over, not bot resolved
C4    D (new)   socketio  zh-TW  Mon 15:00 a did-you-mean, then nothing: abandoned
C5    E (new)   rest      en     Mon 23:50 not found; *after midnight* Tue 00:05 a did-you-mean,
                                 00:06 the button (password_reset): bot resolved on Tuesday
C6    F (new)   wechat    en     Mon 17:20 and 17:30 not found → T3 (not_found) at 17:30, half an
                                 hour before closing; Bob replies Tue 09:30, resolves, *reopens*,
                                 resolves again Tue 11:30; rated 2 (the request's delivery not seen)
C7    G (new)   socketio  en     Tue 10:00 a complaint → T4, open, nobody answered yet
====  ========  ========  =====  ===================================================================
"""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.domain.insights import ticket_facts
from bot.settings.hours import BusinessHours
from bot.store import rollup
from bot.store.models import (
    Agent,
    Conversation,
    Customer,
    Interaction,
    OutboxMessage,
    Ticket,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = BusinessHours.parse("Mon-Fri 09:00-18:00", "Asia/Shanghai")
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=SHANGHAI)


def at(moment: str | datetime) -> datetime:
    """'03-02 17:30' (or with seconds) in Shanghai, 2026; a datetime as it is (for datasets
    of other dates built with :class:`Seed`)."""
    if isinstance(moment, datetime):
        return moment
    day, clock = moment.split()
    month, dom = (int(part) for part in day.split("-"))
    parts = [int(part) for part in clock.split(":")]
    return datetime(2026, month, dom, *parts, tzinfo=SHANGHAI)


class Seed:
    """Builds rows in ``session``; moments are :func:`at`'s. Two builders of one database need
    their own ``key_prefix`` (the interactions' event keys are unique)."""

    def __init__(self, session, key_prefix: str = "k") -> None:
        self.session = session
        self.key_prefix = key_prefix
        self.keys = itertools.count()
        self.instants: dict[int, list[datetime]] = {}

    async def agent(self, username: str, name: str) -> Agent:
        """The agent ``username``: the one that exists (a web test's signed-in agent), or new."""
        found = await self.session.scalar(select(Agent).where(Agent.username == username))
        if found is not None:
            return found
        agent = Agent(
            username=username, display_name=name, password_hash="x", created_at=at("01-01 09:00")
        )
        self.session.add(agent)
        await self.session.flush()
        return agent

    async def conversation(
        self, sender: str, channel: str, first_seen: str | datetime, customer=None
    ):
        if customer is None:
            customer = Customer(tags=[], first_seen=at(first_seen), last_seen=at(first_seen))
            self.session.add(customer)
            await self.session.flush()
        conversation = Conversation(
            sender_id=sender,
            customer_id=customer.id,
            channel=channel,
            started_at=at(first_seen),
            last_message_at=at(first_seen),
        )
        self.session.add(conversation)
        await self.session.flush()
        return conversation, customer

    async def say(
        self, conversation, moment: str | datetime, direction: str = "customer", **fields
    ):
        fields.setdefault("language", None)
        fields.setdefault("text", "…")
        self.session.add(
            Interaction(
                event_key=f"{self.key_prefix}{next(self.keys)}",
                customer_id=conversation.customer_id,
                conversation_id=conversation.id,
                channel=conversation.channel,
                direction=direction,
                timestamp=at(moment),
                **fields,
            )
        )
        await self.session.flush()
        if direction == "customer":  # as the ingestion worker does, its days recounted
            instants = self.instants.setdefault(conversation.id, [])
            instants.append(at(moment))
            await rollup.refresh(self.session, conversation.id, instants)
            await ticket_facts.refresh_conversation(self.session, conversation.id, at(moment))

    async def ticket(self, conversation, reason: str, opened: str | datetime, **fields) -> Ticket:
        delivered = fields.pop("rating_asked", None)
        ticket = Ticket(
            customer_id=conversation.customer_id,
            conversation_id=conversation.id,
            channel=conversation.channel,
            reason=reason,
            created_at=at(opened),
            status="resolved" if fields.get("resolved_at") else fields.pop("status", "open"),
            **fields,
        )
        self.session.add(ticket)
        await self.session.flush()
        await rollup.refresh(self.session, conversation.id, [ticket.created_at])
        await ticket_facts.refresh(self.session, [ticket.id])  # as every ticket change does
        if ticket.resolved_at is not None:
            self.session.add(
                OutboxMessage(
                    conversation_id=conversation.id,
                    ticket_id=ticket.id,
                    kind="resume",
                    text="",
                    created_at=ticket.resolved_at,
                    next_attempt_at=ticket.resolved_at,
                    delivered_at=at(delivered) if delivered else None,
                )
            )
        return ticket


async def seed(sessions) -> dict[str, int]:
    """The dataset of the module's docstring; the agents' ids."""
    async with sessions() as session, session.begin():
        s = Seed(session)
        ann, bob = await s.agent("ann", "Ann"), await s.agent("bob", "Bob")
        answer = {"faq_decision": "answer", "intent": "ask_question"}

        c0, b = await s.conversation("web-c0", "socketio", "02-20 10:00")
        await s.say(c0, "02-20 10:00", faq_id="order_track", language="zh", **answer)

        c1, _ = await s.conversation("web-c1", "socketio", "03-02 10:00")
        await s.say(c1, "03-02 10:00", faq_id="order_track", language="en", **answer)
        # The decision slots are written on the bot's replies of the turn too: not questions.
        await s.say(c1, "03-02 10:00:02", "bot", faq_id="order_track", faq_decision="answer")
        await s.say(c1, "03-02 10:01", feedback="helpful", faq_id="order_track", language="en")

        c2, _ = await s.conversation("web-c2", "socketio", "03-02 11:00", customer=b)
        await s.say(c2, "03-02 11:00", faq_id="refund_time", language="zh", **answer)
        await s.say(c2, "03-02 11:02", feedback="not_helpful", faq_id="refund_time", language="zh")
        await s.say(c2, "03-02 11:32", "agent", author="Bob")
        await s.ticket(
            c2, "not_helpful", "03-02 11:02", assigned_agent_id=bob.id,
            first_reply_at=at("03-02 11:32"), resolved_at=at("03-02 12:02"), satisfaction=4,
            rating_asked="03-02 12:02:05",
        )  # fmt: skip

        c3, _ = await s.conversation("oC3", "wechat", "03-02 13:58")
        await s.say(c3, "03-02 13:58", intent="subscribe", language="en")
        await s.say(c3, "03-02 13:59", faq_id="invoice", language="en", **answer)
        await s.say(c3, "03-02 14:00", intent="request_human", language="en")
        await s.ticket(
            c3, "requested", "03-02 14:00", assigned_agent_id=ann.id,
            resolved_at=at("03-02 14:10"), rating_asked="03-02 14:10:05",
        )  # fmt: skip

        c4, _ = await s.conversation("web-c4", "socketio", "03-02 15:00")
        await s.say(c4, "03-02 15:00", faq_decision="clarify", language="zh-TW")

        c5, _ = await s.conversation("c5", "rest", "03-02 23:50")
        await s.say(c5, "03-02 23:50", faq_decision="escalate", language="en")
        await s.say(c5, "03-03 00:05", faq_decision="clarify", language="en")
        await s.say(
            c5, "03-03 00:06", faq_decision="answer", faq_id="password_reset",
            intent="choose_faq", language="en",
        )  # fmt: skip

        c6, _ = await s.conversation("oC6", "wechat", "03-02 17:20")
        await s.say(c6, "03-02 17:20", faq_decision="escalate", language="en")
        await s.say(c6, "03-02 17:30", faq_decision="escalate", language="en")
        await s.ticket(
            c6, "not_found", "03-02 17:30", assigned_agent_id=bob.id,
            first_reply_at=at("03-03 09:30"), resolved_at=at("03-03 11:30"), reopened=1,
            satisfaction=2,
        )  # fmt: skip

        c7, _ = await s.conversation("web-c7", "socketio", "03-03 10:00")
        await s.say(c7, "03-03 10:00", intent="complain", language="en")
        await s.ticket(c7, "complaint", "03-03 10:00")
        return {"ann": ann.id, "bob": bob.id}
