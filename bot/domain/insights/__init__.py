"""Insights: how well the assistant serves customers, computed by SQL from the stored tables.

Every figure is defined in the docstring of the module that computes it, over the
``conversations``, ``interactions``, ``tickets``, ``customers`` and ``outbox`` tables as the
ingestion worker and the ticket life cycle fill them:

- :mod:`~bot.domain.insights.filters`: dates (inclusive, in ``BUSINESS_TIMEZONE``), grouping,
  channel (widget, WeChat, other), language and agent; the filters select conversations;
- :mod:`~bot.domain.insights.periods`: days and weeks, and which one a stored instant falls in;
- :mod:`~bot.domain.insights.sources`: what a customer message, a question, a verdict and a
  ticket are in the stored data;
- :mod:`~bot.domain.insights.conversations`: conversations, customers (new, returning),
  customer messages, bot resolution, handoff (by reason), and why they never add up to more
  than the conversations with questions;
- :mod:`~bot.domain.insights.questions`: questions answered, clarified, not found; feedback;
- :mod:`~bot.domain.insights.tickets`: tickets, first response and resolution times (also in
  business hours, :mod:`~bot.domain.insights.business_time`), waiting now, satisfaction, by agent;
- :mod:`~bot.domain.insights.faq_entries`: per FAQ entry;
- :mod:`~bot.domain.insights.report`: all of it as one JSON document; :mod:`~bot.domain.insights.text`
  as a table.

The query functions take an ``AsyncSession`` and an :class:`InsightsFilter` and only read.

>>> async with sessions() as session:  # doctest: +SKIP
...     report = await insights(session, parse_filter("2026-03-01", "2026-03-31", "week"), hours)
"""

from bot.domain.insights.filters import (
    ChannelGroup,
    Grouping,
    InsightsError,
    InsightsFilter,
    parse_date,
    parse_filter,
)
from bot.domain.insights.report import insights
from bot.domain.insights.text import render_text

__all__ = [
    "ChannelGroup",
    "Grouping",
    "InsightsError",
    "InsightsFilter",
    "insights",
    "parse_date",
    "parse_filter",
    "render_text",
]
