"""Read models over projects: list figures in a fixed number of queries, status filters, WBS order, baselines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from eps.models import Role
from tests import factories
from wbs import portfolio, services
from wbs.scheduling import service as scheduling_service

WEEK = [[[480, 720], [780, 1020]]] * 5 + [[], []]
MONDAY = datetime(2026, 3, 2, 8)


@pytest.fixture
def tree(session):
    admin = factories.admin(session)
    top = factories.node(session, actor=admin, code="PF")
    left = factories.node(session, actor=admin, parent=top, code="PF-L")
    right = factories.node(session, actor=admin, parent=top, code="PF-R")
    return admin, top, left, right


def _plan(session, admin, project, durations: dict[str, float], links=()):
    calendar = services.create_calendar(session, actor=admin, project=project, name="5x8", week=WEEK)
    services.update_plan(session, actor=admin, project=project, data_date=MONDAY, default_calendar_id=calendar.id)
    made = {code: services.create_activity(session, actor=admin, project=project, code=code, name=code,
                                           original_duration_hours=hours, budgeted_cost=Decimal("10.00"),
                                           type="task" if hours else "finish_milestone")
            for code, hours in durations.items()}
    for a, b in links:
        services.create_relationship(session, actor=admin, project=project, predecessor=made[a], successor=made[b])
    return made


def _count_queries(session):
    statements = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    return statements, lambda: event.remove(engine, "before_cursor_execute", listener)


def test_figures_of_a_page_in_two_queries_whatever_its_size(session, tree):
    admin, top, left, _right = tree
    projects = [factories.project(session, actor=admin, node=left, code=f"PF{n}") for n in range(6)]
    made = _plan(session, admin, projects[0], {"A": 40.0, "B": 24.0, "M": 0.0}, links=[("A", "B"), ("B", "M")])
    scheduling_service.schedule_project(session, actor=admin, project=projects[0])
    services.update_activity(session, actor=admin, project=projects[0], activity=made["A"], percent_complete=50.0,
                             actual_start=MONDAY)
    session.flush()
    statements, stop = _count_queries(session)
    try:
        figures = portfolio.figures(session, project_ids=[p.id for p in projects])
    finally:
        stop()
    assert len(statements) == 2
    first = figures[projects[0].id]
    assert (first.activities, first.critical, first.started, first.finished) == (3, 3, 1, 0)
    assert first.percent_complete == 31.2  # 50 % of 40 h out of 64 h of work
    assert (first.start, first.finish) == (MONDAY, datetime(2026, 3, 11, 17))
    assert first.status == "in_progress" and first.data_date == MONDAY
    assert figures[projects[1].id].status == "no_plan" and figures[projects[1].id].activities == 0


@pytest.mark.parametrize("status", portfolio.STATUSES)
def test_status_filter_agrees_with_the_figures(session, tree, status):
    admin, top, left, _right = tree
    empty = factories.project(session, actor=admin, node=left, code="ST-EMPTY")
    fresh = factories.project(session, actor=admin, node=left, code="ST-FRESH")
    going = factories.project(session, actor=admin, node=left, code="ST-GOING")
    done = factories.project(session, actor=admin, node=left, code="ST-DONE")
    _plan(session, admin, fresh, {"A": 8.0})
    a = _plan(session, admin, going, {"A": 8.0, "B": 8.0})["A"]
    services.update_activity(session, actor=admin, project=going, activity=a, actual_start=MONDAY)
    d = _plan(session, admin, done, {"A": 8.0})["A"]
    services.update_activity(session, actor=admin, project=done, activity=d, actual_start=MONDAY,
                             actual_finish=datetime(2026, 3, 2, 17), percent_complete=100.0)
    ids = {p.id for p in (empty, fresh, going, done)}
    listed = [p.id for p in session.scalars(portfolio.list_projects(session, user=admin, eps_node=left,
                                                                    status=status)) if p.id in ids]
    figures = portfolio.figures(session, project_ids=sorted(ids))
    assert listed == [i for i in sorted(ids, key=lambda i: session.get(type(empty), i).code)
                      if figures[i].status == status]
    assert len(listed) == 1


def test_lists_and_paths_respect_the_readers_grants(session, tree):
    admin, top, left, right = tree
    inside = factories.project(session, actor=admin, node=left, code="PFIN")
    factories.project(session, actor=admin, node=right, code="PFOUT")
    reader = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=left, user=reader)
    codes = [p.code for p in session.scalars(portfolio.list_projects(session, user=reader))]
    assert codes == ["PFIN"]
    assert [n.code for n in portfolio.eps_paths(session, user=reader, projects=[inside])[inside.id]] == ["PF-L"]
    assert [n.code for n in portfolio.eps_paths(session, user=admin, projects=[inside])[inside.id]] == ["PF", "PF-L"]


def test_nodes_for_new_projects_need_edit_rights(session, tree):
    admin, top, left, right = tree
    person = factories.user(session)
    factories.grant(session, actor=admin, role=Role.viewer, target=top, user=person)
    assert portfolio.nodes_for_new_projects(session, user=person) == []
    factories.grant(session, actor=admin, role=Role.editor, target=right, user=person)
    project = factories.project(session, actor=admin, node=left, code="PFM")
    factories.grant(session, actor=admin, role=Role.manager, target=project, user=person)  # a project is no place
    assert [n.code for n in portfolio.nodes_for_new_projects(session, user=person)] == ["PF-R"]
    assert {"PF", "PF-L", "PF-R"} <= {n.code for n in portfolio.nodes_for_new_projects(session, user=admin)}


def test_wbs_ordered_window_follows_the_tree_then_the_dates(session, tree):
    admin, _top, left, _right = tree
    project = factories.project(session, actor=admin, node=left, code="PFW")
    second = services.create_element(session, actor=admin, project=project, code="2", name="Second", seq=20)
    first = services.create_element(session, actor=admin, project=project, code="1", name="First", seq=10)
    inner = services.create_element(session, actor=admin, project=project, code="1.1", name="Inner", parent=first)
    for code, element in (("Z", first), ("Y", second), ("X", inner), ("W", None), ("V", first)):
        services.create_activity(session, actor=admin, project=project, code=code, name=code,
                                 wbs_element_id=element.id if element else None, original_duration_hours=8.0)
    items, total = portfolio.wbs_ordered_page(session, project=project, offset=0, limit=10)
    assert total == 5 and [a.code for a in items] == ["W", "V", "Z", "X", "Y"]
    window, _ = portfolio.wbs_ordered_page(session, project=project, offset=2, limit=2)
    assert [a.code for a in window] == ["Z", "X"]
    # the same order for any select of the activities (a filtered one, say)
    query = portfolio.wbs_ordered(services.list_activities(session, project=project),
                                  services.element_outline(session, project=project))
    assert [a.code for a in session.scalars(query)] == ["W", "V", "Z", "X", "Y"]
    chains = portfolio.element_chain(services.list_elements(session, project=project))
    assert [e.code for e in chains[inner.id]] == ["1", "1.1"]


def test_baseline_span(session, tree):
    admin, _top, left, _right = tree
    project = factories.project(session, actor=admin, node=left, code="PFB")
    _plan(session, admin, project, {"A": 40.0, "B": 8.0}, links=[("A", "B")])
    assert portfolio.baseline(session, project=project).activities == 0
    scheduling_service.schedule_project(session, actor=admin, project=project)
    base = portfolio.baseline(session, project=project)
    assert (base.start, base.finish, base.activities) == (MONDAY, datetime(2026, 3, 9, 17), 2)


def test_every_wbs_window_equals_the_same_slice_of_the_whole_sorted_plan(session, tree):
    import random
    from datetime import datetime, timedelta

    from wbs.models import Activity

    admin, _top, left, _right = tree
    project = factories.project(session, actor=admin, node=left, code="PFS")
    rng = random.Random(5)
    elements = []
    for n in range(6):
        parent = rng.choice(elements) if elements and rng.random() < 0.5 else None
        elements.append(services.create_element(session, actor=admin, project=project, code=f"E{n}",
                                                name=f"E{n}", seq=rng.randrange(100), parent=parent))
    start = datetime(2026, 1, 5, 8)
    for n in range(40):
        element = rng.choice(elements + [None, None])
        activity = services.create_activity(session, actor=admin, project=project, code=f"A{n:02d}", name="x",
                                            wbs_element_id=element.id if element else None,
                                            original_duration_hours=8.0)
        if rng.random() < 0.8:
            activity.early_start = start + timedelta(days=rng.randrange(5))  # ties broken by code
    session.flush()
    # The order by hand: outside the tree first, then the tree depth first, each by early start (unset last), code.
    rank = {e.id: i for i, e in enumerate(portfolio.tree_order(services.list_elements(session, project=project)))}
    everything = session.scalars(select(Activity).where(Activity.project_id == project.id)).all()
    expected = [a.code for a in sorted(everything, key=lambda a: (
        rank.get(a.wbs_element_id, -1), a.early_start is None, a.early_start or start, a.code))]
    for offset in range(0, 42, 3):
        for limit in (1, 4, 7, 40):
            window, total = portfolio.wbs_ordered_page(session, project=project, offset=offset, limit=limit)
            assert total == 40
            assert [a.code for a in window] == expected[offset:offset + limit], (offset, limit)
            given, given_total = portfolio.wbs_ordered_page(
                session, project=project, offset=offset, limit=limit,
                elements=services.element_outline(session, project=project),
                counts=portfolio.wbs_extent(session, project=project).counts)
            assert (given_total, given) == (total, window)


def _random_wbs(session, admin, project, rng, size=12):
    elements = []
    for n in range(size):
        parent = rng.choice(elements) if elements and rng.random() < 0.6 else None
        elements.append(services.create_element(session, actor=admin, project=project, code=f"E{n}",
                                                name=f"Element {n}", seq=rng.randrange(4), parent=parent))
    return elements


@pytest.mark.parametrize("seed", range(4))
def test_the_wbs_outline_is_the_tree_order_of_the_elements(session, tree, seed):
    import random

    admin, _top, left, _right = tree
    project = factories.project(session, actor=admin, node=left, code=f"PFO{seed}")
    _random_wbs(session, admin, project, random.Random(seed))  # seq ties included: then by id
    expected = portfolio.tree_order(services.list_elements(session, project=project))
    outline = services.element_outline(session, project=project)
    assert [(e.id, e.parent_id, e.code, e.name) for e in outline] == [
        (e.id, e.parent_id, e.code, e.name) for e in expected]
    full = portfolio.element_chain(expected)
    wanted = {e.id for e in expected[::3]}
    some = portfolio.element_chain(outline, only=wanted | {None, 10**9})
    assert wanted <= set(some)
    assert all([e.id for e in some[i]] == [e.id for e in full[i]] for i in some)


def test_the_wbs_extent_counts_spans_and_ends_match_the_activities(session, tree):
    import random
    from datetime import timedelta

    from wbs.models import Activity

    admin, _top, left, _right = tree
    project = factories.project(session, actor=admin, node=left, code="PFX")
    assert portfolio.wbs_extent(session, project=project) == portfolio.WbsExtent(counts={}, spans={})
    rng = random.Random(7)
    elements = _random_wbs(session, admin, project, rng, size=6)
    _plan(session, admin, project, {})
    for n in range(30):
        element = rng.choice(elements + [None])
        services.create_activity(session, actor=admin, project=project, code=f"A{n:02d}", name="x",
                                 wbs_element_id=element.id if element else None,
                                 original_duration_hours=8.0 * rng.randrange(0, 5) or 8.0)
    scheduling_service.schedule_project(session, actor=admin, project=project)
    everything = session.scalars(select(Activity).where(Activity.project_id == project.id)).all()
    for activity in everything[:5]:  # some work under way or done, some without a baseline
        activity.actual_start = activity.early_start - timedelta(days=3)
        activity.actual_finish = activity.early_finish + timedelta(days=40) if rng.random() < 0.5 else None
        activity.baseline_start = activity.baseline_finish = None
    session.flush()
    extent = portfolio.wbs_extent(session, project=project)
    figures = portfolio.figures(session, project_ids=[project.id])[project.id]
    base = portfolio.baseline(session, project=project)
    assert (extent.start, extent.finish, extent.activities) == (figures.start, figures.finish, 30)
    assert (extent.baseline_start, extent.baseline_finish) == (base.start, base.finish)
    assert extent.counts == {key: sum(1 for a in everything if a.wbs_element_id == key)
                             for key in {a.wbs_element_id for a in everything}}
    for element in elements:
        own = [a for a in everything if a.wbs_element_id == element.id]
        if own:
            assert extent.spans[element.id] == (min(a.actual_start or a.early_start for a in own),
                                                max(a.actual_finish or a.early_finish for a in own))
        else:
            assert element.id not in extent.spans
    assert None not in extent.spans


@pytest.mark.parametrize("seed", range(3))
def test_the_plan_sums_give_every_figure_of_the_project_page(session, tree, seed):
    """One pass (``services.plan_sums``) gives the same figures as the queries that read them apart, and the
    tree's, branch's and earned value's sums of a hand count over the activities."""
    import random
    from datetime import timedelta

    from wbs.models import Activity

    admin, _top, left, _right = tree
    project = factories.project(session, actor=admin, node=left, code=f"PFS{seed}")
    rng = random.Random(seed)
    elements = _random_wbs(session, admin, project, rng, size=7)
    _plan(session, admin, project, {})
    for n in range(40):
        element = rng.choice(elements + [None])
        services.create_activity(session, actor=admin, project=project, code=f"A{n:02d}", name="x",
                                 wbs_element_id=element.id if element else None,
                                 original_duration_hours=8.0 * rng.randrange(0, 6),
                                 budgeted_cost=Decimal(rng.randrange(0, 100_000)) / 100,
                                 actual_cost=Decimal(rng.randrange(0, 50_000)) / 100,
                                 percent_complete=rng.choice([0.0, 100.0, 12.5, 33.333333333333336, 70.0]))
    scheduling_service.schedule_project(session, actor=admin, project=project)
    everything = session.scalars(select(Activity).where(Activity.project_id == project.id)).all()
    for activity in everything[:6]:  # some started and finished, some without a baseline
        activity.actual_start = activity.early_start - timedelta(days=2)
        activity.actual_finish = activity.early_finish if rng.random() < 0.5 else None
        if rng.random() < 0.5:
            activity.baseline_start = activity.baseline_finish = None
    plan = services.get_plan(session, project=project)
    starts = sorted(a.baseline_start for a in everything if a.baseline_start)
    plan.data_date = starts[len(starts) // 2] + timedelta(hours=3)  # some baselines cut through
    session.flush()

    sums = services.plan_sums(session, project=project)
    whole = services.PlanSums.total(sums.values())
    assert portfolio.project_figures(plan, whole) == portfolio.figures(session, project_ids=[project.id])[project.id]
    assert portfolio.baseline(session, project=project, sums=whole) == portfolio.baseline(session, project=project)

    def branch(element):
        ids = services.branch_ids(elements, element.id)
        return [a for a in everything if a.wbs_element_id in ids]

    def nodes(items):
        for node in items:
            yield node
            yield from nodes(node.children)

    tree_nodes = {node.id: node for node in nodes(services.wbs_tree(session, project=project)["items"])}
    for element in elements:
        own = branch(element)
        node = tree_nodes[element.id]
        assert (node.activities, node.budgeted_cost, node.actual_cost) == (
            len(own), sum((a.budgeted_cost for a in own), Decimal("0.00")),
            sum((a.actual_cost for a in own), Decimal("0.00")))

    cent = Decimal("0.01")
    cut_any = False
    for element in [None, *elements]:
        chosen = everything if element is None else branch(element)
        pv = Decimal(0)
        for a in chosen:
            if a.baseline_start is None or a.baseline_finish is None or plan.data_date <= a.baseline_start:
                continue
            if plan.data_date >= a.baseline_finish:
                pv += a.budgeted_cost
            else:
                cut_any = True
                pv += a.budgeted_cost * Decimal((plan.data_date - a.baseline_start).total_seconds()) / Decimal(
                    (a.baseline_finish - a.baseline_start).total_seconds())
        evm = scheduling_service.earned_value(session, project=project, wbs_element=element)
        assert evm.bac == sum((a.budgeted_cost for a in chosen), Decimal("0.00"))
        assert evm.ac == sum((a.actual_cost for a in chosen), Decimal("0.00"))
        assert evm.ev == sum((a.budgeted_cost * Decimal(str(a.percent_complete)) / 100 for a in chosen),
                             Decimal(0)).quantize(cent)
        assert evm.pv == pv.quantize(cent)
    assert cut_any
