"""Leads: unqualified inbound requests; routing them, and qualifying them into an account, a contact and a deal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crmpm import audit, events
from crmpm.database import utcnow
from crmpm.errors import Conflict, Invalid, NotFound
from crmpm.search import contains
from crmpm.users.models import User
from eps.models import EpsNode
from eps.permissions import Permission

from accounts import deals as deal_services
from accounts import services
from accounts.models import Account, AccountKind, Contact, Deal, Lead, LeadStatus, Pipeline
from accounts.models import LEAD_STATUS_WORDS
from accounts.names import split_full_name
from accounts.normalize import normalize_email, normalize_phone, normalize_tax_id
from accounts.permissions import authorize_on, readable_lead_ids
from accounts.routing import existing_client, route_or_queue

LEAD_TEXT_FIELDS = ("company", "contact_name", "source", "channel", "product", "message")


def get_lead_or_raise(session: Session, *, user: User, lead_id: int, permission: Permission = Permission.read,
                      field: str | None = None) -> Lead:
    """The lead, if ``user`` has ``permission`` on its branch node; NotFound when absent or unreadable."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("lead {lead_id} not found", lead_id=lead_id, errors={field: ["not found"]} if field else None)
    try:
        authorize_on(session, user=user, obj=lead, governed_by=lead.region_node, label="lead", permission=permission)
    except NotFound:
        raise NotFound("lead {lead_id} not found",
                       lead_id=lead_id, errors={field: ["not found"]} if field else None) from None
    return lead


def list_leads(session: Session, *, user: User, status: LeadStatus | None = None, owner_id: int | None = None,
               region_node_id: int | None = None, source: str | None = None, search: str | None = None) -> Select:
    """A select of the leads ``user`` may read, newest first."""
    query = select(Lead).order_by(Lead.created_at.desc(), Lead.id.desc())
    readable = readable_lead_ids(session, user=user)
    if readable is not None:
        query = query.where(Lead.id.in_(readable))
    for column, value in ((Lead.status, status), (Lead.owner_id, owner_id), (Lead.region_node_id, region_node_id),
                          (Lead.source, source)):
        if value is not None:
            query = query.where(column == value)
    matches = contains([Lead.company, Lead.contact_name, Lead.email], search)
    if matches is not None:
        query = query.where(matches)
    return query


def _values(fields: dict) -> dict:
    values = {}
    for key, value in fields.items():
        if key == "email":
            values[key] = services.clean("email", value, normalize_email)
        elif key == "phone":
            values[key] = services.clean("phone", value, normalize_phone)
        elif key == "tax_id":
            values[key] = services.clean("tax_id", value, normalize_tax_id)
        elif key in LEAD_TEXT_FIELDS:
            values[key] = (value or "").strip()
        else:
            raise Invalid("unknown lead field {key}", key=key, errors={key: ["unknown field"]})
    return values


def create_lead(session: Session, *, actor: User, region: EpsNode, company: str = "", contact_name: str = "",
                email: str | None = None, phone: str | None = None, tax_id: str | None = None, source: str = "",
                channel: str = "", product: str = "", message: str = "", external_id: str | None = None,
                created_at: datetime | None = None) -> Lead:
    """A new lead that came in on ``region``'s branch (edit rights there)."""
    authorize_on(session, user=actor, obj=region, governed_by=region, label="EPS node", permission=Permission.edit)
    values = _values({"company": company, "contact_name": contact_name, "email": email, "phone": phone,
                      "tax_id": tax_id, "source": source, "channel": channel, "product": product,
                      "message": message})
    if not (values["company"] or values["contact_name"] or values["email"] or values["phone"]):
        raise Invalid("a lead needs a company, a name, an email or a phone", errors={"company": ["required"]})
    if external_id is not None and session.scalar(select(Lead.id).where(Lead.external_id == external_id)):
        raise Conflict("a lead with external id {external_id!r} exists",
                       external_id=external_id, errors={"external_id": ["already in use"]})
    lead = Lead(region_node_id=region.id, external_id=external_id, status=LeadStatus.new,
                created_at=created_at or utcnow(), **values)
    session.add(lead)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=lead, after=lead.audit_state())
    events.record(session, "lead.created", lead, {"owner_id": lead.owner_id, "source": lead.source,
                                                  "region_node_id": lead.region_node_id}, actor=actor)
    return lead


