"""Spelling correction of English query words against the words of the index.

Customers type "pasword", "recieve", "adress", "cancell", "u" and "pls". The embedding model
splits an unknown word into word pieces and loses part of it, and the lexical channel, which
matches whole stems, loses all of it. A query word that no indexed document contains is
therefore replaced by the indexed word nearest to it, when there is one within a small edit
distance (:func:`max_distance`; an adjacent transposition counts as one edit, "recieve"); words
the index knows are never touched, so a correct query searches exactly as before. A short table
maps informal spellings that no edit distance reaches ("u", "pls", "dont") to their words.

Candidates are found as in SymSpell: every indexed word is stored under each string obtained by
deleting up to two of its characters, so a lookup costs a few dictionary probes, not a scan of
the vocabulary.

>>> speller = Speller.from_texts(["I forgot my password", "Where is my package?"])
>>> speller.correct("forgot my pasword, where's my pakage pls")
"forgot my password, where's my package please"
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from faq_index.embedding import DEFAULT_MODEL, resolve_model
from faq_index.text import normalize

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_LETTERS = re.compile(r"[a-z]+")

# Informal spellings that are not a typo of their word, as customers type them in chats.
INFORMAL: Mapping[str, str] = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "y": "why",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "ty": "thank you",
    "wat": "what",
    "wats": "what's",
    "whats": "what's",
    "im": "i'm",
    "ive": "i've",
    "dont": "don't",
    "cant": "can't",
    "wont": "won't",
    "didnt": "didn't",
    "doesnt": "doesn't",
    "isnt": "isn't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "wasnt": "wasn't",
    "theres": "there's",
    "wheres": "where's",
    "hows": "how's",
    "whos": "who's",
    "thats": "that's",
    "b4": "before",
    "cuz": "because",
    "coz": "because",
    "tmrw": "tomorrow",
    "pkg": "package",
    "acct": "account",
    "msg": "message",
    "txt": "text",
}
_INFORMAL_WORD = re.compile(r"(?<![\w'’])(" + "|".join(map(re.escape, INFORMAL)) + r")(?![\w'’])")

# Below this length a word is too short to tell a typo from another word ("bag", "bug").
MIN_LENGTH = 4


@cache
def english_lexicon() -> frozenset[str]:
    """Ordinary English words: a word among them is no typo, even when no indexed text contains
    it ("sweater" must not become "weather"). They are the whole lowercase words of four letters
    or more in the WordPiece vocabulary of the default embedding model (bert-base-uncased's),
    read from the installed model package; empty when it is not installed."""
    try:
        vocabulary = Path(resolve_model(DEFAULT_MODEL)) / "vocab.txt"
        lines = vocabulary.read_text(encoding="utf-8").splitlines()
    except (ImportError, OSError):
        return frozenset()
    return frozenset(w for w in lines if len(w) >= MIN_LENGTH and w.isascii() and w.isalpha())


def _squeeze(word: str) -> str:
    """``word`` with runs of one letter collapsed: "shiping" and "shipping" agree."""
    return re.sub(r"(.)\1+", r"\1", word)


def max_distance(word: str) -> int:
    """Edits allowed for a word of this length: one up to six letters, two from seven on."""
    return 1 if len(word) < 7 else 2


def _is_subsequence(short: str, long: str) -> bool:
    """True when ``long`` is ``short`` with letters added (and none changed)."""
    letters = iter(long)
    return all(char in letters for char in short)


def _deletes(word: str, distance: int) -> set[str]:
    """Every string obtained from ``word`` by deleting up to ``distance`` characters."""
    found = {word}
    frontier = {word}
    for _ in range(distance):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions).

    Returns ``limit + 1`` as soon as the distance is known to exceed ``limit``.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class Speller:
    """Corrects query words that the indexed texts do not contain.

    Args:
        counts: each indexed English word with the number of documents containing it (ties
            between equally near words go to the more frequent one).
        lexicon: words that are never corrected although no indexed text contains them;
            default :func:`english_lexicon`.
    """

    def __init__(self, counts: Mapping[str, int], lexicon: frozenset[str] | None = None) -> None:
        self.counts = dict(counts)
        self.lexicon = english_lexicon() if lexicon is None else lexicon
        self._by_delete: dict[str, list[str]] = {}
        for word in self.counts:
            if len(word) < MIN_LENGTH - 1:
                continue
            for variant in _deletes(word, max_distance(word)):
                self._by_delete.setdefault(variant, []).append(word)

    @classmethod
    def from_texts(cls, texts: Iterable[str], lexicon: frozenset[str] | None = None) -> Speller:
        """A speller knowing the words of ``texts``, each counted once per text.

        Args:
            texts: the indexed texts.
            lexicon: as for :class:`Speller`.

        Returns:
            The speller.
        """
        counts = Counter(word for text in texts for word in set(english_words(text)))
        return cls(counts, lexicon)

    def suggest(self, word: str) -> str | None:
        """The indexed word nearest to ``word`` (lowercase letters), or None when none is near
        enough.

        A suggestion starts with the same letter (typos rarely change the first one). Among
        equally near words, a word that only adds letters wins (a dropped letter is the most
        common typo: "mony" is "money", not "many"), then one differing only in doubled
        letters ("shiping": "shipping"), then the word more documents contain, then the
        alphabetically first.
        """
        limit = max_distance(word)
        candidates = {
            known for variant in _deletes(word, limit) for known in self._by_delete.get(variant, ())
        }
        best: tuple[int, bool, bool, int, str] | None = None
        for known in candidates:
            if known[0] != word[0]:
                continue
            distance = edit_distance(word, known, min(limit, max_distance(known)))
            if distance <= min(limit, max_distance(known)):
                key = (
                    distance,
                    not _is_subsequence(word, known),
                    _squeeze(known) != _squeeze(word),
                    -self.counts[known],
                    known,
                )
                best = key if best is None or key < best else best
        return None if best is None else best[-1]

    def correct(self, text: str) -> str:
        """``text`` (normalised) with informal spellings expanded and unknown words corrected.

        Args:
            text: a query, in any language (only Latin words are looked at).

        Returns:
            The normalised text; identical to ``normalize(text)`` when every word is known.
        """
        text = _INFORMAL_WORD.sub(lambda m: INFORMAL[m.group(1)], normalize(text))
        return _WORD.sub(lambda m: self._correct_word(m.group(0)), text)

    def _correct_word(self, word: str) -> str:
        if len(word) < MIN_LENGTH or word in self.counts or word in self.lexicon:
            return word
        if not _LETTERS.fullmatch(word):
            return word
        return self.suggest(word) or word


def english_words(text: str) -> list[str]:
    """The lowercase Latin words of ``text``, contractions kept whole ("won't"), numbers left
    out.

    Args:
        text: any text; Chinese in it is skipped.

    Returns:
        The words in order, repeats included.
    """
    return [word for word in _WORD.findall(normalize(text)) if not word.isdigit()]
