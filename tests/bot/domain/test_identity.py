"""Verified customer ids: only the shop's signature proves one, and nothing a client sends in
place of a signature can make the check fail with an error instead of a no."""

from __future__ import annotations

import pytest

from bot.domain.identity import sign, verify

SECRET = "s3cret"


def test_the_shops_signature_proves_the_customer():
    proven = verify(
        {"customer_id": "c-1", "customer_hash": sign("c-1", SECRET), "name": " Li "}, SECRET
    )
    assert (proven.customer_id, proven.name) == ("c-1", "Li")


@pytest.mark.parametrize(
    "metadata",
    [
        {"customer_id": "c-1", "customer_hash": "签名"},  # non-ASCII: compare_digest raised
        {"customer_id": "c-\udc80", "customer_hash": "ab"},  # a lone surrogate in the id
        {"customer_id": "c-1", "customer_hash": "\udc80"},
        {"customer_id": "c-1", "customer_hash": sign("c-2", SECRET)},
        {"customer_id": "", "customer_hash": sign("", SECRET)},
        {"customer_id": 1, "customer_hash": "x"},
    ],
)
def test_anything_else_leaves_the_writer_anonymous(metadata):
    assert verify(metadata, SECRET) is None
