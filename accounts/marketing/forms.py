"""Web-to-lead forms: which lead fields a form asks, where its leads come in, and a visitor's submission.

Rights (decision for issue 17):
- A form is a company-wide object: every staff user reads the list and any form (its name, fields, branch
  id, campaign, counts). The leads it brought are shown only as far as the reader may read them
  (``accounts.permissions.readable_lead_ids``).
- A form is created, changed and deleted by staff who may change (edit rights on) the branch node its leads
  come in on, ``region_node_id``; moving it to another branch needs edit rights on both.
- A visitor's submission acts with the rights of the staff user who last saved the form (kept in
  ``WebForm.created_by_id``), like an inbound integration acts as its acting user
  (``accounts.inbound.integrations``): the lead is created and routed as that user. Saving a form always
  needs edit rights on its branch, so a save leaves a working form. When that user is deactivated, deleted or
  has lost edit rights on the branch, the form refuses submissions (``FormUnavailable``): the visitor gets a
  plain "not accepting requests" page, staff see the reason on the form's page (``unavailable_reason``) until
  someone who may change the branch saves the form again and so takes it over.

A submission (``submit``) is checked field by field (errors named per field, as codes the public page turns
into the form's language), caught by a honeypot (a hidden field only bots fill: the bot gets the usual
thank-you answer, nothing is stored but a ``web_form.spam`` event, which counts them), then becomes a lead
through ``accounts.leads.receive_lead`` (routed by the usual rules; ``lead.created`` recorded there) with the
form's source, product and id, and its campaign with a "form" response (``accounts.marketing.responses``).
The rate limit per client address is the HTTP edge's (``crmpm.ratelimit`` kind ``web-form``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from crmpm import audit, events
from crmpm.errors import Forbidden, Invalid, NotFound
from crmpm.users.models import User
from crmpm.users.services import new_secret
from eps.models import EpsNode
from eps.permissions import Permission, access_to

from accounts.leads import receive_lead
from accounts.marketing.models import NAME_LENGTH, Campaign, WebForm
from accounts.marketing.responses import record_response
from accounts.models import Lead
from accounts.normalize import InvalidValue, normalize_email, normalize_phone, normalize_tax_id
from accounts.permissions import authorize_on, readable_lead_ids

# The lead fields a form may ask, with the most a visitor may type in each.
FIELD_LENGTHS = {"contact_name": 200, "company": 200, "email": 254, "phone": 40, "tax_id": 32, "product": 100,
                 "message": 5000}
FIELDS = tuple(FIELD_LENGTHS)
# A lead needs one of these (``accounts.leads.create_lead``): a form makes at least one of them required.
REACHABLE_BY = ("contact_name", "company", "email", "phone")
LANGUAGES = ("ru", "en")
# The hidden field only bots fill (named to tempt them); a visitor never sees it.
HONEYPOT = "website"
# Submission fields that are not lead fields: the campaign's code (also ``utm_campaign`` in the query).
CAMPAIGN_FIELD = "campaign"
LABEL_LENGTH = 200
THANK_YOU_LENGTH = 5000
SOURCE_LENGTH = 100
KEY_PREFIX = "f"
# Error codes of a submission's fields (the public page words them in the form's language).
REQUIRED, BAD_EMAIL, BAD_PHONE, BAD_TAX_ID, TOO_LONG = "required", "invalid email", "invalid phone", \
    "invalid tax id", "too long"


class FormUnavailable(Exception):
    """The form cannot take submissions now (its acting user lost the rights); the reason is for staff."""


# --- reading ---------------------------------------------------------------------------------------------------

def get_form_or_raise(session: Session, *, user: User, form_id: int) -> WebForm:
    """The form (every staff user reads every form); NotFound when there is none."""
    form = session.get(WebForm, form_id)
    if form is None:
        raise NotFound("web form {form_id} not found", form_id=form_id)
    return form


def list_forms(session: Session, *, user: User, active: bool | None = None) -> Select:
    """A select of every form, by name (company-wide objects)."""
    query = select(WebForm).order_by(WebForm.name, WebForm.id)
    if active is not None:
        query = query.where(WebForm.is_active.is_(active))
    return query


def form_for_key(session: Session, *, key: str) -> WebForm:
    """The active form with the public ``key``; NotFound for an unknown or inactive one (the same answer)."""
    form = session.scalar(select(WebForm).where(WebForm.key == key)) if len(key) <= 64 else None
    if form is None or not form.is_active:
        raise NotFound("web form not found")
    return form


def _node_of(session: Session, form: WebForm) -> EpsNode:
    return session.get(EpsNode, form.region_node_id)


def may_manage(session: Session, *, user: User, form: WebForm) -> bool:
    """Whether ``user`` may change or delete ``form``: edit rights on its branch."""
    return access_to(session, user=user, obj=_node_of(session, form)).can(Permission.edit)


def recent_leads(session: Session, *, user: User, form: WebForm) -> Select:
    """A select of the form's leads ``user`` may read, newest first."""
    query = select(Lead).where(Lead.web_form_id == form.id).order_by(Lead.created_at.desc(), Lead.id.desc())
    readable = readable_lead_ids(session, user=user)
    return query if readable is None else query.where(Lead.id.in_(readable))


