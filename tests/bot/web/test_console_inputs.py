"""What the console accepts: the pure checks behind every route's 400 (no server needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.web.console.views import Cursor, page_request, query_filters
from bot.web.inputs import (
    MAX_BODY_BYTES,
    MAX_ID,
    BadInput,
    BodyTooLarge,
    check_text,
    id_field,
    int_parameter,
    parse_id,
    parse_json_object,
    text_field,
    text_parameter,
)


@pytest.mark.parametrize("value", ["1", "42", str(MAX_ID)])
def test_ids_in_range_are_read(value):
    assert parse_id(value, "ticket id") == int(value)


@pytest.mark.parametrize(
    "value", [None, "", "0", "-1", str(MAX_ID + 1), "9" * 30, "١٢", "1e3", " 1", "1_0", "+1"]
)
def test_other_ids_are_refused(value):
    with pytest.raises(BadInput, match="ticket id must be a whole number from 1 to"):
        parse_id(value, "ticket id")


@pytest.mark.parametrize("value", [True, False, "3", 3.0, 0, -2, MAX_ID + 1, None, [3]])
def test_body_ids_are_json_integers_in_range(value):
    with pytest.raises(BadInput, match="agent_id"):
        id_field({"agent_id": value}, "agent_id")


def test_an_optional_body_id_may_be_missing_or_null():
    assert id_field({}, "ticket_id", required=False) is None
    assert id_field({"ticket_id": None}, "ticket_id", required=False) is None
    assert id_field({"ticket_id": 7}, "ticket_id", required=False) == 7


@pytest.mark.parametrize(
    "text", ["\udc80", "a\ud83db", "\x00", "bell\x07", "\x1b[31m", "del\x7f", "vt\x0b", "ff\x0c"]
)
def test_surrogates_and_control_characters_are_refused(text):
    with pytest.raises(BadInput, match="not allowed"):
        check_text(text, "text")


def test_line_breaks_tabs_and_any_language_are_fine():
    text = "Dear 王芳,\r\n\tyour refund 🎉 left today.\n"
    assert check_text(text, "text") == text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": None}, "must be a string"),
        ({}, "must be a string"),
        ({"text": 5}, "must be a string"),
        ({"text": ["a"]}, "must be a string"),
        ({"text": "x" * 11}, "longer than 10"),
    ],
)
def test_text_fields_are_strings_of_bounded_length(body, message):
    with pytest.raises(BadInput, match=message):
        text_field(body, "text", 10)


def test_optional_text_fields_may_be_missing_or_null():
    assert text_field({}, "note", 10, required=False) is None
    assert text_field({"note": None}, "note", 10, required=False) is None
    with pytest.raises(BadInput):
        text_field({"note": 5}, "note", 10, required=False)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"[1]",
        b'"text"',
        b"\xff\xfe",
        b'{"a": 1',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": ' * 40 + b"1" + b"}" * 40,
        rb'{"text": "\udc80"}',
        rb'{"\u0000": "key"}',
        rb'{"list": ["fine", "not\u0007"]}',
    ],
)
def test_bodies_that_are_not_clean_json_objects_are_refused(raw):
    with pytest.raises(BadInput):
        parse_json_object(raw)


def test_a_body_past_the_limit_is_too_large():
    with pytest.raises(BodyTooLarge) as raised:
        parse_json_object(b'{"a": "' + b"x" * MAX_BODY_BYTES + b'"}')
    assert raised.value.max_size == MAX_BODY_BYTES
    assert raised.value.actual_size > MAX_BODY_BYTES


def test_query_parameters():
    assert int_parameter({}, "limit", 1, 200, 50) == 50
    assert int_parameter({"limit": "200"}, "limit", 1, 200, 50) == 200
    for bad in ("0", "201", "-1", "x", "9" * 40):
        with pytest.raises(BadInput, match="limit must be a whole number from 1 to 200"):
            int_parameter({"limit": bad}, "limit", 1, 200)
    assert text_parameter({"channel": ""}, "channel") is None
    assert text_parameter({"channel": "wechat"}, "channel") == "wechat"
    with pytest.raises(BadInput):
        text_parameter({"channel": "x\x00"}, "channel")
    with pytest.raises(BadInput):
        text_parameter({"channel": "x" * 65}, "channel")


def test_a_cursor_round_trips_to_the_microsecond():
    cursor = Cursor(datetime(2026, 11, 30, 18, 24, 1, 123456, tzinfo=UTC), 42)
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize(
    "text", ["", "x", "1-", "-1", "1-0", "1-2147483648", "9" * 19 + "-1", "999999999999999999-1"]
)
def test_cursors_this_service_did_not_make_are_refused(text):
    with pytest.raises(BadInput, match="cursor"):
        Cursor.decode(text)


def test_the_queue_filters_and_page():
    filters = query_filters({"status": "active", "channel": "wechat", "age": "60"})
    assert (filters.status, filters.channel, filters.max_age_minutes) == ("active", "wechat", 60)
    assert query_filters({}, default_status="active").status == "active"
    assert query_filters({"status": ""}, default_status="active").status is None  # "All"
    with pytest.raises(BadInput, match="status is one of"):
        query_filters({"status": "closed"})
    assert page_request({}) == (50, None)
    with pytest.raises(BadInput, match="limit"):
        page_request({"limit": "500"})
