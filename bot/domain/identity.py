"""Who is writing: verified shop customers, anonymous visitors, WeChat users.

The shop's server signs its customer id with the shared secret ``IDENTITY_SECRET``
(``hex(HMAC-SHA256(secret, customer_id))``, as Intercom's and Crisp's identity verification do)
and hands id and signature to the widget, which sends them as message metadata::

    {"customer_id": "c-1042", "customer_hash": "5f0c…", "name": "Li Lei", "email": "…", "phone": "…"}

Only a valid signature links a conversation to that customer; the optional contact fields are
taken from verified messages only. Anything else leaves the writer an anonymous visitor.

>>> secret = "s3cret"
>>> verify({"customer_id": "c-1", "customer_hash": sign("c-1", secret)}, secret).customer_id
'c-1'
>>> verify({"customer_id": "c-1", "customer_hash": "forged"}, secret) is None
True
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vocabulary import MetadataKey

MAX_ID_LENGTH = 255
CONTACT_LIMITS = {"name": 200, "email": 320, "phone": 50}


@dataclass(frozen=True)
class VerifiedCustomer:
    customer_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None


def sign(customer_id: str, secret: str) -> str:
    """The signature the shop's server computes for ``customer_id``."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


def verify(metadata: Mapping[str, Any] | None, secret: str) -> VerifiedCustomer | None:
    """The customer that ``metadata`` proves, or None (no secret, no id, a bad signature)."""
    if not secret or not isinstance(metadata, Mapping):
        return None
    customer_id, signature = (
        metadata.get(MetadataKey.CUSTOMER_ID),
        metadata.get(MetadataKey.CUSTOMER_HASH),
    )
    if not isinstance(customer_id, str) or not isinstance(signature, str):
        return None
    if not customer_id or len(customer_id) > MAX_ID_LENGTH:
        return None
    given = signature.strip().lower().encode("utf-8", "replace")  # non-ASCII never matches
    try:
        expected = sign(customer_id, secret).encode()
    except UnicodeEncodeError:  # a lone surrogate: no shop signed that
        return None
    if not hmac.compare_digest(expected, given):
        return None
    contact = {}
    for field, limit in CONTACT_LIMITS.items():
        value = metadata.get(field)
        if isinstance(value, str) and value.strip():
            contact[field] = value.strip()[:limit]
    return VerifiedCustomer(customer_id, **contact)
