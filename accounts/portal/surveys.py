"""Satisfaction surveys asked of a client on the portal, e.g. after a billing milestone they approved.

A ``SurveyRequest`` belongs to an account; with no contact it waits for any client user of that account, with a
contact for that contact's client user only; one about a project is seen while the project is shared. It is
answered once: the answer is a ``SurveyAnswer`` recorded through ``accounts.activities.record_answer`` (the one
home of satisfaction answers, so the dashboards' satisfaction counts it), and a second answer is a Conflict.

Staff ask (edit rights on the project, ``ask``); approving a billing milestone on the portal asks a CSAT of the
account's client users (``ask_after_milestone``, once per milestone). The client users a request waits for are
e-mailed (``crmpm.mail``, in their language, with the portal's link when ``CRMPM_PUBLIC_URL`` is set).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.database import utcnow
from crmpm.errors import Conflict, Invalid, NotFound
from crmpm.mail.templates import Templates
from crmpm.users.models import User
from eps.models import EpsNode, Project
from eps.permissions import Permission, authorize

from accounts import activities
from accounts.billing.models import BillingMilestone, Invoice
from accounts.models import Account, Contact, Deal, SurveyKind
from accounts.portal.access import shared_project_ids
from accounts.portal.models import PortalUser, SurveyRequest

TEMPLATES = Templates(Path(__file__).parent / "templates")
COMMENT_LENGTH = 2000
QUESTION_LENGTH = 500


def project_account(session: Session, project: Project) -> tuple[Account | None, Deal | None]:
    """The account a project is for and its deal: its deal's account, else the account whose node holds it, else
    the account its latest invoice bills."""
    deal = session.scalar(select(Deal).where(Deal.project_id == project.id))
    if deal is not None:
        return session.get(Account, deal.account_id), deal
    account = session.scalar(select(Account).join(EpsNode, EpsNode.id == Account.eps_node_id)
                             .where(literal(project.path).startswith(EpsNode.path, autoescape=False))
                             .order_by(func.length(EpsNode.path).desc(), Account.id).limit(1))
    if account is None:
        account = session.scalar(select(Account).join(Invoice, Invoice.account_id == Account.id)
                                 .where(Invoice.project_id == project.id)
                                 .order_by(Invoice.created_at.desc(), Invoice.id.desc()).limit(1))
    return account, None


def ask(session: Session, *, actor: User, project: Project, kind: str = "csat", contact_id: int | None = None,
        milestone_id: int | None = None, question: str = "") -> SurveyRequest:
    """Ask the clients of ``project``'s account a CSAT or NPS survey (edit rights on the project)."""
    authorize(session, user=actor, obj=project, permission=Permission.edit)
    try:
        kind = SurveyKind(kind)
    except ValueError:
        raise Invalid("a survey is csat or nps", errors={"kind": ["csat or nps"]}) from None
    question = (question or "").strip()
    if len(question) > QUESTION_LENGTH:
        raise Invalid("a survey's question is at most {limit} characters", limit=QUESTION_LENGTH,
                      errors={"question": [f"at most {QUESTION_LENGTH} characters"]})
    account, deal = project_account(session, project)
    if account is None:
        raise Invalid("the project belongs to no account: there is no client to ask",
                      errors={"project_id": ["no account"]})
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is None or contact.account_id != account.id:
            raise Invalid("contact {contact_id} is not at the project's account", contact_id=contact_id,
                          errors={"contact_id": ["not at the project's account"]})
    if milestone_id is not None:
        milestone = session.get(BillingMilestone, milestone_id)
        if milestone is None or milestone.project_id != project.id:
            raise Invalid("billing milestone {milestone_id} is not the project's", milestone_id=milestone_id,
                          errors={"milestone_id": ["not the project's"]})
    return _new(session, actor=actor, account=account, deal=deal, project=project, kind=kind,
                contact_id=contact_id, milestone_id=milestone_id, question=question)


def _new(session: Session, *, actor: User, account: Account, deal: Deal | None, project: Project | None,
         kind: SurveyKind, contact_id: int | None, milestone_id: int | None, question: str = "") -> SurveyRequest:
    request = SurveyRequest(account_id=account.id, contact_id=contact_id, project_id=project.id if project else None,
                            deal_id=deal.id if deal else None, milestone_id=milestone_id, kind=kind.value,
                            question=question, asked_at=utcnow())
    session.add(request)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=request, after=_state(request))
    _tell_clients(session, request, project)
    return request


