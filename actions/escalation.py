"""Handing a conversation to people, keeping quiet while they have it, and taking it back.

- :func:`escalate` opens a ticket (or finds the open one), gives it to an online agent when one is
  available (:mod:`bot.domain.assignment`) and tells the customer honestly when to expect a
  reply; the ``handoff_ticket`` slot then marks the conversation as handed over.
- :func:`handoff_turn` runs first in every turn: while the ticket is open, the bot says nothing
  (the customer's message reaches the agents through the event stream), except for one
  acknowledgement.
- ``action_deliver_outbox`` is run by the web service through Rasa's HTTP API: it utters the
  agents' pending replies into the customer's channel and, once the ticket is resolved, asks for
  a rating. Every message carries its outbox id, and the action skips ids the tracker already
  holds, so a retried delivery never sends a reply twice.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.mail import answer_about_address, ask_for_address
from actions.services import ServiceAction, Services
from bot.domain.assignment import AssignmentRules
from bot.domain.dialogue.courtesy import question_in
from bot.domain.handoff import HandoffState, Promise, handoff_state, promise
from bot.domain.mail.asking import AnswerKind
from bot.domain.outbox import held_ids, next_pending
from bot.domain.tickets import TicketLimits, TooManyTickets, open_ticket
from bot.store.models import OutboxKind
from vocabulary import EscalationReason, Offer, Slot

log = logging.getLogger(__name__)

# Intents whose text is never the customer's question, and intents of courtesy, yes/no and
# feedback, whose text is the question only when more than courtesy is left of it.
NOT_QUESTIONS = {"request_human", "choose_faq", "rate", "goodbye"}
COURTESY = {"affirm", "deny", "thanks", "greet", "feedback_helpful", "feedback_not_helpful"}


def _question(tracker: Tracker) -> str | None:
    """The customer's latest message that reads like their question (not a button or a yes)."""
    fallback = None
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        text = (event.get("text") or "").strip()
        if not text or text.startswith("/"):
            continue
        fallback = fallback or text
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent in NOT_QUESTIONS or (intent in COURTESY and question_in(text) is None):
            continue
        return text
    return fallback


def _candidates(tracker: Tracker) -> list[dict]:
    offered = tracker.get_slot(Slot.FAQ_CANDIDATES)
    if offered:
        return list(offered)
    if tracker.get_slot(Slot.FAQ_ID):
        return [{"id": tracker.get_slot(Slot.FAQ_ID), "score": tracker.get_slot(Slot.FAQ_SCORE)}]
    return []


async def escalate(
    services: Services,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: EscalationReason,
) -> list[EventType]:
    """Open a ticket for this conversation and tell the customer what happens next."""
    sessions, settings = services.sessions, services.settings
    metadata = tracker.latest_message.get("metadata") or {}
    try:
        async with sessions() as session, session.begin():
            ticket, _ = await open_ticket(
                session,
                tracker.sender_id,
                reason,
                _question(tracker),
                _candidates(tracker),
                tracker.get_latest_input_channel(),
                metadata,
                settings.privacy.identity_secret.get_secret_value(),
                TicketLimits(
                    settings.handoff.tickets_per_conversation_per_hour,
                    settings.handoff.tickets_per_address_per_hour,
                ),
                assignment=AssignmentRules.from_settings(settings.handoff),
            )
            expectation = await promise(session, settings.handoff)
    except TooManyTickets as exc:
        log.warning("no ticket for %s: %s", tracker.sender_id, exc)
        dispatcher.utter_message(response="utter_handoff_limited")
        return [SlotSet(Slot.PENDING_OFFER, None)]
    except Exception:
        log.exception("cannot open a ticket for %s", tracker.sender_id)
        dispatcher.utter_message(response="utter_handoff_unavailable")
        return [SlotSet(Slot.PENDING_OFFER, None)]
    dispatcher.utter_message(
        response=f"utter_handoff_{expectation}",
        hours=settings.handoff.business_hours,
        ticket=ticket.id,
    )
    await ask_for_address(services, dispatcher, tracker, ticket.customer_id, expectation)
    return [
        SlotSet(Slot.HANDOFF_TICKET, str(ticket.id)),
        SlotSet(Slot.HANDOFF_ACKNOWLEDGED, False),
        SlotSet(Slot.PENDING_OFFER, None),
        SlotSet(Slot.NOT_FOUND_IN_A_ROW, 0.0),
    ]


