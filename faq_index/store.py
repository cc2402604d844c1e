"""Build an index version on disk and load it back.

Layout of an index directory::

    DIR/CURRENT                  the name of the version in use (replaced atomically)
    DIR/versions/<version>/      meta.json, vectors.npy, dense.faiss, lexical.*, head.npz
                                 (the entry classifier, :data:`entry_classifier.FILE_NAME`) and
                                 chinese_head.* (:mod:`faq_index.chinese_classifier`)

A version's name is a fingerprint of the entries, the model and the format: the same sources
give the same version, and building it again is skipped. A build is written to a temporary
directory, renamed into ``versions/`` and only then published by replacing ``CURRENT``, so a
reader sees either the old version or the new one, never a half-written one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import opencc

from faq_index.chinese_classifier import ChineseEntryClassifier
from faq_index.embedding import DEFAULT_MODEL, Embedder
from faq_index.entry_classifier import EntryClassifier
from faq_index.errors import IndexNotFoundError
from faq_index.lexical import LexicalIndex
from faq_index.sources import FaqEntry
from faq_index.text import TOKENIZER_VERSION

log = logging.getLogger(__name__)

# 4: the Chinese entry classifier (chinese_head.*).
FORMAT_VERSION = 4
KEEP_VERSIONS = 3
# Exact search up to this many variants, HNSW above: up to here exact search of one query stays
# fast, beyond it HNSW is many times faster at nearly the same recall (bench/ann.py, "Exact vs
# approximate FAISS search" in bench/RESULTS.md).
DEFAULT_ANN_THRESHOLD = 20_000
_SENTENCE_END = re.compile("[。；！？!?;]")


@dataclass(frozen=True)
class Variant:
    entry: int  # position in FaqIndex.entries
    language: str
    text: str


@dataclass
class FaqIndex:
    """One loaded, immutable index version."""

    version: str
    model: str
    entries: list[FaqEntry]
    variants: list[Variant]
    vectors: np.ndarray
    dense: faiss.Index
    lexical: LexicalIndex
    classifier: EntryClassifier
    chinese_classifier: ChineseEntryClassifier

    def __post_init__(self) -> None:
        self.by_id = {entry.id: entry for entry in self.entries}
        self.variant_entry = np.fromiter((v.entry for v in self.variants), dtype=np.int64)
        self.document_entry = np.fromiter(
            (position for position, _ in lexical_documents(self.entries)), dtype=np.int64
        )

    def entry(self, entry_id: str) -> FaqEntry:
        return self.by_id[entry_id]


@dataclass(frozen=True)
class BuildResult:
    version: str
    path: Path
    built: bool  # False when this version already existed and was only (re)published
    entries: int
    variants: int
    seconds: float


def fingerprint(entries: Sequence[FaqEntry], model_spec: str, ann_threshold: int) -> str:
    content = {
        "format": FORMAT_VERSION,
        "model": model_spec,
        "ann_threshold": ann_threshold,
        "tokenizer": TOKENIZER_VERSION,
        "entries": [entry.to_dict() for entry in entries],
    }
    if any(entry.converts_chinese for entry in entries):  # what is indexed depends on OpenCC
        content["opencc"] = opencc.__version__
    payload = json.dumps(content, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def current_version(index_dir: Path) -> str | None:
    try:
        return (Path(index_dir) / "CURRENT").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _variants(entries: Sequence[FaqEntry]) -> list[Variant]:
    return [
        Variant(position, lang, question)
        for position, entry in enumerate(entries)
        for lang, loc in entry.search_texts().items()
        for question in loc.questions
    ]


def lexical_documents(entries: Sequence[FaqEntry]) -> list[tuple[int, str]]:
    """One lexical document per entry and language: its questions and its answer.

    Customers often use the answer's words rather than the question's (退款 "原路退回",
    "tracking number"), so the answer counts too. Chinese is indexed in Simplified characters
    (:meth:`FaqEntry.search_texts`), as queries are searched.
    """
    return [
        (position, " ".join([*loc.questions, loc.answer]))
        for position, entry in enumerate(entries)
        for loc in entry.search_texts().values()
    ]


def chinese_training_texts(entries: Sequence[FaqEntry]) -> tuple[list[str], list[int]]:
    """What the Chinese entry classifier learns from: each entry's Chinese questions and the
    sentences of its Chinese answer (customers use the answer's words too: 原路退回, 运单号),
    in the form queries are searched, with the entry's position as the label."""
    texts: list[str] = []
    labels: list[int] = []
    for position, entry in enumerate(entries):
        chinese = entry.search_texts().get("zh")
        if chinese is None:
            continue
        sentences = [s for s in _SENTENCE_END.split(chinese.answer) if len(s.strip()) >= 4]
        texts.extend([*chinese.questions, *sentences])
        labels.extend([position] * (len(chinese.questions) + len(sentences)))
    return texts, labels


def dense_index(vectors: np.ndarray, ann_threshold: int) -> faiss.Index:
    dimension = vectors.shape[1]
    index: faiss.Index
    if len(vectors) > ann_threshold:
        hnsw = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.hnsw.efSearch = 128
        index = hnsw
    else:
        index = faiss.IndexFlatIP(dimension)
    index.add(vectors)
    return index


def build_index(
    entries: Sequence[FaqEntry],
    index_dir: str | Path,
    model: str = DEFAULT_MODEL,
    *,
    embedder: Embedder | None = None,
    ann_threshold: int = DEFAULT_ANN_THRESHOLD,
    force: bool = False,
    onnx_cache_dir: str | Path | None = None,
) -> BuildResult:
    """Embed ``entries`` with ``model`` and publish them as the current version of ``index_dir``.

    The model is loaded only when this version has not been built before. With
    ``onnx_cache_dir``, the variants are embedded by the model's ONNX export when it is there,
    and after the first build the export is made (once per model, outside the build's time), so
    that neither the next build nor the first searcher pays for it.

    >>> result = build_index(load_sources(["data/faq"]), "var/faq_index")  # doctest: +SKIP
    >>> result.version, result.built  # doctest: +SKIP
    ('3f1c0a9e5b7d2c44', True)
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    if embedder is not None:
        model = embedder.model_spec
    version = fingerprint(entries, model, ann_threshold)
    versions = index_dir / "versions"
    target = versions / version
    variants = _variants(entries)
    built = False
    if force or not (target / "meta.json").is_file():
        versions.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".build-", dir=versions))
        try:
            embedder = embedder or Embedder.load(model)
            _write_version(
                staging, version, entries, variants, embedder, ann_threshold, onnx_cache_dir
            )
            if force and target.exists():
                shutil.rmtree(target)
            try:
                os.rename(staging, target)
            except OSError:
                # Another process sharing the directory built this version meanwhile: keep
                # theirs (a searcher may be loading it) and drop ours.
                if not (target / "meta.json").is_file():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        built = True
    if current_version(index_dir) != version:
        _publish(index_dir, version)
    _prune(versions, keep={version})
    result = BuildResult(
        version, target, built, len(entries), len(variants), time.perf_counter() - started
    )
    if built and onnx_cache_dir and embedder:  # once per model, not part of the build's time
        embedder.onnx_embedder(onnx_cache_dir)
    return result


def _write_version(
    directory: Path,
    version: str,
    entries: Sequence[FaqEntry],
    variants: list[Variant],
    embedder: Embedder,
    ann_threshold: int,
    onnx_cache_dir: str | Path | None = None,
) -> None:
    vectors = embedder.encode([v.text for v in variants], onnx_cache_dir=onnx_cache_dir)
    np.save(directory / "vectors.npy", vectors)
    faiss.write_index(dense_index(vectors, ann_threshold), str(directory / "dense.faiss"))
    LexicalIndex.build([text for _, text in lexical_documents(entries)]).save(directory)
    labels = np.fromiter((v.entry for v in variants), dtype=np.int64)
    EntryClassifier.train(vectors, labels, len(entries)).save(directory)
    chinese_texts, chinese_labels = chinese_training_texts(entries)
    ChineseEntryClassifier.train(chinese_texts, chinese_labels, len(entries)).save(directory)
    meta = {
        "format": FORMAT_VERSION,
        "version": version,
        "model": embedder.model_spec,
        "dimension": int(vectors.shape[1]),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "entries": [entry.to_dict() for entry in entries],
        "variants": [[v.entry, v.language, v.text] for v in variants],
    }
    (directory / "meta.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def _publish(index_dir: Path, version: str) -> None:
    # A name of its own: processes sharing the directory may have the same PID (containers).
    pending = index_dir / f".CURRENT.{uuid.uuid4().hex}"
    pending.write_text(version + "\n", encoding="utf-8")
    os.replace(pending, index_dir / "CURRENT")
    log.info("published FAQ index version %s in %s", version, index_dir)


def _prune(versions: Path, keep: set[str]) -> None:
    """Keep the newest few versions so that a searcher still loading one finds it."""
    old = sorted(
        (p for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in [p for p in old if p.name not in keep][KEEP_VERSIONS - 1 :]:
        shutil.rmtree(path, ignore_errors=True)


def load_index(index_dir: str | Path, version: str | None = None) -> FaqIndex:
    """Load ``version`` (default: the current one) of the index in ``index_dir``."""
    index_dir = Path(index_dir)
    version = version or current_version(index_dir)
    directory = index_dir / "versions" / (version or "")
    if not version or not (directory / "meta.json").is_file():
        raise IndexNotFoundError(
            f"no FAQ index in {index_dir}: build one with `python -m faq_index build`"
        )
    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT_VERSION:
        raise IndexNotFoundError(f"{directory} has format {meta.get('format')}, rebuild it")
    return FaqIndex(
        version=meta["version"],
        model=meta["model"],
        entries=[FaqEntry.from_dict(raw, source=str(directory)) for raw in meta["entries"]],
        variants=[Variant(e, lang, text) for e, lang, text in meta["variants"]],
        vectors=np.load(directory / "vectors.npy"),
        dense=faiss.read_index(str(directory / "dense.faiss")),
        lexical=LexicalIndex.load(directory),
        classifier=EntryClassifier.load(directory),
        chinese_classifier=ChineseEntryClassifier.load(directory),
    )
