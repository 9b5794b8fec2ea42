"""Page tests: Flask's test client with a session cookie and CSRF tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from decimal import Decimal

from eps import budgets
from eps.models import Role
from tests import factories

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Pages:
    """A browser stand-in: keeps the session cookie, reads the CSRF token from the page like app.js does."""

    def __init__(self, client):
        self.client = client

    def log_in_as(self, user) -> "Pages":
        """Start a session for ``user`` without the password round trip (login has its own tests)."""
        with self.client.session_transaction() as session:
            session.clear()
            session["user_id"] = user.id
            session["stamp"] = user.session_stamp
        return self

    def csrf_token(self) -> str:
        page = self.client.get("/profile/")
        if page.status_code != 200:
            page = self.client.get("/login")
        return CSRF_META.search(page.get_data(as_text=True)).group(1)

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path, data=None, *, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token())
        return self.client.post(path, data=data, **kwargs)


@pytest.fixture
def pages(app):
    return Pages(app.test_client())


@pytest.fixture
def admin(session):
    user = factories.user(session, admin=True, name="Admin")
    session.commit()
    return user


@pytest.fixture
def world(session, admin):
    """A root with two branches; A holds a sub-node, a project and a pending change; B is out of reach."""
    root = factories.node(session, actor=admin, code="ROOT", budget="1000.00")
    a = factories.node(session, actor=admin, parent=root, code="A", budget="500.00")
    b = factories.node(session, actor=admin, parent=root, code="B", budget="300.00")
    b.name = "Secret Branch B"
    a1 = factories.node(session, actor=admin, parent=a, code="A1", budget="200.00")
    pa = factories.project(session, actor=admin, node=a1, code="PA", budget="100.00", planned="80.00", actual="20.00")
    pb = factories.project(session, actor=admin, node=b, code="PB", budget="100.00")
    pb.name = "Secret Project PB"
    change = budgets.request_change(session, actor=admin, obj=pa, amount=Decimal("50.00"), reason="more")
    session.commit()
    return {"root": root, "A": a, "B": b, "A1": a1, "PA": pa, "PB": pb, "change": change}


@pytest.fixture
def user_with(session, admin, world):
    """A user holding ``role`` on node A (or nothing, for None)."""

    def make(role: Role | None):
        user = factories.user(session)
        if role is not None:
            factories.grant(session, actor=admin, role=role, target=world["A"], user=user)
        session.commit()
        return user

    return make
