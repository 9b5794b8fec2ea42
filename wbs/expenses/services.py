"""Cost accounts and project expenses: who may add them, booking them, listing them.

* The chart of cost accounts is global (like P6's ACCOUNT): administrators and holders of a finance grant
  anywhere may add accounts; everyone logged in may read the chart (codes and names, no amounts).
* An expense is booked on a project by someone with budget rights on it (the finance role, administrators);
  booking calls ``wbs.services.roll_up_costs``, the one home of the project's actual cost (activities +
  expenses), which carries it up the EPS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.database import bulk_insert, utcnow
from crmpm.errors import Conflict, Forbidden, Invalid
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission, authorize, keeps_books
from wbs import services as wbs_services
from wbs.expenses.models import CODE_LENGTH, NAME_LENGTH, CostAccount, ProjectExpense

# A cost account's code: letters, digits and . - _ / (1C's "20.01", P6's "ACC-100").
CODE_PATTERN = re.compile(r"^[0-9A-Za-zА-Яа-яЁё][0-9A-Za-zА-Яа-яЁё._/-]*$")
MAX_AMOUNT = Decimal("9999999999999999.99")
KEY_CHUNK = 5000  # row keys looked up per statement (well under SQLite's and PostgreSQL's bound parameters)


def may_keep_books(session: Session, *, user: User) -> bool:
    """Administrators, and users who hold a finance grant anywhere (they add cost accounts, import costs)."""
    return keeps_books(session, user=user)


def check_code(code: str, *, field: str = "code") -> str:
    """A cost account's code, stripped; Invalid naming ``field`` when empty, too long or with other characters."""
    code = (code or "").strip()
    if not code:
        raise Invalid("{field}: a cost account code is needed", field=field, errors={field: ["required"]})
    if len(code) > CODE_LENGTH:
        raise Invalid("{field}: a cost account code has at most {limit} characters", field=field, limit=CODE_LENGTH,
                      errors={field: [f"at most {CODE_LENGTH} characters"]})
    if not CODE_PATTERN.match(code):
        raise Invalid("{field}: a cost account code holds letters, digits and . - _ /", field=field,
                      errors={field: ["letters, digits and . - _ / only"]})
    return code


def cost_accounts_query():
    """The statement of the chart of cost accounts, by code."""
    return select(CostAccount).order_by(CostAccount.code, CostAccount.id)


def cost_accounts_by_code(session: Session, codes) -> dict[str, CostAccount]:
    """The cost accounts with these codes, by code."""
    codes = sorted(set(codes))
    found: dict[str, CostAccount] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start:start + 500]
        found.update((account.code, account) for account in
                     session.scalars(select(CostAccount).where(CostAccount.code.in_(chunk))))
    return found


def create_cost_account(session: Session, *, actor: User | None, code: str, name: str = "",
                        parent_id: int | None = None, checked: bool = False) -> CostAccount:
    """Add a cost account to the chart (``checked``: the caller's right to keep books is already known)."""
    if not checked and actor is not None and not may_keep_books(session, user=actor):
        raise Forbidden("cost accounts are added by administrators and the finance role")
    code = check_code(code)
    name = (name or "").strip()
    if len(name) > NAME_LENGTH:
        raise Invalid("name: at most {limit} characters", limit=NAME_LENGTH,
                      errors={"name": [f"at most {NAME_LENGTH} characters"]})
    if parent_id is not None and session.get(CostAccount, parent_id) is None:
        raise Invalid("parent_id: no such cost account", errors={"parent_id": ["not found"]})
    if session.scalar(select(CostAccount.id).where(CostAccount.code == code)) is not None:
        raise Conflict("cost account {code} exists already", code=code, errors={"code": ["taken"]})
    account = CostAccount(code=code, name=name or code, parent_id=parent_id)
    session.add(account)
    session.flush()
    audit.record(session, actor=actor, action="create_cost_account", entity=account, after=account.audit_state())
    return account


@dataclass(frozen=True)
class NewExpense:
    """An expense to book: on a project (its budget rights already checked), a cost account, a day."""

    project_id: int
    cost_account_id: int
    booked_on: date
    amount: Decimal
    description: str = ""
    row_key: str | None = None


def book_expenses(session: Session, *, actor: User | None, expenses: list[NewExpense], run_id: int | None,
                  source: str = "accounting") -> int:
    """Record expenses whose projects the caller was authorized on, then roll each project's costs up.

    Returns how many were booked. The caller checked budget rights on every project (the import does so
    row by row, so that the rows it may not book are reported, not booked)."""
    if not expenses:
        return 0
    now = utcnow()
    session.flush()
    # Core rows, not ORM objects: a file of 50,000 costs is inserted in one COPY (PostgreSQL) or executemany.
    bulk_insert(session, ProjectExpense.__table__, [
        {"project_id": item.project_id, "cost_account_id": item.cost_account_id, "booked_on": item.booked_on,
         "amount": item.amount, "description": item.description[:500], "source": source, "run_id": run_id,
         "row_key": item.row_key, "created_at": now} for item in expenses])
    for project_id in sorted({item.project_id for item in expenses}):
        project = session.get(Project, project_id)
        before = project.actual_cost
        wbs_services.roll_up_costs(session, project=project)
        audit.record(session, actor=actor, action="book_expenses", entity=project,
                     before={"actual_cost": before}, after={"actual_cost": project.actual_cost, "run_id": run_id,
                                                           "expenses": sum(1 for item in expenses
                                                                           if item.project_id == project_id)})
    return len(expenses)


def project_expenses(session: Session, *, user: User, project: Project):
    """The statement of a project's expenses, newest day first (read rights on the project)."""
    authorize(session, user=user, obj=project, permission=Permission.read)
    return (select(ProjectExpense).where(ProjectExpense.project_id == project.id)
            .order_by(ProjectExpense.booked_on.desc(), ProjectExpense.id.desc()))


def existing_row_keys(session: Session, keys) -> set[str]:
    """Which of these row keys are already booked (an expense imported before)."""
    keys = sorted(set(keys))
    found: set[str] = set()
    # Large chunks: right after a big import the planner may not know the table yet and scan it per query.
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start:start + KEY_CHUNK]
        found.update(session.scalars(select(ProjectExpense.row_key).where(ProjectExpense.row_key.in_(chunk))))
    return found
