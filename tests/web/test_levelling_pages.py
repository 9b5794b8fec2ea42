"""The project's levelling page: the last run's report and the levelled dates beside the CPM dates, the options
form for editors only, and the run button starting a ``wbs.level`` job (the job page follows it).

The world is the one of ``tests/wbs/test_levelling_service.py`` (A, B of P1 and C of P2 on one engineer, all on
Monday 2026-03-02 by CPM; D after C).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crmpm.jobs import Job
from eps.models import Role
from tests import factories
from tests.wbs.test_levelling_service import BY_ID, world  # noqa: F401 - the fixture
from wbs.resources import levelling_service


@pytest.fixture
def levelled(session, world):  # noqa: F811 - the fixture imported above
    levelling_service.level_projects(session, actor=world["admin"], projects=[world["p1"], world["p2"]],
                                     options=BY_ID)
    session.commit()
    return world


def test_the_page_shows_the_report_and_the_levelled_dates(pages, session, levelled):
    w = levelled
    body = pages.log_in_as(w["admin"]).get(f"/projects/{w['p1'].id}/levelling").get_data(as_text=True)
    assert 'id="levelling-options"' in body  # the admin may edit: the form is there
    moved = body.split('id="levelling-moved"')[1].split("</table>")[0]
    # B moved for the engineer; C and D (of P2, levelled in the same run) are in the report too.
    assert "2026-03-03T08:00" in moved and 'data-activity="%d"' % w["b"].id in moved
    assert "ENG" in moved and 'data-activity="%d"' % w["d"].id in moved
    dates = body.split('id="levelled-dates"')[1]
    assert ">B<" in dates and ">A<" not in dates  # only activities whose levelled start differs


def test_a_viewer_sees_the_report_without_the_form_and_only_readable_projects(pages, session, levelled):
    w = levelled
    viewer = factories.user(session)
    factories.grant(session, actor=w["admin"], role=Role.viewer, target=w["p1"], user=viewer)
    session.commit()
    body = pages.log_in_as(viewer).get(f"/projects/{w['p1'].id}/levelling").get_data(as_text=True)
    assert 'id="levelling-options"' not in body
    assert 'data-activity="%d"' % w["b"].id in body
    assert 'data-activity="%d"' % w["c"].id not in body  # C is P2's, which the viewer cannot read
    assert pages.post(f"/projects/{w['p1'].id}/levelling", {"threshold_percent": "100"}).status_code == 403


def test_the_run_button_starts_a_job_with_the_options(pages, session, world):  # noqa: F811
    w = world
    session.commit()
    response = pages.log_in_as(w["admin"]).post(
        f"/projects/{w['p1'].id}/levelling",
        {"priority_1": "total_float", "order_1": "desc", "within_float": "on", "threshold_percent": "120",
         "minimum_float_hours": "4", "scope": "node"})
    assert response.status_code == 303
    job = session.scalars(select(Job).where(Job.kind == "wbs.level")).one()
    assert response.headers["Location"].endswith(f"/jobs/{job.id}")
    assert job.params["options"]["priorities"] == [["total_float", "desc"]]
    assert (job.params["options"]["within_float"], job.params["options"]["threshold_percent"],
            job.params["options"]["minimum_float_hours"]) == (True, 120.0, 4.0)
    assert job.params["eps_node_id"] == w["node"].id


def test_a_bad_threshold_goes_back_with_the_reason(pages, session, world):  # noqa: F811
    w = world
    session.commit()
    response = pages.log_in_as(w["admin"]).post(f"/projects/{w['p1'].id}/levelling",
                                                {"threshold_percent": "lots"}, follow_redirects=True)
    assert "threshold_percent" in response.get_data(as_text=True)
    assert session.scalars(select(Job).where(Job.kind == "wbs.level")).first() is None
