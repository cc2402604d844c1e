"""Load FAQ entries from YAML and CSV sources.

YAML (one file, any number of entries)::

    entries:
      - id: order_track
        category: orders
        tags: [tracking]              # optional
        links: [https://shop.example.com/orders]   # optional
        zh: {questions: [我的订单到哪了？, 怎么查物流], answer: 登录后进入「我的订单」……}
        en: {questions: ["Where is my order?", "How do I track my parcel?"], answer: Sign in ...}
        zh-Hant: {questions: [我的訂單到哪了？], answer: 登入後進入「我的訂單」……}   # optional

``zh`` is Simplified Chinese. ``zh-Hant`` (optional) is the entry's own Traditional text: its
answer (and its questions, when it lists any) is what customers writing Traditional (Taiwan,
Hong Kong) get; without it they get the ``zh`` text converted by OpenCC (``s2twp``, ``s2hk``).
Its questions are searched too, converted to Simplified. An entry needs at least one of
``zh``, ``en`` and ``zh-Hant``; a ``zh-Hant`` block without questions needs ``zh`` (whose
converted questions then label its "did you mean" buttons).

CSV: columns ``id,lang,question,answer`` (optional ``category``; ``lang`` is ``zh``, ``en`` or
``zh-Hant``); rows sharing an ``id`` and ``lang`` are variants of one entry, the first row's
question is the canonical one, and the answer may repeat or stay empty after the first row.

Every problem raises :class:`SourceError` naming the file and the entry, before anything is
built; an entry with only one language is accepted with a warning.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from faq_index.chinese import TRADITIONAL_LOCALES, search_form, to_simplified, to_traditional
from faq_index.errors import SourceError
from faq_index.text import LANGUAGES

log = logging.getLogger(__name__)

SOURCE_SUFFIXES = (".yml", ".yaml", ".csv")
MAX_TEXT_CHARS = 4000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
# The key of an entry's own Traditional Chinese text (BCP 47: Chinese in Traditional script).
HANT = "zh-Hant"
_ENTRY_KEYS = {"id", "category", "tags", "links", *LANGUAGES, HANT}
_LANGUAGE_KEYS = {"questions", "answer"}
_CSV_COLUMNS = {"id", "lang", "question", "answer"}
_CSV_LANGUAGES = {**{lang: lang for lang in LANGUAGES}, HANT.lower(): HANT}


@dataclass(frozen=True)
class LocalizedFaq:
    """The questions (canonical first) and the answer of an entry in one language."""

    questions: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ entry: an answer per language and the questions it answers.

    ``texts`` holds the ``zh`` (Simplified) and ``en`` texts; ``hant`` the entry's own
    Traditional Chinese text (``zh-Hant`` in the sources), whose questions may be empty.
    """

    id: str
    category: str
    texts: Mapping[str, LocalizedFaq]
    tags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    source: str = field(default="", compare=False)
    hant: LocalizedFaq | None = None

    def localized(self, language: str) -> tuple[str, LocalizedFaq]:
        """The entry for a reply language: ``en``, ``zh``, or ``zh-TW`` / ``zh-HK``.

        For Taiwan and Hong Kong, the entry's own ``zh-Hant`` text wins; else its Simplified
        text is converted (``s2twp``, ``s2hk``). A language the entry has no text in gets the
        other language's text. Returns the language of the text given and the text.

        >>> entry = FaqEntry("x", "c", {"zh": LocalizedFaq(("软件怎么更新",), "在设置里更新。")})
        >>> entry.localized("zh-TW")
        ('zh-TW', LocalizedFaq(questions=('軟體怎麼更新',), answer='在設定裡更新。'))
        """
        chinese = "zh" in self.texts or self.hant is not None
        if language in TRADITIONAL_LOCALES and chinese:
            return language, self._traditional(language)
        if language == "zh" and "zh" not in self.texts and self.hant is not None:
            return "zh", _simplified(self.hant)
        if language in self.texts:
            return language, self.texts[language]
        other = next((lang for lang in LANGUAGES if lang in self.texts), None)
        if other is None:  # only a zh-Hant text (which then has questions)
            return HANT, self._traditional(TRADITIONAL_LOCALES[0])
        return other, self.texts[other]

    def _traditional(self, locale: str) -> LocalizedFaq:
        hant, simplified = self.hant, self.texts.get("zh")
        if simplified is None:
            if hant is None:
                raise ValueError(f"entry {self.id!r} has no Chinese text")
            return hant
        if hant is not None and hant.questions:
            return hant
        questions = tuple(to_traditional(q, locale) for q in simplified.questions)
        answer = hant.answer if hant else to_traditional(simplified.answer, locale)
        return LocalizedFaq(questions, answer)

    def search_texts(self) -> dict[str, LocalizedFaq]:
        """What the index searches: the ``zh`` and ``en`` texts, the Chinese in the form
        queries are searched with (:func:`faq_index.chinese.search_form`: Simplified
        characters, the mainland's words).

        So ``zh`` text written in Traditional characters (an agent's addition of a customer's
        question, say) is converted, and the ``zh-Hant`` questions are added, converted.
        """
        texts = dict(self.texts)
        simplified = texts.get("zh")
        if simplified is not None and _searched_differently(simplified):
            simplified = _search_form(simplified)
        if self.hant is not None and self.hant.questions:
            extra = _search_form(self.hant)
            if simplified is None:
                simplified = extra
            else:
                new = tuple(q for q in extra.questions if q not in simplified.questions)
                simplified = LocalizedFaq((*simplified.questions, *new), simplified.answer)
        if simplified is not None:
            texts["zh"] = simplified
        return texts

    @property
    def converts_chinese(self) -> bool:
        """Whether the index searches some of the entry's text converted (see
        :meth:`search_texts`), i.e. whether what is indexed depends on OpenCC."""
        zh = self.texts.get("zh")
        return self.hant is not None or (zh is not None and _searched_differently(zh))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "category": self.category}
        if self.tags:
            data["tags"] = list(self.tags)
        if self.links:
            data["links"] = list(self.links)
        for lang in LANGUAGES:
            if lang in self.texts:
                loc = self.texts[lang]
                data[lang] = {"questions": list(loc.questions), "answer": loc.answer}
        if self.hant is not None:
            data[HANT] = {"answer": self.hant.answer}
            if self.hant.questions:
                data[HANT]["questions"] = list(self.hant.questions)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "") -> FaqEntry:
        """Build a validated entry; raises :class:`SourceError` naming ``source`` and the id."""
        return _entry_from_mapping(data, source)


