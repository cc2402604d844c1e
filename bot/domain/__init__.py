"""What the shop's assistant knows and decides, independent of how it is reached:
customers and their identities, conversations, tickets and the handoff, the agents, the FAQ
knowledge, privacy, and the dialogue decisions the actions carry out. Imports only
:mod:`bot.store`, :mod:`bot.settings`, :mod:`faq_index` and :mod:`vocabulary`."""
