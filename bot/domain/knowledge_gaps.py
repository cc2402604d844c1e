"""Knowledge gaps: what customers asked that the FAQ did not answer, grouped by meaning.

A question is a gap when the bot found nothing for it (``faq_decision`` ``escalate``), when
the customer said the answer to it did not help, or when it went to people (a ticket's
question). Gaps are embedded with the FAQ's own model and grouped by cosine similarity
(:func:`cluster`), biggest groups first; each group carries examples, counts, languages and the
FAQ entries nearest to its central question. A group agents dismissed, or accepted into the FAQ,
is remembered by its key (:func:`group_key`, the normalised central question) and not shown
again.

>>> async with sessions() as session:  # doctest: +SKIP
...     groups = await knowledge_gaps(session, lookup, start, end)
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.faq_lookup import FaqLookup
from bot.domain.gap_vectors import chinese_vectors
from bot.domain.knowledge import Addition, KnowledgeError, add_to_faq
from bot.store.models import Direction, FaqAddition, Interaction, KnowledgeGapDismissal, Ticket
from faq_index import Embedder, QueryError, detect_language
from vocabulary import base_language

NOT_FOUND = "not_found"
NOT_HELPFUL = "not_helpful"
HANDOFF = "handoff"
DISMISSED = "dismissed"
ACCEPTED = "accepted"
# Cosine similarity at which two questions count as the same question (all-MiniLM-L6-v2:
# paraphrases score about 0.55-0.9, different questions of one shop below 0.5).
SIMILARITY_THRESHOLD = 0.55
# The same for Chinese questions, whose lexical vectors (bot.domain.gap_vectors) score lower:
# chosen on AFQMC's DEV pairs by bench/gap_zh.py (bench/RESULTS.md).
CHINESE_SIMILARITY_THRESHOLD = 0.225
EXAMPLES = 5
NEAREST = 3
MAX_KEY_CHARS = 500
MAX_QUESTIONS = 5000  # the newest ones in the range; older ones wait for a narrower range
CACHED_VECTORS = 4 * MAX_QUESTIONS


@dataclass(frozen=True)
class Gap:
    """One question the bot could not answer."""

    text: str
    language: str  # "en" or "zh"
    source: str  # NOT_FOUND, NOT_HELPFUL or HANDOFF
    conversation_id: int
    at: datetime


@dataclass
class GapGroup:
    """Questions that mean the same, with the question nearest their centroid first."""

    key: str
    questions: list[Gap]
    nearest: list[dict[str, Any]] = field(default_factory=list)

    @property
    def central(self) -> Gap:
        return self.questions[0]

    def summary(self) -> dict[str, Any]:
        """The group as the console shows it."""
        texts: list[str] = []
        for gap in self.questions:
            if gap.text not in texts:
                texts.append(gap.text)
        return {
            "key": self.key,
            "question": self.central.text,
            "count": len(self.questions),
            "conversations": len({gap.conversation_id for gap in self.questions}),
            "examples": texts[:EXAMPLES],
            "questions": texts,
            "languages": _counts(gap.language for gap in self.questions),
            "sources": _counts(gap.source for gap in self.questions),
            "last_at": max(gap.at for gap in self.questions).isoformat(),
            "nearest": self.nearest,
        }


def _counts(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def group_key(text: str) -> str:
    """The stable key of a group: its central question, normalised.

    >>> group_key("  Can I pay with  PayPal?? ")
    'can i pay with paypal'
    >>> group_key("能用支付宝吗？")
    '能用支付宝吗'
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = re.sub(r"[^\w]+", " ", folded).split()
    return " ".join(words)[:MAX_KEY_CHARS]


def _language(text: str, locale: str | None) -> str:
    language = base_language(locale) if locale else None
    return language if language in ("en", "zh") else detect_language(text)


