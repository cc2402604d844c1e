"""Exceptions raised by faq_index. Each carries a message meant for the operator."""

from __future__ import annotations


class FaqIndexError(Exception):
    """Base class of every error faq_index raises on purpose."""


class SourceError(FaqIndexError):
    """A FAQ source file is malformed. Names the file and, where known, the entry."""

    def __init__(self, path: str, message: str, entry: str | None = None) -> None:
        self.path = path
        self.entry = entry
        self.reason = message
        where = f"{path}: entry {entry!r}" if entry else path
        super().__init__(f"{where}: {message}")


class QueryError(FaqIndexError, ValueError):
    """A query cannot be searched (empty, too long, not text)."""


class IndexNotFoundError(FaqIndexError):
    """No built index exists at the given directory."""
