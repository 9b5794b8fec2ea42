"""Named baselines over HTTP: taking them, choosing the primary, secondary and tertiary, variance, deletion."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from crmpm.audit.models import AuditEntry
from eps.models import Role
from tests import factories
from tests.api.test_wbs_api import _base, _network, project  # noqa: F401 - the project fixture
from wbs.models import Activity, Baseline, BaselineActivity


def _scheduled(api, admin, project):
    ids, _wbs = _network(api, admin, project)
    assert api.post(f"{_base(project)}/schedule", user=admin).status_code == 200
    return ids


def _dates(session, project):
    return {code: (start, finish) for code, start, finish in session.execute(
        select(Activity.code, Activity.baseline_start, Activity.baseline_finish)
        .where(Activity.project_id == project.id))}


def test_the_first_schedule_is_the_first_baseline_and_the_primary(api, admin, project):
    _scheduled(api, admin, project)
    items = api.get(f"{_base(project)}/baselines", user=admin).json["items"]
    assert [(item["name"], item["role"], item["activity_count"]) for item in items] == [("Baseline 1", "primary", 4)]
    variance = api.get(f"/api/v1/baselines/{items[0]['id']}/variance", user=admin).json["items"]
    # A: Mon 2 Mar 08-17, B: Tue 3 - Thu 5 (the network's own arithmetic, tests/api/test_wbs_api.py).
    assert [(row["code"], row["baseline_start"], row["baseline_finish"]) for row in variance[:2]] == [
        ("A", "2026-03-02T08:00", "2026-03-02T17:00"), ("B", "2026-03-03T08:00", "2026-03-05T17:00")]
    assert all(row["start_variance_hours"] == 0 and row["cost_variance"] == "0.00" for row in variance)


def test_a_slipped_activity_shows_its_variance_in_working_hours(api, admin, project):
    ids = _scheduled(api, admin, project)
    base = _base(project)
    primary = api.get(f"{base}/baselines", user=admin).json["items"][0]
    # A ran as planned (Mon 2 Mar); B starts a day late (Wed 4 08:00 instead of Tue 3), takes 32 h instead of
    # 24 and costs 360.00 instead of 300.00.
    assert api.patch(f"{base}/activities/{ids['A']}", user=admin, json={
        "actual_start": "2026-03-02T08:00", "actual_finish": "2026-03-02T17:00", "percent_complete": 100,
        "remaining_duration_hours": 0}).status_code == 200
    assert api.patch(f"{base}/activities/{ids['B']}", user=admin, json={
        "actual_start": "2026-03-04T08:00", "budgeted_cost": "360.00", "original_duration_hours": 32}).status_code == 200
    assert api.patch(f"{base}/plan", user=admin, json={"data_date": "2026-03-04T08:00"}).status_code == 200
    assert api.post(f"{base}/schedule", user=admin).status_code == 200
    rows = {row["code"]: row for row in api.get(f"/api/v1/baselines/{primary['id']}/variance", user=admin).json["items"]}
    b = rows["B"]
    # Baseline minus current, in working hours of the 8-hour Mon-Fri calendar: Tue 08:00 - Wed 08:00 = -8 h;
    # the current finish: 32 h from Wed 4 08:00 is Wed, Thu, Fri and (Mon 9 a holiday) Tue 10 17:00, against the
    # baseline's Thu 5 17:00: Fri 6 (8 h) + Tue 10 (8 h) later = -16 h.
    assert b["start"] == "2026-03-04T08:00" and b["start_variance_hours"] == -8.0
    assert b["finish"] == "2026-03-10T17:00" and b["finish_variance_hours"] == -16.0
    assert b["duration_variance_hours"] == 24.0 - 32.0 and b["cost_variance"] == "-60.00"
    assert b["baseline_cost"] == "300.00" and b["budgeted_cost"] == "360.00"
    # The baseline itself did not move.
    assert rows["A"]["start_variance_hours"] == 0.0


def test_a_new_primary_moves_the_dates_earned_value_measures_against(api, admin, project, session):
    ids = _scheduled(api, admin, project)
    base = _base(project)
    first = api.get(f"{base}/baselines", user=admin).json["items"][0]
    before = _dates(session, project)
    api.patch(f"{base}/activities/{ids['A']}", user=admin, json={"original_duration_hours": 16})
    api.post(f"{base}/schedule", user=admin)
    second = api.post(f"{base}/baselines", user=admin, json={"name": "Re-plan", "role": "secondary"})
    assert second.status_code == 201 and second.json["role"] == "secondary" and second.json["activity_count"] == 4
    session.expire_all()
    assert _dates(session, project) == before  # a secondary does not touch earned value's dates
    made_primary = api.patch(f"/api/v1/baselines/{second.json['id']}", user=admin, json={"role": "primary"})
    assert made_primary.status_code == 200 and made_primary.json["role"] == "primary"
    assert api.get(f"/api/v1/baselines/{first['id']}", user=admin).json["role"] is None
    session.expire_all()
    after = _dates(session, project)
    assert after["A"][1] != before["A"][1] and after["A"][1].day == 3  # A now takes 16 h: Mon 2 - Tue 3
    kept = dict(session.execute(select(BaselineActivity.activity_id, BaselineActivity.finish)
                                .where(BaselineActivity.baseline_id == second.json["id"])).all())
    assert after["A"][1] == kept[ids["A"]]


def test_deleting_the_primary_is_audited_and_leaves_no_baseline_dates(api, admin, project, session):
    _scheduled(api, admin, project)
    baseline = api.get(f"{_base(project)}/baselines", user=admin).json["items"][0]
    assert api.delete(f"/api/v1/baselines/{baseline['id']}", user=admin).status_code == 204
    assert api.get(f"/api/v1/baselines/{baseline['id']}", user=admin).status_code == 404
    session.expire_all()
    assert set(_dates(session, project).values()) == {(None, None)}
    assert session.scalar(select(BaselineActivity).where(BaselineActivity.baseline_id == baseline["id"])) is None
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "baselines",
                                                    AuditEntry.entity_id == baseline["id"]).order_by(AuditEntry.id.desc()))
    assert entry.action == "delete" and entry.before["name"] == "Baseline 1" and entry.before["role"] == "primary"


@pytest.mark.parametrize("body, field, status", [
    ({"name": ""}, "name", 422),
    ({"name": "x" * 301}, "name", 422),
    ({"name": "BL", "role": "quaternary"}, "role", 422),
    ({"name": "Baseline 1"}, "name", 409),
])
def test_bad_baselines_are_refused_naming_the_field(api, admin, project, session, body, field, status):
    _scheduled(api, admin, project)
    count = len(session.scalars(select(Baseline)).all())
    response = api.post(f"{_base(project)}/baselines", user=admin, json=body)
    assert response.status_code == status and field in response.json["errors"], response.json
    assert len(session.scalars(select(Baseline)).all()) == count


def test_each_role_is_held_by_one_baseline_at_a_time(api, admin, project):
    _scheduled(api, admin, project)
    base = _base(project)
    one = api.post(f"{base}/baselines", user=admin, json={"name": "One", "role": "tertiary"}).json
    two = api.post(f"{base}/baselines", user=admin, json={"name": "Two", "role": "tertiary"}).json
    assert api.get(f"/api/v1/baselines/{one['id']}", user=admin).json["role"] is None
    assert two["role"] == "tertiary"
    roles = [item["role"] for item in api.get(f"{base}/baselines", user=admin).json["items"]]
    assert roles == ["primary", None, "tertiary"]


def test_viewers_read_baselines_and_only_editors_change_them(api, admin, project, session):
    _scheduled(api, admin, project)
    baseline = api.get(f"{_base(project)}/baselines", user=admin).json["items"][0]
    viewer, stranger = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=project, user=viewer)
    session.commit()
    assert api.get(f"/api/v1/baselines/{baseline['id']}/variance", user=viewer).status_code == 200
    assert api.post(f"{_base(project)}/baselines", user=viewer, json={"name": "Mine"}).status_code == 403
    assert api.patch(f"/api/v1/baselines/{baseline['id']}", user=viewer, json={"role": None}).status_code == 403
    assert api.delete(f"/api/v1/baselines/{baseline['id']}", user=viewer).status_code == 403
    for method, path in (("GET", f"/api/v1/baselines/{baseline['id']}"), ("GET", f"{_base(project)}/baselines"),
                         ("DELETE", f"/api/v1/baselines/{baseline['id']}")):
        response = api.request(method, path, user=stranger)
        assert response.status_code == 404 and "PRJ" not in str(response.json), response.json


def test_the_old_baseline_endpoint_takes_a_new_primary(api, admin, project):
    _scheduled(api, admin, project)
    base = _base(project)
    response = api.post(f"{base}/baseline", user=admin)
    assert response.status_code == 200 and response.json["activities"] == 4
    items = api.get(f"{base}/baselines", user=admin).json["items"]
    assert [(item["name"], item["role"]) for item in items] == [("Baseline 1", None), ("Baseline 2", "primary")]


def test_money_in_a_baseline_is_exact(api, admin, project, session):
    _scheduled(api, admin, project)
    total = sum(session.scalars(select(BaselineActivity.budgeted_cost)), Decimal("0"))
    assert total == Decimal("650.00")