async def unanswered_questions(session: AsyncSession, start: datetime, end: datetime) -> list[Gap]:
    """The questions of ``[start, end)`` the bot could not answer, oldest first, each once per
    conversation."""
    found: dict[tuple[int, str], Gap] = {}

    def keep(gap: Gap) -> None:
        if gap.text.strip():
            found.setdefault((gap.conversation_id, group_key(gap.text)), gap)

    in_range = (Interaction.timestamp >= start, Interaction.timestamp < end)
    customer = Interaction.direction == Direction.CUSTOMER.value
    not_found = await session.execute(
        select(
            Interaction.text,
            Interaction.language,
            Interaction.conversation_id,
            Interaction.timestamp,
        )
        .where(*in_range, customer, Interaction.faq_decision == "escalate")
        .order_by(Interaction.timestamp.desc(), Interaction.id.desc())
        .limit(MAX_QUESTIONS)
    )
    for text, locale, conversation, at in not_found.all():
        keep(Gap(text or "", _language(text or "", locale), NOT_FOUND, conversation, at))
    for verdict in (
        await session.scalars(
            select(Interaction)
            .where(*in_range, customer, Interaction.feedback == NOT_HELPFUL)
            .limit(MAX_QUESTIONS)
        )
    ).all():
        asked = await session.scalar(
            select(Interaction)
            .where(
                Interaction.conversation_id == verdict.conversation_id,
                Interaction.id < verdict.id,
                customer,
                Interaction.faq_id.is_not(None),
            )
            .order_by(Interaction.id.desc())
            .limit(1)
        )
        if asked is not None and asked.text:
            language = _language(asked.text, asked.language)
            keep(Gap(asked.text, language, NOT_HELPFUL, asked.conversation_id, asked.timestamp))
    tickets = await session.execute(
        select(Ticket.question, Ticket.conversation_id, Ticket.created_at)
        .where(Ticket.created_at >= start, Ticket.created_at < end, Ticket.question.is_not(None))
        .order_by(Ticket.created_at.desc())
        .limit(MAX_QUESTIONS)
    )
    for text, conversation, at in tickets.all():
        keep(Gap(text or "", _language(text or "", None), HANDOFF, conversation, at))
    return sorted(found.values(), key=lambda gap: (gap.at, gap.text))


def cluster(vectors: np.ndarray, threshold: float = SIMILARITY_THRESHOLD) -> list[list[int]]:
    """Group the rows of ``vectors`` (unit vectors) by meaning, deterministically.

    Average linkage: the two groups whose mean pairwise cosine is highest are merged while it
    is at least ``threshold`` (SciPy's nearest-neighbour chain builds the same hierarchy in
    quadratic time; cutting it at ``1 - threshold`` stops where the greedy merging stops).

    Returns:
        The groups as lists of row numbers, biggest first (then by their first row); within a
        group the row nearest its centroid comes first, then the others in order.

    >>> v = np.array([[1, 0], [0.96, 0.28], [0, 1]], dtype=np.float32)
    >>> cluster(v, 0.9)
    [[0, 1], [2]]
    """
    unit = np.asarray(vectors, dtype=np.float64)
    return cluster_similarity(unit @ unit.T, threshold)


