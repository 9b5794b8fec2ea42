"""Rows read by the driver (``crmpm.rows.fetch_all``) are the rows SQLAlchemy reads, on both backends."""

from __future__ import annotations

from datetime import timezone
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, event, literal, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from accounts.models import Deal, PipelineStage, StageKind
from crmpm.database import utcnow
from crmpm.rows import fetch_all
from eps.models import Project
from tests import factories


@pytest.fixture
def two_deals(session):
    admin = factories.admin(session)
    root = factories.node(session, actor=admin, code="ROWS")
    pipeline = factories.pipeline(session, name="Rows")
    account = factories.account(session, actor=admin, region=root, name="Rows client")
    deals = [factories.deal(session, actor=admin, account=account, pipeline=pipeline, stage=stage, amount=amount)
             for stage, amount in (("Proposal", "1234.50"), ("Won", "0.07"))]
    session.commit()
    return deals


def _typed_statement():
    # Money (a type with its own result processing), a zone-aware time, an enum, a fixed value bound into the
    # statement, and a parameter given at each run.
    return (select(Deal.id, Deal.amount, Deal.created_at, PipelineStage.kind, Project.code,
                   literal("fixed").label("fixed"))
            .join(PipelineStage, PipelineStage.id == Deal.stage_id).join(Project, Project.id == Deal.project_id)
            .where(Deal.amount >= bindparam("at_least")).order_by(Deal.id))


def test_rows_are_what_sqlalchemy_reads_with_every_type_processed(session, two_deals):
    statement = _typed_statement()
    expected = [tuple(row) for row in session.execute(statement, {"at_least": Decimal("0.01")}).all()]
    for _ in range(2):  # the first run takes the result's types, the second reuses them
        rows = fetch_all(session, statement, {"at_least": Decimal("0.01")})
        assert rows == expected and len(rows) == 2
    first, second = rows
    assert first[1] == Decimal("1234.50") and str(first[1]) == "1234.50" and str(second[1]) == "0.07"
    assert first[2].tzinfo is timezone.utc
    assert second[3] is StageKind.won
    assert first[5] == "fixed"
    assert fetch_all(session, statement, {"at_least": Decimal("1000")}) == expected[:1]


def test_a_missing_parameter_is_refused_not_read_as_null(session, two_deals):
    with pytest.raises(SQLAlchemyError, match="at_least"):
        fetch_all(session, _typed_statement())


def test_an_expanding_in_runs_through_sqlalchemy(session, two_deals):
    ids = [deal.id for deal in two_deals]
    assert fetch_all(session, select(Deal.id).where(Deal.id.in_(ids)).order_by(Deal.id)) == [(ids[0],), (ids[1],)]


def test_pending_changes_are_flushed_first(session, two_deals):
    two_deals[0].amount = Decimal("9.99")
    assert fetch_all(session, select(Deal.amount).where(Deal.id == two_deals[0].id)) == [(Decimal("9.99"),)]


def test_cursor_listeners_see_the_statement_and_its_parameters(session, connection, two_deals):
    seen = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", record)
    try:
        fetch_all(session, _typed_statement(), {"at_least": Decimal("0.01")})
    finally:
        event.remove(connection, "before_cursor_execute", record)
    reads = [(statement, parameters) for statement, parameters in seen if "deals" in statement]
    assert len(reads) == 1
    values = reads[0][1] if isinstance(reads[0][1], dict) else dict(enumerate(reads[0][1]))
    assert "fixed" in values.values()


def test_a_database_error_is_sqlalchemys_and_names_the_statement(session, backend):
    if backend == "sqlite":
        pytest.skip("SQLite divides by zero without an error")
    with pytest.raises(DBAPIError) as raised:
        fetch_all(session, select((literal(1) / bindparam("zero")).label("quotient")), {"zero": 0})
    assert "division by zero" in str(raised.value) and "quotient" in str(raised.value)


def test_a_time_read_is_zone_aware_utc(session, two_deals):
    before = utcnow()
    [(created,)] = fetch_all(session, select(Deal.created_at).where(Deal.id == two_deals[1].id))
    assert created.tzinfo is timezone.utc and created <= before
