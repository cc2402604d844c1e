"""Small conversational actions: the reply language, yes/no answers, feedback on answers."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.customers import known_customer
from actions.language import choose_language


class ActionDetectLanguage(Action):
    """Runs first in every turn so that the responses after it render in the right language."""

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
        if language == tracker.get_slot("language"):
            return []
        return [SlotSet("language", language)]


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
            dispatcher.utter_message(response="utter_handoff")
        elif offer == "feedback":
            feedback = "helpful" if yes else "not_helpful"
            events.append(SlotSet("faq_feedback", feedback))
            dispatcher.utter_message(
                response="utter_feedback_thanks" if yes else "utter_feedback_sorry"
            )
        elif offer == "clarify" and not yes:
            dispatcher.utter_message(response="utter_not_found")
            events[0] = SlotSet("pending_offer", "human")
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
        return [
            SlotSet("faq_feedback", "helpful" if helpful else "not_helpful"),
            SlotSet("pending_offer", None),
        ]
