"""The web service's access log: method, path, status, size and time of every request.

aiohttp's own access log writes the request line, query string included, and its format may
add the Referer and any header. The widget sends its conversation secret only in a POST body
and never in a URL, but the refused old form (``GET /api/widget/history?session_id=...``, from
a stale script or a hand-made request) still arrives with it in the query string, and other
queries carry search terms and filters. This logger writes the path alone, still
percent-encoded, so that neither a query string nor an encoded line break gets in, and no
header or body.

>>> web.run_app(app, access_log_class=PathOnlyAccessLogger)  # doctest: +SKIP
"""

from __future__ import annotations

import logging

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse


class PathOnlyAccessLogger(AbstractAccessLogger):
    """``POST /api/widget/history 200 512 0.004``: method, path, status, bytes, seconds.

    The ``log_format`` aiohttp passes in is ignored: no format may bring the query back.
    """

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %d %d %.3f",
            request.method,
            request.rel_url.raw_path,
            response.status,
            response.body_length,
            time,
        )

    @property
    def enabled(self) -> bool:
        """Whether a line would be written at all (aiohttp skips the call otherwise)."""
        return self.logger.isEnabledFor(logging.INFO)
