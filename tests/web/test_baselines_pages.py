"""The baselines' pages: the list, taking, renaming, choosing roles, deleting; the activity table's variance
columns; the Gantt chart drawing the chosen baseline's bars."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

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


# The primary, secondary and tertiary baselines together

def _working_day(index: int) -> datetime:
    """The ``index``-th working day (0: Monday 2 March 2026) of the 5×8 calendar, at midnight."""
    day = datetime(2026, 3, 2)
    while index:
        day += timedelta(days=1)
        index -= day.weekday() < 5
    return day


def _dates(a_days: int) -> dict:
    """Each activity's start (08:00) and finish (17:00) when A lasts ``a_days``: A → B 3d → (FS + 1d) C 2d."""
    firsts = {"A": 0, "B": a_days, "C": a_days + 3 + 1}
    lengths = {"A": a_days, "B": 3, "C": 2}
    return {code: (_working_day(first).replace(hour=8), _working_day(first + lengths[code] - 1).replace(hour=17))
            for code, first in firsts.items()}


@pytest.fixture
def three(session, admin, scheduled):
    """PA's primary ("Baseline 1", A 5 days), "Second" (secondary, A 6 days) and "Third" (tertiary, A 7 days)
    taken as A grew; now A lasts 8 days."""
    plan = scheduled
    taken = {}
    for days, name, role in ((6, "Second", "secondary"), (7, "Third", "tertiary"), (8, None, None)):
        services.update_activity(session, actor=admin, project=plan["project"], activity=plan["A"],
                                 original_duration_hours=days * 8.0, remaining_duration_hours=None)
        scheduling_service.schedule_project(session, actor=admin, project=plan["project"])
        if name:
            taken[name] = baselines.create_baseline(session, actor=admin, project=plan["project"], name=name,
                                                    role=role)
    session.commit()
    return {**plan, "Primary": _first(session, plan), **taken}


def _cells(body: str, code: str, baseline_id: int) -> dict:
    row = re.search(rf'<tr data-activity="{code}"[^>]*>(.*?)</tr>', body, re.S).group(1)
    return dict(re.findall(rf'data-bl="{baseline_id}" data-col="(\w+)"[^>]*>([^<]*)<', row))


def _medium(when: datetime) -> str:
    from babel.dates import format_date
    return format_date(when, "medium", locale="en")


def test_the_table_shows_the_primary_secondary_and_tertiary_baselines(pages, session, admin, three):
    plan = three
    pages.log_in_as(admin)
    body = pages.get(_url(plan, "?baselines=3")).get_data(as_text=True)
    now = _dates(8)
    for name, days in (("Primary", 5), ("Second", 6), ("Third", 7)):
        kept = _dates(days)
        for code in "ABC":
            cells = _cells(body, code, plan[name].id)
            assert cells["start"] == _medium(kept[code][0]) and cells["finish"] == _medium(kept[code][1]), (name, code)
            # The baseline minus the current plan, in working days: A's start never moves, B and C are late by
            # the days A grew since.
            late = 0 if code == "A" else days - 8
            assert cells["start_var"] == f"{late}d" and cells["finish_var"] == f"{days - 8}d", (name, code)
    assert now["B"][0] == datetime(2026, 3, 12, 8)  # the working days worked out above: B starts Thursday 12
    # The primary's columns keep the duration and cost variances, which the page's other readers know it by.
    assert _variances(body, "A") == {"start": "0d", "finish": "-3d", "duration": "-3d", "cost": "0.00"}
    assert '<option value="3" selected>' in body
    # Only the secondary with ?baselines=2; the links keep the choice; nothing else shows the extra columns.
    second = pages.get(_url(plan, "?baselines=2")).get_data(as_text=True)
    assert _cells(second, "B", plan["Second"].id)["start"] == _medium(_dates(6)["B"][0])
    assert _cells(second, "B", plan["Third"].id) == {}
    plain = pages.get(_url(plan)).get_data(as_text=True)
    assert "data-bl=" not in plain and _variances(plain, "B")["start"] == "-3d"


def test_the_table_compares_a_chosen_baseline_first_and_the_others_beside_it(pages, session, admin, three):
    plan = three
    pages.log_in_as(admin)
    body = pages.get(_url(plan, f"?compare={plan['Third'].id}&baselines=3")).get_data(as_text=True)
    # "Third" is compared (its duration and cost too); the secondary beside it, the tertiary not twice.
    assert _variances(body, "A") == {"start": "0d", "finish": "-1d", "duration": "-1d", "cost": "0.00"}
    assert _cells(body, "C", plan["Second"].id)["finish_var"] == "-2d"
    assert body.count(f'data-bl="{plan["Third"].id}" data-col="start"') == 3
    assert _cells(body, "C", plan["Primary"].id) == {}


@pytest.mark.parametrize("asked", ["abc", "4", "0", "-1", "2.5", "", "9" * 30])
def test_bad_baselines_arguments_are_ignored(pages, session, admin, three, asked):
    plan = three
    pages.log_in_as(admin)
    for tail in ("", "/gantt"):
        response = pages.get(_url(plan, f"{tail}?baselines={asked}"))
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert "data-bl=" not in body and "pm-bl2" not in body and "Second" in body  # offered, not shown


def test_a_project_without_secondary_or_tertiary_says_so(pages, session, admin, scheduled):
    body = pages.log_in_as(admin).get(_url(scheduled, "?baselines=3")).get_data(as_text=True)
    assert "data-bl=" not in body and 'name="baselines"' not in body
    assert "no other baseline to show beside it" in body and _variances(body, "A")["start"] == "0d"
    chart = pages.get(_url(scheduled, "/gantt?baselines=3")).get_data(as_text=True)
    assert "no other baseline to show beside it" in chart and "pm-bl2" not in chart


