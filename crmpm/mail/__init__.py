"""Outgoing e-mail: messages written from templates, sent over SMTP by jobs with retries.

``send_later(session, Message(...), actor=...)`` asks for a ``mail.send`` job in the caller's
transaction: nothing goes out for a change that rolls back, and the request does not wait for the
server. The job sends to ``CRMPM_SMTP_URL`` (``crmpm.mail.smtp``); a server that is down or answers
4xx is tried again with the job engine's backoff, a 5xx refusal fails the job with the server's
answer. Without ``CRMPM_SMTP_URL`` the message is written as an ``.eml`` file into the instance
folder's ``outbox`` and logged, so development needs no mail server and loses nothing.

The Message-ID is fixed when the message is asked for: a job that is run again after its worker
died between sending and committing sends the same message, which receivers see as one.
"""

from __future__ import annotations

from crmpm.mail.message import Message, new_message_id
from crmpm.mail.smtp import SmtpSettings
from crmpm.mail.templates import Rendered, Templates, check_user_template, render_user_template

__all__ = ["KIND", "Message", "Rendered", "SmtpSettings", "Templates", "check_user_template", "render_user_template",
           "send_later"]

KIND = "mail.send"
MAX_ATTEMPTS = 6  # 10 s, 40 s, 160 s, 640 s, 2,560 s after the failures: about 55 minutes in all


def send_later(session, message: Message, *, actor=None, about=None):
    """Ask for ``message`` to be sent after the caller's transaction commits; returns its job.

    ``about`` (an ORM row or a ``(table, id)`` pair: the deal, contact, lead or account the message
    is about) makes the job record a ``mail.sent`` event on it once the server has taken the message;
    the CRM files such a message in the client's journal.
    """
    from crmpm import events, jobs

    config = jobs.config_of(session)
    if message.message_id is None:
        message.message_id = new_message_id(config["MAIL_FROM"])
    params = {"message": message.to_params()}
    if about is not None:
        params["about"] = list(events.subject_of(about))
    return jobs.start(session, kind=KIND, params=params, actor=actor, max_attempts=MAX_ATTEMPTS)
