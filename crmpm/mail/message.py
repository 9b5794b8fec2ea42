"""An e-mail as crmpm writes it: plain text, optionally HTML beside it, headers with a zone."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from crmpm.database import utcnow
from crmpm.emails import InvalidEmail, normalize_email
from crmpm.errors import Invalid

MAX_RECIPIENTS = 100
MAX_SUBJECT = 998  # RFC 5322's line limit
# Headers a message may carry besides its own X- ones: a mailing's unsubscribe address (RFC 2369, RFC 8058).
LIST_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")


@dataclass
class Message:
    """What to send: recipients, subject, a text body and, if given, an HTML alternative."""

    to: list[str]
    subject: str
    text: str
    html: str | None = None
    cc: list[str] = field(default_factory=list)
    reply_to: str | None = None
    in_reply_to: str | None = None
    message_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.to, str):
            self.to = [self.to]
        self.to = [_address(address) for address in self.to]
        self.cc = [_address(address) for address in self.cc]
        if not self.to:
            raise Invalid("an e-mail needs at least one recipient")
        if len(self.to) + len(self.cc) > MAX_RECIPIENTS:
            raise Invalid("an e-mail may have at most {count} recipients", count=MAX_RECIPIENTS)
        if "\n" in self.subject or "\r" in self.subject or len(self.subject) > MAX_SUBJECT:
            raise Invalid("an e-mail's subject is one line of at most {count} characters", count=MAX_SUBJECT)
        for name, value in self.headers.items():
            if not (name.startswith("X-") or name in LIST_HEADERS) or any(c in name + value for c in "\r\n"):
                raise Invalid("an e-mail's own headers start with X- and hold one line each")

    def to_params(self) -> dict:
        """The message as JSON for a job's parameters."""
        return asdict(self)

    @classmethod
    def from_params(cls, params: dict) -> Message:
        return cls(**params)

    def to_email(self, sender: str, *, domain: str | None = None) -> EmailMessage:
        """The RFC 5322 message: multipart/alternative when there is HTML, UTF-8 throughout."""
        email = EmailMessage()
        email["From"] = sender
        email["To"] = ", ".join(self.to)
        if self.cc:
            email["Cc"] = ", ".join(self.cc)
        if self.reply_to:
            email["Reply-To"] = self.reply_to
        email["Subject"] = self.subject
        email["Date"] = format_datetime(utcnow())
        email["Message-ID"] = self.message_id or make_msgid(domain=domain or sender_domain(sender))
        if self.in_reply_to:
            email["In-Reply-To"] = self.in_reply_to
            email["References"] = self.in_reply_to
        email["Auto-Submitted"] = "auto-generated"
        for name, value in self.headers.items():
            email[name] = value
        email.set_content(self.text)
        if self.html is not None:
            email.add_alternative(self.html, subtype="html")
        return email


def _address(value: str) -> str:
    try:
        return normalize_email(value)
    except (InvalidEmail, AttributeError):
        raise Invalid("not a valid e-mail address: {address}", address=str(value)[:200]) from None


def sender_domain(sender: str) -> str:
    """The domain of a sender such as ``crmpm <noreply@example.com>``, for its Message-IDs."""
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return Address(addr_spec=address).domain or "localhost"


def new_message_id(sender: str) -> str:
    """A Message-ID fixed when a message is asked for, so a message sent twice reads as one to its receivers."""
    return make_msgid(domain=sender_domain(sender))
