"""A web-to-lead form in a real browser: staff make it on the pages, a visitor fills it inside an iframe of
another page, a bad e-mail is named, then the lead arrives with the form and its source."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

from tests.web.browser.private_server import log_in, own_server  # noqa: E402,F401 - fixtures: a demo of its own


@contextmanager
def client_site(html: str):
    """A client's site: ``html`` served at every path by a server of its own on a free port."""
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the handler's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _form_and_leads(own_server, name: str):
    from sqlalchemy import select

    from accounts.marketing.models import WebForm
    from accounts.models import Lead
    from crmpm.database import db

    with own_server.app.app_context():
        session = db.new_session()
        try:
            form = session.scalar(select(WebForm).where(WebForm.name == name))
            leads = session.scalars(select(Lead).where(Lead.web_form_id == form.id)).all()
            return form, [(lead.contact_name, lead.email, lead.source) for lead in leads]
        finally:
            session.close()


def test_a_visitor_fills_an_embedded_form_and_a_lead_arrives(log_in, new_page, screenshot, own_server):
    staff = log_in("am@crmpm.local")
    staff.goto(own_server.url("/forms/"))
    staff.click("a.button >> text=New form")
    staff.wait_for_url(re.compile(r"/forms/new$"))
    staff.fill("input[name=name]", "Site contact form")
    staff.fill("input[name=source]", "landing page")
    staff.select_option("select[name=language]", "en")
    staff.check("input[name=required_email]")
    staff.click("form.card button[type=submit].primary")
    staff.wait_for_url(re.compile(r"/forms/\d+$"))
    code = staff.input_value("#embed-code")
    assert code.startswith("<iframe src=")
    screenshot(staff, "web-form-staff")
    form, leads = _form_and_leads(own_server, "Site contact form")
    assert leads == []

    # The client's site, another origin (a server of its own), with the code pasted into it.
    visitor = new_page("en-US")
    with client_site(f"<!doctype html><html lang=en><title>Client site</title><h1>Our company</h1>{code}</html>") \
            as site:
        visitor.goto(site + "/contact")
        _fill_in(visitor)
        screenshot(visitor, "web-form-embedded")
    _form, leads = _form_and_leads(own_server, "Site contact form")
    assert leads == [("Irina Volkova", "irina@volkova.example", "landing page")]

    staff.reload()
    expect(staff.locator("#submissions")).to_have_text("1")
    expect(staff.locator("text=Irina Volkova")).to_be_visible()


def _fill_in(visitor):
    frame = visitor.frame_locator("iframe")
    frame.locator("input[name=contact_name]").fill("Irina Volkova")
    frame.locator("input[name=email]").fill("irina@")
    frame.locator("button[type=submit]").click()
    expect(frame.locator("#e-email")).to_have_text("This is not a valid e-mail address.")
    frame.locator("input[name=email]").fill("irina@volkova.example")
    frame.locator("button[type=submit]").click()
    expect(frame.locator("h1")).to_have_text("Thank you")
