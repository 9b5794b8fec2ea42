"""The same event delivered twice at once records one interaction, on a real PostgreSQL that commits for real.

The (integration, external id) row is claimed before anything else is written; a twin delivery waits on the
unique key, gets the clash when the first commits, rolls back its savepoint and answers with the first one's row.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts import routing
from accounts.inbound import integrations, journal
from accounts.inbound.models import InboundEvent, Integration
from accounts.models import Interaction, Lead
from eps.models import Role
from tests import factories
from tests.committed import committed  # noqa: F401 - fixture

THREADS = 8
AT = datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)


# The app commits for real (tests/committed.py), on PostgreSQL: its row locks are what is tested.
on_postgresql = pytest.mark.parametrize("committed", ["postgresql"], indirect=True)


def _arrange(engine) -> tuple[int, str]:
    with Session(engine, expire_on_commit=False) as session:
        admin = factories.admin(session)
        seller = factories.user(session)
        branch = factories.node(session, actor=admin, code="BR")
        factories.grant(session, actor=admin, role=Role.editor, target=branch, user=seller)
        team = factories.team(session, members=[seller], name="Sales")
        routing.create_rule(session, actor=admin, name="All", team=team, members=[{"user_id": seller.id}])
        integration, token = integrations.create_integration(session, actor=admin, kind="telephony", name="PBX",
                                                             region_node_id=branch.id, acting_user_id=seller.id)
        session.commit()
        return integration.id, token


def _counts(engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (Interaction, InboundEvent, Lead))


@on_postgresql
def test_parallel_requests_with_one_external_id_record_one_interaction(committed):
    app, engine = committed.app, committed.app.extensions["crmpm.database"].engine
    _integration_id, token = _arrange(engine)
    barrier = threading.Barrier(THREADS)
    answers, failures = [], []
    body = {"external_id": "twin", "from": "+7 913 222 33 44", "to": "+74950000000", "direction": "in",
            "started_at": "2026-12-01T10:00:00+03:00", "duration": 10}

    def deliver():
        client = app.test_client()
        barrier.wait()
        try:
            response = client.post("/api/v1/inbound/calls", json=body, headers={"Authorization": f"Bearer {token}"})
            answers.append((response.status_code, response.get_json()))
        except Exception as exc:  # noqa: BLE001 - asserted on below
            failures.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert sorted(status for status, _body in answers) == [200] * (THREADS - 1) + [201], answers
    assert len({answer["interaction_id"] for _status, answer in answers}) == 1
    assert _counts(engine) == (1, 1, 1)  # one interaction, one event, one lead for the unknown number


@on_postgresql
def test_a_twin_that_waits_on_the_unique_key_finds_the_first_ones_row(committed):
    """Deterministic: the twin has looked and found nothing before the first commits, so only the unique key
    and the savepoint stand between it and a second interaction."""
    engine = committed.app.extensions["crmpm.database"].engine
    integration_id, _token = _arrange(engine)
    call = {"external_id": "race", "from_number": "+7 913 222 33 55", "to_number": "+74950000000",
            "direction": "in", "started_at": AT}
    first = Session(engine, expire_on_commit=False)
    recorded = journal.record_call(first, integration=first.get(Integration, integration_id), **call)
    assert recorded.created
    outcome = {}

    def twin():
        with Session(engine, expire_on_commit=False) as session:
            result = journal.record_call(session, integration=session.get(Integration, integration_id), **call)
            outcome.update(created=result.created, interaction_id=result.interaction.id)
            session.commit()

    thread = threading.Thread(target=twin)
    thread.start()
    time.sleep(1.0)  # the twin is now blocked on the unique key, behind the first's open transaction
    assert thread.is_alive()
    first.commit()
    thread.join(timeout=60)
    first.close()
    assert outcome == {"created": False, "interaction_id": recorded.interaction.id}
    assert _counts(engine) == (1, 1, 1)
