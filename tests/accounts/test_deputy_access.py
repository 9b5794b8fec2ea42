"""A deputy can work what was handed over: temporary editor grants for the absence, recorded and revoked on return."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from accounts import activities, routing
from accounts.models import Task
from crmpm.audit.models import AuditEntry
from crmpm.database import utcnow
from eps.models import Grant, Role
from tests import factories
from tests.accounts.fixtures import admin, api, crm  # noqa: F401 - fixtures


def _absence_now(session, admin, absent, deputy):
    return routing.create_absence(session, actor=admin, user=absent, deputy=deputy,
                                  starts_at=utcnow() - timedelta(hours=1), ends_at=utcnow() + timedelta(days=7))


def test_the_deputy_sees_and_works_the_handed_over_deals_and_tasks_until_the_return(api, session, admin, crm):
    alice, boris = factories.user(session), factories.user(session)
    account = crm["A"]["account"]
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=alice)
    deal = factories.deal(session, actor=admin, account=account, pipeline=crm["pipeline"], owner=alice)
    task = activities.create_task(session, actor=admin, title="Call back", due_at=utcnow() + timedelta(days=1),
                                  account=account, assignee=alice)
    absence = _absence_now(session, admin, alice, boris)
    session.commit()
    assert api.get("/api/v1/deals", user=boris).json["total"] == 0

    started, ended = routing.process_handovers(session)
    session.commit()
    assert (started, ended) == (1, 0)
    listed = api.get(f"/api/v1/deals?owner_id={boris.id}", user=boris).json["items"]
    assert [item["id"] for item in listed] == [deal.id]
    assert api.patch(f"/api/v1/deals/{deal.id}", user=boris, json={"next_step": "Call the CFO"}).status_code == 200
    assert [item["id"] for item in api.get(f"/api/v1/tasks?assignee_id={boris.id}", user=boris).json["items"]] \
        == [task.id]
    held = api.get(f"/api/v1/absences/{absence.id}", user=boris).json["deputy_grants"]
    assert {(g["project_id"], g["eps_node_id"], g["role"]) for g in held} == {
        (deal.project_id, None, "editor"), (None, account.eps_node_id, "editor")}
    assert all(g["grant_id"] and g["revoked_at"] is None for g in held)
    granted = session.scalars(select(AuditEntry.after).where(AuditEntry.action == "grant",
                                                             AuditEntry.entity_type == "grants")
                              .order_by(AuditEntry.id.desc()).limit(2)).all()
    assert all(f"absence {absence.id}" in after["reason"] for after in granted)

    # The absence ends: the work goes back, and so do the grants.
    absence.ends_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert routing.process_handovers(session) == (0, 1)
    session.commit()
    assert api.get("/api/v1/deals", user=boris).json["total"] == 0
    assert api.get(f"/api/v1/deals/{deal.id}", user=boris).status_code == 404
    assert session.scalars(select(Grant).where(Grant.user_id == boris.id)).all() == []
    held = api.get(f"/api/v1/absences/{absence.id}", user=boris).json["deputy_grants"]
    assert len(held) == 2 and all(g["grant_id"] is None and g["revoked_at"] for g in held)


def test_a_deputy_who_already_has_the_rights_gets_no_extra_grant(api, session, admin, crm):
    alice, carol = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=carol)
    factories.deal(session, actor=admin, account=crm["A"]["account"], pipeline=crm["pipeline"], owner=alice)
    absence = _absence_now(session, admin, alice, carol)
    session.commit()
    grants_before = session.scalars(select(Grant.id)).all()
    assert routing.hand_over(session, actor=admin, absence=absence) == 1
    session.commit()
    assert session.scalars(select(Grant.id)).all() == grants_before
    assert api.get(f"/api/v1/absences/{absence.id}", user=admin).json["deputy_grants"] == []
    # Cancelling the absence gives the work back and leaves the deputy's own grant alone.
    assert api.delete(f"/api/v1/absences/{absence.id}", user=admin).status_code == 204
    assert session.scalars(select(Grant.id)).all() == grants_before


def test_a_deputy_covering_two_absences_keeps_the_second_ones_work_after_the_first_returns(api, session, admin, crm):
    alice, dora, boris = factories.user(session), factories.user(session), factories.user(session)
    for owner in (alice, dora):
        factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=owner)
    account = crm["A"]["account"]
    # Both absent people work the same account, so the first hand-over's grant covers the second's work too.
    task_a = activities.create_task(session, actor=admin, title="Alice's call", due_at=utcnow() + timedelta(days=1),
                                    account=account, assignee=alice)
    task_d = activities.create_task(session, actor=admin, title="Dora's call", due_at=utcnow() + timedelta(days=1),
                                    account=account, assignee=dora)
    first, second = _absence_now(session, admin, alice, boris), _absence_now(session, admin, dora, boris)
    session.commit()
    assert routing.process_handovers(session) == (2, 0)
    session.commit()
    assert api.get(f"/api/v1/tasks/{task_d.id}", user=boris).status_code == 200

    first.ends_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert routing.process_handovers(session) == (0, 1)
    session.commit()
    # Alice's task went back to her; Dora's is still with Boris, and he can still reach it.
    assert session.get(Task, task_a.id).assignee_id == alice.id
    assert api.get(f"/api/v1/tasks/{task_d.id}", user=boris).status_code == 200
    assert api.patch(f"/api/v1/tasks/{task_d.id}", user=boris, json={"title": "Dora's call, by Boris"}).status_code \
        == 200

    second.ends_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert routing.process_handovers(session) == (0, 1)
    session.commit()
    assert api.get(f"/api/v1/tasks/{task_d.id}", user=boris).status_code == 404
    assert session.scalars(select(Grant).where(Grant.user_id == boris.id)).all() == []


def test_an_absence_is_ended_early_through_the_api_by_the_absent_person_or_an_administrator(api, session, admin):
    """POST /absences/{id}/end: the absent person ends it at a given moment (with its zone) or now; the deputy may
    read it but not end it (403), anyone else does not find it (404); a moment outside it names ``ends_at``."""
    alice, boris, carol = factories.user(session), factories.user(session), factories.user(session)
    absence = _absence_now(session, admin, alice, boris)
    session.commit()
    planned_end = absence.ends_at
    path = f"/api/v1/absences/{absence.id}/end"
    assert api.post(path, user=boris, json={}).status_code == 403
    assert api.post(path, user=carol, json={}).status_code == 404
    assert api.post(path, json={}).status_code == 401
    for body in ({"ends_at": (absence.starts_at - timedelta(hours=1)).isoformat()},
                 {"ends_at": (planned_end + timedelta(days=1)).isoformat()},
                 {"ends_at": "2026-12-01T10:00:00"}):  # no zone
        response = api.post(path, user=alice, json=body)
        assert response.status_code == 422, response.json
        assert "ends_at" in response.json["errors"], response.json
    session.expire_all()
    assert session.get(type(absence), absence.id).ends_at == planned_end
    # 12:00 in Moscow (UTC+3) is 09:00 UTC, a day after it began.
    moment = (absence.starts_at + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    local = moment.astimezone(ZoneInfo("Europe/Moscow"))
    response = api.post(path, user=alice, json={"ends_at": local.isoformat()})
    assert response.status_code == 200, response.json
    session.expire_all()
    assert session.get(type(absence), absence.id).ends_at == moment
    assert session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "absences",
                                                   AuditEntry.action == "update")) is not None


def test_an_absence_ended_without_a_moment_ends_now_and_an_administrator_may_end_anyones(api, session, admin):
    alice = factories.user(session)
    absence = _absence_now(session, admin, alice, None)
    session.commit()
    before = utcnow()
    response = api.post(f"/api/v1/absences/{absence.id}/end", user=admin, json={})
    assert response.status_code == 200, response.json
    session.expire_all()
    assert before <= session.get(type(absence), absence.id).ends_at <= utcnow()
