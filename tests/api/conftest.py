"""An HTTP client that calls the API as a given user."""

from __future__ import annotations

import pytest

from tests import factories


class ApiClient:
    def __init__(self, client, session):
        self._client = client
        self._session = session
        self._tokens = {}

    def token_for(self, user) -> str:
        if user.id not in self._tokens:
            self._tokens[user.id] = factories.token(self._session, user=user)
            self._session.commit()
        return self._tokens[user.id]

    def request(self, method: str, path: str, *, user=None, json=None, raw=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token_for(user)}"
        if raw is not None:
            headers.setdefault("Content-Type", "application/json")
            return self._client.open(path, method=method, data=raw, headers=headers, **kwargs)
        return self._client.open(path, method=method, json=json, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api(app, session):
    return ApiClient(app.test_client(), session)


@pytest.fixture
def admin(session, api):
    user = factories.admin(session)
    session.commit()
    api.token_for(user)  # issued now, so its audit entry is not counted as a test's own write
    return user
