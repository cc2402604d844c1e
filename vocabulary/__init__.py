"""Names shared by the domain, the actions, the application and the connectors.

Every slot, offer, metadata key, escalation reason and language the assistant uses is spelled
here once; the domain (``domain.yml``) and the rules must use the same strings, which
``tests/test_vocabulary.py`` checks. Standard library only: the connectors import it from
Rasa's own Python environment, and it imports nothing of the project.

>>> Slot.PENDING_OFFER.value, Offer.RATING.value, base_language("zh-HK")
('pending_offer', 'rating', 'zh')
"""

from __future__ import annotations

from enum import Enum


class Slot(str, Enum):
    """The conversation's slots (``domain.yml``)."""

    LANGUAGE = "language"
    PENDING_OFFER = "pending_offer"
    FAQ_CHOICE = "faq_choice"
    FAQ_ID = "faq_id"
    FAQ_CATEGORY = "faq_category"
    FAQ_SCORE = "faq_score"
    FAQ_DECISION = "faq_decision"
    FAQ_CANDIDATES = "faq_candidates"
    FAQ_FEEDBACK = "faq_feedback"
    HANDOFF_TICKET = "handoff_ticket"
    HANDOFF_ACKNOWLEDGED = "handoff_acknowledged"
    NOT_FOUND_IN_A_ROW = "not_found_in_a_row"
    RATING = "rating"
    ANSWERS_SINCE_FEEDBACK_PROMPT = "answers_since_feedback_prompt"


class Offer(str, Enum):
    """What the bot last asked the customer, i.e. what a bare reply ("yes", "5") answers."""

    HUMAN = "human"  # "Would you like to talk to a person?"
    FEEDBACK = "feedback"  # "Did this answer help?"
    CLARIFY = "clarify"  # "Did you mean ...?" with buttons
    RATING = "rating"  # "How would you rate the help you got?"


class MetadataKey(str, Enum):
    """Keys of a message's metadata, set by the channels."""

    LANGUAGE = "language"  # the page's or client's language, a hint for the reply language
    CUSTOMER_ID = "customer_id"
    CUSTOMER_HASH = "customer_hash"
    ORIGIN = "origin"  # set by the server, never by the client
    AGENT_NAME = "agent_name"  # on a bot message: the agent who wrote it
    OUTBOX_ID = "outbox_id"  # on a bot message: the console's outbox row it delivers
    MAIL_ADDRESS_ASKED = "mail_address_asked"  # on a bot message: it asks for an e-mail address
    # On a rewind: the turn a channel undid because the action server failed during it, and
    # the undone message's timestamp (it is sent again: the first copy is not the customer's).
    UNDONE_MESSAGE_ID = "undone_message_id"
    UNDONE_AT = "undone_at"


# Languages the FAQ is searched in.
LANGUAGES = ("zh", "en")
# Reply locales: the ``language`` slot's values, what profiles record. ``zh`` is Simplified
# Chinese (the mainland's words), ``zh-TW`` and ``zh-HK`` Traditional Chinese with Taiwan's and
# Hong Kong's words (OpenCC's s2twp and s2hk of the Simplified texts).
LOCALES = ("en", "zh", "zh-TW", "zh-HK")
TRADITIONAL_LOCALES = ("zh-TW", "zh-HK")


def base_language(locale: str | None) -> str:
    """The language a locale searches and is written in: ``"zh"`` or ``"en"``.

    >>> base_language("zh-HK"), base_language("zh"), base_language("en"), base_language(None)
    ('zh', 'zh', 'en', 'en')
    """
    return "zh" if (locale or "").lower().startswith("zh") else "en"


def locale_from_tag(tag: object) -> str | None:
    """The reply locale a client's language tag asks for (a page's ``lang``, a metadata
    ``language``): BCP 47 or POSIX spellings; None for a tag of another language or none.

    >>> [locale_from_tag(t) for t in ("zh-Hant-HK", "zh_TW", "zh-Hant", "zh-CN", "en-GB", "fr")]
    ['zh-HK', 'zh-TW', 'zh-TW', 'zh', 'en', None]
    """
    if not isinstance(tag, str):
        return None
    parts = tag.strip().lower().replace("_", "-").split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] != "zh":
        return None
    if "hans" in parts:
        return "zh"
    if "hk" in parts or "mo" in parts:
        return "zh-HK"
    return "zh-TW" if "tw" in parts or "hant" in parts else "zh"


class EscalationReason(str, Enum):
    """Why a conversation went to people (stored on the ticket)."""

    REQUESTED = "requested"  # the customer asked for a person
    NOT_FOUND = "not_found"  # the bot found nothing, twice in a row
    NOT_HELPFUL = "not_helpful"  # "did not help" after an answer
    COMPLAINT = "complaint"
    CLARIFICATION_REFUSED = "clarification_refused"  # "none of these" to a did-you-mean
