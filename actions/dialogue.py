"""Small conversational actions: the reply language, greetings, thanks, and the replies to the
bot's offers (yes/no, feedback, rating), decided by :mod:`bot.domain.dialogue.decisions`."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.customers import known_customer
from actions.escalation import escalate, handoff_turn
from actions.faq import answer_question
from actions.language import choose_language
from actions.services import ServiceAction, Services
from bot.domain.dialogue.courtesy import question_in
from bot.domain.dialogue.decisions import Step, StepKind, feedback_step, rating_step, reply_to_offer
from bot.domain.tickets import rate
from vocabulary import MetadataKey, Offer, Slot

log = logging.getLogger(__name__)


class ActionBeginTurn(ServiceAction):
    """Runs first in every turn, in two steps: the reply language (so that the responses after
    it render in it), then the handoff (while people have the conversation, the bot keeps
    quiet: see :func:`actions.escalation.handoff_turn` and :mod:`bot.domain.handoff`)."""

    def name(self) -> str:
        return "action_begin_turn"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        metadata = tracker.latest_message.get("metadata") or {}
        previous = tracker.get_slot(Slot.LANGUAGE)
        if previous is None:  # a new conversation: a returning customer keeps their language
            customer = await known_customer(self.services, tracker.sender_id, metadata)
            previous = customer.language if customer is not None else None
        language = choose_language(
            tracker.latest_message.get("text"),
            previous=previous,
            hint=metadata.get(MetadataKey.LANGUAGE),
        )
        events: list[EventType] = []
        if language != tracker.get_slot(Slot.LANGUAGE):
            events.append(SlotSet(Slot.LANGUAGE, language))
        return events + await handoff_turn(self.services, dispatcher, tracker, language)


class ActionGreet(ServiceAction):
    """Greets, and welcomes a returning customer back by name; a question that came with the
    greeting is answered instead."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        question = question_in(text)
        if question is not None and not question.startswith("/"):  # "hi, where is my order?"
            return await answer_question(
                self.services, dispatcher, tracker, text, if_not_found="utter_greet"
            )
        metadata = tracker.latest_message.get("metadata") or {}
        customer = await known_customer(self.services, tracker.sender_id, metadata)
        if customer is not None and customer.name:
            dispatcher.utter_message(response="utter_greet_returning", name=customer.name)
        else:
            dispatcher.utter_message(response="utter_greet")
        return []


class ActionThank(ServiceAction):
    """ "You're welcome", or the answer to the question that came with the thanks."""

    def name(self) -> str:
        return "action_thank"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        return await answer_question(
            self.services, dispatcher, tracker, text, if_not_found="utter_you_are_welcome"
        )


class ActionHandleYesNo(ServiceAction):
    """A yes or no to what the bot offered (the rules only run this after an offer)."""

    def name(self) -> str:
        return "action_handle_yes_no"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        step = reply_to_offer(
            tracker.get_slot(Slot.PENDING_OFFER),
            yes=tracker.get_intent_of_latest_message() == "affirm",
            text=tracker.latest_message.get("text") or "",
        )
        return await carry_out(self.services, step, dispatcher, tracker)


class ActionRecordFeedback(ServiceAction):
    """The customer's verdict on the last answer (``faq_id``), into the event stream."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        step = feedback_step(
            helpful=tracker.get_intent_of_latest_message() == "feedback_helpful",
            text=tracker.latest_message.get("text") or "",
        )
        return await carry_out(self.services, step, dispatcher, tracker)


class ActionRecordRating(ServiceAction):
    """The customer's 1-5 rating of the help they got, onto the ticket (the rules only run
    this after the bot asked for a rating)."""

    def name(self) -> str:
        return "action_record_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        step = rating_step(
            tracker.latest_message.get("text") or "",
            tracker.latest_message.get("entities") or [],
        )
        return await carry_out(self.services, step, dispatcher, tracker)


async def carry_out(
    services: Services, step: Step, dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType]:
    """Do what ``step`` says; the events that record it."""
    events: list[EventType] = [SlotSet(Slot.PENDING_OFFER, None)]
    if step.feedback is not None:
        events.append(SlotSet(Slot.FAQ_FEEDBACK, step.feedback))
    if step.kind is StepKind.ANSWER_QUESTION:
        return events + await answer_question(services, dispatcher, tracker, step.question or "")
    if step.kind is StepKind.ESCALATE:
        assert step.reason is not None
        return events + await escalate(services, dispatcher, tracker, step.reason)
    if step.kind is StepKind.THANK_FOR_FEEDBACK:
        dispatcher.utter_message(response="utter_feedback_thanks")
    elif step.kind is StepKind.RECORD_RATING:
        assert step.rating is not None
        await _record_rating(services, tracker.sender_id, step.rating)
        dispatcher.utter_message(response="utter_rating_thanks")
        events.append(SlotSet(Slot.RATING, float(step.rating)))
    elif step.kind is StepKind.ASK_RATING_AGAIN:
        dispatcher.utter_message(response="utter_ask_rating")
        events = [SlotSet(Slot.PENDING_OFFER, Offer.RATING.value)]
    else:
        dispatcher.utter_message(response="utter_anything_else")
    return events


async def _record_rating(services: Services, sender_id: str, score: int) -> None:
    try:
        async with services.sessions() as session, session.begin():
            await rate(session, sender_id, score)
    except Exception:
        log.exception("cannot record the rating of %s", sender_id)
