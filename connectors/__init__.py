"""Rasa input channels that run inside the Rasa server (Python 3.10, Rasa's venv).

Import rule: only Rasa and the libraries of Rasa's venv; never ``bot`` or ``faq_index``.
"""
