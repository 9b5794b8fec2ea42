"""WBS, activities, relationships, scheduling, critical path and earned value over HTTP."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests import factories
from wbs.models import Activity, Relationship
from tests.wbs.xer_fixtures import xer_path

WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]  # Mon-Fri 08:00-12:00, 13:00-17:00


@pytest.fixture
def project(session, admin):
    node = factories.node(session, actor=admin, code="ENT")
    project = factories.project(session, actor=admin, node=node, code="PRJ")
    session.commit()
    return project


def _base(project):
    return f"/api/v1/projects/{project.id}"


def _network(api, admin, project):
    """A → B → D and A → C → D, with B longer than C: A, B, D critical."""
    base = _base(project)
    calendar = api.post("/api/v1/calendars", user=admin, json={
        "name": "Standard", "project_id": project.id, "week": WEEK,
        "exceptions": [{"day": "2026-03-09", "periods": []}]}).json
    assert api.patch(f"{base}/plan", user=admin, json={
        "data_date": "2026-03-02T08:00", "default_calendar_id": calendar["id"]}).status_code == 200
    wbs = api.post(f"{base}/wbs", user=admin, json={"code": "1", "name": "Build"}).json
    ids = {}
    for code, hours, cost in (("A", 8, "100.00"), ("B", 24, "300.00"), ("C", 8, "50.00"), ("D", 16, "200.00")):
        response = api.post(f"{base}/activities", user=admin, json={
            "code": code, "name": f"Activity {code}", "original_duration_hours": hours,
            "wbs_element_id": wbs["id"], "budgeted_cost": cost})
        assert response.status_code == 201, response.json
        ids[code] = response.json["id"]
    for pred, succ in (("A", "B"), ("A", "C"), ("B", "D"), ("C", "D")):
        response = api.post(f"{base}/relationships", user=admin,
                            json={"predecessor_id": ids[pred], "successor_id": ids[succ], "type": "FS"})
        assert response.status_code == 201, response.json
    return ids, wbs


def test_schedule_gives_cpm_dates_and_critical_path(api, admin, project):
    ids, _wbs = _network(api, admin, project)
    base = _base(project)
    summary = api.post(f"{base}/schedule", user=admin)
    assert summary.status_code == 200, summary.json
    assert summary.json["activities"] == 4 and summary.json["critical"] == 3
    # A: Mon 2 Mar 08-17; B: Tue 3 - Thu 5; C: Tue 3; D: Fri 6 and (Mon 9 is a holiday) Tue 10.
    assert summary.json["finish"] == "2026-03-10T17:00"
    rows = {row["code"]: row for row in api.get(f"{base}/schedule", user=admin).json["items"]}
    assert rows["B"]["early_start"] == "2026-03-03T08:00" and rows["B"]["early_finish"] == "2026-03-05T17:00"
    assert rows["C"]["late_start"] == "2026-03-05T08:00" and rows["C"]["total_float_hours"] == 16.0
    assert rows["D"]["early_finish"] == "2026-03-10T17:00"
    critical = [row["code"] for row in api.get(f"{base}/critical-path", user=admin).json["items"]]
    assert critical == ["A", "B", "D"]


def test_loop_is_refused_naming_the_activities(api, admin, project, session):
    ids, _wbs = _network(api, admin, project)
    before = session.scalar(select(func.count()).select_from(Relationship))
    response = api.post(f"{_base(project)}/relationships", user=admin,
                        json={"predecessor_id": ids["D"], "successor_id": ids["A"]})
    assert response.status_code == 409
    message = response.json["message"]
    assert "loop" in message and all(code in message for code in ("A", "D"))
    assert session.scalar(select(func.count()).select_from(Relationship)) == before


def test_wbs_tree_rolls_costs_up_and_into_the_project(api, admin, project):
    _ids, wbs = _network(api, admin, project)
    base = _base(project)
    child = api.post(f"{base}/wbs", user=admin, json={"code": "1.1", "name": "Part", "parent_id": wbs["id"]}).json
    api.post(f"{base}/activities", user=admin, json={"code": "E", "name": "E", "wbs_element_id": child["id"],
                                                    "budgeted_cost": "25.50", "actual_cost": "10.00"})
    tree = api.get(f"{base}/wbs", user=admin).json
    top = tree["items"][0]
    assert top["budgeted_cost"] == "675.50" and top["actual_cost"] == "10.00" and top["activities"] == 5
    assert top["children"][0]["budgeted_cost"] == "25.50"
    project_json = api.get(base, user=admin).json
    assert project_json["planned_cost"] == "675.50" and project_json["actual_cost"] == "10.00"


def test_earned_value_at_the_data_date(api, admin, project):
    ids, _wbs = _network(api, admin, project)
    base = _base(project)
    api.post(f"{base}/schedule", user=admin)  # first schedule sets the baseline
    # A done, B a third done; data date Wed 4 Mar 08:00.
    api.patch(f"{base}/activities/{ids['A']}", user=admin, json={
        "actual_start": "2026-03-02T08:00", "actual_finish": "2026-03-02T17:00", "percent_complete": 100,
        "remaining_duration_hours": 0, "actual_cost": "120.00"})
    api.patch(f"{base}/activities/{ids['B']}", user=admin, json={
        "actual_start": "2026-03-03T08:00", "percent_complete": 33.33, "remaining_duration_hours": 16,
        "actual_cost": "90.00"})
    api.patch(f"{base}/plan", user=admin, json={"data_date": "2026-03-04T08:00"})
    figures = api.get(f"{base}/evm", user=admin).json
    # Independent arithmetic: baseline B runs Tue 3 08:00 - Thu 5 17:00 (57 h of clock time);
    # at Wed 4 08:00, 24 of those 57 h have passed. C ran Tue 3 08:00-17:00: all planned.
    pv = Decimal("100") + Decimal("300") * Decimal(24) / Decimal(57) + Decimal("50")
    ev = Decimal("100") + Decimal("300") * Decimal("33.33") / 100
    assert Decimal(figures["bac"]) == Decimal("650.00")
    assert Decimal(figures["pv"]) == pv.quantize(Decimal("0.01"))
    assert Decimal(figures["ev"]) == ev.quantize(Decimal("0.01"))
    assert Decimal(figures["ac"]) == Decimal("210.00")
    assert Decimal(figures["cv"]) == Decimal(figures["ev"]) - Decimal("210.00")
    assert Decimal(figures["sv"]) == Decimal(figures["ev"]) - Decimal(figures["pv"])
    assert Decimal(figures["cpi"]) == (Decimal(figures["ev"]) / Decimal("210.00")).quantize(Decimal("0.0001"))


@pytest.mark.parametrize("body, field", [
    ({"predecessor_id": 1, "successor_id": 2, "type": "XX"}, "type"),
    ({"predecessor_id": 1, "successor_id": 2, "lag_hours": "soon"}, "lag_hours"),
    ({"predecessor_id": "one", "successor_id": 2}, "predecessor_id"),
])
def test_bad_relationship_input(api, admin, project, body, field):
    response = api.post(f"{_base(project)}/relationships", user=admin, json=body)
    assert response.status_code == 422 and field in response.json["errors"]


@pytest.mark.parametrize("body, field", [
    ({"code": "X", "name": "X", "original_duration_hours": "long"}, "original_duration_hours"),
    ({"code": "X", "name": "X", "original_duration_hours": -1}, "original_duration_hours"),
    ({"code": "X", "name": "X", "type": "meeting"}, "type"),
    ({"code": "X", "name": "X", "constraint_type": "start_on_or_after"}, "constraint_date"),
    ({"code": "X", "name": "X", "constraint_type": "start_on", "constraint_date": "2026-03-02T08:00+03:00"},
     "constraint_date"),
    ({"code": "X", "name": "X", "calendar_id": 999999}, "calendar_id"),
    ({"code": "X", "name": "X", "actual_finish": "2026-03-02T08:00"}, "actual_start"),
    ({"code": "X", "name": "X", "percent_complete": 120}, "percent_complete"),
    ({"code": "X", "name": "X", "budgeted_cost": "-5"}, "budgeted_cost"),
])
def test_bad_activity_input_names_field_and_writes_nothing(api, admin, project, session, body, field):
    response = api.post(f"{_base(project)}/activities", user=admin, json=body)
    assert 400 <= response.status_code < 500 and field in response.json["errors"], response.json
    assert session.scalar(select(func.count()).select_from(Activity)) == 0


@pytest.mark.parametrize("role, read, write", [("viewer", 200, 403), ("finance", 200, 403), ("editor", 200, 201)])
def test_rights_on_wbs_endpoints(api, admin, project, session, role, read, write):
    user = factories.user(session)
    outsider = factories.user(session)
    factories.grant(session, actor=admin, role=role, target=project, user=user)
    session.commit()
    base = _base(project)
    assert api.get(f"{base}/activities", user=user).status_code == read
    assert api.post(f"{base}/activities", user=user, json={"code": "Z", "name": "Z"}).status_code == write
    assert api.post(f"{base}/schedule", user=user).status_code == (200 if write == 201 else 403)
    for path in ("activities", "wbs", "schedule", "critical-path", "evm", "relationships", "plan"):
        assert api.get(f"{base}/{path}", user=outsider).status_code == 404, path
    assert api.post(f"{base}/schedule", user=outsider).status_code == 404


def test_xer_upload_and_download(api, admin, session):
    node = factories.node(session, actor=admin, code="XER")
    session.commit()
    data = xer_path("alap-harbour-131.xer").read_bytes()
    from io import BytesIO

    from wbs.interchange.xer.reader import read_xer

    response = api.post(f"/api/v1/projects/import/xer?eps_node_id={node.id}", user=admin,
                        data={"file": (BytesIO(data), "sample.xer")}, json=None,
                        content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    project_id = response.json["id"]
    activities = api.get(f"/api/v1/projects/{project_id}/activities?per_page=100", user=admin).json["total"]
    assert activities == len(read_xer(data).rows("TASK"))
    download = api.get(f"/api/v1/projects/{project_id}/export/xer", user=admin)
    assert download.status_code == 200 and download.data.startswith(b"ERMHDR")
    broken = api.post(f"/api/v1/projects/import/xer?eps_node_id={node.id}", user=admin,
                      data={"file": (BytesIO(b"%T\tTASK\r\n%R\t1\r\n"), "bad.xer")}, json=None,
                      content_type="multipart/form-data")
    assert broken.status_code == 422 and "file" in broken.json["errors"]


def test_apply_template_copies_structure_not_progress(api, admin, project, session):
    ids, _wbs = _network(api, admin, project)
    base = _base(project)
    api.patch(f"{base}/activities/{ids['A']}", user=admin, json={
        "actual_start": "2026-03-02T08:00", "percent_complete": 50, "actual_cost": "10.00"})
    target = factories.project(session, actor=admin, node=session.get(type(project), project.id).eps_node, code="NEW")
    session.commit()
    response = api.post(f"/api/v1/projects/{target.id}/wbs/apply-template", user=admin,
                        json={"template_project_id": project.id})
    assert response.status_code == 200, response.json
    assert response.json == {"wbs_elements": 1, "activities": 4, "relationships": 4, "calendars": 1}
    copied = {a["code"]: a for a in api.get(f"/api/v1/projects/{target.id}/activities", user=admin).json["items"]}
    assert copied["A"]["actual_start"] is None and copied["A"]["percent_complete"] == 0
    assert copied["B"]["original_duration_hours"] == 24 and copied["B"]["budgeted_cost"] == "300.00"
    api.patch(f"/api/v1/projects/{target.id}/plan", user=admin, json={"data_date": "2026-03-02T08:00"})
    assert api.post(f"/api/v1/projects/{target.id}/schedule", user=admin).json["finish"] == "2026-03-10T17:00"
    again = api.post(f"/api/v1/projects/{target.id}/wbs/apply-template", user=admin,
                     json={"template_project_id": project.id})
    assert again.status_code == 409


def test_xer_import_answers_with_its_warnings(api, admin, session):
    from io import BytesIO

    from tests.wbs.interchange.test_import_real_files import with_missing_calendar

    node = factories.node(session, actor=admin, code="WARN")
    session.commit()
    plain = xer_path("alap-harbour-131.xer").read_bytes()
    data, code = with_missing_calendar(plain)
    response = api.post(f"/api/v1/projects/import/xer?eps_node_id={node.id}", user=admin,
                        data={"file": (BytesIO(data), "plan.xer")}, json=None, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    assert len(response.json["warnings"]) == 1
    assert "calendar 99999 is not in the file" in response.json["warnings"][0] and code in response.json["warnings"][0]
    clean = api.post(f"/api/v1/projects/import/xer?eps_node_id={node.id}&code=CLEAN", user=admin,
                     data={"file": (BytesIO(plain), "plan.xer")}, json=None, content_type="multipart/form-data")
    assert clean.status_code == 201 and clean.json["warnings"] == [] and clean.json["code"] == "CLEAN"
