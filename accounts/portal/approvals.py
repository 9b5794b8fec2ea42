"""A client's approval or rejection of a billing milestone or of an act, on the portal.

What a client decides on: the billing milestones of a project shared with them, and the acts of completed work
of its issued invoices (an invoice issued, partly paid or paid, with its act dated). Anything else, or anything
of a project not shared with them, is "not found" (``accounts.portal.access``).

Each decision is a ``PortalApproval`` row (who, their contact, when; a rejection needs a comment saying why),
audited, and the event ``portal.approval_decided`` about the project, from which ``accounts.notifying`` tells the
project's PMs (its editors) and the deal's owner. History is kept: deciding again adds a row and the latest
counts; an approval is final (deciding again on an approved milestone or act is a Conflict), a rejection may be
followed by a new decision once staff have put things right. Approving a milestone asks the account's client
users a CSAT survey (``accounts.portal.surveys.ask_after_milestone``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crmpm import audit, events
from crmpm.database import utcnow
from crmpm.errors import Conflict, Invalid, NotFound
from crmpm.users.models import User
from eps.models import Project
from eps.permissions import Permission, authorize

from accounts.billing.invoices import BILLED
from accounts.billing.models import BillingMilestone, Invoice
from accounts.models import Deal
from accounts.portal import surveys
from accounts.portal.access import get_shared_project_or_raise
from accounts.portal.models import APPROVAL_SUBJECTS, DECISIONS, PortalApproval, PortalUser

COMMENT_LENGTH = 2000


@dataclass
class Item:
    """A milestone or act as the portal lists it, with the latest decision on it (None: not decided yet)."""

    subject: str
    subject_id: int
    name: str
    amount: object
    date: object
    latest: PortalApproval | None

    @property
    def decidable(self) -> bool:
        return self.latest is None or self.latest.decision != "approved"


def _load_subject(session: Session, client: PortalUser, subject: str, subject_id: int, project_id: int | None):
    """The milestone or act (its invoice) and its project, locked, if ``client`` may decide on it."""
    if subject == "milestone":
        found = session.scalar(select(BillingMilestone).where(BillingMilestone.id == subject_id).with_for_update())
        missing = NotFound("billing milestone {id} not found", id=subject_id)
    else:
        found = session.scalar(select(Invoice).where(Invoice.id == subject_id, Invoice.status.in_(BILLED),
                                                     Invoice.act_date.is_not(None)).with_for_update())
        missing = NotFound("act {id} not found", id=subject_id)
    if found is None or (project_id is not None and found.project_id != project_id):
        raise missing
    try:
        project = get_shared_project_or_raise(session, client, found.project_id)
    except NotFound:
        raise missing from None
    return found, project


def latest_decision(session: Session, subject: str, subject_id: int) -> PortalApproval | None:
    """The decision that counts on a milestone or act: the latest."""
    return session.scalar(select(PortalApproval).where(PortalApproval.subject == subject,
                                                       PortalApproval.subject_id == subject_id)
                          .order_by(PortalApproval.at.desc(), PortalApproval.id.desc()).limit(1))


def decide(session: Session, client: PortalUser, subject: str, subject_id: int, decision: str,
           comment: str = "", *, project_id: int | None = None) -> PortalApproval:
    """Record ``client``'s decision (approved | rejected) on a milestone or act of a project shared with them
    (of project ``project_id`` when given: a page's address names it)."""
    if subject not in APPROVAL_SUBJECTS:
        raise Invalid("what is decided on is a milestone or an act", errors={"subject": ["milestone or act"]})
    if decision not in DECISIONS:
        raise Invalid("a decision is approved or rejected", errors={"decision": ["approved or rejected"]})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_LENGTH:
        raise Invalid("a comment is at most {limit} characters", limit=COMMENT_LENGTH,
                      errors={"comment": [f"at most {COMMENT_LENGTH} characters"]})
    found, project = _load_subject(session, client, subject, subject_id, project_id)
    if decision == "rejected" and not comment:
        raise Invalid("say why you reject it", errors={"comment": ["required to reject"]})
    latest = latest_decision(session, subject, subject_id)
    if latest is not None and latest.decision == "approved":
        raise Conflict("it is approved already: an approval is final", errors={"decision": ["approved already"]})
    approval = PortalApproval(project_id=project.id, subject=subject, subject_id=found.id, decision=decision,
                              comment=comment, user_id=client.user_id, contact_id=client.contact_id, at=utcnow())
    session.add(approval)
    session.flush()
    actor = client.user
    audit.record(session, actor=actor, action=decision, entity=approval, after=approval.audit_state())
    deal = session.scalar(select(Deal).where(Deal.project_id == project.id))
    name = found.name if subject == "milestone" else (found.number_text or str(found.id))
    events.record(session, "portal.approval_decided", project,
                  {"approval_id": approval.id, "subject": subject, "subject_id": found.id, "name": name,
                   "decision": decision, "comment": comment, "user_id": client.user_id,
                   "contact_id": client.contact_id, "account_id": client.account_id,
                   "deal_id": deal.id if deal else None}, actor=actor)
    if subject == "milestone" and decision == "approved":
        surveys.ask_after_milestone(session, client=client, project=project, milestone=found)
    return approval


def _latest_of(session: Session, subject: str, ids: list[int]) -> dict[int, PortalApproval]:
    latest: dict[int, PortalApproval] = {}
    if not ids:
        return latest
    for row in session.scalars(select(PortalApproval).where(PortalApproval.subject == subject,
                                                            PortalApproval.subject_id.in_(ids))
                               .order_by(PortalApproval.at, PortalApproval.id)):
        latest[row.subject_id] = row
    return latest


def milestones_of(session: Session, client: PortalUser, project_id: int) -> tuple[Project, list[Item]]:
    """A shared project's billing milestones with the latest decision on each (NotFound when not shared)."""
    project = get_shared_project_or_raise(session, client, project_id)
    rows = list(session.scalars(select(BillingMilestone).where(BillingMilestone.project_id == project.id)
                                .order_by(BillingMilestone.planned_date.is_(None), BillingMilestone.planned_date,
                                          BillingMilestone.id)))
    latest = _latest_of(session, "milestone", [row.id for row in rows])
    return project, [Item("milestone", row.id, row.name, row.amount, row.planned_date, latest.get(row.id))
                     for row in rows]


def acts_of(session: Session, client: PortalUser, project_id: int) -> tuple[Project, list[Item]]:
    """A shared project's acts (issued invoices with an act date) with the latest decision on each."""
    project = get_shared_project_or_raise(session, client, project_id)
    rows = list(session.scalars(select(Invoice).where(Invoice.project_id == project.id, Invoice.status.in_(BILLED),
                                                      Invoice.act_date.is_not(None))
                                .order_by(Invoice.act_date, Invoice.id)))
    latest = _latest_of(session, "act", [row.id for row in rows])
    return project, [Item("act", row.id, row.number_text, row.total, row.act_date, latest.get(row.id))
                     for row in rows]


def list_for_project(session: Session, *, user: User, project: Project) -> Select:
    """A select of every decision on the project's milestones and acts, newest first (read rights on it)."""
    authorize(session, user=user, obj=project, permission=Permission.read)
    return (select(PortalApproval).where(PortalApproval.project_id == project.id)
            .order_by(PortalApproval.at.desc(), PortalApproval.id.desc()))


def subject_names(session: Session, rows: list[PortalApproval]) -> dict[tuple[str, int], str]:
    """What each decision was on, by (subject, subject_id): the milestone's name, the act's invoice number."""
    milestone_ids = {row.subject_id for row in rows if row.subject == "milestone"}
    invoice_ids = {row.subject_id for row in rows if row.subject == "act"}
    names = {("milestone", id_): name for id_, name in session.execute(
        select(BillingMilestone.id, BillingMilestone.name).where(BillingMilestone.id.in_(milestone_ids)))}
    for invoice in session.scalars(select(Invoice).where(Invoice.id.in_(invoice_ids))):
        names[("act", invoice.id)] = invoice.number_text or str(invoice.id)
    return names
