"""The bot asks for an e-mail address when nobody can answer now, and takes the answer while
people have the conversation (quiet otherwise)."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from sqlalchemy import select

from actions import services
from actions.dialogue import ActionBeginTurn
from actions.escalation import ActionEscalate
from bot.domain.mail.asking import ASKED
from bot.domain.mail.chat_texts import chat_texts_for
from bot.domain.mail.consent import consented_address
from bot.store.models import Conversation
from tests.actions.test_actions import run, slot_values
from tests.actions.test_escalation import agent, conversation

EN, ZH = chat_texts_for("en"), chat_texts_for("zh")


@pytest.fixture()
async def mail_on(monkeypatch):
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MAIL_FROM", "Shop <support@shop.example>")
    await services.close()


async def _handed_over(sender="web-mail", language="en", **metadata) -> tuple[str, list[dict]]:
    """Escalate; the ticket id and what the bot said."""
    t = conversation(
        ("agent please", "request_human"), sender=sender, metadata=metadata, language=language
    )
    events, messages = await run(ActionEscalate(), t)
    return slot_values(events)["handoff_ticket"], messages


def _answer(text: str, ticket: str, said: list[dict], sender="web-mail", intent="inform", **slots):
    """The customer's next turn after the bot ``said`` its messages at the handoff."""
    t = conversation(("agent please", "request_human"), sender=sender)
    bot = [{"event": "bot", "text": m.get("text"), "metadata": _metadata(m)} for m in said]
    ranked = {"name": intent, "confidence": 0.9}
    user = {"event": "user", "text": text, "parse_data": {"intent": ranked}, "metadata": {}}
    message = {"text": text, "intent": ranked, "metadata": {}}
    slots = {"handoff_ticket": ticket, "language": "en", **slots}
    return Tracker(sender, slots, message, [*t.events, *bot, user], False, None, {}, "")


def _metadata(message: dict) -> dict:
    known = {"text", "response", "buttons", "elements", "custom", "template", "image"}
    return {k: v for k, v in message.items() if k not in known and k != "attachment"}


async def _address_of(sender: str) -> str | None:
    async with services.shared().sessions() as session:
        customer_id = await session.scalar(
            select(Conversation.customer_id).where(Conversation.sender_id == sender)
        )
        return await consented_address(session, customer_id)


async def test_out_of_reach_the_bot_asks_for_an_address_and_confirms_it(mail_on):
    ticket, said = await _handed_over()
    assert said[0]["response"] == "utter_handoff_later"
    assert said[1]["text"] == EN.ask and said[1][ASKED] is True

    events, messages = await run(ActionBeginTurn(), _answer("it's Ann@Example.com", ticket, said))
    assert [m["text"] for m in messages] == [EN.confirmed.format(address="Ann@example.com")]
    assert SlotSet("handoff_acknowledged", True) in events  # no second acknowledgement
    assert events[-1] == FollowupAction("action_listen")
    assert await _address_of("web-mail") == "Ann@example.com"


async def test_a_bad_address_is_asked_again_and_a_no_is_taken(mail_on):
    ticket, said = await _handed_over(language="zh")
    assert said[1]["text"] == ZH.ask

    _, messages = await run(ActionBeginTurn(), _answer("ann@localhost", ticket, said))
    assert [m["text"] for m in messages] == [EN.invalid] and messages[0][ASKED] is True
    assert await _address_of("web-mail") is None

    again = said + messages
    _, messages = await run(ActionBeginTurn(), _answer("不用了", ticket, again, language="zh"))
    assert [m["text"] for m in messages] == [ZH.declined]
    assert await _address_of("web-mail") is None


async def test_a_message_that_is_no_answer_goes_to_the_agents_as_before(mail_on):
    ticket, said = await _handed_over()
    _, messages = await run(ActionBeginTurn(), _answer("when do you open?", ticket, said))
    assert [m.get("response") for m in messages] == ["utter_handoff_ack_later"]
    assert await _address_of("web-mail") is None


async def test_no_question_when_an_agent_is_online_or_mail_is_off(mail_on, monkeypatch):
    await agent(online=True)
    _, said = await _handed_over(sender="web-soon")
    assert [m.get("response") for m in said] == ["utter_handoff_soon"]

    monkeypatch.setenv("SMTP_HOST", "")
    await services.close()
    await agent("Bob", online=False)
    _, said = await _handed_over(sender="web-off")
    assert len(said) == 1


async def test_a_known_address_is_not_asked_for_again(mail_on):
    ticket, said = await _handed_over()
    await run(ActionBeginTurn(), _answer("ann@example.com", ticket, said))
    _, said = await _handed_over()  # asking again for a person: the open ticket is joined
    assert said[-1]["text"] == EN.on_file.format(address="ann@example.com")
