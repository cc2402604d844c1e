"""FAQ knowledge base search: load YAML/CSV sources, embed, index with FAISS, search, reload.

>>> from faq_index import FaqSearcher, build_index, load_sources
>>> build_index(load_sources(["data/faq"]), "var/faq_index")  # doctest: +SKIP
>>> FaqSearcher("var/faq_index").search("怎么退货").decision  # doctest: +SKIP
<Decision.ANSWER: 'answer'>

This package imports nothing else of the project's.
"""

from faq_index.embedding import Embedder
from faq_index.errors import FaqIndexError, IndexNotFoundError, QueryError, SourceError
from faq_index.search import Decision, FaqMatch, FaqSearcher, SearchResult, decide
from faq_index.settings import SearchSettings
from faq_index.sources import FaqEntry, LocalizedFaq, load_sources
from faq_index.store import BuildResult, FaqIndex, build_index, load_index
from faq_index.text import detect_language

__all__ = [
    "BuildResult",
    "Decision",
    "Embedder",
    "FaqEntry",
    "FaqIndex",
    "FaqIndexError",
    "FaqMatch",
    "FaqSearcher",
    "IndexNotFoundError",
    "LocalizedFaq",
    "QueryError",
    "SearchResult",
    "SearchSettings",
    "SourceError",
    "build_index",
    "decide",
    "detect_language",
    "load_index",
    "load_sources",
]