def _tell_clients(session: Session, request: SurveyRequest, project: Project | None) -> None:
    """E-mail each active client user the request waits for (in their language) that a survey is on the portal."""
    from crmpm import mail  # noqa: PLC0415 - sending pulls in the job engine; only senders need it

    from crmpm.jobs.services import public_url  # noqa: PLC0415 - as above

    base = public_url(session)
    query = (select(User).join(PortalUser, PortalUser.user_id == User.id)
             .where(PortalUser.account_id == request.account_id, User.is_active.is_(True), User.is_client.is_(True)))
    if request.contact_id is not None:
        query = query.where(PortalUser.contact_id == request.contact_id)
    for user in session.scalars(query.order_by(User.id)):
        texts = TEMPLATES.render("survey_waiting", user.locale, {
            "name": user.name, "project": project.name if project else "",
            "url": f"{base}/portal/surveys" if base else None})
        mail.send_later(session, mail.Message(to=[user.email], subject=texts.subject, text=texts.text))


def ask_after_milestone(session: Session, *, client: PortalUser, project: Project,
                        milestone: BillingMilestone) -> SurveyRequest | None:
    """A CSAT asked of the account's client users after they approved ``milestone``; once per milestone."""
    asked = session.scalar(select(SurveyRequest.id).where(SurveyRequest.milestone_id == milestone.id,
                                                          SurveyRequest.account_id == client.account_id))
    if asked is not None:
        return None
    account = session.get(Account, client.account_id)
    deal = session.scalar(select(Deal).where(Deal.project_id == project.id, Deal.account_id == account.id))
    return _new(session, actor=client.user, account=account, deal=deal, project=project, kind=SurveyKind.csat,
                contact_id=None, milestone_id=milestone.id)


def _for_client(client: PortalUser):
    """The condition of the requests ``client`` sees: their account's, for them or anyone, on a shared project."""
    return (SurveyRequest.account_id == client.account_id,
            or_(SurveyRequest.contact_id.is_(None), SurveyRequest.contact_id == client.contact_id),
            or_(SurveyRequest.project_id.is_(None), SurveyRequest.project_id.in_(shared_project_ids(client))))


def open_requests(session: Session, client: PortalUser) -> list[SurveyRequest]:
    """The requests waiting for ``client``'s answer, oldest first."""
    return list(session.scalars(select(SurveyRequest).where(*_for_client(client), SurveyRequest.answered_at.is_(None))
                                .order_by(SurveyRequest.asked_at, SurveyRequest.id)))


def get_request_or_raise(session: Session, client: PortalUser, request_id: int, *,
                         for_update: bool = False) -> SurveyRequest:
    """The request if ``client`` sees it, else NotFound (the same whether it exists or not)."""
    query = select(SurveyRequest).where(SurveyRequest.id == request_id, *_for_client(client))
    if for_update:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise NotFound("survey {id} not found", id=request_id)
    return found


def answer(session: Session, *, client: PortalUser, request_id: int, score: int | None, comment: str = ""):
    """Answer a survey once: a ``SurveyAnswer`` from the client's contact (Conflict when already answered)."""
    request = get_request_or_raise(session, client, request_id, for_update=True)
    if request.answered_at is not None:
        raise Conflict("survey {id} is answered already", id=request.id, errors={"score": ["answered already"]})
    if score is None:
        raise Invalid("choose a score", errors={"score": ["required"]})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_LENGTH:
        raise Invalid("a comment is at most {limit} characters", limit=COMMENT_LENGTH,
                      errors={"comment": [f"at most {COMMENT_LENGTH} characters"]})
    account = session.get(Account, request.account_id)
    deal = session.get(Deal, request.deal_id) if request.deal_id else None
    if deal is not None and deal.account_id != account.id:
        deal = None
    contact = session.get(Contact, client.contact_id)
    if contact is not None and contact.account_id != account.id:
        contact = None
    recorded = activities.record_answer(session, actor=client.user, account=account, kind=SurveyKind(request.kind),
                                        score=score, deal=deal, contact=contact, comment=comment)
    before = _state(request)
    request.answered_at = recorded.answered_at
    request.answer_id = recorded.id
    session.flush()
    audit.record(session, actor=client.user, action="answer", entity=request, before=before, after=_state(request))
    return recorded


def _state(request: SurveyRequest) -> dict:
    return {"account_id": request.account_id, "contact_id": request.contact_id, "project_id": request.project_id,
            "milestone_id": request.milestone_id, "kind": request.kind, "answer_id": request.answer_id}


def requests_of_project(session: Session, *, user: User, project: Project) -> list[SurveyRequest]:
    """The survey requests about ``project``, newest first (read rights on it)."""
    authorize(session, user=user, obj=project, permission=Permission.read)
    return list(session.scalars(select(SurveyRequest).where(SurveyRequest.project_id == project.id)
                                .order_by(SurveyRequest.asked_at.desc(), SurveyRequest.id.desc())))
