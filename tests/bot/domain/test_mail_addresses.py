"""Reply addresses carry an unguessable token; typed addresses are checked before storing."""

from __future__ import annotations

import pytest

from bot.domain.mail.addresses import (
    InvalidAddress,
    new_token,
    normalise_address,
    reply_address,
    sender_address,
    token_of,
)

DOMAIN = "reply.shop.example"


def test_tokens_are_fresh_and_survive_case_folding_mail_servers():
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    token = tokens.pop()
    assert token_of(reply_address(token, DOMAIN).upper(), DOMAIN) == token


@pytest.mark.parametrize(
    "address",
    [
        f"reply+{'a' * 32}@other.example",  # another domain
        f"support@{DOMAIN}",  # no token
        f"reply+{'a' * 31}@{DOMAIN}",  # too short
        f"reply+{'a' * 31}1@{DOMAIN}",  # not base32
        f"reply+{'a' * 32}@{DOMAIN}.evil.example",
        "",
    ],
)
def test_addresses_without_a_well_formed_token_of_our_domain_have_none(address):
    assert token_of(address, DOMAIN) is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ann@example.com", "ann@example.com"),
        ("  Ann.Lee+shop@Example.COM\n", "Ann.Lee+shop@example.com"),
        ("张三@例子.中国", None),  # a non-ASCII local part: refused
        ("li@例子.中国", "li@xn--fsqu00a.xn--fiqs8s"),
    ],
)
def test_typed_addresses_are_tidied(typed, stored):
    if stored is None:
        with pytest.raises(InvalidAddress):
            normalise_address(typed)
    else:
        assert normalise_address(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "ann",
        "ann@",
        "@example.com",
        "ann@example",
        "ann@@example.com",
        "ann@exa mple.com",
        "ann..lee@example.com",
        "ann@-example.com",
        "ann@1.2.3.4",
        "a" * 65 + "@example.com",
        "ann@example.com\r\nBcc: victim@example.com",
        "Ann <ann@example.com>",
    ],
)
def test_what_is_not_one_plain_address_is_refused(typed):
    with pytest.raises(InvalidAddress):
        normalise_address(typed)


def test_the_sender_of_a_from_header():
    assert sender_address("=?utf-8?b?5byg5LiJ?= <ZS@Example.cn>") == "zs@example.cn"
    assert sender_address("a@example.com, b@example.com") is None
    assert sender_address("undisclosed-recipients:;") is None
