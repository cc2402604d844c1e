"""Test doubles and drivers shared by the tests and the benchmarks (never by the application).

- ``fake_wechat``: a fake of WeChat's API server on loopback, following WeChat's documented
  protocol (token, customer-service messages), and ``WeChatCallbacks``, which sends the signed,
  encrypted callbacks WeChat's servers would send and opens the passive replies;
- ``customers``: a customer on Rasa's socket.io channel as the widget talks to it, and the
  Chromium used for browser sessions;
- ``agents``: agents created in the application database, to sign in to the console.
- ``fake_smtp``: a stand-in for the shop's SMTP server (``aiosmtpd``), recording what it
  receives and refusing, dropping or asking for TLS and a login as told;
- ``postgres``: the PostgreSQL server (``TEST_POSTGRES_URL``) throw-away databases are made on.

``tests/support/`` keeps what only the tests use. The packages (faq_index, actions, bot,
connectors, vocabulary) never import this one, and it imports neither ``bench`` nor ``tests``
(import-linter, pyproject.toml). Benchmarks run from the repository's root as modules
(``python -m bench.dialogue``), tests with ``python -m pytest``: both find it there.
"""