async def handoff_turn(
    services: Services,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    language: str | None = None,
) -> list[EventType]:
    """Events that keep the bot quiet while people have the conversation; [] when they do not.
    Quiet, but for one acknowledgement and the answers about an e-mail address the bot asked
    for at the handoff (:mod:`actions.mail`), in ``language`` (else the slot's)."""
    ticket_id = tracker.get_slot(Slot.HANDOFF_TICKET)
    if not ticket_id:
        return []
    sessions, settings = services.sessions, services.settings
    try:
        async with sessions() as session:
            state = await handoff_state(session, int(ticket_id), settings.handoff)
    except Exception:  # unsure: stay quiet rather than talk over an agent
        log.exception("cannot check ticket %s; staying in handoff", ticket_id)
        state = HandoffState(with_people=True)
    if not state.with_people:  # resolved, and the resume message has not come through yet
        return [SlotSet(Slot.HANDOFF_TICKET, None), SlotSet(Slot.HANDOFF_ACKNOWLEDGED, None)]
    events: list[EventType] = []
    language = language or tracker.get_slot(Slot.LANGUAGE)
    answered = await answer_about_address(services, dispatcher, tracker, language)
    if answered in (AnswerKind.ADDRESS, AnswerKind.DECLINED):
        if not tracker.get_slot(Slot.HANDOFF_ACKNOWLEDGED):  # the answer acknowledges it
            events.append(SlotSet(Slot.HANDOFF_ACKNOWLEDGED, True))
    elif answered is None and not tracker.get_slot(Slot.HANDOFF_ACKNOWLEDGED):
        dispatcher.utter_message(
            response=f"utter_handoff_ack_{state.promise or Promise.LATER}",
            hours=settings.handoff.business_hours,
        )
        events.append(SlotSet(Slot.HANDOFF_ACKNOWLEDGED, True))
    return [*events, FollowupAction("action_listen")]


class ActionEscalate(ServiceAction):
    """The customer asked for a person, or complained."""

    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        complained = tracker.get_intent_of_latest_message() == "complain"
        reason = EscalationReason.COMPLAINT if complained else EscalationReason.REQUESTED
        return await escalate(self.services, dispatcher, tracker, reason)


class ActionDeliverOutbox(ServiceAction):
    """Utters the oldest message the console queued for this conversation (run through Rasa's
    HTTP API, once per message, so that a channel refusing one cannot make others repeat)."""

    def name(self) -> str:
        return "action_deliver_outbox"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        async with self.services.sessions() as session:
            message = await next_pending(session, tracker.sender_id, held_ids(tracker.events))
        events: list[EventType] = []
        if message is not None and message.kind == OutboxKind.RESUME.value:
            dispatcher.utter_message(response="utter_ask_rating", outbox_id=message.id)
            events += [
                SlotSet(Slot.HANDOFF_TICKET, None),
                SlotSet(Slot.HANDOFF_ACKNOWLEDGED, None),
                SlotSet(Slot.PENDING_OFFER, Offer.RATING.value),
            ]
        elif message is not None:
            dispatcher.utter_message(
                text=message.text, outbox_id=message.id, agent_name=message.agent_name
            )
        # Run from the HTTP API, outside a turn: end as a turn ends, listening, so that the
        # customer's next message starts a turn the rules recognise.
        return [*events, ActionExecuted("action_listen")]
