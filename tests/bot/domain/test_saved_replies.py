"""Saved replies: checked before they are stored, one text per code and language."""

from __future__ import annotations

import pytest

from bot.domain.auth import create_agent
from bot.domain.saved_replies import (
    MAX_TEXT_CHARS,
    DuplicateSavedReply,
    InvalidSavedReply,
    SavedReplyNotFound,
    check_draft,
    create_saved_reply,
    delete_saved_reply,
    list_saved_replies,
    update_saved_reply,
)


@pytest.mark.parametrize(
    ("code", "language", "text", "complaint"),
    [
        ("", "en", "hi", "code is 1-32"),
        ("x" * 33, "en", "hi", "code is 1-32"),
        ("Refund", "en", "hi", "code is 1-32"),
        ("re fund", "en", "hi", "code is 1-32"),
        ("退款", "en", "hi", "code is 1-32"),
        (None, "en", "hi", "code is 1-32"),
        ("refund", "fr", "hi", "language is one of en, zh, zh-TW, zh-HK"),
        ("refund", None, "hi", "language is one of"),
        ("refund", "en", "   ", "text is 1-4000"),
        ("refund", "en", "x" * (MAX_TEXT_CHARS + 1), "text is 1-4000"),
        ("refund", "en", 42, "text is 1-4000"),
    ],
)
def test_bad_fields_are_refused_saying_what_is_wrong(code, language, text, complaint):
    with pytest.raises(InvalidSavedReply, match=complaint):
        check_draft(code, language, text)


def test_the_longest_code_and_text_are_accepted():
    draft = check_draft("a-b_9" + "x" * 27, "zh-HK", "字" * MAX_TEXT_CHARS)
    assert len(draft.code) == 32 and len(draft.text) == MAX_TEXT_CHARS


async def test_one_text_per_code_and_language(sessions):
    async with sessions() as session, session.begin():
        admin = await create_agent(session, "ann", "Ann", "ann's long passphrase", "admin")
        await create_saved_reply(session, check_draft("refund", "en", "1-7 days."), admin.id)
        await create_saved_reply(session, check_draft("refund", "zh", "1-7 个工作日。"), admin.id)
        hello = await create_saved_reply(session, check_draft("hello", "en", "Hi!"), admin.id)
    async with sessions() as session, session.begin():
        with pytest.raises(DuplicateSavedReply, match="/refund already has a text in en"):
            await create_saved_reply(session, check_draft("refund", "en", "again"), admin.id)
        with pytest.raises(DuplicateSavedReply):
            await update_saved_reply(session, hello.id, check_draft("refund", "en", "x"), admin.id)
    async with sessions() as session:
        every = [(r.code, r.language, r.text) for r in await list_saved_replies(session)]
        chinese = [r.code for r in await list_saved_replies(session, "zh")]
    assert every == [
        ("hello", "en", "Hi!"),
        ("refund", "en", "1-7 days."),
        ("refund", "zh", "1-7 个工作日。"),
    ]
    assert chinese == ["refund"]


async def test_edit_and_delete(sessions):
    async with sessions() as session, session.begin():
        admin = await create_agent(session, "ann", "Ann", "ann's long passphrase", "admin")
        reply = await create_saved_reply(session, check_draft("hello", "en", "Hi"), admin.id)
    async with sessions() as session, session.begin():
        await update_saved_reply(session, reply.id, check_draft("hi", "en", "Hello!"), admin.id)
    async with sessions() as session:
        [stored] = await list_saved_replies(session)
        assert (stored.code, stored.text, stored.updated_by) == ("hi", "Hello!", admin.id)
    async with sessions() as session, session.begin():
        await delete_saved_reply(session, reply.id)
        with pytest.raises(SavedReplyNotFound):
            await delete_saved_reply(session, reply.id + 1)
    async with sessions() as session:
        assert await list_saved_replies(session) == []
