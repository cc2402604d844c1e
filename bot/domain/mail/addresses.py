"""Mail addresses: the conversation's reply address, and addresses customers type.

A reply address carries the conversation's token, ``reply+TOKEN@MAIL_REPLY_DOMAIN``: 160 random
bits in lower-case base32, so that mail servers that fold the local part's case keep it intact.

>>> token = new_token()
>>> len(token), token == token.lower()
(32, True)
>>> address = reply_address(token, "Reply.Shop.Example")
>>> token_of(address.upper(), "reply.shop.example") == token
True
>>> token_of("reply+forged@reply.shop.example", "reply.shop.example") is None
True
>>> normalise_address("  Ann.Lee@Example.COM ")
'Ann.Lee@example.com'
>>> normalise_address("ann@localhost")
Traceback (most recent call last):
bot.domain.mail.addresses.InvalidAddress: not an e-mail address: 'ann@localhost'
"""

from __future__ import annotations

import base64
import re
import secrets
from email.utils import getaddresses

TOKEN_BYTES = 20
REPLY_PREFIX = "reply+"
MAX_ADDRESS_CHARS = 254
_TOKEN = re.compile(r"[a-z2-7]{32}")
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class InvalidAddress(ValueError):
    """What the customer typed is not a usable e-mail address."""


def new_token() -> str:
    """A fresh, unguessable reply token (:data:`TOKEN_BYTES` random bytes, base32, lower case)."""
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii").lower()


def reply_address(token: str, domain: str) -> str:
    """The address a customer's reply goes to: ``reply+TOKEN@domain``."""
    return f"{REPLY_PREFIX}{token}@{domain.lower()}"


def token_of(address: str, domain: str) -> str | None:
    """The token of a reply address of ``domain``, or None for any other address (another
    domain, no token, a token of the wrong shape). Case does not matter."""
    local, at, address_domain = address.strip().strip("<>").rpartition("@")
    if not at or address_domain.lower() != domain.lower():
        return None
    local = local.lower()
    if not local.startswith(REPLY_PREFIX):
        return None
    token = local.removeprefix(REPLY_PREFIX)
    return token if _TOKEN.fullmatch(token) else None


def normalise_address(text: str) -> str:
    """A typed address, checked and tidied: the domain in lower case (IDN as punycode).

    Args:
        text: what the customer typed, possibly with spaces around it.

    Returns:
        The address to store and send to.

    Raises:
        InvalidAddress: not one plain address with a dotted domain (``a@b.c``).
    """
    candidate = text.strip()
    local, at, domain = candidate.rpartition("@")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        ascii_domain = ""
    labels = ascii_domain.split(".")
    if (
        not at
        or len(candidate) > MAX_ADDRESS_CHARS
        or len(local) > 64
        or not _LOCAL.fullmatch(local)
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidAddress(f"not an e-mail address: {text[:100]!r}")
    return f"{local}@{ascii_domain}"


def sender_address(header: str | None) -> str | None:
    """The address of a ``From`` header ("Ann <ann@example.com>"), in lower case, or None.

    >>> sender_address('"Lee, Ann" <Ann@Example.com>')
    'ann@example.com'
    """
    if not header:
        return None
    found = [address for _, address in getaddresses([header]) if "@" in address]
    return found[0].lower() if len(found) == 1 else None


def same_address(first: str | None, second: str | None) -> bool:
    """Whether two addresses name the same mailbox (compared without case, as people expect).

    >>> same_address("Ann@Example.com", "ann@example.com"), same_address(None, None)
    (True, False)
    """
    return bool(first and second and first.strip().lower() == second.strip().lower())
