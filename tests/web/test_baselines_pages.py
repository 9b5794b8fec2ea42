"""The baselines' pages: the list, taking, renaming, choosing roles, deleting; the activity table's variance
columns; the Gantt chart drawing the chosen baseline's bars."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crmpm.audit.models import AuditEntry
from eps.models import Role
from wbs import baselines, services
from wbs.models import Activity, Baseline
from wbs.scheduling import service as scheduling_service
from tests.web.test_projects import _flash as flash_of, _url, plan  # noqa: F401 - the fixture: PA's plan A → B → (FS + 1d) C


def _flash(pages, response) -> str:
    return html.unescape(flash_of(pages, response))


def _names(session, plan):
    session.expire_all()
    return {b.name: b.role for b in session.scalars(select(Baseline).where(
        Baseline.project_id == plan["project"].id))}


@pytest.fixture
def scheduled(session, admin, plan):
    """PA scheduled once (its first schedule takes "Baseline 1", the primary)."""
    scheduling_service.schedule_project(session, actor=admin, project=plan["project"])
    session.commit()
    return plan


def _first(session, plan) -> Baseline:
    return session.scalar(select(Baseline).where(Baseline.project_id == plan["project"].id, Baseline.name == "Baseline 1"))


# The list and its forms


def test_editor_takes_renames_sets_roles_and_deletes(pages, session, scheduled, user_with):
    plan = scheduled
    editor = user_with(Role.editor)
    pages.log_in_as(editor)
    body = pages.get(_url(plan, "/baselines")).get_data(as_text=True)
    assert "Baseline 1" in body and ">primary<" in body.replace("selected>primary", ">primary")
    assert 'name="name"' in body and "Take from the current schedule" in body

    assert "Review" in _flash(pages, pages.post(_url(plan, "/baselines"), {"name": "  Review  "}))
    taken = session.scalar(select(Baseline).where(Baseline.name == "Review"))
    assert taken.role is None and taken.activity_count == 3 and taken.created_by_id == editor.id
    taken_id = taken.id
    row = re.search(rf'<tr data-baseline="{taken.id}">(.*?)</tr>', pages.get(_url(plan, "/baselines")).get_data(
        as_text=True), re.S).group(1)
    assert editor.name in row

    pages.post(_url(plan, f"/baselines/{taken.id}/rename"), {"name": "Board review"})
    pages.post(_url(plan, f"/baselines/{taken.id}/role"), {"role": "primary"})
    assert _names(session, plan) == {"Baseline 1": None, "Board review": "primary"}
    pages.post(_url(plan, f"/baselines/{_first(session, plan).id}/role"), {"role": "secondary"})
    assert _names(session, plan) == {"Baseline 1": "secondary", "Board review": "primary"}
    pages.post(_url(plan, f"/baselines/{_first(session, plan).id}/role"), {"role": ""})
    assert _names(session, plan) == {"Baseline 1": None, "Board review": "primary"}

    assert "deleted" in _flash(pages, pages.post(_url(plan, f"/baselines/{taken.id}/delete")))
    assert _names(session, plan) == {"Baseline 1": None}
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == taken_id, AuditEntry.action == "delete",
                                                    AuditEntry.entity_type == "baselines"))
    assert entry is not None and entry.actor_id == editor.id and entry.before["name"] == "Board review"
    # Without a primary the activities keep no baseline dates.
    assert session.get(Activity, plan["A"].id).baseline_start is None


def test_the_delete_form_asks_first(pages, session, scheduled, admin):
    body = pages.log_in_as(admin).get(_url(scheduled, "/baselines")).get_data(as_text=True)
    form = re.search(r'<form method="post" action="[^"]*/delete"[^>]*>', body).group(0)
    assert 'data-confirm="Delete the baseline Baseline 1?' in form


def test_read_only_user_sees_the_list_without_forms_and_posts_get_403(pages, session, scheduled, user_with):
    plan = scheduled
    viewer = user_with(Role.viewer)
    pages.log_in_as(viewer)
    body = pages.get(_url(plan, "/baselines")).get_data(as_text=True)
    assert "Baseline 1" in body and "primary" in body
    assert "<form method=\"post\"" not in body.split('id="baselines"')[1].split("</section>")[0]
    assert "Take a baseline" not in body
    first = _first(session, plan)
    for path, data in (("/baselines", {"name": "Mine"}), (f"/baselines/{first.id}/rename", {"name": "Mine"}),
                       (f"/baselines/{first.id}/role", {"role": "tertiary"}), (f"/baselines/{first.id}/delete", {})):
        assert pages.post(_url(plan, path), data).status_code == 403, path
    assert _names(session, plan) == {"Baseline 1": "primary"}


def test_outsider_gets_404_everywhere(pages, session, scheduled, user_with):
    plan = scheduled
    pages.log_in_as(user_with(None))
    assert pages.get(_url(plan, "/baselines")).status_code == 404
    first = _first(session, plan)
    for path in ("/baselines", f"/baselines/{first.id}/rename", f"/baselines/{first.id}/role",
                 f"/baselines/{first.id}/delete"):
        assert pages.post(_url(plan, path), {"name": "Mine", "role": "primary"}).status_code == 404, path
    assert pages.get(_url(plan, f"?compare={first.id}")).status_code == 404
    assert _names(session, plan) == {"Baseline 1": "primary"}


def test_a_baseline_of_another_project_is_not_found_here(pages, session, admin, world, scheduled):
    other = world["PB"]
    services.create_activity(session, actor=admin, project=other, code="X", name="X", original_duration_hours=8.0)
    services.update_plan(session, actor=admin, project=other, planned_start=datetime(2026, 3, 2, 8),
                         data_date=datetime(2026, 3, 2, 8))
    scheduling_service.schedule_project(session, actor=admin, project=other)
    session.commit()
    foreign = session.scalar(select(Baseline).where(Baseline.project_id == other.id))
    pages.log_in_as(admin)
    assert pages.post(_url(scheduled, f"/baselines/{foreign.id}/delete")).status_code == 404
    assert pages.get(_url(scheduled, f"?compare={foreign.id}")).status_code == 404
    assert pages.get(_url(scheduled, f"/gantt?compare={foreign.id}")).status_code == 404
    session.expire_all()
    assert session.get(Baseline, foreign.id) is not None


def test_posts_without_csrf_are_refused(pages, session, scheduled, admin):
    plan = scheduled
    pages.log_in_as(admin)
    first = _first(session, plan)
    for path, data in (("/baselines", {"name": "Mine"}), (f"/baselines/{first.id}/rename", {"name": "Mine"}),
                       (f"/baselines/{first.id}/role", {"role": "tertiary"}), (f"/baselines/{first.id}/delete", {})):
        assert pages.post(_url(plan, path), data, csrf=False).status_code == 400, path
    assert _names(session, plan) == {"Baseline 1": "primary"}


@pytest.mark.parametrize("locale, empty, duplicate, role", [
    ("en", "A baseline's name is 1 to 300 characters", "The project already has a baseline named 'Baseline 1'",
     "A baseline's role is one of primary, secondary, tertiary"),
    ("ru", "Название базового плана — от 1 до 300 символов",
     "В проекте уже есть базовый план с названием 'Baseline 1'",
     "Роль базового плана — одна из: primary, secondary, tertiary"),
])
def test_bad_input_is_refused_in_the_users_language_and_nothing_is_kept(pages, session, scheduled, admin, locale,
                                                                         empty, duplicate, role):
    plan = scheduled
    admin.locale = locale
    session.commit()
    pages.log_in_as(admin)
    first = _first(session, plan)
    back = {"headers": {"Referer": f"http://localhost{_url(plan, '/baselines')}"}}
    assert _flash(pages, pages.post(_url(plan, "/baselines"), {"name": "   "}, **back)) == empty
    assert _flash(pages, pages.post(_url(plan, "/baselines"), {"name": "x" * 301}, **back)) == empty
    assert _flash(pages, pages.post(_url(plan, "/baselines"), {"name": "Baseline 1"}, **back)) == duplicate
    pages.post(_url(plan, "/baselines"), {"name": "Second"})
    assert _flash(pages, pages.post(_url(plan, f"/baselines/{first.id}/rename"), {"name": "Second"}, **back)) \
        == duplicate.replace("Baseline 1", "Second")
    assert _flash(pages, pages.post(_url(plan, f"/baselines/{first.id}/rename"), {"name": ""}, **back)) == empty
    assert _flash(pages, pages.post(_url(plan, f"/baselines/{first.id}/role"), {"role": "fourth"}, **back)) == role
    assert _names(session, plan) == {"Baseline 1": "primary", "Second": None}


# Variance columns


def _variances(body: str, code: str) -> dict:
    row = re.search(rf'<tr data-activity="{code}"[^>]*>(.*?)</tr>', body, re.S).group(1)
    return dict(re.findall(r'data-variance="(\w+)">([^<]*)<', row))


def test_variance_columns_against_the_primary_and_a_chosen_baseline(pages, session, admin, scheduled):
    plan = scheduled
    # The first schedule (the primary): A Mon 2 – Fri 6 March, B Mon 9 – Wed 11, C Fri 13 – Mon 16 (5×8 days).
    services.update_activity(session, actor=admin, project=plan["project"], activity=plan["A"],
                             original_duration_hours=48.0, remaining_duration_hours=None)
    services.update_activity(session, actor=admin, project=plan["project"], activity=plan["B"],
                             budgeted_cost=Decimal("800.00"))
    scheduling_service.schedule_project(session, actor=admin, project=plan["project"])
    now = baselines.create_baseline(session, actor=admin, project=plan["project"], name="Now")
    session.commit()
    # Now A ends a working day later (Mon 9), which pushes B (Tue 10 – Thu 12) and C (Mon 16 – Tue 17) a day:
    # the baseline minus the current plan is -1 working day on those dates, -1 day on A's duration, and
    # 600.00 - 800.00 on B's cost.
    body = pages.log_in_as(admin).get(_url(plan)).get_data(as_text=True)
    assert _variances(body, "A") == {"start": "0d", "finish": "-1d", "duration": "-1d", "cost": "0.00"}
    assert _variances(body, "B") == {"start": "-1d", "finish": "-1d", "duration": "0d", "cost": "-200.00"}
    assert _variances(body, "C") == {"start": "-1d", "finish": "-1d", "duration": "0d", "cost": "0.00"}
    assert "Variances against the baseline Baseline 1" in body
    # Against the baseline just taken, nothing differs.
    chosen = pages.get(_url(plan, f"?compare={now.id}")).get_data(as_text=True)
    assert f'data-compared="{now.id}"' in chosen
    for code in "ABC":
        assert _variances(chosen, code) == {"start": "0d", "finish": "0d", "duration": "0d", "cost": "0.00"}


def test_an_activity_added_after_the_baseline_has_no_variance(pages, session, admin, scheduled):
    plan = scheduled
    services.create_activity(session, actor=admin, project=plan["project"], code="D", name="Work D",
                             original_duration_hours=8.0)
    session.commit()
    body = pages.log_in_as(admin).get(_url(plan)).get_data(as_text=True)
    assert _variances(body, "D") == {"start": "—", "finish": "—", "duration": "—", "cost": "—"}


def test_no_variance_columns_without_a_baseline(pages, session, admin, plan):
    body = pages.log_in_as(admin).get(_url(plan)).get_data(as_text=True)
    assert "data-variance" not in body and "Work A" in body


# The Gantt chart

DAY_PX = 28.0  # the "days" zoom


def _baseline_bar(body: str, activity_id: int):
    group = re.search(rf'<g class="pm-row[^"]*" data-activity="{activity_id}".*?</g>', body, re.S).group(0)
    found = re.search(r'<rect class="baseline" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', group)
    return None if found is None else (float(found.group(1)), float(found.group(2)))


def _x(when: datetime, origin: datetime) -> float:
    return (when - origin) / timedelta(days=1) * DAY_PX


def test_gantt_draws_the_chosen_baselines_bars(pages, session, admin, scheduled):
    plan = scheduled
    services.update_activity(session, actor=admin, project=plan["project"], activity=plan["A"],
                             original_duration_hours=48.0, remaining_duration_hours=None)
    scheduling_service.schedule_project(session, actor=admin, project=plan["project"])
    later = baselines.create_baseline(session, actor=admin, project=plan["project"], name="Later")
    session.commit()
    pages.log_in_as(admin)
    # The days scale starts at midnight the day before the first date (Monday 2 March, 08:00).
    origin = datetime(2026, 3, 1)
    primary = pages.get(_url(plan, "/gantt?zoom=days")).get_data(as_text=True)
    x, width = _baseline_bar(primary, plan["B"].id)  # the primary keeps B from Mon 9 08:00 to Wed 11 17:00
    assert x == pytest.approx(_x(datetime(2026, 3, 9, 8), origin), abs=0.01)
    assert x + width == pytest.approx(_x(datetime(2026, 3, 11, 17), origin), abs=0.02)
    chosen = pages.get(_url(plan, f"/gantt?zoom=days&compare={later.id}")).get_data(as_text=True)
    x, width = _baseline_bar(chosen, plan["B"].id)  # "Later" keeps B from Tue 10 08:00 to Thu 12 17:00
    assert x == pytest.approx(_x(datetime(2026, 3, 10, 8), origin), abs=0.01)
    assert x + width == pytest.approx(_x(datetime(2026, 3, 12, 17), origin), abs=0.02)
    assert re.search(rf'<option value="{later.id}" selected>Later</option>', chosen)
    # The zoom and fold links keep the choice; baseline=0 still hides the bars.
    assert f"compare={later.id}" in re.search(r'<nav class="pm-zoom".*?</nav>', chosen, re.S).group(0)
    folds = re.findall(r'<a class="pm-fold" href="([^"]+)"', chosen)
    assert folds and all(f"compare={later.id}" in html.unescape(href) for href in folds)
    hidden = pages.get(_url(plan, f"/gantt?zoom=days&compare={later.id}&baseline=0")).get_data(as_text=True)
    assert _baseline_bar(hidden, plan["B"].id) is None and 'class="baseline"' not in hidden
