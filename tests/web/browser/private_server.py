"""A demo server of a test module's own, for browser tests that add deals, projects and leads: the session's
shared demo (``live_server``) stays as the other browser tests expect it (the pm's home lists the first
projects by code, the board's columns hold the demo's deals)."""

from __future__ import annotations

import pytest

from crmpm import demo


@pytest.fixture(scope="module")
def own_server(live_server, tmp_path_factory):
    """A second live server over a fresh demo database (``live_server`` first: it checks Chromium is there)."""
    import threading

    from werkzeug.serving import make_server

    from crmpm import create_app, migrate
    from crmpm.database import db
    from tests.web.browser.conftest import Server

    url = f"sqlite:///{tmp_path_factory.mktemp('own-browser') / 'crmpm.db'}"
    migrate.upgrade(url=url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests"})
    with app.app_context(), db.transaction() as session:
        demo.load(session)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="crmpm-own-server", daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def log_in(own_server, new_page):
    """A page logged in as one of the demo users, on the module's own server."""

    def as_(email: str, locale: str = "en-US"):
        page = new_page(locale)
        page.goto(own_server.url("/login"))
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", demo.PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url(own_server.url("/"))
        return page

    return as_
