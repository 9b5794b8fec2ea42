"""The record of exchanges with accounting: who sees which runs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm.errors import NotFound
from crmpm.users.models import User

from accounts.accounting.models import AccountingRun


def runs_query(*, user: User, direction: str | None = None):
    """The runs ``user`` may see, newest first: administrators all, anyone else the runs they made."""
    query = select(AccountingRun).order_by(AccountingRun.id.desc())
    if not user.is_admin:
        query = query.where(AccountingRun.actor_id == user.id)
    if direction:
        query = query.where(AccountingRun.direction == direction)
    return query


def list_runs(session: Session, *, user: User, limit: int = 50) -> list[AccountingRun]:
    return list(session.scalars(runs_query(user=user).limit(limit)))


def get_run_or_raise(session: Session, *, user: User, run_id: int) -> AccountingRun:
    """The run, if ``user`` may see it (administrators, its actor); NotFound otherwise."""
    run = session.get(AccountingRun, run_id)
    if run is None or not (user.is_admin or run.actor_id == user.id):
        raise NotFound("accounting run {run_id} not found", run_id=run_id)
    return run
