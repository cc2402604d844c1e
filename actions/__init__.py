"""Custom actions of the shop assistant, served by ``python -m rasa_sdk --actions actions``.

Actions are thin adapters: the FAQ search lives in ``faq_index``; these classes translate
between Rasa's tracker and it.
"""
