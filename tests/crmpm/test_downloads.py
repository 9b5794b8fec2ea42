"""Attachments are named by werkzeug's RFC 6266 rule, whether sent whole or streamed."""

from __future__ import annotations

from flask import Flask
from werkzeug.http import parse_options_header

from crmpm.downloads import attachment, send_download


def test_an_ascii_name_is_given_as_it_is():
    assert parse_options_header(attachment("STREAM.xer")) == ("attachment", {"filename": "STREAM.xer"})
    assert parse_options_header(attachment('a "b".csv')) == ("attachment", {"filename": 'a "b".csv'})


def test_a_cyrillic_name_goes_in_filename_star_with_an_ascii_fallback():
    value = attachment("ПРОЕКТ-1.xml")
    assert value.isascii() and "filename*=UTF-8''%D0%9F%D0%A0%D0%9E%D0%95%D0%9A%D0%A2-1.xml" in value
    # Clients that read RFC 5987 get the name back exactly.
    assert parse_options_header(value)[1]["filename"] == "ПРОЕКТ-1.xml"


def test_send_download_is_an_attachment_with_its_length():
    with Flask(__name__).test_request_context():
        response = send_download("a,b\r\n", filename="сделки.csv", mimetype="text/csv")
        response.direct_passthrough = False
        assert response.headers["Content-Disposition"] == attachment("сделки.csv")
        assert response.mimetype == "text/csv" and response.content_length == 5
        assert response.get_data() == b"a,b\r\n"
