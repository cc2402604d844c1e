"""What a customer's message means in its conversation, and what the assistant does about it.

Pure functions with no Rasa or database imports (the actions carry their decisions out):
``courtesy`` finds the question in a message wrapped in thanks, yes or no; ``decisions`` says
what a reply to the bot's offer means; ``localize_domain`` writes the Traditional Chinese
responses of the domain. The names they share with the rest are in :mod:`vocabulary`.
"""
