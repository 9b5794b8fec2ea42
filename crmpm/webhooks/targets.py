"""Where webhooks may be sent: http(s) URLs whose every address is public, unless allowed by name.

Refused (SSRF): loopback, private, link-local, unique-local, multicast, reserved and unspecified
addresses, IPv4 and IPv6 (IPv4-mapped IPv6 judged as its IPv4), named literally or by a host name
that resolves only to such addresses (of a name's addresses, only a public one is ever connected to). ``CRMPM_WEBHOOK_ALLOW_HOSTS`` (comma-separated host names or addresses)
allows targets otherwise refused. The check runs when a webhook is saved and again at every
delivery, and the delivery connects to the very address checked (``resolve``), so a name that
resolves differently later (DNS rebinding) is refused then.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

ALLOW_HOSTS_ENV = "CRMPM_WEBHOOK_ALLOW_HOSTS"
MAX_URL = 2000


class TargetRefused(ValueError):
    """The URL is not one webhooks may be sent to; ``str`` says why (names no internal address)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: its scheme, host as written, port, path with query, and the address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def allowed_hosts() -> set[str]:
    """The hosts and addresses ``CRMPM_WEBHOOK_ALLOW_HOSTS`` allows (lower case, brackets removed)."""
    raw = os.environ.get(ALLOW_HOSTS_ENV, "")
    return {_plain_host(part) for part in raw.split(",") if part.strip()}


def _plain_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def forbidden(address: str) -> bool:
    """True for an address webhooks must not reach: anything but a public unicast one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and forbidden(str(embedded)):
            return True
    return (not ip.is_global or ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified)


def parse(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path)`` of an http(s) URL; TargetRefused for anything else."""
    if not isinstance(url, str) or len(url) > MAX_URL or any(ord(ch) < 33 for ch in url):
        raise TargetRefused("not a valid URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("only http and https URLs are accepted")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("credentials in the URL are not accepted; sign with the secret instead")
    host = _plain_host(parts.hostname or "")
    if not host:
        raise TargetRefused("the URL has no host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve(url: str, *, allow: set[str] | None = None) -> Target:
    """The URL checked, with the address to connect to; TargetRefused when it may not be reached.

    The host, when allowed by name, may be reached at any of its addresses; otherwise only at an
    address that is public or allowed. The delivery connects to the address returned (the first such),
    never to another lookup's answer, so no refused address is ever reached.
    """
    scheme, host, port, path = parse(url)
    allow = allowed_hosts() if allow is None else allow
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise TargetRefused("the host name does not resolve") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise TargetRefused("the host name does not resolve")
    if host not in allow:
        addresses = [address for address in addresses
                     if not forbidden(address) or address.split("%", 1)[0] in allow]
        if not addresses:
            raise TargetRefused("the host is in a private, loopback or link-local network")
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
