"""Reading raw messages: whatever the bytes, a ParsedMail or a MailError, never another exception."""

from __future__ import annotations

import random
from email.message import EmailMessage

from accounts.inbound.mail import MailError, one_message_id, parse_message

MUTATIONS = 3000
ALPHABET = b"\x00\r\n:;<>=?\"\\ ,@()[]-_abcXYZ\xff\xd0\x80"


def _message() -> bytes:
    message = EmailMessage()
    message["From"] = "Иван <ivan@x.example>"
    message["To"] = "a@b.example, c@d.example"
    message["Subject"] = "Тема письма"
    message["Message-ID"] = "<1@x.example>"
    message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0300"
    message["In-Reply-To"] = "<0@x.example>"
    message.set_content("текст")
    message.add_alternative("<p>html</p>", subtype="html")
    message.add_attachment(b"abc", maintype="application", subtype="octet-stream", filename="a.bin")
    return message.as_bytes()


def test_mutated_messages_are_read_or_refused_as_mail_errors():
    # The stdlib's parser raised IndexError, TypeError and AttributeError on some of these before they were caught.
    base, rnd = _message(), random.Random(1)
    read = refused = 0
    for _ in range(MUTATIONS):
        data = bytearray(base)
        for _ in range(rnd.randint(1, 12)):
            choice, at = rnd.random(), rnd.randrange(len(data) + 1)
            if choice < 0.4:
                data[at:at] = bytes(rnd.choice(ALPHABET) for _ in range(rnd.randint(1, 6)))
            elif choice < 0.7:
                del data[at:at + rnd.randint(1, 20)]
            else:
                data[at:at + 1] = bytes([rnd.randrange(256)])
        try:
            mail = parse_message(bytes(data))
        except MailError:
            refused += 1
            continue
        read += 1
        assert "\x00" not in mail.sender + mail.subject + mail.text + "".join(mail.to + mail.cc + mail.attachments)
    assert read and refused


def test_a_message_without_a_sender_is_refused_naming_from():
    for raw in (b"", b"\x00" * 100, b"From:\r\n\r\n", b"Subject: nobody\r\n\r\nhello"):
        try:
            parse_message(raw)
        except MailError as exc:
            assert exc.field == "from"
        else:
            raise AssertionError(raw)


def test_message_ids_are_spelled_one_way():
    assert one_message_id("abc@host") == "<abc@host>"
    assert one_message_id(" <abc@host> ") == "<abc@host>"
    assert one_message_id("not an id") is None
    assert one_message_id("") is None
