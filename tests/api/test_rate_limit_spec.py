"""Every API endpoint that can answer 429 says so in the OpenAPI spec, with its Retry-After header."""

from __future__ import annotations

import inspect

from crmpm import create_app


def _throttled_endpoints(app):
    """(path, method) of every API route whose view calls crmpm.ratelimit's throttle()."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        if "throttle()" in inspect.getsource(view):
            path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            found += [(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}]
    return found


def test_throttled_endpoints_document_429_with_retry_after():
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "spec-test"})
    spec = app.test_client().get("/api/openapi.json").get_json()
    throttled = _throttled_endpoints(app)
    assert ("/api/v1/me/tokens", "post") in throttled and ("/api/v1/users/{user_id}", "patch") in throttled
    for path, method in throttled:
        response = spec["paths"][path][method]["responses"].get("429")
        assert response is not None, f"{method.upper()} {path} can answer 429 but the spec does not say so"
        assert "Retry-After" in response["headers"]
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