def spam_caught(session: Session, *, form: WebForm) -> int:
    """How many submissions the honeypot caught (``web_form.spam`` events about the form)."""
    return session.scalar(select(func.count()).select_from(events.Event).where(
        events.Event.type == "web_form.spam", events.Event.subject_type == WebForm.__tablename__,
        events.Event.subject_id == form.id)) or 0


def unavailable_reason(session: Session, *, form: WebForm) -> str | None:
    """Why the form refuses submissions (for staff), or None when it takes them."""
    acting = session.get(User, form.created_by_id) if form.created_by_id is not None else None
    if acting is None:
        return "the user the form acts as no longer exists"
    if not acting.is_active:
        return "the user the form acts as is deactivated"
    if acting.is_client or not access_to(session, user=acting, obj=_node_of(session, form)).can(Permission.edit):
        return "the user the form acts as may no longer change its branch"
    return None


# --- changing --------------------------------------------------------------------------------------------------

def _branch(session: Session, *, actor: User, node_id: int) -> EpsNode:
    """The branch node ``node_id``, which ``actor`` may change (NotFound when unreadable, Forbidden read-only)."""
    node = session.get(EpsNode, node_id) if isinstance(node_id, int) else None
    if node is None:
        raise NotFound("EPS node {node_id} not found", node_id=node_id, errors={"region_node_id": ["not found"]})
    authorize_on(session, user=actor, obj=node, governed_by=node, label="EPS node", permission=Permission.edit)
    return node


def _campaign(session: Session, campaign_id: int | None) -> int | None:
    if campaign_id is None:
        return None
    if session.get(Campaign, campaign_id) is None:
        raise NotFound("campaign {campaign_id} not found", campaign_id=campaign_id,
                       errors={"campaign_id": ["not found"]})
    return campaign_id


def _text(field: str, value, *, max_length: int, required: bool = False) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else value
    if not isinstance(value, str):
        raise Invalid("{field} must be text", field=field, errors={field: ["must be text"]})
    if required and not value:
        raise Invalid("{field} is required", field=field, errors={field: ["must not be empty"]})
    if len(value) > max_length or "\x00" in value:
        raise Invalid("{field} is too long", field=field, errors={field: [f"at most {max_length} characters"]})
    return value


