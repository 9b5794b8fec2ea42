"""Domain events: a transactional outbox, read by integrators and delivered to consumers.

``record`` writes an event in the transaction of the change it describes (nothing for a change
rolled back, always one for a change committed); ``dispatch`` delivers committed events to the
consumers the installed packages register (``crmpm.event_consumers``), at least once and in
order; ``page`` reads them for the API and the CLI.

Event types (``<subject>.<what happened>``) are listed in ``TYPES`` with what their payload holds.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.events.delivery import deliver, dispatch, installed_consumers, pending, settled
from crmpm.events.models import Event, EventCursor, EventFailure
from crmpm.events.recording import VERSION, DomainEvent, record, record_many, subject_of

# Every type recorded, with the facts its payload carries besides the subject.
TYPES = {
    "deal.created": "account_id, project_id, pipeline_id, stage_id, owner_id, amount, currency",
    "deal.stage_changed": "from_stage_id, to_stage_id, status",
    "deal.won": "stage_id, amount, project_id",
    "deal.lost": "stage_id, reason",
    "lead.created": "owner_id, source",
    "lead.assigned": "owner_id, previous_owner_id, reason",
    "lead.qualified": "account_id, contact_id, deal_id",
    "task.created": "assignee_id, due_at, remind_at, account_id, deal_id",
    "task.due": "assignee_id, due_at",
    "task.done": "assignee_id",
    "interaction.recorded": "account_id, contact_id, deal_id, kind, at",
    "budget.change_requested": "eps_node_id, project_id, amount",
    "budget.change_decided": "decision, amount",
    "project.scheduled": "activities, finish, data_date, critical, job_id",
    "import.finished": "kind, created, updated, failed, job_id",
    "user.access_changed": "user_id, what",
}

__all__ = ["TYPES", "VERSION", "DomainEvent", "Event", "EventCursor", "EventFailure", "deliver", "dispatch",
           "installed_consumers", "page", "pending", "record", "record_many", "settled", "subject_of"]


def page(session: Session, *, after: int = 0, types: list[str] | None = None, limit: int = 100,
         visible=None) -> list[DomainEvent]:
    """Settled events after id ``after``, oldest first, of ``types`` if given, where ``visible`` holds.

    Only settled ones (``settled``): a reader who stores the last id seen never misses an event
    committed later with a smaller id.
    """
    query = select(Event).where(Event.id > after).order_by(Event.id).limit(limit)
    if types:
        query = query.where(Event.type.in_(types))
    condition = settled(session)
    if condition is not None:
        query = query.where(condition)
    if visible is not None:
        query = query.where(visible)
    return [DomainEvent.of(row) for row in session.scalars(query)]
