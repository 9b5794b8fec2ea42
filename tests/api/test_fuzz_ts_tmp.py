"""Property-based requests generated from our own OpenAPI spec: whatever comes in, never a 500.

schemathesis draws paths, queries and bodies (valid and invalid) for every
operation in ``/api/openapi.json`` and sends them, authenticated, to the app.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from crmpm import demo

EXAMPLES = 60


@pytest.fixture
def demo_world(session):
    demo.load(session)
    session.commit()


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_no_operation_answers_500(app, api, session, demo_world, backend):
    if backend != "sqlite":
        pytest.skip("one backend is enough for the fuzzing sweep; the database rules are tested on both")
    from crmpm.users import services as users

    admin = users.get_by_email(session, email="admin@crmpm.local")
    am = users.get_by_email(session, email="am@crmpm.local")
    tokens = [api.token_for(admin), api.token_for(am)]
    failures = []
    operations = [o for o in _operations(app) if "timesheet" in o.path]
    assert len(operations) == 8, len(operations)
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            for token in tokens:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
                response = case.call()
                if response.status_code >= 500:
                    failures.append(f"{operation.method.upper()} {case.formatted_path} {case.query} "
                                    f"{str(case.body)[:120]} -> {response.status_code}")
        check()
    assert not failures, "\n".join(failures[:20])

