"""Asking a customer for an e-mail address when nobody can answer them now, and reading what
they type back.

At the handoff (:func:`address_request`): with mail on (SMTP_HOST set) and a promise of a reply
*later* or when the shop *opens* (:class:`bot.domain.handoff.Promise`), the bot asks for an
address, unless the customer already agreed to one, or the shop's verified identity of them
gives one (then it is taken, with "shop" as the consent's source, and the customer is told).
The bot's question carries :data:`ASKED` in its metadata, so that the conversation's events
say whether the customer's next message answers it (:func:`asked`). While the conversation is
with people the bot is otherwise quiet; what the customer types back (:func:`read_answer`) is
an address (stored with their consent, :func:`accept_answer`, and confirmed), a "no"
(acknowledged), something that tries to be an address and is not (the bot says so, asks again,
and stores nothing), or anything else (the question lapses; the message is for the agents).

>>> read_answer("my e-mail is Ann.Lee@Example.com, thanks")
Answer(kind=<AnswerKind.ADDRESS: 'address'>, address='Ann.Lee@example.com')
>>> read_answer("不用了，谢谢").kind, read_answer("ann@localhost").kind
(<AnswerKind.DECLINED: 'declined'>, <AnswerKind.INVALID: 'invalid'>)
>>> read_answer("when will you open?").kind
<AnswerKind.OTHER: 'other'>
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.handoff import Promise
from bot.domain.mail.addresses import InvalidAddress, normalise_address
from bot.domain.mail.consent import consented_address, record_consent
from bot.store.models import Customer, Identity, IdentityKind
from vocabulary import MetadataKey

# The metadata key of the bot's question for an address (in the bot event Rasa stores).
ASKED = MetadataKey.MAIL_ADDRESS_ASKED.value
CHAT_SOURCE, SHOP_SOURCE = "chat", "shop"
MAX_ANSWER_CHARS = 500  # longer messages are no answer to the question
# Something shaped like an address inside a sentence ("我的邮箱是ann@example.com。").
_CANDIDATE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
_PUNCTUATION = re.compile(r"[\s\W_]+")
DECLINES = frozenset(
    {
        "no",
        "nope",
        "nah",
        "no thanks",
        "no thank you",
        "no thx",
        "not now",
        "skip",
        "no email",
        "no e mail",
        "i dont want to",
        "不",
        "不用",
        "不用了",
        "不要",
        "不了",
        "不需要",
        "算了",
        "没有",
        "沒有",
        "不用谢谢",
        "不用了谢谢",
        "不用謝謝",
        "不用了謝謝",
        "不要了",
        "唔使",
        "唔使喇",
        "唔要",
    }
)
DENY_INTENT = "deny"


class RequestKind(StrEnum):
    NONE = "none"  # mail off, or someone answers soon: nothing is said
    ASK = "ask"  # the bot asks for an address
    ON_FILE = "on_file"  # an address is known: the customer is told where the reply goes


@dataclass(frozen=True)
class AddressRequest:
    kind: RequestKind
    address: str | None = None


class AnswerKind(StrEnum):
    ADDRESS = "address"
    DECLINED = "declined"
    INVALID = "invalid"
    OTHER = "other"


@dataclass(frozen=True)
class Answer:
    kind: AnswerKind
    address: str | None = None


async def _shop_address(session: AsyncSession, customer_id: int) -> str | None:
    """The e-mail address of the customer's profile when the shop's signature verified them
    (the shop's identity sets it, see :func:`bot.domain.customers.resolve_conversation`)."""
    verified = await session.scalar(
        select(Identity.id).where(
            Identity.customer_id == customer_id,
            Identity.kind == IdentityKind.SHOP.value,
            Identity.verified.is_(True),
        )
    )
    if verified is None:
        return None
    return (await session.get_one(Customer, customer_id)).email


async def address_request(
    session: AsyncSession, customer_id: int, *, mail_enabled: bool, promise: Promise, now: datetime
) -> AddressRequest:
    """Whether the bot asks the customer for an address at the handoff (see the module).

    Args:
        session: the caller's transaction (a shop's address is recorded in it).
        customer_id: the conversation's customer.
        mail_enabled: whether mail goes out (SMTP_HOST set).
        promise: what the bot promised about a person's reply.
        now: the current time.

    Returns:
        What to say: nothing, the question, or where the reply will go.
    """
    if not mail_enabled or promise == Promise.SOON:
        return AddressRequest(RequestKind.NONE)
    address = await consented_address(session, customer_id)
    if address is not None:
        return AddressRequest(RequestKind.ON_FILE, address)
    shop_address = await _shop_address(session, customer_id)
    if shop_address:
        try:
            address = await record_consent(session, customer_id, shop_address, SHOP_SOURCE, now)
        except InvalidAddress:
            return AddressRequest(RequestKind.ASK)
        return AddressRequest(RequestKind.ON_FILE, address)
    return AddressRequest(RequestKind.ASK)


def asked(events: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the customer's latest message answers the bot's question for an address: the
    bot's last message before it was that question (an agent's reply in between, or another
    message of the customer, and it is not)."""
    passed_latest = False
    for event in reversed(list(events)):
        kind = event.get("event")
        if kind == "user":
            if passed_latest:
                return False
            passed_latest = True
        elif kind == "bot" and passed_latest:
            return bool((event.get("metadata") or {}).get(ASKED))
    return False


def _declines(text: str) -> bool:
    words = _PUNCTUATION.sub(" ", text.lower()).strip()
    return words in DECLINES or words.replace(" ", "") in DECLINES


def read_answer(text: str | None, intent: str | None = None) -> Answer:
    """What the customer's message says to the question for an address.

    Args:
        text: the message.
        intent: its intent, as the NLU classified it (``deny`` declines).

    Returns:
        An address (checked, :func:`.addresses.normalise_address`), a "no", an attempt at an
        address that is not one, or something else.
    """
    text = unicodedata.normalize("NFKC", text or "").strip()  # full-width ＠ and letters
    if not text or len(text) > MAX_ANSWER_CHARS:
        return Answer(AnswerKind.OTHER)
    if "@" in text:
        found = [match.group().rstrip(".-") for match in _CANDIDATE.finditer(text)]
        for candidate in [text, *found]:
            try:
                return Answer(AnswerKind.ADDRESS, normalise_address(candidate))
            except InvalidAddress:
                continue
        return Answer(AnswerKind.INVALID)
    if intent == DENY_INTENT or _declines(text):
        return Answer(AnswerKind.DECLINED)
    return Answer(AnswerKind.OTHER)


async def accept_answer(
    session: AsyncSession, customer_id: int, answer: Answer, now: datetime
) -> str | None:
    """Store the address of an :attr:`AnswerKind.ADDRESS` answer on the customer's profile,
    with their consent; the address stored, or None for any other answer."""
    if answer.kind != AnswerKind.ADDRESS or answer.address is None:
        return None
    return await record_consent(session, customer_id, answer.address, CHAT_SOURCE, now)
