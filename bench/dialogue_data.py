"""The conversation benchmark's data: ``bench/dialogue_messages.yml`` (its header documents
the format), read into :class:`Item` objects and checked against the FAQ's entry ids."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

GROUPS = (
    "plain_en",
    "plain_zh",
    "numbers",
    "courtesy",
    "yes_no",
    "typos",
    "traditional",
    "off_topic",
    "start",
    "rating",
)
SPLITS = ("dev", "test")
LANGS = ("en", "zh", "zh-TW", "zh-HK")
MIN_ITEMS = 240

# What the customer should get (the data file's ``expect``).
ANSWER = "answer"
EXPECT_KINDS = (
    ANSWER,
    "not_answered",
    "handoff",
    "greet",
    "welcome",
    "goodbye",
    "acknowledged",
    "feedback_helpful",
)


class DataError(ValueError):
    """The benchmark's data file is malformed."""


@dataclass(frozen=True)
class Expectation:
    kind: str
    entries: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: object) -> Expectation:
        """``{answer: id}``, ``{answer: [id, ...]}`` or one of :data:`EXPECT_KINDS`' words.

        Raises:
            DataError: for anything else.
        """
        if isinstance(value, str) and value in EXPECT_KINDS and value != ANSWER:
            return cls(value)
        if isinstance(value, Mapping) and set(value) == {ANSWER}:
            entries = value[ANSWER]
            entries = [entries] if isinstance(entries, str) else entries
            if (
                isinstance(entries, list)
                and entries
                and all(isinstance(e, str) and e for e in entries)
            ):
                return cls(ANSWER, tuple(entries))
        raise DataError(f"unknown expectation {value!r}")

    def describe(self) -> str:
        return f"answer {'|'.join(self.entries)}" if self.kind == ANSWER else self.kind


@dataclass(frozen=True)
class Item:
    id: str
    group: str
    split: str
    lang: str
    turns: tuple[str, ...]
    expect: Expectation
    metadata: Mapping[str, Any] | None = None
    after: Expectation | None = None  # what the turn before the judged one should get

    @property
    def text(self) -> str:
        """The judged (last) message."""
        return self.turns[-1]


def parse_item(raw: Mapping[str, Any]) -> Item:
    """One item of the data file.

    Raises:
        DataError: a missing or malformed field.
    """
    try:
        if ("text" in raw) == ("turns" in raw):
            raise DataError("give exactly one of text and turns")
        turns = (raw["text"],) if "text" in raw else tuple(raw["turns"])
        if not turns or not all(isinstance(t, str) and t.strip() for t in turns):
            raise DataError("empty message")
        item = Item(
            id=str(raw["id"]),
            group=raw["group"],
            split=raw["split"],
            lang=raw["lang"],
            turns=turns,
            expect=Expectation.parse(raw["expect"]),
            metadata=raw.get("metadata"),
            after=Expectation.parse(raw["after"]) if "after" in raw else None,
        )
        if item.after is not None and len(turns) < 2:
            raise DataError("after needs turns before the judged one")
    except KeyError as missing:
        raise DataError(f"item {raw.get('id')!r}: no {missing}") from None
    except DataError as error:
        raise DataError(f"item {raw.get('id')!r}: {error}") from None
    for name, value, allowed in (
        ("group", item.group, GROUPS),
        ("split", item.split, SPLITS),
        ("lang", item.lang, LANGS),
    ):
        if value not in allowed:
            raise DataError(f"item {item.id!r}: {name} {value!r} is not one of {allowed}")
    return item


def load_items(path: Path) -> list[Item]:
    """The items of a data file, in file order.

    Raises:
        DataError: the file has no ``items`` list or an item is malformed.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw_items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(raw_items, list):
        raise DataError(f"{path}: no list of items")
    return [parse_item(raw) for raw in raw_items]


def problems(
    items: Sequence[Item], entry_ids: Iterable[str], minimum: int = MIN_ITEMS
) -> list[str]:
    """What is wrong with a set of items (empty: nothing): too few, duplicate ids, entries the
    FAQ does not have, a group without both splits or with unbalanced ones."""
    found: list[str] = []
    known = set(entry_ids)
    if len(items) < minimum:
        found.append(f"{len(items)} items, fewer than {minimum}")
    for item_id, count in Counter(i.id for i in items).items():
        if count > 1:
            found.append(f"id {item_id} is used {count} times")
    for item in items:
        named = item.expect.entries + (item.after.entries if item.after else ())
        unknown = [e for e in named if e not in known]
        if unknown:
            found.append(f"{item.id}: no FAQ entry {', '.join(unknown)}")
    for group in GROUPS:
        counts = Counter(i.split for i in items if i.group == group)
        if not all(counts[s] for s in SPLITS):
            found.append(f"group {group} lacks a split: {dict(counts)}")
        elif abs(counts["dev"] - counts["test"]) > 1:
            found.append(f"group {group} is unbalanced: {dict(counts)}")
    return found


def channel_subset(items: Sequence[Item], size: int) -> list[Item]:
    """``size`` items taken round-robin across groups (start payloads left out: clients
    send them, customers do not type them), alternately from the front and the back of each
    group (where the data puts its other languages)."""
    queues = {g: _ends_first([i for i in items if i.group == g]) for g in GROUPS if g != "start"}
    chosen: list[Item] = []
    while len(chosen) < size and any(queues.values()):
        for group in queues:
            if queues[group] and len(chosen) < size:
                chosen.append(queues[group].pop(0))
    return chosen


def _ends_first(items: list[Item]) -> list[Item]:
    """First, last, second, second to last, ..."""
    order = []
    front, back = 0, len(items) - 1
    while front <= back:
        order.append(items[front])
        if back != front:
            order.append(items[back])
        front, back = front + 1, back - 1
    return order
