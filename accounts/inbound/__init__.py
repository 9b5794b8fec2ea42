"""Inbound channels into the client journal: telephony calls, messenger messages and e-mail.

``integrations``: the channels an administrator sets up, each with a token of its own; ``journal``: how a call,
a message or an e-mail becomes one interaction on the right contact, account, open deal or lead; ``mail``:
reading a raw RFC 822 message. No Flask here; the HTTP edge is ``api/inbound.py``.
"""
