"""Asking for an e-mail address at the handoff, and reading what the customer types back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.domain.handoff import Promise
from bot.domain.mail.asking import (
    ASKED,
    AnswerKind,
    RequestKind,
    accept_answer,
    address_request,
    asked,
    read_answer,
)
from bot.domain.mail.chat_texts import chat_texts_for
from bot.domain.mail.consent import consented_address
from bot.store.models import Customer, EmailConsent, Identity, IdentityKind
from tests.bot.domain.mail_world import T0, a_conversation


@pytest.mark.parametrize(
    ("typed", "address"),
    [
        ("ann@example.com", "ann@example.com"),
        ("  Ann.Lee@Example.COM ", "Ann.Lee@example.com"),
        ("my e-mail is ann@example.com.", "ann@example.com"),
        ("我的邮箱是ann@example.com，谢谢", "ann@example.com"),
        ("ａｎｎ＠ｅｘａｍｐｌｅ.ｃｏｍ", "ann@example.com"),  # typed with a full-width keyboard
        ("mailto:ann@example.com", "ann@example.com"),
    ],
)
def test_an_address_is_found_in_what_the_customer_types(typed, address):
    answer = read_answer(typed)
    assert (answer.kind, answer.address) == (AnswerKind.ADDRESS, address)


@pytest.mark.parametrize("typed", ["ann@", "ann@localhost", "@example.com", "ann@@example.com"])
def test_an_attempt_at_an_address_that_is_none_is_invalid(typed):
    assert read_answer(typed).kind == AnswerKind.INVALID


@pytest.mark.parametrize("typed", ["no", "No thanks!", "不用了，谢谢", "不要", "算了。", "唔使"])
def test_a_no_declines(typed):
    assert read_answer(typed).kind == AnswerKind.DECLINED


def test_the_nlu_deny_declines_and_anything_else_is_for_the_agents():
    assert read_answer("I'd rather not", intent="deny").kind == AnswerKind.DECLINED
    assert read_answer("when do you open tomorrow?").kind == AnswerKind.OTHER
    assert read_answer("").kind == AnswerKind.OTHER
    assert read_answer("x@example.com " + "a" * 600).kind == AnswerKind.OTHER


def _user(text: str) -> dict:
    return {"event": "user", "text": text}


def _bot(text: str, **metadata) -> dict:
    return {"event": "bot", "text": text, "metadata": metadata}


def test_only_the_message_right_after_the_question_answers_it():
    question = _bot("Your e-mail?", **{ASKED: True})
    assert asked([_user("human"), _bot("We will reply later."), question, _user("a@b.co")])
    assert not asked([question, _user("a@b.co"), _user("hello?")])  # the second message
    assert not asked([question, _bot("Agent: hello", agent_name="Li"), _user("a@b.co")])
    assert not asked([_bot("We will reply later."), _user("a@b.co")])
    assert not asked([])


async def test_the_bot_asks_only_when_nobody_answers_soon_and_mail_is_on(sessions):
    world = await a_conversation(sessions, email=None)
    async with sessions() as session, session.begin():
        for promise in (Promise.LATER, Promise.CLOSED):
            request = await address_request(
                session, world.customer_id, mail_enabled=True, promise=promise, now=T0
            )
            assert request.kind == RequestKind.ASK
        soon = await address_request(
            session, world.customer_id, mail_enabled=True, promise=Promise.SOON, now=T0
        )
        off = await address_request(
            session, world.customer_id, mail_enabled=False, promise=Promise.CLOSED, now=T0
        )
        assert soon.kind == off.kind == RequestKind.NONE


async def test_an_earlier_consent_or_the_shops_identity_gives_the_address(sessions):
    agreed = await a_conversation(sessions, email="ann@example.com")
    signed_in = await a_conversation(sessions, email=None)
    async with sessions() as session, session.begin():
        customer = await session.get_one(Customer, signed_in.customer_id)
        customer.email = "li@shop-customer.example"
        session.add(
            Identity(
                customer_id=customer.id, kind=IdentityKind.SHOP.value, value="c-1", verified=True
            )
        )
    async with sessions() as session, session.begin():
        known = await address_request(
            session, agreed.customer_id, mail_enabled=True, promise=Promise.LATER, now=T0
        )
        shop = await address_request(
            session, signed_in.customer_id, mail_enabled=True, promise=Promise.CLOSED, now=T0
        )
    assert (known.kind, known.address) == (RequestKind.ON_FILE, "ann@example.com")
    assert (shop.kind, shop.address) == (RequestKind.ON_FILE, "li@shop-customer.example")
    async with sessions() as session:
        consent = await session.get_one(EmailConsent, signed_in.customer_id)
        assert (consent.address, consent.source) == ("li@shop-customer.example", "shop")


async def test_an_unverified_address_on_the_profile_is_asked_about(sessions):
    world = await a_conversation(sessions, email=None)
    async with sessions() as session, session.begin():
        (await session.get_one(Customer, world.customer_id)).email = "typed@example.com"
        request = await address_request(
            session, world.customer_id, mail_enabled=True, promise=Promise.LATER, now=T0
        )
    assert request.kind == RequestKind.ASK


async def test_an_answer_with_an_address_is_stored_with_consent_and_others_are_not(sessions):
    world = await a_conversation(sessions, email=None)
    async with sessions() as session, session.begin():
        assert await accept_answer(session, world.customer_id, read_answer("no"), T0) is None
        assert await consented_address(session, world.customer_id) is None
        stored = await accept_answer(session, world.customer_id, read_answer("a@b.example"), T0)
    async with sessions() as session:
        assert stored == await consented_address(session, world.customer_id) == "a@b.example"
        consent = await session.scalar(select(EmailConsent))
        assert consent is not None and consent.source == "chat"


def test_the_texts_speak_the_customers_language():
    assert "e-mail" in chat_texts_for("en").ask
    assert "邮箱" in chat_texts_for("zh").ask
    assert "郵" in chat_texts_for("zh-TW").ask and "郵" in chat_texts_for("zh-HK").ask
    assert "{address}" in chat_texts_for("zh-HK").confirmed
