"""Signatures recomputed independently, and which targets webhooks may reach (SSRF)."""

import hashlib
import hmac

import pytest

from crmpm.webhooks import signing, targets


def test_the_signature_is_the_hmac_sha256_of_the_raw_body_with_the_secret():
    body = '{"id":1,"type":"deal.won","data":{"amount":"10.00","name":"Ладога"}}'.encode()
    expected = hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
    assert signing.sign("k3y", body) == f"sha256={expected}"
    headers = signing.headers("k3y", 1796400000, body)
    assert headers["X-Crmpm-Signature"] == f"sha256={expected}"
    assert headers["X-Crmpm-Timestamp"] == "1796400000"
    timestamped = hmac.new(b"k3y", b"1796400000." + body, hashlib.sha256).hexdigest()
    assert headers["X-Crmpm-Signature-V2"] == f"sha256={timestamped}"
    assert signing.sign("other", body) != headers["X-Crmpm-Signature"]


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
    "::ffff:127.0.0.1", "::ffff:192.168.1.1", "2002:a00:1::1", "ff02::1",
])
def test_private_loopback_link_local_and_reserved_addresses_are_forbidden(address):
    assert targets.forbidden(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001::200e"])
def test_public_addresses_are_not(address):
    assert not targets.forbidden(address)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x", "http://[::1]/x", "http://10.1.1.1:8080/x", "https://169.254.169.254/latest/meta-data",
    "http://localhost/x", "http://LOCALHOST./x", "http://[::ffff:7f00:1]/x", "http://2130706433/x", "http://0x7f.1/x",
])
def test_refused_without_the_allow_list_including_names_that_resolve_to_loopback(url):
    with pytest.raises(targets.TargetRefused):
        targets.resolve(url, allow=set())


def test_the_allow_list_admits_exactly_what_it_names(monkeypatch):
    monkeypatch.setenv(targets.ALLOW_HOSTS_ENV, " 127.0.0.1 , [::1]")
    assert targets.allowed_hosts() == {"127.0.0.1", "::1"}
    target = targets.resolve("http://127.0.0.1:8123/hook?x=1")
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "http", "127.0.0.1", 8123, "/hook?x=1", "127.0.0.1")
    assert target.host_header == "127.0.0.1:8123"
    assert targets.resolve("http://[::1]/h").host_header == "[::1]"
    with pytest.raises(targets.TargetRefused):
        targets.resolve("http://10.0.0.1/hook")
    assert targets.resolve("http://localhost:8123/hook", allow={"localhost"}).host == "localhost"  # by name
    # A name is reached only at an address allowed or public, the one checked (localhost: 127.0.0.1, never ::1).
    assert targets.resolve("http://localhost:8123/hook").address == "127.0.0.1"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://x", "http://", "http:///x",
                                 "http://a b/x", "http://user:pw@127.0.0.1/", "http://127.0.0.1:99999/x", "x" * 3000])
def test_only_plain_http_and_https_urls_are_accepted(url):
    with pytest.raises(targets.TargetRefused):
        targets.resolve(url, allow={"127.0.0.1"})