def receive_lead(session: Session, *, actor: User, region: EpsNode, route: bool = True, **fields) -> Lead:
    """A lead as it comes in by hand (the API's POST, the page's quick form): recorded on ``region``, then,
    with ``route``, given by the routing rules or left in the queue with the reason (``route_or_queue``)."""
    lead = create_lead(session, actor=actor, region=region, **fields)
    if route:
        route_or_queue(session, actor=actor, lead=lead)
    return lead


def upsert_lead(session: Session, *, actor: User, external_id: str, region: EpsNode, **fields) -> tuple[Lead, bool]:
    """The lead with ``external_id``, updated with ``fields``, or a new one on ``region``; True when created."""
    lead = session.scalar(select(Lead).where(Lead.external_id == external_id))
    if lead is None:
        return create_lead(session, actor=actor, region=region, external_id=external_id, **fields), True
    fields.pop("created_at", None)
    changed = {key: value for key, value in _values(fields).items() if getattr(lead, key) != value}
    if changed:
        update_lead(session, actor=actor, lead=lead, **changed)
    return lead, False


def update_lead(session: Session, *, actor: User, lead: Lead, **changes) -> Lead:
    """Change a lead's details (edit rights on its branch)."""
    authorize_on(session, user=actor, obj=lead, governed_by=lead.region_node, label="lead",
                 permission=Permission.edit)
    before = lead.audit_state()
    for key, value in _values(changes).items():
        setattr(lead, key, value)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=lead, before=before, after=lead.audit_state())
    return lead


def disqualify_lead(session: Session, *, actor: User, lead: Lead, reason: str) -> Lead:
    """Close a lead as not worth pursuing (edit rights)."""
    authorize_on(session, user=actor, obj=lead, governed_by=lead.region_node, label="lead",
                 permission=Permission.edit)
    if lead.status not in (LeadStatus.new, LeadStatus.assigned):
        raise Conflict("lead {lead_id} is already {status}",
                       lead_id=lead.id, status=LEAD_STATUS_WORDS[lead.status], errors={"status": [lead.status.value]})
    if not reason.strip():
        raise Invalid("say why the lead is disqualified", errors={"reason": ["required"]})
    before = lead.audit_state()
    lead.status = LeadStatus.disqualified
    lead.message = (lead.message + f"\n[disqualified] {reason.strip()}").strip()
    session.flush()
    audit.record(session, actor=actor, action="disqualify", entity=lead, before=before, after=lead.audit_state())
    return lead


@dataclass(frozen=True)
class Qualified:
    """What qualifying a lead found or made."""

    lead: Lead
    account: Account
    contact: Contact | None
    deal: Deal
    account_created: bool
    contact_created: bool


def _existing_client_for(session: Session, *, actor: User, lead: Lead) -> Account | None:
    """The existing client the lead comes from; Conflict, naming nothing of it, when ``actor`` may not read it."""
    account = existing_client(session, lead=lead)
    if account is None:
        return None
    try:
        return services.get_account_or_raise(session, user=actor, account_id=account.id)
    except NotFound:
        raise Conflict("the lead matches an existing client that you may not see; its owner or an administrator "
                       "can qualify it, or give account_id", errors={"account_id": ["existing client not visible"]}) \
            from None


