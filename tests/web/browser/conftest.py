"""Browser tests: Debian's headless Chromium driven by Playwright against a real server with the demo data.

The server is the app under werkzeug on 127.0.0.1 (a free port), on a
throwaway SQLite database migrated and loaded with ``crmpm.demo``. Chromium is
never downloaded: it is ``/usr/bin/chromium`` (``make test`` installs it as
root). Without it the tests are skipped with a note, and with ``CI=true``
they fail instead.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from crmpm import create_app, demo, migrate
from crmpm.database import db

CHROMIUM = os.environ.get("CRMPM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable_reason() -> str | None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is not installed (apt-get install chromium, or `make test` as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _unavailable_reason()
    if reason is None or IN_CI:
        return
    skip = pytest.mark.skip(reason=f"browser tests skipped: {reason}")
    for item in items:
        if "tests/web/browser" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The crmpm app served on a free port over a demo database; yields its base URL and the app."""
    reason = _unavailable_reason()
    if reason:
        pytest.fail(f"CI=true and {reason}")
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'crmpm.db'}"
    migrate.upgrade(url=url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests"})
    with app.app_context(), db.transaction() as session:
        demo.load(session)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="crmpm-live-server", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    yield Server(base, app)
    server.shutdown()
    thread.join(timeout=10)


class Server:
    def __init__(self, base: str, app):
        self.base = base
        self.app = app

    def url(self, path: str) -> str:
        return self.base + path

    def id_of(self, code: str) -> int:
        """The id of the EPS node or project with ``code`` in the demo data."""
        from eps.models import EpsNode, Project

        with self.app.app_context():
            session = db.new_session()
            try:
                for model in (EpsNode, Project):
                    found = session.scalar(select(model.id).where(model.code == code))
                    if found is not None:
                        return found
            finally:
                session.close()
        raise LookupError(code)


@pytest.fixture(scope="session")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Pages in fresh browser contexts (each its own cookies), closed after the test."""
    contexts, problems = [], []

    def make(locale: str = "en-US"):
        context = browser.new_context(locale=locale, viewport={"width": 1366, "height": 900}, accept_downloads=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        # Script errors and blocked content (a CSP violation, say) fail the test; answers with an
        # error status are what some tests ask for, so those are not counted.
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
                if message.type == "error" and "Failed to load resource" not in message.text else None)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


@pytest.fixture
def log_in(live_server, new_page):
    """A page logged in as one of the demo users."""

    def as_(email: str, locale: str = "en-US"):
        page = new_page(locale)
        page.goto(live_server.url("/login"))
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", demo.PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url(live_server.url("/"))
        return page

    return as_


@pytest.fixture(scope="session")
def screenshot():
    """Save a full-page screenshot under tests/artifacts/ (git-ignored), for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
