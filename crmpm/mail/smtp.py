"""Where mail goes: the SMTP server named by ``CRMPM_SMTP_URL``, read once into ``SmtpSettings``.

The URL: ``smtp://user:password@host:587?starttls=1`` (STARTTLS after the greeting),
``smtps://user:password@host:465`` (TLS from the first byte), ``smtp://host:25`` (no login, no TLS:
a relay on the same machine or network). User and password are percent-encoded as in any URL.
Query parameters: ``starttls`` (1/0), ``timeout`` (seconds, default 30), ``cafile`` (the CA
certificates to trust instead of the system's), ``helo`` (the name given in EHLO).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from crmpm.errors import Invalid

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
KNOWN_PARAMETERS = {"starttls", "timeout", "cafile", "helo"}


@dataclass(frozen=True)
class SmtpSettings:
    """One SMTP server and how to talk to it."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    starttls: bool = False
    timeout: float = 30.0
    cafile: str | None = None
    helo: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Read ``CRMPM_SMTP_URL``; a clear error naming the part that is wrong, never the password."""
        parts = urlsplit(url.strip())
        if parts.scheme not in DEFAULT_PORTS:
            raise Invalid("CRMPM_SMTP_URL must start with smtp:// or smtps://, not {scheme}",
                          scheme=repr(parts.scheme + "://" if parts.scheme else url.split(":", 1)[0]))
        if not parts.hostname:
            raise Invalid("CRMPM_SMTP_URL names no host")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise Invalid("CRMPM_SMTP_URL has a port that is not a number between 1 and 65535") from None
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        unknown = sorted(set(query) - KNOWN_PARAMETERS)
        if unknown:
            raise Invalid("CRMPM_SMTP_URL has unknown parameters: {names}", names=", ".join(unknown))
        starttls = FLAGS.get(query.get("starttls", "0").lower())
        if starttls is None:
            raise Invalid("CRMPM_SMTP_URL: starttls must be 1 or 0")
        try:
            timeout = float(query.get("timeout", "30"))
        except ValueError:
            raise Invalid("CRMPM_SMTP_URL: timeout must be a number of seconds") from None
        if not 0 < timeout <= 600:
            raise Invalid("CRMPM_SMTP_URL: timeout must be between 0 and 600 seconds")
        return cls(host=parts.hostname, port=port,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password is not None else None,
                   implicit_tls=parts.scheme == "smtps", starttls=starttls and parts.scheme == "smtp",
                   timeout=timeout, cafile=query.get("cafile") or None, helo=query.get("helo") or None)

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)


def deliver(settings: SmtpSettings, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
    """Hand ``message`` to the server; returns the recipients it refused (the rest were accepted).

    Raises ``smtplib.SMTPException`` or ``OSError`` when the server cannot be reached or refuses
    the message as a whole (the caller decides what is worth a retry: ``is_temporary``).
    """
    if settings.implicit_tls:
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                  local_hostname=settings.helo, context=settings.tls_context())
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout, local_hostname=settings.helo)
    with client:
        if settings.starttls:
            client.starttls(context=settings.tls_context())
        if settings.username:
            client.login(settings.username, settings.password or "")
        return client.send_message(message)


def is_temporary(error: BaseException) -> bool:
    """Whether trying again later may help: the server unreachable or a 4xx reply; not a 5xx refusal."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, (OSError, smtplib.SMTPServerDisconnected))