def qualify_lead(session: Session, *, actor: User, lead: Lead, pipeline: Pipeline, deal_name: str | None = None,
                 account: Account | None = None, amount: Decimal | None = None,
                 expected_close: date | None = None, owner: User | None = None,
                 account_kind: AccountKind = AccountKind.prospect) -> Qualified:
    """Turn a lead into a deal: find (or create under the lead's branch) the account and contact, open the deal.

    The account is the one given, else the existing client the lead comes from
    (tax id, contact email or phone, exact name), else a new one (edit rights
    on the branch); a lead naming a person but no company becomes a private client
    (``services.create_private_client``). The contact's name is split by
    ``accounts.names.split_full_name``. The deal goes to ``owner``, else the lead's owner, else the caller.
    """
    authorize_on(session, user=actor, obj=lead, governed_by=lead.region_node, label="lead",
                 permission=Permission.edit)
    if lead.status not in (LeadStatus.new, LeadStatus.assigned):
        raise Conflict("lead {lead_id} is already {status}",
                       lead_id=lead.id, status=LEAD_STATUS_WORDS[lead.status], errors={"status": [lead.status.value]})
    owner = owner or (session.get(User, lead.owner_id) if lead.owner_id else None) or actor
    if not owner.is_active:
        raise Invalid("user {email} is inactive", email=owner.email, errors={"owner_id": ["inactive user"]})
    account_created = contact_created = False
    if account is None:
        account = _existing_client_for(session, actor=actor, lead=lead)
    person = split_full_name(lead.contact_name or (lead.email or lead.phone or "").split("@")[0])
    contact = None
    if account is None and not lead.company:
        if not lead.contact_name.strip():
            raise Invalid("the lead names no company; give account_id", errors={"account_id": ["required"]})
        # A private client (B2C), when the lead names the person: an account of their own on the lead's branch.
        contact = services.create_private_client(session, actor=actor, region=lead.region_node,
                                                 first_name=person.first, last_name=person.last,
                                                 patronymic=person.patronymic, owner=owner, email=lead.email,
                                                 phone=lead.phone)
        account, account_created, contact_created = contact.account, True, True
    if account is None:
        account = services.create_account(session, actor=actor, name=lead.company, region=lead.region_node,
                                          tax_id=lead.tax_id, kind=account_kind, owner=owner)
        account_created = True
    if contact is None:
        contact = services.find_contact(session, account=account, email=lead.email, phone=lead.phone)
    if contact is None and person:
        contact = services.create_contact(session, actor=actor, account=account, first_name=person.first,
                                          last_name=person.last, patronymic=person.patronymic, email=lead.email,
                                          phone=lead.phone)
        contact_created = True
    deal = deal_services.create_deal(
        session, actor=actor, account=account, name=deal_name or f"{account.name}: {lead.product or 'new request'}",
        pipeline=pipeline, amount=amount, expected_close=expected_close, owner=owner, contact=contact,
        product=lead.product)
    record_qualified(session, actor=actor, lead=lead, deal_id=deal.id, account=account, contact=contact,
                     at=utcnow())
    return Qualified(lead=lead, account=account, contact=contact, deal=deal, account_created=account_created,
                     contact_created=contact_created)


# Leads whose deals the caller made (an import): what qualifying changes on the lead, and its audit entry.


def mark_qualified(lead: Lead, *, deal_id: int, account: Account, contact: Contact | None, at: datetime) -> None:
    """Link ``lead`` to the deal, account and contact it was qualified into (a contact it has stays)."""
    lead.status = LeadStatus.qualified
    lead.qualified_at = at
    lead.account_id, lead.deal_id = account.id, deal_id
    lead.contact_id = lead.contact_id or (contact.id if contact is not None else None)


def record_qualified(session: Session, *, actor: User, lead: Lead, deal_id: int, account: Account,
                     contact: Contact | None, at: datetime) -> None:
    """Mark ``lead`` qualified into a deal the caller made (``mark_qualified``), with its audit entry."""
    before = lead.audit_state()
    mark_qualified(lead, deal_id=deal_id, account=account, contact=contact, at=at)
    session.flush()
    audit.record(session, actor=actor, action="qualify", entity=lead, before=before, after=lead.audit_state())
    events.record(session, "lead.qualified", lead, _qualified_facts(lead), actor=actor)


def _qualified_facts(lead: Lead) -> dict:
    """The payload of ``lead.qualified``: what the lead became."""
    return {"account_id": lead.account_id, "contact_id": lead.contact_id, "deal_id": lead.deal_id}


def record_qualified_many(session: Session, *, actor: User,
                          qualified: list[tuple[Lead, int, Account, Contact | None, datetime]]) -> None:
    """``record_qualified`` for each ``(lead, deal_id, account, contact, at)``, the audit in one statement."""
    entries = []
    for lead, deal_id, account, contact, at in qualified:
        before = lead.audit_state()
        mark_qualified(lead, deal_id=deal_id, account=account, contact=contact, at=at)
        entries.append((lead.id, before, lead.audit_state()))
    session.flush()
    audit.record_many(session, actor=actor, action="qualify", entity_type="leads", entries=entries)
    events.record_many(session, "lead.qualified", [(("leads", lead.id), _qualified_facts(lead))
                                                   for lead, _deal_id, _account, _contact, _at in qualified],
                       actor=actor)
