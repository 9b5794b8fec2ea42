"""Shared CRM test data; test modules import the fixtures they use from here."""

from __future__ import annotations

import pytest

from tests import factories
from tests.api.conftest import admin, api  # noqa: F401 - the HTTP client fixtures, shared with the EPS API tests


@pytest.fixture
def crm(session):
    """An enterprise with two branches (A, B), one account with a contact in each, and a pipeline."""
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="ENT")
    world = {"admin": admin, "root": root, "pipeline": factories.pipeline(session, name="Sales")}
    for side in ("A", "B"):
        branch = factories.node(session, actor=admin, parent=root, code=side)
        account = factories.account(session, actor=admin, region=branch, name=f"Client {side}")
        world[side] = {"branch": branch, "account": account,
                       "contact": factories.contact(session, actor=admin, account=account,
                                                    email=f"buyer@{side.lower()}.example")}
    session.commit()
    return world
