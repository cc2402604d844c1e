"""Which customer an operator means by a key, for commands that read or delete their data.

A key can be a conversation (sender) id, a shop customer id or a WeChat OpenID, and the three
share one space of strings: anyone can open a conversation whose id is a shop customer's id
("c-42"). Guessing which one was meant would let that decoy be exported or deleted in the
customer's place, so a key that names different customers is refused (:class:`AmbiguousKey`)
unless the operator says which kind it is (``--by``).

>>> async with sessions() as session:  # doctest: +SKIP
...     customer = await resolve_customer(session, "c-42", KeyKind.SHOP)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Conversation, Customer, Identity, IdentityKind


class KeyKind(str, Enum):
    CONVERSATION = "conversation"  # a Rasa sender id (a widget visitor's, a WeChat OpenID's)
    SHOP = "shop"  # a shop customer id, from a verified identity
    WECHAT = "wechat"  # a WeChat OpenID


class CustomerKeyError(Exception):
    """A key that does not name exactly one customer."""


class CustomerNotFound(CustomerKeyError):
    pass


@dataclass(frozen=True)
class Match:
    kind: KeyKind
    customer_id: int

    def describe(self, key: str) -> str:
        return f"{self.kind.value} {key!r} (customer {self.customer_id})"


class AmbiguousKey(CustomerKeyError):
    """The key names different customers as different kinds of key."""

    def __init__(self, key: str, matches: list[Match]) -> None:
        self.key, self.matches = key, matches
        named = "; ".join(match.describe(key) for match in matches)
        kinds = "|".join(sorted({match.kind.value for match in matches}))
        super().__init__(
            f"{key!r} names {len({m.customer_id for m in matches})} different customers: "
            f"{named}; say which with --by {kinds}"
        )


async def _matches(session: AsyncSession, key: str, kind: KeyKind) -> list[int]:
    if kind is KeyKind.CONVERSATION:
        # Visitor identities are conversation ids too (one survives its purged conversation).
        found = await session.scalars(
            select(Conversation.customer_id).where(Conversation.sender_id == key)
        )
        ids = list(found.all())
        visitor = await session.scalars(
            select(Identity.customer_id).where(
                Identity.kind == IdentityKind.VISITOR.value, Identity.value == key
            )
        )
        return ids or list(visitor.all())
    found = await session.scalars(
        select(Identity.customer_id).where(Identity.kind == kind.value, Identity.value == key)
    )
    return list(found.all())


async def find_matches(session: AsyncSession, key: str) -> list[Match]:
    """Every kind of key ``key`` is, with the customer it names, conversations first."""
    return [
        Match(kind, customer_id)
        for kind in KeyKind
        for customer_id in dict.fromkeys(await _matches(session, key, kind))
    ]


async def resolve_customer(session: AsyncSession, key: str, by: KeyKind | None = None) -> Customer:
    """The one customer ``key`` names.

    Args:
        session: a database session.
        key: a conversation id, shop customer id or WeChat OpenID.
        by: which of them ``key`` is; None: any, as long as all that match are one customer.

    Returns:
        The customer.

    Raises:
        CustomerNotFound: nothing of that kind (or of any kind) has that value.
        AmbiguousKey: without ``by``, the key names different customers.
    """
    matches = await find_matches(session, key)
    if by is not None:
        matches = [match for match in matches if match.kind is by]
    customers = {match.customer_id for match in matches}
    if not customers:
        kind = f"{by.value} " if by is not None else "customer or conversation "
        raise CustomerNotFound(f"no {kind}{key!r}")
    if len(customers) > 1:
        raise AmbiguousKey(key, matches)
    customer = await session.get(Customer, customers.pop())
    if customer is None:  # deleted between the two queries
        raise CustomerNotFound(f"no customer or conversation {key!r}")
    return customer
