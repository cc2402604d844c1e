"""Small conversational actions: the reply language, greetings, yes/no answers, feedback."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.customers import known_customer
from actions.escalation import escalate, handoff_turn
from actions.language import choose_language
from bot.models import EscalationReason


class ActionDetectLanguage(Action):
    """Runs first in every turn so that the responses after it render in the right language;
    while people have the conversation, it also keeps the bot quiet (see ``handoff_turn``)."""

    def name(self) -> str:
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        metadata = tracker.latest_message.get("metadata") or {}
        previous = tracker.get_slot("language")
        if previous is None:  # a new conversation: a returning customer keeps their language
            customer = await known_customer(tracker.sender_id, metadata)
            previous = customer.language if customer is not None else None
        language = choose_language(
            tracker.latest_message.get("text"), previous=previous, hint=metadata.get("language")
        )
        events: list[EventType] = []
        if language != tracker.get_slot("language"):
            events.append(SlotSet("language", language))
        return events + await handoff_turn(dispatcher, tracker)


class ActionGreet(Action):
    """Greets, and welcomes a returning customer back by name."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        metadata = tracker.latest_message.get("metadata") or {}
        customer = await known_customer(tracker.sender_id, metadata)
        if customer is not None and customer.name:
            dispatcher.utter_message(response="utter_greet_returning", name=customer.name)
        else:
            dispatcher.utter_message(response="utter_greet")
        return []


class ActionHandleYesNo(Action):
    """A bare yes or no answers whatever the bot offered last (``pending_offer``)."""

    def name(self) -> str:
        return "action_handle_yes_no"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        yes = tracker.get_intent_of_latest_message() == "affirm"
        offer = tracker.get_slot("pending_offer")
        events: list[EventType] = [SlotSet("pending_offer", None)]
        if offer == "human" and yes:
            return await escalate(dispatcher, tracker, EscalationReason.REQUESTED)
        if offer == "feedback":
            events.append(SlotSet("faq_feedback", "helpful" if yes else "not_helpful"))
            if not yes:
                return events + await escalate(dispatcher, tracker, EscalationReason.NOT_HELPFUL)
            dispatcher.utter_message(response="utter_feedback_thanks")
        elif offer == "clarify" and not yes:
            return await escalate(dispatcher, tracker, EscalationReason.CLARIFICATION_REFUSED)
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return events


class ActionRecordFeedback(Action):
    """Puts the customer's verdict on the last answer (``faq_id``) into the event stream."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        helpful = tracker.get_intent_of_latest_message() == "feedback_helpful"
        events: list[EventType] = [
            SlotSet("faq_feedback", "helpful" if helpful else "not_helpful"),
            SlotSet("pending_offer", None),
        ]
        if not helpful:
            return events + await escalate(dispatcher, tracker, EscalationReason.NOT_HELPFUL)
        dispatcher.utter_message(response="utter_feedback_thanks")
        return events
