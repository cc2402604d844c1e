"""``python -m faq_index build|query``: the operator's and the benchmarks' interface.

``query`` reads one query per line on stdin and writes one JSON object per line on stdout::

    {"query": ..., "decision": "answer|clarify|escalate", "results": [{"id": ..., "score": ...}]}

A line that cannot be searched gets ``{"query": ..., "error": ...}`` instead, and the exit status
is 1 when any line failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from faq_index.errors import FaqIndexError, QueryError
from faq_index.search import FaqSearcher
from faq_index.settings import SearchSettings
from faq_index.sources import load_sources
from faq_index.store import build_index


def _build(args: argparse.Namespace, settings: SearchSettings) -> int:
    entries = load_sources(args.source)
    result = build_index(
        entries,
        args.out,
        settings.embedding_model,
        ann_threshold=settings.ann_threshold,
        force=args.force,
        onnx_cache_dir=settings.onnx_cache_dir or None,
    )
    state = "built" if result.built else "up to date, nothing rebuilt"
    rate = f", {result.variants / result.seconds:.0f} variants/s" if result.built else ""
    print(
        f"FAQ index {result.version} {state}: {result.entries} entries, "
        f"{result.variants} question variants in {result.seconds:.1f} s{rate} -> {args.out}",
        file=sys.stderr,
    )
    return 0


def _query(args: argparse.Namespace, settings: SearchSettings) -> int:
    searcher = FaqSearcher(args.index, settings)
    failed = False
    for raw in sys.stdin.buffer:
        line = raw.rstrip(b"\r\n")
        try:
            output = searcher.search(line, top_k=args.top_k).to_json()
        except QueryError as exc:
            failed = True
            output = {"query": line.decode("utf-8", "replace"), "error": str(exc)}
        sys.stdout.write(json.dumps(output, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faq_index", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build an index from YAML/CSV sources")
    build.add_argument("--source", nargs="+", required=True, help="files or directories")
    build.add_argument("--out", required=True, help="index directory")
    build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    query = commands.add_parser("query", help="answer queries from stdin as JSON lines")
    query.add_argument("--index", required=True, help="index directory")
    query.add_argument("--top-k", type=int, default=3)
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = SearchSettings()
    try:
        if args.command == "build":
            return _build(args, settings)
        return _query(args, settings)
    except FaqIndexError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
