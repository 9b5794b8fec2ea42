"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1), and what it received.

``smtp_server`` starts one per test on a free port: ``server.url`` is what ``CRMPM_SMTP_URL``
would hold, ``server.messages`` the messages it accepted (parsed, with their envelope), and
``server.refuse(...)`` makes it answer the next transactions with an error, as a real server does
when a mailbox is full (4xx) or unknown (5xx). ``tls=True`` offers STARTTLS with a certificate made
for the test by ``openssl``; ``login=(user, password)`` requires AUTH.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class _Handler:
    messages: list[Received] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.refusals:
            return self.refusals.pop(0)
        raw = envelope.original_content or envelope.content
        with self.arrived:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          message_from_bytes(raw, policy=policy.default), raw))
            self.arrived.notify_all()
        return "250 OK"


class SmtpServer:
    def __init__(self, *, tls_dir: Path | None = None, login: tuple[str, str] | None = None) -> None:
        self.handler = _Handler()
        self.port = _free_port()
        self.cafile = None
        kwargs = {}
        if tls_dir is not None:
            self.cafile = str(_certificate(tls_dir))
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cafile, str(tls_dir / "key.pem"))
            kwargs.update(tls_context=context, require_starttls=True)
        if login is not None:
            kwargs.update(authenticator=_Authenticator(*login), auth_required=True,
                          auth_require_tls=tls_dir is not None)
        self.login = login
        self.controller = Controller(self.handler, hostname=HOST, port=self.port, **kwargs)

    @property
    def url(self) -> str:
        credentials = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        query = f"?starttls=1&cafile={self.cafile}&timeout=10" if self.cafile else "?timeout=10"
        return f"smtp://{credentials}{HOST}:{self.port}{query}"

    @property
    def messages(self) -> list[Received]:
        return list(self.handler.messages)

    def refuse(self, *answers: str) -> None:
        """Answer the next DATA commands with these replies (``"451 4.3.0 try later"``) instead of 250."""
        self.handler.refusals.extend(answers)

    def wait_for(self, count: int, timeout: float = 60.0) -> list[Received]:
        """The messages once ``count`` have arrived; fails the test after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self.handler.arrived:
            while len(self.handler.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"the SMTP server received {len(self.handler.messages)} messages, not {count}")
                self.handler.arrived.wait(left)
        return self.messages


class _Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (self.user, self.password)
        return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _certificate(directory: Path) -> Path:
    """A self-signed certificate for 127.0.0.1, made by openssl for this test."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert


def start_smtp_server(**kwargs) -> SmtpServer:
    server = SmtpServer(**kwargs)
    server.controller.start()
    return server


@pytest.fixture
def smtp_server():
    """A plain SMTP server on 127.0.0.1 for one test."""
    server = start_smtp_server()
    yield server
    server.controller.stop()
