"""FAQ knowledge base search: load YAML/CSV sources, embed, index with FAISS, search, reload.

>>> import pathlib, tempfile
>>> from faq_index import FaqSearcher, build_index, load_sources
>>> workdir = tempfile.TemporaryDirectory()
>>> source = pathlib.Path(workdir.name, "faq.yml")
>>> _ = source.write_text('''entries:
...   - id: order_track
...     category: orders
...     zh: {questions: [我的订单到哪了？, 怎么查物流], answer: 登录后进入「我的订单」查看物流。}
...     en: {questions: ["Where is my order?", "How do I track my parcel?"], answer: Open My orders.}
...   - id: refund_time
...     category: returns
...     zh: {questions: [退款多久到账？, 退款什么时候到], answer: 退款在 1-7 个工作日内原路退回。}
...     en: {questions: ["How long does a refund take?"], answer: Within 1-7 business days.}
... ''', encoding="utf-8")
>>> build_index(load_sources([source]), pathlib.Path(workdir.name, "index")).built
True
>>> searcher = FaqSearcher(pathlib.Path(workdir.name, "index"))
>>> searcher.search("where is my parcel?").decision
<Decision.ANSWER: 'answer'>
>>> [match.id for match in searcher.search("退款多久").matches]
['refund_time', 'order_track']
>>> workdir.cleanup()

The command line does the same with the operator's files (``python -m faq_index build
--source data/faq --out var/faq_index``, then ``query``).

This package imports nothing else of the project's.
"""

from faq_index.chinese_classifier import chinese_features
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
    "chinese_features",
    "decide",
    "detect_language",
    "load_index",
    "load_sources",
]
