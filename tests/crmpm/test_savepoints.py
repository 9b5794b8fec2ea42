"""Rolling a savepoint back leaves no copy in the session of a row written in it (crmpm.database.roll_back_savepoint)."""

from __future__ import annotations

from sqlalchemy import select

from crmpm import audit
from crmpm.audit.models import AuditEntry
from crmpm.database import roll_back_savepoint


def _written_by_core_and_loaded(session) -> AuditEntry:
    audit.record_many(session, actor=None, action="probe", entity_type="probes", entries=[(1, None, {"n": 1})])
    return session.scalars(select(AuditEntry).where(AuditEntry.action == "probe")).one()


def test_a_savepoint_rolled_back_leaves_no_copy_of_a_row_a_core_statement_wrote(session):
    savepoint = session.begin_nested()
    entry = _written_by_core_and_loaded(session)
    entry_id = entry.id
    roll_back_savepoint(savepoint)
    assert session.get(AuditEntry, entry_id) is None
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "probe")).all() == []


def test_sqlalchemys_own_savepoint_rollback_keeps_such_a_copy(session):
    """Why the helper exists: a plain rollback expires only what changed in the savepoint."""
    savepoint = session.begin_nested()
    entry = _written_by_core_and_loaded(session)
    savepoint.rollback()
    assert session.get(AuditEntry, entry.id) is entry  # a copy of a row that is gone
