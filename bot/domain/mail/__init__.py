"""E-mail continuity: agents' replies a customer has not seen reach them by e-mail, and their
e-mailed answers come back into the same conversation.

Protocol code, no database: :mod:`.addresses` (reply addresses with the conversation's token,
typed addresses), :mod:`.inbound` (a received mail into the customer's new text, with
:mod:`.html_text` and :mod:`.quotes`), :mod:`.outbound` (the continuation mail, in the words of
:mod:`.texts`). The database side: :mod:`.consent` (the customer's address and consent),
:mod:`.threads` (reply tokens, Message-IDs), :mod:`.continuation` (queueing the mail, the "seen"
signal, the mails of a ticket), :mod:`.replies` (storing a received answer once, bounces),
:mod:`.follow_up` (which agents' replies are e-mailed, the widget's "seen" signal) and
:mod:`.asking` (asking a customer for an address at the handoff, in the words of
:mod:`.chat_texts`).
The workers that speak SMTP are :mod:`bot.workers.mail_outbox` and :mod:`bot.workers.mail_inbound`.
"""