def _searched_differently(text: LocalizedFaq) -> bool:
    return any(search_form(t) != t for t in (*text.questions, text.answer))


def _search_form(text: LocalizedFaq) -> LocalizedFaq:
    questions = tuple(dict.fromkeys(search_form(q) for q in text.questions))
    return LocalizedFaq(questions, search_form(text.answer))


def _simplified(text: LocalizedFaq) -> LocalizedFaq:
    """``text`` in Simplified characters, for customers who write them."""
    questions = tuple(dict.fromkeys(to_simplified(q) for q in text.questions))
    return LocalizedFaq(questions, to_simplified(text.answer))


def _text(value: Any, path: str, entry: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SourceError(path, f"{what} must be a non-empty string", entry)
    text = " ".join(value.split())
    if len(text) > MAX_TEXT_CHARS:
        raise SourceError(path, f"{what} is longer than {MAX_TEXT_CHARS} characters", entry)
    return text


def _string_list(value: Any, path: str, entry: str, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SourceError(path, f"{what} must be a list", entry)
    return tuple(_text(item, path, entry, f"each of {what}") for item in value)


def _entry_from_mapping(raw: Any, path: str) -> FaqEntry:
    if not isinstance(raw, Mapping):
        raise SourceError(path, f"each entry must be a mapping, got {type(raw).__name__}")
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        raise SourceError(
            path, f"missing or invalid id {entry_id!r} (letters, digits, _ . -)", str(entry_id)
        )
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise SourceError(path, f"unknown keys {sorted(unknown)}", entry_id)
    category = _text(raw.get("category"), path, entry_id, "category")
    texts = {lang: _localized(raw[lang], path, entry_id, lang) for lang in LANGUAGES if lang in raw}
    hant = _localized(raw[HANT], path, entry_id, HANT, optional=True) if HANT in raw else None
    if not texts and hant is None:
        raise SourceError(path, f"needs at least one of {', '.join(LANGUAGES)}, {HANT}", entry_id)
    if hant is not None and not hant.questions and "zh" not in texts:
        raise SourceError(path, f"{HANT}.questions are needed when there is no zh text", entry_id)
    return FaqEntry(
        id=entry_id,
        category=category,
        texts=texts,
        tags=_string_list(raw.get("tags"), path, entry_id, "tags"),
        links=_string_list(raw.get("links"), path, entry_id, "links"),
        source=path,
        hant=hant,
    )


def _localized(
    block: Any, path: str, entry_id: str, lang: str, optional: bool = False
) -> LocalizedFaq:
    """One language's block; ``optional``: its questions may be left out (zh-Hant)."""
    if not isinstance(block, Mapping) or set(block) - _LANGUAGE_KEYS:
        raise SourceError(path, f"{lang} must be a mapping with questions and answer", entry_id)
    questions = _string_list(block.get("questions"), path, entry_id, f"{lang}.questions")
    if not questions and not (optional and block.get("questions") is None):
        raise SourceError(path, f"{lang}.questions must list at least one question", entry_id)
    answer = _text(block.get("answer"), path, entry_id, f"{lang}.answer")
    return LocalizedFaq(questions=questions, answer=answer)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(str(path), f"not valid UTF-8 (byte {exc.start})") from exc
    except OSError as exc:
        raise SourceError(str(path), f"cannot be read: {exc.strerror}") from exc


def load_yaml(path: Path) -> list[FaqEntry]:
    try:
        document = yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        raise SourceError(str(path), f"invalid YAML: {exc}") from exc
    if not isinstance(document, Mapping) or not isinstance(document.get("entries"), list):
        raise SourceError(str(path), "expected a mapping with an 'entries' list")
    return [_entry_from_mapping(raw, str(path)) for raw in document["entries"]]


def load_csv(path: Path) -> list[FaqEntry]:
    reader = csv.DictReader(_read_text(path).splitlines())
    columns = set(reader.fieldnames or ())
    if not columns >= _CSV_COLUMNS:
        raise SourceError(str(path), f"CSV needs the columns {sorted(_CSV_COLUMNS)}")
    grouped: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(reader, start=2):
        entry_id = (row.get("id") or "").strip()
        where = f"{entry_id} (line {line})"
        lang = _CSV_LANGUAGES.get((row.get("lang") or "").strip().lower(), "")
        if not lang:
            raise SourceError(
                str(path),
                f"lang must be one of {tuple(_CSV_LANGUAGES.values())}, got {row.get('lang')!r}",
                where,
            )
        raw = grouped.setdefault(entry_id, {"id": entry_id})
        category = (row.get("category") or "").strip()
        raw.setdefault("category", category or "general")
        block = raw.setdefault(lang, {"questions": []})
        block["questions"].append(row.get("question"))
        answer = (row.get("answer") or "").strip()
        if answer:
            if "answer" in block and " ".join(block["answer"].split()) != " ".join(answer.split()):
                raise SourceError(str(path), f"a different {lang} answer than earlier rows", where)
            block["answer"] = answer
    return [_entry_from_mapping(raw, str(path)) for raw in grouped.values()]


def source_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories into their source files (sorted); keep files as given."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())
            )
        elif path.is_file():
            files.append(path)
        else:
            raise SourceError(str(path), "no such file or directory")
    return files


def load_sources(paths: Iterable[str | Path]) -> list[FaqEntry]:
    """Load, validate and merge every entry from YAML/CSV files or directories of them.

    >>> import pathlib, tempfile
    >>> directory = tempfile.TemporaryDirectory()
    >>> _ = pathlib.Path(directory.name, "orders.yml").write_text('''entries:
    ...   - id: order_track
    ...     category: orders
    ...     zh: {questions: [我的订单到哪了？, 怎么查物流], answer: 登录后进入「我的订单」。}
    ...     en: {questions: ["Where is my order?"], answer: Sign in and open My orders.}
    ... ''', encoding="utf-8")
    >>> entries = load_sources([directory.name])
    >>> entries[0].id, entries[0].localized("zh")[1].questions
    ('order_track', ('我的订单到哪了？', '怎么查物流'))
    >>> directory.cleanup()
    """
    entries: list[FaqEntry] = []
    seen: dict[str, str] = {}
    files = source_files(paths)
    if not files:
        raise SourceError(", ".join(map(str, paths)), "no .yml, .yaml or .csv source found")
    for path in files:
        loaded = load_csv(path) if path.suffix == ".csv" else load_yaml(path)
        for entry in loaded:
            if entry.id in seen:
                raise SourceError(
                    str(path), f"duplicate id, first defined in {seen[entry.id]}", entry.id
                )
            seen[entry.id] = str(path)
            searched = entry.search_texts()
            missing = [lang for lang in LANGUAGES if lang not in searched]
            if missing:
                log.warning(
                    "%s: entry %r has no %s text; its %s text is used instead",
                    path,
                    entry.id,
                    "/".join(missing),
                    "/".join(searched),
                )
            entries.append(entry)
    return entries
