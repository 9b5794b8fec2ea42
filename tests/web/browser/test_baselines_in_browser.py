"""Choosing a baseline on the Gantt chart in a real browser: its bars are drawn at the dates it kept, measured
against dates worked out here."""

from __future__ import annotations

from datetime import datetime

import pytest

from sqlalchemy import select

from crmpm.database import db
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import Project
from wbs import baselines, services
from wbs.scheduling import service as scheduling_service

from tests.web.browser.private_server import log_in, own_server  # noqa: F401 - fixtures: a demo of its own

WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]  # Monday to Friday, 8–12 and 13–17
MONDAY = datetime(2026, 3, 2, 8)
PER_DAY = 28.0  # pixels a day in the day zoom


def _project(own_server, code: str = "BLG1", role: str | None = None) -> int:
    """Two 3-day activities from Monday 2 March 2026, scheduled ("Baseline 1", the primary); then B1 starts on or
    after Monday 9 March, rescheduled, and taken as "Moved" (holding ``role``)."""
    with own_server.app.app_context():
        session = db.new_session()
        admin = session.scalar(select(User).where(User.email == "admin@crmpm.local"))
        dock = session.scalar(select(Project).where(Project.code == "NVS-DOCK"))
        project = eps_services.create_project(session, actor=admin, code=code, name="Baselines on the Gantt",
                                              eps_node=dock.eps_node)
        calendar = services.create_calendar(session, actor=admin, project=project, name="5x8", week=WEEK)
        services.update_plan(session, actor=admin, project=project, planned_start=MONDAY, data_date=MONDAY,
                             default_calendar_id=calendar.id)
        made = {code: services.create_activity(session, actor=admin, project=project, code=code, name=f"Work {code}",
                                               original_duration_hours=24.0) for code in ("B0", "B1")}
        scheduling_service.schedule_project(session, actor=admin, project=project)
        services.update_activity(session, actor=admin, project=project, activity=made["B1"],
                                 constraint_type="start_on_or_after", constraint_date=datetime(2026, 3, 9, 8))
        scheduling_service.schedule_project(session, actor=admin, project=project)
        baselines.create_baseline(session, actor=admin, project=project, name="Moved", role=role)
        session.commit()
        project_id = project.id
        session.close()
    return project_id


def _x(page, when: datetime) -> float:
    start = datetime.fromisoformat(page.locator("[data-gantt]").get_attribute("data-scale-start"))
    return round((when - start).total_seconds() / 86400 * PER_DAY, 2)


def test_choosing_a_baseline_on_the_gantt_draws_its_bars(log_in, own_server, screenshot):
    project_id = _project(own_server)
    page = log_in("pm@crmpm.local")
    page.goto(own_server.url(f"/projects/{project_id}/gantt?zoom=days"))
    bar = page.locator("g.pm-row[data-code=B1] rect.baseline")
    # The primary ("Baseline 1") kept B1 from Monday 2 March, 08:00.
    assert float(bar.get_attribute("x")) == _x(page, MONDAY)
    page.select_option("form.pm-gantt-baseline select[name=compare]", label="Moved")
    page.click("form.pm-gantt-baseline button[type=submit]")
    page.wait_for_url("**compare=*")
    bar = page.locator("g.pm-row[data-code=B1] rect.baseline")
    # "Moved" kept it from Monday 9 March, 08:00 to Wednesday 11 March, 17:00.
    assert float(bar.get_attribute("x")) == _x(page, datetime(2026, 3, 9, 8))
    assert float(bar.get_attribute("x")) + float(bar.get_attribute("width")) == \
        pytest.approx(_x(page, datetime(2026, 3, 11, 17)), abs=0.02)
    screenshot(page, "gantt-chosen-baseline")
    # Hiding the bars keeps the choice for when they come back.
    page.click("text=Hide baseline bars")
    page.wait_for_url("**baseline=0*")
    assert page.locator("rect.baseline").count() == 0
    assert "compare=" in page.url
    # The list names both, the primary's role shown; an editor gets the forms.
    page.goto(own_server.url(f"/projects/{project_id}/baselines"))
    assert page.locator("tr[data-baseline] td[data-role=primary]").count() == 1
    assert page.locator("tr[data-baseline]").count() == 2
    screenshot(page, "baselines-list")


def test_the_secondary_baselines_bars_drawn_beside_the_primarys(log_in, own_server, screenshot):
    project_id = _project(own_server, code="BLG2", role="secondary")
    page = log_in("pm@crmpm.local")
    page.goto(own_server.url(f"/projects/{project_id}/gantt?zoom=days"))
    assert page.locator("rect.pm-bl2").count() == 0
    page.select_option("form.pm-gantt-baseline select[name=baselines]", "2")
    page.click("form.pm-gantt-baseline button[type=submit]")
    page.wait_for_url("**baselines=2*")
    # The primary kept B1 from Monday 2 March, "Moved" (the secondary) from Monday 9 March, under it.
    primary = page.locator("g.pm-row[data-code=B1] rect.baseline")
    second = page.locator("g.pm-row[data-code=B1] rect.pm-bl2")
    assert float(primary.get_attribute("x")) == _x(page, MONDAY)
    assert float(second.get_attribute("x")) == _x(page, datetime(2026, 3, 9, 8))
    assert float(second.get_attribute("y")) > float(primary.get_attribute("y"))
    assert page.locator("[data-legend-baseline]").all_inner_texts() == ["Baseline: Baseline 1", "Baseline: Moved"]
    screenshot(page, "gantt-secondary-baseline")
    # The table shows both baselines' dates.
    page.goto(own_server.url(f"/projects/{project_id}?baselines=2"))
    assert page.locator("tr[data-activity=B1] td[data-col=start]").all_inner_texts() == ["Mar 2, 2026", "Mar 9, 2026"]
    screenshot(page, "activities-secondary-baseline")