def test_another_projects_baseline_is_not_found_beside_the_others(pages, session, admin, world, three):
    foreign_plan = world["PB"]
    scheduling_service.schedule_project(session, actor=admin, project=foreign_plan)
    foreign = baselines.create_baseline(session, actor=admin, project=foreign_plan, name="Foreign secret",
                                        role="secondary")
    session.commit()
    pages.log_in_as(admin)
    for tail in ("", "/gantt"):
        response = pages.get(_url(three, f"{tail}?compare={foreign.id}&baselines=3"))
        assert response.status_code == 404 and "Foreign secret" not in response.get_data(as_text=True)
        body = pages.get(_url(three, f"{tail}?baselines=3")).get_data(as_text=True)
        assert "Foreign secret" not in body and f'data-bl="{foreign.id}"' not in body


def test_outsider_gets_404_with_baselines_too(pages, session, three, user_with):
    outsider = user_with(None)
    pages.log_in_as(outsider)
    for tail in ("?baselines=3", "/gantt?baselines=3"):
        assert pages.get(_url(three, tail)).status_code == 404


def _bars(body: str, activity_id: int) -> dict:
    """The baseline bars of an activity's row, by class: (x, y, width)."""
    group = re.search(rf'<g class="pm-row[^"]*" data-activity="{activity_id}".*?</g>', body, re.S).group(0)
    return {kind: (float(x), float(y), float(width)) for kind, x, y, width in re.findall(
        r'<rect class="(baseline|pm-bl2|pm-bl3)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"', group)}


def test_gantt_draws_three_baseline_bars_named_in_the_legend(pages, session, admin, three):
    plan = three
    pages.log_in_as(admin)
    origin = datetime(2026, 3, 1)  # the days scale starts at midnight the day before the first date
    body = pages.get(_url(plan, "/gantt?zoom=days&baselines=3")).get_data(as_text=True)
    for code in "ABC":
        bars = _bars(body, plan[code].id)
        assert set(bars) == {"baseline", "pm-bl2", "pm-bl3"}
        for kind, days in (("baseline", 5), ("pm-bl2", 6), ("pm-bl3", 7)):
            start, finish = _dates(days)[code]
            x, _y, width = bars[kind]
            assert x == pytest.approx(_x(start, origin), abs=0.01), (code, kind)
            assert x + width == pytest.approx(_x(finish, origin), abs=0.02), (code, kind)
        # One under the other, inside the row.
        assert bars["baseline"][1] < bars["pm-bl2"][1] < bars["pm-bl3"][1]
    # The thin bars are hard to point at: the row's tooltip names each baseline's dates.
    title = re.search(rf'<g class="pm-row[^"]*" data-activity="{plan["C"].id}".*?<title>(.*?)</title>', body,
                      re.S).group(1)
    for name, days in (("Primary", 5), ("Second", 6), ("Third", 7)):
        start, finish = _dates(days)["C"]
        assert f"Baseline {plan[name].name}: {_medium(start)} – {_medium(finish)}" in title.splitlines()
    for name, swatch in (("Primary", "pm-sw-baseline"), ("Second", "pm-sw-bl2"), ("Third", "pm-sw-bl3")):
        legend = re.search(rf'<span data-legend-baseline="{plan[name].id}">(.*?)</span>', body).group(1)
        assert swatch in legend and plan[name].name in legend
    # The zoom links, the folds and the pages keep the choice; baseline=0 hides all three.
    assert "baselines=3" in re.search(r'<nav class="pm-zoom".*?</nav>', body, re.S).group(0)
    folds = re.findall(r'<a class="pm-fold" href="([^"]+)"', body)
    assert folds and all("baselines=3" in html.unescape(href) for href in folds)
    hidden = pages.get(_url(plan, "/gantt?zoom=days&baselines=3&baseline=0")).get_data(as_text=True)
    assert _bars(hidden, plan["B"].id) == {}
    # Only the secondary beside a chosen baseline (the tertiary, drawn first).
    chosen = pages.get(_url(plan, f"/gantt?zoom=days&compare={plan['Third'].id}&baselines=2")).get_data(as_text=True)
    bars = _bars(chosen, plan["B"].id)
    assert set(bars) == {"baseline", "pm-bl2"}
    assert bars["baseline"][0] == pytest.approx(_x(_dates(7)["B"][0], origin), abs=0.01)
    assert bars["pm-bl2"][0] == pytest.approx(_x(_dates(6)["B"][0], origin), abs=0.01)


@pytest.mark.parametrize("tail", ["?baselines=3", "/gantt?baselines=3"])
def test_what_the_baselines_kept_is_read_once_for_the_page_only(pages, session, admin, three, tail):
    """The page reads what the three baselines kept in one query, for its own activities only (a big plan pages
    through its activities; the baselines hold every one of them)."""
    plan = three
    pages.log_in_as(admin)
    engine = session.get_bind().engine
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "baseline_activities.budgeted_cost" in statement and "baseline_activities.activity_id IN" in statement:
            statements.append(len(parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        body = pages.get(_url(plan, f"{tail}&per_page=2" if tail.startswith("?") else tail)).get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert "pm-bl3" in body or f'data-bl="{plan["Third"].id}"' in body
    # One statement, its parameters the baselines' ids and the ids of the activities shown: on the table the three
    # baselines and 2 activities (a page, as asked); on the chart the secondary and the tertiary (the primary's
    # dates are the activities' own) and all 3.
    assert statements == [3 + 2 if tail.startswith("?") else 2 + 3]
