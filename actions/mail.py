"""The bot's side of e-mail continuity in the chat, decided by :mod:`bot.domain.mail.asking`:
the question for an address at the handoff, and the answer to what the customer types back
while people have the conversation. The texts are the application's
(:mod:`bot.domain.mail.chat_texts`), in the conversation's language, so every channel gets
them, and the question carries :data:`bot.domain.mail.asking.ASKED` in its metadata."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.services import Services
from bot.domain.handoff import Promise
from bot.domain.mail.addresses import InvalidAddress
from bot.domain.mail.asking import (
    ASKED,
    AnswerKind,
    RequestKind,
    accept_answer,
    address_request,
    asked,
    read_answer,
)
from bot.domain.mail.chat_texts import chat_texts_for
from bot.store.models import Conversation
from vocabulary import Slot

log = logging.getLogger(__name__)


async def ask_for_address(
    services: Services,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    customer_id: int,
    promise: Promise,
) -> None:
    """At the handoff: ask for an address, or say where the reply will go (see
    :func:`bot.domain.mail.asking.address_request`). A failure here never stops the handoff."""
    settings = services.settings
    try:
        async with services.sessions() as session, session.begin():
            request = await address_request(
                session,
                customer_id,
                mail_enabled=settings.mail.enabled,
                promise=promise,
                now=datetime.now(UTC),
            )
    except Exception:  # the handoff stands; only the question is not asked
        log.exception("cannot decide whether to ask %s for an address", tracker.sender_id)
        return
    texts = chat_texts_for(tracker.get_slot(Slot.LANGUAGE))
    if request.kind == RequestKind.ASK:
        dispatcher.utter_message(text=texts.ask, **{ASKED: True})
    elif request.kind == RequestKind.ON_FILE:
        dispatcher.utter_message(text=texts.on_file.format(address=request.address))


async def answer_about_address(
    services: Services, dispatcher: CollectingDispatcher, tracker: Tracker, language: str | None
) -> AnswerKind | None:
    """While people have the conversation: if the customer's message answers the question for
    an address, store and confirm it, take the "no", or say what is wrong with it.

    Returns:
        What the message was (None: not an answer to the question; the bot has said nothing).
    """
    if not services.settings.mail.enabled or not asked(tracker.events):
        return None
    message = tracker.latest_message
    answer = read_answer(message.get("text"), (message.get("intent") or {}).get("name"))
    texts = chat_texts_for(language)
    if answer.kind == AnswerKind.OTHER:
        return None
    if answer.kind == AnswerKind.DECLINED:
        dispatcher.utter_message(text=texts.declined)
        return answer.kind
    if answer.kind == AnswerKind.ADDRESS:
        try:
            async with services.sessions() as session, session.begin():
                customer_id = await session.scalar(
                    select(Conversation.customer_id).where(
                        Conversation.sender_id == tracker.sender_id
                    )
                )
                if customer_id is None:  # no conversation stored: nothing to attach it to
                    return None
                stored = await accept_answer(session, customer_id, answer, datetime.now(UTC))
        except InvalidAddress:
            stored = None
        except Exception:  # not stored: the bot confirms nothing, the handoff goes on
            log.exception("cannot store the address %s gave", tracker.sender_id)
            return None
        if stored is not None:
            dispatcher.utter_message(text=texts.confirmed.format(address=stored))
            return answer.kind
    dispatcher.utter_message(text=texts.invalid, **{ASKED: True})  # the question stays open
    return AnswerKind.INVALID
