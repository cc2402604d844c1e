"""Masking personal data in customer text (``REDACT_PII``): e-mail addresses, mainland ID-card
numbers and phone numbers. Ingestion runs it on every message it stores when the setting is on,
and the dead letters on every payload they keep."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Mainland ID cards: 17 digits and a digit or X; masked before phone numbers, which they contain.
ID_CARD = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
# Phone numbers in the shapes customers type them, but not any long number (order numbers stay):
# mainland mobiles (+86 138 0013 8000), landlines with an area code (010-12345678),
# international numbers with a + (+44 20 7946 0958), North American (415) 555-2671.
PHONE = re.compile(
    r"(?<![A-Za-z0-9+])(?:"
    r"(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}"
    r"|0\d{2,3}-\d{7,8}"
    r"|\+\d{1,3}(?:[ -]?\(?\d{1,4}\)?){2,5}"
    r"|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}"
    r")(?![A-Za-z0-9])"
)


def redact(text: str | None) -> str | None:
    """Mask e-mail addresses, ID-card numbers and phone numbers.

    >>> redact("mail li@example.com or call 138 0013 8000, ID 11010519491231002X")
    'mail [email] or call [phone], ID [id-card]'
    """
    if not text:
        return text
    text = EMAIL.sub("[email]", text)
    text = ID_CARD.sub("[id-card]", text)
    return PHONE.sub("[phone]", text)
