"""Scheduling a stored project: results stored exactly as the pure scheduler computes them,
rows whose results did not change left alone, the baseline set once, entities in the session
kept current, and cross-project predecessors honoured."""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from crmpm.errors import Conflict
from tests import factories
from wbs import services
from wbs.scheduling import service as scheduling_service
from wbs.models import Activity, Relationship
from wbs.scheduling import cpm

WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]
DATA_DATE = datetime(2026, 3, 2, 8, 0)


@pytest.fixture
def admin_and_node(session):
    admin = factories.admin(session)
    return admin, factories.node(session, actor=admin, code="SCHED")


def _project(session, admin, node, code):
    project = factories.project(session, actor=admin, node=node, code=code)
    calendar = services.create_calendar(session, actor=admin, name="Standard", week=WEEK, project=project,
                                        exceptions={datetime(2026, 3, 9).date(): []})
    services.update_plan(session, actor=admin, project=project, data_date=DATA_DATE,
                         default_calendar_id=calendar.id)
    return project


def _network(session, project, n=120, seed=3):
    """A random layered network with progress, milestones, constraints and all link types."""
    rng = random.Random(seed)
    activities = []
    for i in range(n):
        hours = rng.choice((0, 8, 16, 24, 40)) if i % 10 else 0
        kind = "task" if hours else ("finish_milestone" if i % 20 else "start_milestone")
        activity = Activity(project_id=project.id, code=f"A{i:03d}", name=f"Activity {i}", type=kind,
                            original_duration_hours=hours, remaining_duration_hours=hours,
                            budgeted_cost=Decimal(100 * (i + 1)), actual_cost=Decimal(0), notes="")
        if i < n // 6 and hours:  # early work under way or done
            activity.actual_start = DATA_DATE - timedelta(days=rng.randint(3, 10))
            if i % 2:
                activity.actual_finish = activity.actual_start + timedelta(days=1)
                activity.remaining_duration_hours, activity.percent_complete = 0, 100.0
            else:
                activity.remaining_duration_hours, activity.percent_complete = hours / 2, 50.0
        if i % 17 == 5:
            activity.constraint_type = "start_on_or_after"
            activity.constraint_date = DATA_DATE + timedelta(days=rng.randint(5, 30))
        activities.append(activity)
    session.add_all(activities)
    session.flush()
    pairs = set()
    width = 8
    for i in range(width, n):
        pairs.add((i - width, i, "FS", 0.0))
    for _ in range(n // 2):
        a = rng.randrange(n - 2 * width)
        b = a + width + rng.randrange(width)
        pairs.add((a, b, rng.choice(("FS", "SS", "FF", "SF")), rng.choice((0.0, 8.0, -4.0))))
    seen = set()
    for a, b, kind, lag in sorted(pairs):
        if (a, b) not in seen:
            seen.add((a, b))
            session.add(Relationship(predecessor_id=activities[a].id, successor_id=activities[b].id, type=kind,
                                     lag_hours=lag))
    session.flush()
    return activities


def _stored(session, project):
    columns = [getattr(Activity, name) for name in ("id", *scheduling_service.RESULT_FIELDS)]
    return {row[0]: tuple(row[1:]) for row in session.execute(
        select(*columns).where(Activity.project_id == project.id).execution_options(populate_existing=True))}


def _expected(session, project):
    """What the pure scheduler computes from the stored project."""
    loaded = scheduling_service.load_input(session, project=project)
    results = cpm.schedule(loaded.models, loaded.relationships, loaded.calendars, loaded.options,
                           loaded.wbs_parents)
    return {int(key): tuple(getattr(result, name) for name in scheduling_service.RESULT_FIELDS)
            for key, result in results.items()}


@contextmanager
def _rewritten(session, backend):
    """The ids of the activities whose rows were written inside the block."""
    written: set[int] = set()
    if backend == "postgresql":
        # Every UPDATE makes a new row version, with a new ctid, even when the values are the same.
        query = text("SELECT id, ctid::text FROM activities")
        before = dict(session.execute(query).all())
        yield written
        written.update(i for i, ctid in session.execute(query).all() if before.get(i) != ctid)
    else:
        session.execute(text("CREATE TEMP TABLE written (id INTEGER)"))
        session.execute(text("CREATE TEMP TRIGGER note_write AFTER UPDATE ON activities "
                             "BEGIN INSERT INTO written VALUES (new.id); END"))
        yield written
        written.update(session.scalars(text("SELECT id FROM written")))
        session.execute(text("DROP TRIGGER note_write"))
        session.execute(text("DROP TABLE written"))


def test_stored_results_are_the_schedulers_on_first_and_later_runs(session, admin_and_node):
    admin, node = admin_and_node
    project = _project(session, admin, node, "NET")
    _network(session, project)
    summary = scheduling_service.schedule_project(session, actor=admin, project=project)
    expected = _expected(session, project)
    assert _stored(session, project) == expected
    assert summary.activities == 120 and summary.critical == sum(1 for values in expected.values() if values[10])
    # A week later: nearly every row changes.
    services.update_plan(session, actor=admin, project=project, data_date=DATA_DATE + timedelta(days=7))
    scheduling_service.schedule_project(session, actor=admin, project=project)
    assert _stored(session, project) == _expected(session, project)
    assert _stored(session, project) != expected


def test_baseline_is_set_by_the_first_schedule_only(session, admin_and_node):
    admin, node = admin_and_node
    project = _project(session, admin, node, "BASE")
    activities = _network(session, project, n=40)
    scheduling_service.schedule_project(session, actor=admin, project=project)
    rows = session.execute(select(Activity.id, Activity.actual_start, Activity.actual_finish, Activity.early_start,
                                  Activity.early_finish, Activity.baseline_start, Activity.baseline_finish)
                           .where(Activity.project_id == project.id)
                           .execution_options(populate_existing=True)).all()
    assert len(rows) == 40
    for _id, actual_start, actual_finish, early_start, early_finish, baseline_start, baseline_finish in rows:
        assert baseline_start == (actual_start or early_start)
        assert baseline_finish == (actual_finish or early_finish)
    baseline = {row[0]: row[5:] for row in rows}
    # Lengthen the first activities: dates move, the baseline stays.
    for activity in [a for a in activities if a.type == "task" and a.actual_start is None][:3]:
        services.update_activity(session, actor=admin, project=project, activity=activity,
                                 original_duration_hours=200, remaining_duration_hours=200)
    scheduling_service.schedule_project(session, actor=admin, project=project)
    after = session.execute(select(Activity.id, Activity.early_finish, Activity.baseline_start,
                                   Activity.baseline_finish).where(Activity.project_id == project.id)
                            .execution_options(populate_existing=True)).all()
    assert {row[0]: tuple(row[2:]) for row in after} == baseline
    assert any(row[1] != baseline[row[0]][1] for row in after)


def test_rows_whose_results_did_not_change_are_not_rewritten(session, admin_and_node, backend):
    admin, node = admin_and_node
    project = _project(session, admin, node, "SKIP")
    activities = _network(session, project, n=60)
    scheduling_service.schedule_project(session, actor=admin, project=project)
    with _rewritten(session, backend) as written:
        scheduling_service.schedule_project(session, actor=admin, project=project)
    assert written == set()
    # One activity near the end gets longer: it and whatever it drives are rewritten, nothing else.
    last = [a for a in activities if a.type == "task"][-3]
    services.update_activity(session, actor=admin, project=project, activity=last, original_duration_hours=80,
                             remaining_duration_hours=80)
    before = _stored(session, project)
    with _rewritten(session, backend) as written:
        scheduling_service.schedule_project(session, actor=admin, project=project)
    after = _stored(session, project)
    assert after == _expected(session, project)
    assert last.id in written
    assert written == {i for i in after if after[i] != before[i]}
    assert len(written) < len(activities)


def test_entities_in_the_session_see_the_new_schedule(session, admin_and_node):
    admin, node = admin_and_node
    project = _project(session, admin, node, "SEEN")
    activities = _network(session, project, n=30)
    held = activities[20]
    assert held.early_start is None
    scheduling_service.schedule_project(session, actor=admin, project=project)
    stored = _stored(session, project)
    assert tuple(getattr(held, name) for name in scheduling_service.RESULT_FIELDS) == stored[held.id]
    assert held.baseline_start == (held.actual_start or held.early_start)
    assert held not in session.dirty


def test_predecessor_in_another_project_holds_the_successor_back(session, admin_and_node):
    admin, node = admin_and_node
    supplier = _project(session, admin, node, "SUP")
    client = _project(session, admin, node, "CLI")
    delivery = services.create_activity(session, actor=admin, project=supplier, code="DELIVER", name="Deliver",
                                        original_duration_hours=80)
    install = services.create_activity(session, actor=admin, project=client, code="INSTALL", name="Install",
                                       original_duration_hours=8)
    services.create_relationship(session, actor=admin, project=client, predecessor=delivery, successor=install)
    # The supplier has no schedule yet: nothing holds the client back.
    scheduling_service.schedule_project(session, actor=admin, project=client)
    assert install.early_start == DATA_DATE
    scheduling_service.schedule_project(session, actor=admin, project=supplier)
    assert delivery.early_finish == datetime(2026, 3, 16, 17, 0)  # ten working days, Mon 9 a holiday
    scheduling_service.schedule_project(session, actor=admin, project=client)
    assert install.early_start == datetime(2026, 3, 17, 8, 0)
    loaded = scheduling_service.load_input(session, project=client)
    assert loaded.relationships == [] and len(loaded.models) == 1


def test_relationships_of_a_project_include_links_to_other_projects(session, admin_and_node):
    admin, node = admin_and_node
    supplier = _project(session, admin, node, "SUP")
    client = _project(session, admin, node, "CLI")
    other = _project(session, admin, node, "OTH")
    made = {}
    for project, code in ((supplier, "S1"), (supplier, "S2"), (client, "C1"), (other, "O1"), (other, "O2")):
        made[code] = services.create_activity(session, actor=admin, project=project, code=code, name=code,
                                              original_duration_hours=8)
    links = {}
    for project, pred, succ in ((supplier, "S1", "S2"), (client, "S2", "C1"), (other, "O1", "O2")):
        links[pred + succ] = services.create_relationship(session, actor=admin, project=project,
                                                          predecessor=made[pred], successor=made[succ]).id

    def listed(project):
        return list(session.scalars(services.list_relationships(session, project=project)))

    assert [r.id for r in listed(supplier)] == [links["S1S2"], links["S2C1"]]
    assert [r.id for r in listed(client)] == [links["S2C1"]]
    assert [r.id for r in listed(other)] == [links["O1O2"]]
    # A link back from the client to the supplier's first activity would close a loop across projects.
    with pytest.raises(Conflict, match="loop"):
        services.create_relationship(session, actor=admin, project=client, predecessor=made["C1"],
                                     successor=made["S1"])


def test_the_summary_counts_the_activities_whose_results_changed(session, admin_and_node):
    admin, node = admin_and_node
    project = _project(session, admin, node, "CHANGED")
    activities = _network(session, project, n=40)
    first = scheduling_service.schedule_project(session, actor=admin, project=project)
    assert first.changed == first.activities == 40
    assert scheduling_service.schedule_project(session, actor=admin, project=project).changed == 0
    last = [a for a in activities if a.type == "task"][-3]
    services.update_activity(session, actor=admin, project=project, activity=last, original_duration_hours=80,
                             remaining_duration_hours=80)
    before = _stored(session, project)
    summary = scheduling_service.schedule_project(session, actor=admin, project=project)
    after = _stored(session, project)
    assert summary.changed == sum(after[i] != before[i] for i in after) > 0


def test_earned_value_equals_the_sums_over_every_activity_worked_out_here(session, admin_and_node):
    """PV, EV, AC and BAC against the definitions applied activity by activity: PV prorates the budget
    linearly over the baseline span at the data date, EV is budget × % complete."""
    admin, node = admin_and_node
    project = _project(session, admin, node, "EVM")
    rng = random.Random(11)
    element = services.create_element(session, actor=admin, project=project, code="W", name="W")
    for n in range(60):
        activity = services.create_activity(session, actor=admin, project=project, code=f"E{n}", name="x",
                                            original_duration_hours=8.0,
                                            wbs_element_id=element.id if n % 2 else None)
        activity.budgeted_cost = Decimal(rng.randrange(0, 10_000_00)) / 100
        activity.actual_cost = Decimal(rng.randrange(0, 5_000_00)) / 100
        activity.percent_complete = rng.choice([0.0, 12.5, 33.3, 50.0, 99.9, 100.0])
        shape = rng.random()
        if shape < 0.8:  # before, across and after the data date; some of zero length
            start = DATA_DATE + timedelta(hours=rng.randrange(-400, 400))
            activity.baseline_start = start
            activity.baseline_finish = start + timedelta(hours=rng.choice([0, 8, 40, 300]))
    session.flush()

    def by_hand(activities):
        bac = sum((a.budgeted_cost for a in activities), Decimal(0))
        ac = sum((a.actual_cost for a in activities), Decimal(0))
        ev = sum((a.budgeted_cost * Decimal(str(a.percent_complete)) / 100 for a in activities), Decimal(0))
        pv = Decimal(0)
        for a in activities:
            start, finish = a.baseline_start, a.baseline_finish
            if start is None or finish is None or DATA_DATE <= start:
                continue
            if DATA_DATE >= finish:
                pv += a.budgeted_cost
            else:
                pv += a.budgeted_cost * Decimal((DATA_DATE - start).total_seconds()) / Decimal(
                    (finish - start).total_seconds())
        cent = Decimal("0.01")
        return bac, ac, ev.quantize(cent), pv.quantize(cent)

    everything = session.scalars(select(Activity).where(Activity.project_id == project.id)).all()
    figures = scheduling_service.earned_value(session, project=project)
    assert (figures.bac, figures.ac, figures.ev, figures.pv) == by_hand(everything)
    assert figures.pv > 0 and figures.ev > 0
    branch = scheduling_service.earned_value(session, project=project, wbs_element=element)
    assert (branch.bac, branch.ac, branch.ev, branch.pv) == by_hand(
        [a for a in everything if a.wbs_element_id == element.id])


def test_project_calendars_without_their_exceptions_keep_their_hours_and_read_no_exception(session, admin_and_node):
    from sqlalchemy import event

    admin, node = admin_and_node
    project = _project(session, admin, node, "SCHCAL")
    services.create_calendar(session, actor=admin, name="Short days", week=[[[480, 720]]] * 5 + [[], []],
                             project=project, hours_per_day=4.0)
    session.flush()
    session.expire_all()
    full = scheduling_service.project_calendars(session, project=project)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        session.expire_all()
        light = scheduling_service.project_calendars(session, project=project, exceptions=False)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert not [s for s in statements if "calendar_exceptions" in s]
    assert len([s for s in statements if "FROM calendars" in s]) == 1
    assert {key: c.hours_per_day for key, c in light.items()} == {key: c.hours_per_day for key, c in full.items()}
    assert {key: c.week for key, c in light.items()} == {key: c.week for key, c in full.items()}
    assert any(c.exceptions for c in full.values()) and not any(c.exceptions for c in light.values())
