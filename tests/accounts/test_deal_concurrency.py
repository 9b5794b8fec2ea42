"""Stage moves of one deal from many requests at once, on a real PostgreSQL and on a SQLite file.

Twenty threads each send their own API request moving the same deal; the app
commits for real (no outer transaction), and the tables are emptied afterwards.
Afterwards the deal's stage history must be one chain (each move starts where
the one before it ended) and the won handover (the WBS template copied into the
deal's project) must have happened exactly once.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from accounts.models import Deal, DealStageChange, PipelineStage
from crmpm import create_app, migrate
from crmpm.audit.models import AuditEntry
from crmpm.database import Base, make_engine
from eps.models import Role
from tests import factories
from wbs import services as wbs_services
from wbs.models import Activity, WbsElement

THREADS = 20
# Every fourth request wins the deal (with the template); the others move it between open stages.
TARGETS = ["Won", "Proposal", "Negotiation", "Qualification"]


@pytest.fixture(params=["postgresql", "sqlite"])
def real_url(request, tmp_path):
    """A migrated database the app commits into for real, emptied (or thrown away) afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'concurrent.db'}"
        migrate.upgrade(url=url)
        yield url
        return
    url = request.getfixturevalue("postgresql_url")
    migrate.upgrade(url=url)
    yield url
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _arrange(engine):
    with Session(engine, expire_on_commit=False) as session:
        admin = factories.admin(session)
        seller = factories.user(session)
        root = factories.node(session, actor=admin, code="ROOT")
        branch = factories.node(session, actor=admin, parent=root, code="BR")
        templates_node = factories.node(session, actor=admin, parent=root, code="TPL")
        factories.grant(session, actor=admin, role=Role.editor, target=branch, user=seller)
        factories.grant(session, actor=admin, role=Role.viewer, target=templates_node, user=seller)
        template = factories.project(session, actor=admin, node=templates_node, code="TPL-ERP")
        element = wbs_services.create_element(session, actor=admin, project=template, code="1", name="Rollout")
        for code in ("A1", "A2", "A3"):
            wbs_services.create_activity(session, actor=admin, project=template, code=code, name=code,
                                         wbs_element_id=element.id, original_duration_hours=8.0)
        pipeline = factories.pipeline(session, name="Sales")
        account = factories.account(session, actor=admin, region=branch, name="Client")
        deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline)
        token = factories.token(session, user=seller)
        session.commit()
        return deal.id, deal.project_id, template.id, token


def _move_all(app, *, deal_id, template_id, token):
    barrier = threading.Barrier(THREADS)
    statuses, failures = [], []

    def run(n):
        stage = TARGETS[n % len(TARGETS)]
        body = {"stage": stage, "note": f"request {n}"}
        if stage == "Won":
            body["template_project_id"] = template_id
        client = app.test_client()
        barrier.wait()
        try:
            response = client.post(f"/api/v1/deals/{deal_id}/stage", json=body,
                                   headers={"Authorization": f"Bearer {token}"})
            statuses.append((stage, response.status_code, response.get_json()))
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses, failures


def test_parallel_stage_moves_keep_one_chain_and_hand_over_once(real_url):
    engine = make_engine(real_url)
    try:
        deal_id, project_id, template_id, token = _arrange(engine)
        app = create_app({"DATABASE_URL": real_url, "TESTING": True})
        statuses, failures = _move_all(app, deal_id=deal_id, template_id=template_id, token=token)

        assert failures == []
        assert len(statuses) == THREADS
        # A move either happens or is refused as a conflict (already in that stage; already handed over).
        assert {status for _stage, status, _body in statuses} <= {200, 409}, statuses
        moved = [stage for stage, status, _body in statuses if status == 200]
        assert "Won" in moved

        with Session(engine) as session:
            names = dict(session.execute(select(PipelineStage.id, PipelineStage.name)).all())
            history = session.scalars(select(DealStageChange).where(DealStageChange.deal_id == deal_id)
                                      .order_by(DealStageChange.id)).all()
            # One entry for the opening, one per successful move, each starting where the previous ended.
            assert len(history) == 1 + len(moved)
            assert history[0].from_stage_id is None
            for previous, entry in zip(history, history[1:]):
                assert entry.from_stage_id == previous.to_stage_id, (
                    [(names.get(e.from_stage_id), names[e.to_stage_id]) for e in history])
            assert sorted(names[e.to_stage_id] for e in history[1:]) == sorted(moved)
            assert session.get(Deal, deal_id).stage_id == history[-1].to_stage_id

            # The handover ran once: one audit entry with the plan, and the template's plan copied once.
            won = session.scalars(select(AuditEntry.after).where(AuditEntry.action == "won",
                                                                 AuditEntry.entity_type == "deals",
                                                                 AuditEntry.entity_id == deal_id)).all()
            assert len([after for after in won if after.get("plan")]) == 1
            assert session.scalar(select(func.count()).select_from(Activity)
                                  .where(Activity.project_id == project_id)) == 3
            assert session.scalar(select(func.count()).select_from(WbsElement)
                                  .where(WbsElement.project_id == project_id)) == 1
    finally:
        engine.dispose()
