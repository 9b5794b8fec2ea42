"""A commit that fails at the edge (a deferred constraint, a serialization failure) answers 409, never a bare 500.

The failure is provoked by a ``before_commit`` hook on the app's sessions that raises as
a deferred foreign key or a concurrent update would at COMMIT: the request's work itself
succeeded, only its commit is refused.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmpm.users.models import User
from eps.models import EpsNode
from tests import factories
from tests.api.conftest import ApiClient
from tests.web.conftest import Pages


class _Switch:
    armed = False


@pytest.fixture
def failing_commit(session):
    """Once armed, commits of sessions other than the test's own fail, as a deferred constraint would."""
    switch = _Switch()

    def _refuse(committing):
        if switch.armed and committing is not session:
            raise IntegrityError("COMMIT", {}, Exception("deferred constraint violated at commit"))

    event.listen(Session, "before_commit", _refuse)
    yield switch
    event.remove(Session, "before_commit", _refuse)


def test_api_answers_409_in_the_error_shape_and_writes_nothing(app, session, failing_commit):
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="ROOT")
    session.commit()
    api = ApiClient(app.test_client(), session)
    token = api.token_for(admin)
    failing_commit.armed = True
    response = api.post("/api/v1/eps/nodes", json={"code": "CLASH", "name": "Clash", "parent_id": root.id},
                        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.json["code"] == 409 and response.json["status"] == "Conflict"
    assert "try again" in response.json["message"] and response.json["errors"] == {}
    assert session.scalar(select(EpsNode).where(EpsNode.code == "CLASH")) is None


def test_page_answers_an_html_409(app, session, failing_commit):
    user = factories.user(session)
    session.commit()
    pages = Pages(app.test_client()).log_in_as(user)
    token = pages.csrf_token()
    failing_commit.armed = True
    response = pages.post("/locale", {"locale": "ru", "next": "/", "csrf_token": token})
    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "<html" in body and "409" in body
    assert response.headers["X-Frame-Options"] == "DENY"  # the page's own headers are kept
    session.expire_all()
    assert session.get(User, user.id).locale != "ru"
