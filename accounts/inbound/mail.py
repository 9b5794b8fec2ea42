"""Reading an e-mail: a raw RFC 822 message into the fields the journal records, and HTML into plain text.

Pure (no database): the stdlib ``email`` package with ``policy.default`` decodes the headers (RFC 2047 subjects
in any charset) and the parts; the text/plain part is preferred, else the HTML one stripped to text.
Attachments are named, never kept.
"""

from __future__ import annotations

import email
import email.errors
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.utils import getaddresses, parsedate_to_datetime
from datetime import datetime
from html.parser import HTMLParser

MESSAGE_ID_RE = re.compile(r"<[^<>\s\x00-\x1f\x7f]+>")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]+")


class MailError(ValueError):
    """A message that cannot be read; ``field`` names what is wrong."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class ParsedMail:
    """What the journal records of one e-mail."""

    sender: str  # the address, as written
    sender_name: str
    to: list[str]
    cc: list[str]
    subject: str
    text: str
    message_id: str | None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    sent_at: datetime | None = None
    attachments: list[str] = field(default_factory=list)


def message_ids(value: str | None) -> list[str]:
    """The ``<id@host>`` tokens of a Message-ID, In-Reply-To or References header, in order."""
    return MESSAGE_ID_RE.findall(value or "")


def one_message_id(value: str | None) -> str | None:
    """A Message-ID in its one spelling, ``<id@host>``: the brackets added when the sender left them out."""
    value = (value or "").strip()
    if not value:
        return None
    found = message_ids(value)
    if found:
        return found[0]
    return f"<{value}>" if not re.search(r"[\s<>\x00-\x1f\x7f]", value) else None


class _TextOfHtml(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
    HIDDEN = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body: tags and scripts gone, entities decoded, blank lines folded."""
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts))
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def parse_message(raw: bytes) -> ParsedMail:
    """A raw RFC 822 message read into ``ParsedMail``; MailError when it has no sender to match or cannot be read.

    The stdlib's header parser (``policy.default``) still fails on some malformed headers with IndexError,
    TypeError or AttributeError from its insides (found by mutating real messages: ``tests/accounts/inbound``);
    those are refused as unreadable here, so that no message makes a server error.
    """
    try:
        return _parse(raw)
    except MailError:
        raise
    except (IndexError, TypeError, AttributeError, ValueError, LookupError, email.errors.MessageError) as exc:
        raise MailError(f"the message cannot be read ({type(exc).__name__})", "body") from None


def _parse(raw: bytes) -> ParsedMail:
    message = email.message_from_bytes(raw, policy=policy.default)
    try:
        senders = message["From"].addresses if message["From"] is not None else ()
    except (AttributeError, ValueError, IndexError):
        senders = ()
    sender = next((address for address in senders if isinstance(address, Address) and address.addr_spec), None)
    if sender is None:
        raise MailError("the message has no readable From address", "from")
    try:
        sent_at = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError, IndexError):
        sent_at = None
    if sent_at is not None and sent_at.tzinfo is None:
        sent_at = None  # a naive date is not a point in time; the time of receipt is used instead
    text, attachments = _body(message)
    return ParsedMail(
        sender=_printable(sender.addr_spec), sender_name=_printable(sender.display_name or ""),
        to=_addresses(message, "To"), cc=_addresses(message, "Cc"), subject=_printable(str(message["Subject"] or "")),
        text=text.replace("\x00", ""), message_id=one_message_id(str(message["Message-ID"] or "")),
        in_reply_to=message_ids(str(message["In-Reply-To"] or "")),
        references=message_ids(str(message["References"] or "")), sent_at=sent_at, attachments=attachments)


def _printable(value: str) -> str:
    """A header's text without control characters (a NUL cannot be stored; folded lines become spaces)."""
    return CONTROL_RE.sub(" ", value).strip()


def _addresses(message, header: str) -> list[str]:
    values = message.get_all(header) or []
    return [_printable(address) for _name, address in getaddresses([str(value) for value in values]) if address]


def _body(message) -> tuple[str, list[str]]:
    attachments = []
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment" or (
                part.get_filename() and part.get_content_maintype() not in ("text",)):
            attachments.append(_printable(part.get_filename() or part.get_content_type()))
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return "", attachments
    try:
        content = body.get_content()
    except (LookupError, ValueError):  # an unknown charset: read what can be read
        content = body.get_payload(decode=True).decode("utf-8", errors="replace")
    if not isinstance(content, str):
        return "", attachments
    if body.get_content_subtype() == "html":
        content = html_to_text(content)
    return content.strip(), attachments