def check_fields(fields) -> list[dict]:
    """The fields a form asks, checked and in a stored shape: [{"name", "required", "label"}, ...]."""
    if not isinstance(fields, list) or not fields:
        raise Invalid("a form asks at least one field", errors={"fields": ["choose at least one field"]})
    checked, seen = [], set()
    for item in fields:
        if isinstance(item, str):
            item = {"name": item}
        name = item.get("name") if isinstance(item, dict) else None
        if name not in FIELD_LENGTHS:
            raise Invalid("unknown form field {name}", name=str(name)[:50], errors={"fields": ["unknown field"]})
        if name in seen:
            raise Invalid("field {name} is asked twice", name=name, errors={"fields": ["asked twice"]})
        seen.add(name)
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise Invalid("required must be true or false", errors={"fields": ["required must be true or false"]})
        checked.append({"name": name, "required": required,
                        "label": _text("label", item.get("label"), max_length=LABEL_LENGTH)})
    if not any(item["required"] and item["name"] in REACHABLE_BY for item in checked):
        raise Invalid("a form needs a required name, company, email or phone: a lead is made of one",
                      errors={"fields": ["make a name, company, email or phone required"]})
    return checked


def _values(session: Session, changes: dict) -> dict:
    values = {}
    for key, value in changes.items():
        if key == "name":
            values[key] = _text("name", value, max_length=NAME_LENGTH, required=True)
        elif key == "fields":
            values[key] = check_fields(value)
        elif key == "campaign_id":
            values[key] = _campaign(session, value)
        elif key == "source":
            values[key] = _text("source", value, max_length=SOURCE_LENGTH) or "web form"
        elif key == "product":
            values[key] = _text("product", value, max_length=FIELD_LENGTHS["product"])
        elif key == "thank_you":
            values[key] = _text("thank_you", value, max_length=THANK_YOU_LENGTH)
        elif key == "language":
            if value not in LANGUAGES:
                raise Invalid("the language is ru or en", errors={"language": ["ru or en"]})
            values[key] = value
        elif key == "is_active":
            if not isinstance(value, bool):
                raise Invalid("is_active must be true or false", errors={"is_active": ["true or false"]})
            values[key] = value
        else:
            raise Invalid("unknown web form field {key}", key=str(key)[:50], errors={str(key)[:50]: ["unknown field"]})
    return values


def create_form(session: Session, *, actor: User, name: str, fields: list, region_node_id: int,
                campaign_id: int | None = None, source: str = "web form", product: str = "", thank_you: str = "",
                language: str = "ru", is_active: bool = True) -> WebForm:
    """A new form whose leads come in on ``region_node_id`` (edit rights there); it acts as ``actor``."""
    node = _branch(session, actor=actor, node_id=region_node_id)
    values = _values(session, {"name": name, "fields": fields, "campaign_id": campaign_id, "source": source,
                               "product": product, "thank_you": thank_you, "language": language,
                               "is_active": is_active})
    form = WebForm(key=new_secret(KEY_PREFIX), region_node_id=node.id, created_by_id=actor.id, submissions=0,
                   **values)
    session.add(form)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=form, after=form.audit_state())
    return form


def _may_change(session: Session, *, actor: User, form: WebForm) -> None:
    # The form is readable by all, so a refusal is 403, naming neither the branch nor its rights.
    if not may_manage(session, user=actor, form=form):
        raise Forbidden("only staff who may change the branch its leads come in on manage this web form")


def update_form(session: Session, *, actor: User, form: WebForm, **changes) -> WebForm:
    """Change a form (edit rights on its branch, and on the new one when it moves); it then acts as ``actor``."""
    _may_change(session, actor=actor, form=form)
    region_node_id = changes.pop("region_node_id", None)
    values = _values(session, changes)
    before = form.audit_state()
    if region_node_id is not None and region_node_id != form.region_node_id:
        form.region_node_id = _branch(session, actor=actor, node_id=region_node_id).id
    for key, value in values.items():
        setattr(form, key, value)
    form.created_by_id = actor.id
    session.flush()
    audit.record(session, actor=actor, action="update", entity=form, before=before, after=form.audit_state())
    return form


