"""Recording and reading the audit trail."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.audit.models import AuditEntry
from crmpm.database import bulk_insert


def entity_type_of(entity) -> str:
    """The audit name of an entity: its table name."""
    return entity.__tablename__


def _jsonable(state: dict | None) -> dict | None:
    if state is None:
        return None
    # Decimals keep their exact digits as strings; dates become ISO text.
    return json.loads(json.dumps(state, default=lambda v: str(v) if isinstance(v, Decimal) else v.isoformat()))


def record(session: Session, *, actor, action: str, entity, before: dict | None = None,
           after: dict | None = None) -> AuditEntry:
    """Append one entry to the trail, in the caller's transaction."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "email", None),
        action=action,
        entity_type=entity_type_of(entity),
        entity_id=entity.id,
        before=_jsonable(before),
        after=_jsonable(after),
    )
    session.add(entry)
    return entry


def record_many(session: Session, *, actor, action: str, entity_type: str,
                entries: list[tuple[int, dict | None, dict | None]]) -> None:
    """Append one entry per ``(entity_id, before, after)`` in a single executemany (bulk imports)."""
    if not entries:
        return
    actor_id, actor_name = getattr(actor, "id", None), getattr(actor, "email", None)
    bulk_insert(session, AuditEntry.__table__, [
        {"actor_id": actor_id, "actor_name": actor_name, "action": action, "entity_type": entity_type,
         "entity_id": entity_id, "before": _jsonable(before), "after": _jsonable(after)}
        for entity_id, before, after in entries])


def list_(*, entity_type: str | None = None, entity_id: int | None = None, actor_id: int | None = None):
    """A select of entries, newest first, optionally for one entity or one actor."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if entity_type is not None:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    return query
