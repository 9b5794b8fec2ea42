"""The ``mail.send`` job: one message to the SMTP server, or into the outbox when none is configured."""

from __future__ import annotations

import logging
import smtplib
from pathlib import Path

from crmpm import events, jobs
from crmpm.errors import Invalid
from crmpm.jobs import JobContext
from crmpm.mail.message import Message
from crmpm.mail.smtp import SmtpSettings, deliver, is_temporary

log = logging.getLogger(__name__)
# How much of a sent message's text its mail.sent event carries (the client's journal keeps it).
TEXT_KEPT = 10_000


def send(ctx: JobContext) -> dict:
    """Send the job's message; a temporary failure raises (retried), a refusal fails the job with the reason."""
    config = jobs.config_of(ctx.session)
    message = Message.from_params(ctx.params["message"])
    email = message.to_email(config["MAIL_FROM"])
    if not config.get("SMTP_URL"):
        return {"outbox": str(write_to_outbox(Path(config["INSTANCE_PATH"]), email)), "to": message.to}
    settings = SmtpSettings.from_url(config["SMTP_URL"])
    try:
        refused = deliver(settings, email)
    except (smtplib.SMTPException, OSError) as exc:
        if is_temporary(exc):
            raise
        raise Invalid("the mail server refused the message: {answer}", answer=_answer(exc)) from None
    result = {"message_id": email["Message-ID"], "to": message.to + message.cc}
    if refused:
        result["refused"] = {address: f"{code} {text.decode(errors='replace')}" for address, (code, text) in refused.items()}
    if ctx.params.get("about"):
        _record_sent(ctx, message, email["Message-ID"], refused)
    return result


def _record_sent(ctx: JobContext, message: Message, message_id: str, refused: dict) -> None:
    """The ``mail.sent`` event on what the message was about, in the job's transaction."""
    subject_type, subject_id = ctx.params["about"]
    events.record(ctx.session, "mail.sent", (subject_type, subject_id),
                  {"to": message.to, "cc": message.cc, "refused": sorted(refused), "subject": message.subject,
                   "text": message.text[:TEXT_KEPT], "message_id": message_id, "job_id": ctx.job_id},
                  actor=ctx.actor)


def write_to_outbox(instance: Path, email) -> Path:
    """Keep an unsent message as ``<instance>/outbox/<time>-<id>.eml`` and say so in the log."""
    outbox = instance / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    name = email["Message-ID"].strip("<>").replace("/", "_")
    path = outbox / f"{name}.eml"
    path.write_bytes(bytes(email))
    log.warning("CRMPM_SMTP_URL is not set: the e-mail %r to %s was written to %s, not sent",
                email["Subject"], email["To"], path)
    return path


def _answer(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{address}: {code} {text.decode(errors='replace')}"
                         for address, (code, text) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
    return str(exc)
