"""Budget invariants under concurrent approvals and changes, on a real PostgreSQL.

These tests commit for real (no outer transaction), from many threads at once,
and empty the tables afterwards.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from crmpm.database import Base, make_engine
from crmpm.errors import Conflict
from eps import budgets
from eps.models import BudgetChange, ChangeStatus, EpsNode, Project
from tests import factories

D = Decimal
THREADS = 12


@pytest.fixture
def pg_engine(postgresql_url):
    from crmpm import migrate

    migrate.upgrade(url=postgresql_url)
    engine = make_engine(postgresql_url, pool_size=THREADS + 2)
    yield engine
    with engine.begin() as connection:
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _run_all(workers):
    barrier = threading.Barrier(len(workers))
    results, errors = [], []

    def run(work):
        barrier.wait()
        try:
            results.append(work())
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def _approve(engine, change_id, approver_id):
    def work():
        with Session(engine, expire_on_commit=False) as session:
            try:
                change = session.get(BudgetChange, change_id)
                approver = session.get(factories.User, approver_id)
                budgets.approve_change(session, actor=approver, change=change)
                session.commit()
                return "approved"
            except Conflict:
                session.rollback()
                return "refused"
    return work


def _check_invariants(session: Session) -> None:
    nodes = session.scalars(select(EpsNode)).all()
    for node in nodes:
        children = session.scalar(select(func.coalesce(func.sum(EpsNode.current_budget), 0))
                                  .where(EpsNode.parent_id == node.id))
        projects = session.scalar(select(func.coalesce(func.sum(Project.current_budget), 0))
                                  .where(Project.eps_node_id == node.id))
        assert node.current_budget >= D(children) + D(projects), node.code
    for obj in [*nodes, *session.scalars(select(Project)).all()]:
        column = BudgetChange.eps_node_id if isinstance(obj, EpsNode) else BudgetChange.project_id
        approved = session.scalar(select(func.coalesce(func.sum(BudgetChange.amount), 0))
                                  .where(column == obj.id, BudgetChange.status == ChangeStatus.approved))
        assert obj.current_budget == obj.original_budget + D(approved), obj.code
        assert obj.current_budget >= 0


def test_parallel_approvals_never_overdraw_the_parent(pg_engine):
    with Session(pg_engine, expire_on_commit=False) as session:
        admin = factories.admin(session)
        finance = factories.user(session)
        root = factories.node(session, actor=admin, code="ROOT", budget="1000.00")
        factories.grant(session, actor=admin, role="finance", target=root, user=finance)
        change_ids = []
        for n in range(THREADS):
            child = factories.project(session, actor=admin, node=root, code=f"C{n}")
            change_ids.append(budgets.request_change(session, actor=admin, obj=child, amount=D("150.00"),
                                                     reason="parallel").id)
        session.commit()
        finance_id = finance.id

    results, errors = _run_all([_approve(pg_engine, change_id, finance_id) for change_id in change_ids])
    assert errors == []
    # 6 × 150 = 900 fits in 1000; a seventh would not.
    assert results.count("approved") == 6 and results.count("refused") == THREADS - 6
    with Session(pg_engine) as session:
        _check_invariants(session)
        root = session.scalar(select(EpsNode).where(EpsNode.code == "ROOT"))
        assert budgets.figures(session, obj=root).undistributed == D("100.00")


def test_same_change_approved_twice_in_parallel_counts_once(pg_engine):
    with Session(pg_engine, expire_on_commit=False) as session:
        admin = factories.admin(session)
        finance = factories.user(session)
        root = factories.node(session, actor=admin, code="ROOT", budget="1000.00")
        factories.grant(session, actor=admin, role="finance", target=root, user=finance)
        child = factories.project(session, actor=admin, node=root, code="C")
        change_id = budgets.request_change(session, actor=admin, obj=child, amount=D("10.00"), reason="r").id
        session.commit()
        finance_id, child_id = finance.id, child.id

    results, errors = _run_all([_approve(pg_engine, change_id, finance_id) for _ in range(THREADS)])
    assert errors == []
    assert results.count("approved") == 1
    with Session(pg_engine) as session:
        assert session.get(Project, child_id).current_budget == D("10.00")
        _check_invariants(session)


def test_parent_cut_racing_child_increases_keeps_invariant(pg_engine):
    with Session(pg_engine, expire_on_commit=False) as session:
        admin = factories.admin(session)
        finance = factories.user(session)
        top = factories.node(session, actor=admin, code="TOP", budget="5000.00")
        mid = factories.node(session, actor=admin, parent=top, code="MID", budget="1000.00")
        factories.grant(session, actor=admin, role="finance", target=top, user=finance)
        change_ids = []
        for n in range(THREADS - 2):
            child = factories.node(session, actor=admin, parent=mid, code=f"K{n}")
            change_ids.append(budgets.request_change(session, actor=admin, obj=child, amount=D("100.00"),
                                                     reason="r").id)
        session.commit()
        finance_id, admin_id, mid_id = finance.id, admin.id, mid.id

    def cut(amount):
        def work():
            with Session(pg_engine, expire_on_commit=False) as session:
                try:
                    budgets.set_original(session, actor=session.get(factories.User, admin_id),
                                         obj=session.get(EpsNode, mid_id), amount=D(amount))
                    session.commit()
                    return "cut"
                except Conflict:
                    session.rollback()
                    return "refused"
        return work

    workers = [_approve(pg_engine, change_id, finance_id) for change_id in change_ids]
    workers += [cut("450.00"), cut("300.00")]
    results, errors = _run_all(workers)
    assert errors == []
    with Session(pg_engine) as session:
        _check_invariants(session)