def delete_form(session: Session, *, actor: User, form: WebForm) -> None:
    """Delete a form (edit rights on its branch); its leads stay, no longer linked to it."""
    _may_change(session, actor=actor, form=form)
    audit.record(session, actor=actor, action="delete", entity=form, before=form.audit_state())
    session.execute(update(Lead).where(Lead.web_form_id == form.id).values(web_form_id=None))
    session.delete(form)
    session.flush()


# --- submissions -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Submitted:
    """What a submission made: the lead, or nothing when the honeypot caught a bot."""

    lead: Lead | None
    spam: bool = False


def _check_value(name: str, value: str) -> tuple[str | None, str | None]:
    """The value to store and None, or None and the error code."""
    if len(value) > FIELD_LENGTHS[name] or "\x00" in value:
        return None, TOO_LONG
    normalizers = {"email": (normalize_email, BAD_EMAIL), "phone": (normalize_phone, BAD_PHONE),
                   "tax_id": (normalize_tax_id, BAD_TAX_ID)}
    if name in normalizers and value:
        normalizer, code = normalizers[name]
        try:
            normalizer(value)
        except InvalidValue:
            return None, code
    return value, None


def check_submission(form: WebForm, data) -> dict:
    """The lead fields of a visitor's ``data`` (a mapping of strings), checked: Invalid with every field's error."""
    values, errors = {}, {}
    for field in form.fields:
        name = field["name"]
        raw = data.get(name)
        value = raw.strip() if isinstance(raw, str) else ""
        if not value:
            if field.get("required"):
                errors[name] = [REQUIRED]
            continue
        value, error = _check_value(name, value)
        if error:
            errors[name] = [error]
        else:
            values[name] = value
    if not errors and not any(values.get(name) for name in REACHABLE_BY):
        first = next((f["name"] for f in form.fields if f["name"] in REACHABLE_BY), "contact_name")
        errors[first] = [REQUIRED]
    if errors:
        raise Invalid("check the fields of the form: {fields}", fields=", ".join(sorted(errors)), errors=errors)
    return values


def campaign_for(session: Session, *, form: WebForm, code: str | None) -> int | None:
    """The campaign a submission counts for: the one whose code it carries, else the form's own."""
    code = (code or "").strip()
    if code and len(code) <= 60:
        found = session.scalar(select(Campaign.id).where(Campaign.code == code))
        if found is not None:
            return found
    return form.campaign_id


def submit(session: Session, *, form: WebForm, data, campaign_code: str | None = None) -> Submitted:
    """A visitor's submission of ``form``: a routed lead, or nothing for a bot (honeypot filled).

    ``data`` maps field names to the strings sent; ``campaign_code`` is the code from the query (``utm_campaign``)
    when the data carry none. Invalid names each bad field; FormUnavailable when the form cannot act now.
    """
    if isinstance(data.get(HONEYPOT), str) and data.get(HONEYPOT).strip():
        events.record(session, "web_form.spam", form, {"fields": sorted(str(k)[:50] for k in data.keys())[:20]})
        return Submitted(lead=None, spam=True)
    reason = unavailable_reason(session, form=form)
    if reason is not None:
        raise FormUnavailable(reason)
    values = check_submission(form, data)
    acting = session.get(User, form.created_by_id)
    if form.product and not values.get("product"):
        values["product"] = form.product
    code = data.get(CAMPAIGN_FIELD) if isinstance(data.get(CAMPAIGN_FIELD), str) else None
    campaign_id = campaign_for(session, form=form, code=code or campaign_code)
    lead = receive_lead(session, actor=acting, region=_node_of(session, form), source=form.source, channel="web form",
                        **values)
    lead.web_form_id = form.id
    if campaign_id is not None:
        lead.campaign_id = campaign_id
        record_response(session, campaign_id=campaign_id, kind="form", contact_id=lead.contact_id, lead=lead)
    session.execute(update(WebForm).where(WebForm.id == form.id).values(submissions=WebForm.submissions + 1))
    session.flush()
    return Submitted(lead=lead)