def cluster_similarity(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """:func:`cluster` given the rows' pairwise similarities (symmetric, cosines)."""
    count = len(similarity)
    if count == 0:
        return []
    labels = np.ones(1, dtype=np.int64)
    if count > 1:
        distances = np.clip(1.0 - similarity[np.triu_indices(count, k=1)], 0.0, None)
        tree = linkage(distances, method="average")
        # A tiny margin: SciPy sums the same similarities in another order than a greedy loop.
        labels = np.asarray(fcluster(tree, t=1.0 - threshold + 1e-9, criterion="distance"))
    found = []
    for label in np.unique(labels):
        members = [int(row) for row in np.flatnonzero(labels == label)]
        centroid = similarity[np.ix_(members, members)].mean(axis=1)
        centre = members[int(np.argmax(centroid))]
        found.append([centre, *(row for row in members if row != centre)])
    return sorted(found, key=lambda group: (-len(group), min(group)))


async def dismissed_keys(session: AsyncSession) -> set[str]:
    """The keys of the groups agents dismissed or accepted."""
    return set((await session.scalars(select(KnowledgeGapDismissal.group_key))).all())


async def dismiss(
    session: AsyncSession,
    key: str,
    question: str,
    agent_id: int | None,
    outcome: str = DISMISSED,
) -> None:
    """Remember that agents dealt with the group ``key``; it is not shown again."""
    if key in await dismissed_keys(session):
        return
    session.add(
        KnowledgeGapDismissal(
            group_key=key[:MAX_KEY_CHARS],
            outcome=outcome,
            question=question,
            agent_id=agent_id,
            created_at=datetime.now(UTC),
        )
    )
    await session.flush()


class EmbeddingCache:
    """Question vectors by embedding model and text, the least recently used dropped beyond
    ``limit`` (a vector of the default model takes 1.5 kB).

    Each gap page, accept and dismiss groups the range's questions again; with the cache only
    the questions asked since are embedded. Vectors depend on the model, not on the index
    version, so an index rebuilt by an accepted group keeps them.

    >>> cache = EmbeddingCache(limit=1)
    >>> cache.put("m", "a", np.ones(2, dtype=np.float32)); cache.put("m", "b", np.zeros(2))
    >>> cache.get("m", "a") is None, cache.get("m", "b").tolist()
    (True, [0.0, 0.0])
    """

    def __init__(self, limit: int = CACHED_VECTORS) -> None:
        self.limit = limit
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()

    def get(self, model: str, text: str) -> np.ndarray | None:
        vector = self._vectors.get((model, text))
        if vector is not None:
            self._vectors.move_to_end((model, text))
        return vector

    def put(self, model: str, text: str, vector: np.ndarray) -> None:
        self._vectors[(model, text)] = vector
        self._vectors.move_to_end((model, text))
        while len(self._vectors) > self.limit:
            self._vectors.popitem(last=False)

    def __len__(self) -> int:
        return len(self._vectors)


_vectors = EmbeddingCache()


async def embed(
    lookup: FaqLookup, texts: list[str], cache: EmbeddingCache | None = None
) -> np.ndarray:
    """``texts`` embedded off the event loop by the model the FAQ index was built with (the one
    the web service's searcher holds already: :meth:`Embedder.load` caches it); texts the
    ``cache`` (default: the process's) holds for that model are not embedded again."""
    cache = _vectors if cache is None else cache
    searcher = await lookup.searcher()
    onnx_cache = searcher.settings.onnx_cache_dir or None
    # ONNX Runtime's vectors differ from PyTorch's in the last digits: cached apart.
    model = f"{searcher.index.model}|{'onnx' if onnx_cache else 'torch'}"
    found: dict[str, np.ndarray] = {}
    for text in texts:
        vector = cache.get(model, text)
        if vector is not None:
            found[text] = vector
    missing = [text for text in dict.fromkeys(texts) if text not in found]
    if missing:
        embedder = await asyncio.to_thread(Embedder.load, searcher.index.model)
        vectors = await asyncio.to_thread(embedder.encode, missing, 64, onnx_cache)
        for text, vector in zip(missing, vectors, strict=True):
            found[text] = vector.copy()  # a row alone, not a view keeping the batch alive
            cache.put(model, text, found[text])
    if not texts:
        return np.zeros((0, searcher.index.vectors.shape[1]), dtype=np.float32)
    return np.stack([found[text] for text in texts])


def group(gaps: list[Gap], similarity: np.ndarray, threshold: float) -> list[GapGroup]:
    """``gaps`` grouped by their pairwise ``similarity``, biggest groups first."""
    groups = []
    for members in cluster_similarity(similarity, threshold):
        questions = [gaps[row] for row in members]
        groups.append(GapGroup(group_key(questions[0].text), questions))
    return groups


async def grouped(
    lookup: FaqLookup, gaps: list[Gap], threshold: float, chinese_threshold: float
) -> list[GapGroup]:
    """``gaps`` grouped by meaning, biggest groups first: Chinese ones by their lexical vectors
    (:mod:`bot.domain.gap_vectors`; the FAQ's model reads English only), the others by the
    FAQ's embeddings; a group never mixes the two."""
    chinese = [gap for gap in gaps if gap.language == "zh"]
    others = [gap for gap in gaps if gap.language != "zh"]
    groups: list[GapGroup] = []
    if others:
        vectors = np.asarray(await embed(lookup, [gap.text for gap in others]), dtype=np.float64)
        groups += group(others, vectors @ vectors.T, threshold)
    if chinese:
        rows = await asyncio.to_thread(chinese_vectors, [gap.text for gap in chinese])
        groups += group(chinese, (rows @ rows.T).toarray(), chinese_threshold)
    return sorted(groups, key=lambda found: (-len(found.questions), _first_at(found)))


def _first_at(found: GapGroup) -> datetime:
    return min(gap.at for gap in found.questions)


async def knowledge_gaps(
    session: AsyncSession,
    lookup: FaqLookup,
    start: datetime,
    end: datetime,
    threshold: float = SIMILARITY_THRESHOLD,
    chinese_threshold: float = CHINESE_SIMILARITY_THRESHOLD,
) -> list[GapGroup]:
    """The groups of unanswered questions of ``[start, end)`` nobody dealt with yet, biggest
    first, each with its nearest FAQ entries.

    Raises:
        OSError, ValueError: the FAQ index cannot be loaded.
    """
    gaps = await unanswered_questions(session, start, end)
    if not gaps:
        return []
    done = await dismissed_keys(session)
    found_groups = await grouped(lookup, gaps, threshold, chinese_threshold)
    groups = [found for found in found_groups if found.key not in done]
    for found in groups:
        try:
            found.nearest = await lookup.search(found.central.text, top_k=NEAREST)
        except QueryError:  # too long or nothing searchable: no neighbours to show
            found.nearest = []
    return groups


async def accept(
    session: AsyncSession,
    sources: Sequence[str | Path],
    found: GapGroup,
    entry_id: str,
    agent_id: int | None,
    answer: str | None = None,
    category: str | None = None,
) -> list[FaqAddition]:
    """Teach the FAQ the group's questions, through "Add to FAQ" (:func:`add_to_faq`): as new
    questions of the entry ``entry_id``, or, given an ``answer``, as a new entry of that id in
    the central question's language (questions in another language are left out). The group
    then counts as dealt with. The caller rebuilds the index.

    Returns:
        The stored additions, in order.

    Raises:
        KnowledgeError: no question of the group applies (an unknown entry, an id taken, an
            entry without the questions' language).
    """
    added: list[FaqAddition] = []
    first_error: KnowledgeError | None = None
    texts: list[tuple[str, str]] = []
    for gap in found.questions:
        if (gap.text, gap.language) not in texts:
            texts.append((gap.text, gap.language))
    if answer is not None:
        language = found.central.language
        texts = [(text, lang) for text, lang in texts if lang == language]
        first = Addition("entry", entry_id, language, texts[0][0], answer, category)
        added.append(await add_to_faq(session, sources, first, agent_id))
        texts = texts[1:]
    for text, language in texts:
        try:
            variant = Addition("variant", entry_id, language, text)
            added.append(await add_to_faq(session, sources, variant, agent_id))
        except KnowledgeError as exc:
            first_error = first_error or exc
    if not added:
        raise first_error or KnowledgeError("the group has no question to add")
    await dismiss(session, found.key, found.central.text, agent_id, ACCEPTED)
    return added
