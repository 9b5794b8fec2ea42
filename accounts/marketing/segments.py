"""Segments: saved filters over contacts and accounts, evaluated in SQL, and static lists.

A dynamic segment's ``filter`` is a JSON object, every key optional, the keys combined with AND (``FILTER_KEYS``);
``validate_filter`` checks it (422 naming ``filter.<key>``) and ``account_ids`` / ``contact_ids`` turn it into one
SQL select, so counts are live and nothing is loaded to count. A static segment's members are the rows of
``segment_members`` (given ids, the frozen members of a filter, or a CSV of e-mails, phones or contact ids).

Rights: a segment is a company-wide object (every staff user reads it; its owner or an administrator changes it);
its members are always only what the reader may read (``accounts.permissions.readable_account_ids``). Whatever
is computed from deals (RFM segment, lifetime value, products bought, open deals) counts the deals the reader
may read, as the reports do: the RFM scores are ``accounts.analytics.rfm_scores``, the report's own.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from accounts.analytics import RFM_SEGMENTS, rfm_scores
from accounts.marketing.consent import check_channel, consented_ids, opted_out_ids
from accounts.marketing.tags import normalize_tag
from accounts.marketing.models import CHANNELS, NAME_LENGTH, AccountTag, ContactTag, Segment, SegmentMember
from accounts.models import (
    Account, AccountKind, Contact, Deal, DealLine, Interaction, PipelineStage, StageKind, SurveyAnswer, SurveyKind,
)
from accounts.normalize import normalize_email, normalize_phone
from accounts.permissions import deal_visible, readable_account_ids
from accounts.services import contacts_with
from crmpm import audit
from crmpm.database import utcnow
from crmpm.errors import Forbidden, Invalid, NotFound
from crmpm.users.models import User
from eps.models import EpsNode

SUBJECTS = ("contacts", "accounts")
KINDS = ("dynamic", "static")
RFM_NAMES = tuple(name for _r, _f, name in RFM_SEGMENTS)
MAX_LIST = 1000  # items in one list of a filter (ids, names, tags)
MAX_MEMBERS = 100_000  # ids given at once to a static segment (and CSV rows)
MAX_CSV_BYTES = 2_000_000

__all__ = [
    "FILTER_KEYS", "account_ids", "add_members", "contact_ids", "count", "create_segment", "delete_segment",
    "get_segment_or_raise", "import_csv", "members", "remove_members", "update_segment", "validate_filter",
]


# ---------------------------------------------------------------------------------------------------------------
# The filter: validation


def _ids(value) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        raise ValueError("a list of ids")
    return sorted(set(value))


def _strings(value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("a list of texts")
    return sorted({item.strip() for item in value if item.strip()})


def _choices(choices):
    def check(value) -> list[str]:
        items = _strings(value)
        wrong = [item for item in items if item not in choices]
        if wrong:
            raise ValueError(f"one of {', '.join(choices)}")
        return items
    return check


def _money(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("an amount (a decimal string)")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("an amount (a decimal string)") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e15"):
        raise ValueError("an amount from 0")
    return amount


def _date(value) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise ValueError("a date (YYYY-MM-DD)") from None


def _days(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 36500:
        raise ValueError("a whole number of days from 0 to 36500")
    return value


def _score(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValueError("a CSAT score from 1 to 5")
    return value


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _channel(value) -> str:
    try:
        return check_channel(value) if isinstance(value, str) else check_channel("")
    except Invalid:
        raise ValueError(f"one of {', '.join(CHANNELS)}") from None


def _tags(value) -> list[str]:
    return sorted({normalize_tag(tag) for tag in _strings(value)})


# Every key a filter may have, with its check (which returns the value as stored).
FILTER_KEYS = {
    "branch_ids": _ids, "sectors": _strings, "account_kinds": _choices(tuple(kind.value for kind in AccountKind)),
    "owner_ids": _ids, "rfm_segments": _choices(RFM_NAMES),
    "lifetime_value_min": _money, "lifetime_value_max": _money,
    "last_contact_before": _date, "last_contact_after": _date, "no_contact_days": _days,
    "products": _strings, "open_deal_stage_ids": _ids, "satisfaction_min": _score, "satisfaction_max": _score,
    "tags": _tags, "contact_tags": _tags, "has_email": _flag, "consent_channel": _channel,
    "not_opted_out_channel": _channel,
}


def validate_filter(session: Session, flt) -> dict:
    """The filter as stored (amounts as strings, lists sorted); Invalid naming ``filter.<key>`` for each bad key."""
    if flt is None:
        return {}
    if not isinstance(flt, dict):
        raise Invalid("the filter is not valid", errors={"filter": ["an object"]})
    errors, clean = {}, {}
    for key, value in flt.items():
        check = FILTER_KEYS.get(key)
        if check is None:
            errors[f"filter.{key}"] = ["unknown key"]
            continue
        if value is None:
            continue
        try:
            checked = check(value)
        except ValueError as error:
            errors[f"filter.{key}"] = [str(error)]
            continue
        if isinstance(checked, list) and len(checked) > MAX_LIST:
            errors[f"filter.{key}"] = [f"at most {MAX_LIST} items"]
            continue
        clean[key] = str(checked) if isinstance(checked, Decimal) else checked
    for low, high in (("lifetime_value_min", "lifetime_value_max"), ("satisfaction_min", "satisfaction_max"),
                      ("last_contact_after", "last_contact_before")):
        if low in clean and high in clean and _comparable(clean[low]) > _comparable(clean[high]):
            errors.setdefault(f"filter.{high}", [f"not below {low}"])
    _known_ids(session, clean, errors, "branch_ids", select(EpsNode.id))
    _known_ids(session, clean, errors, "owner_ids", select(User.id))
    _known_ids(session, clean, errors, "open_deal_stage_ids",
               select(PipelineStage.id).where(PipelineStage.kind == StageKind.open), "not an open stage")
    if errors:
        raise Invalid("the filter is not valid: {problems}", errors=errors,
                      problems="; ".join(f"{key}: {', '.join(messages)}" for key, messages in errors.items()))
    return clean


def _comparable(value):
    return Decimal(value) if isinstance(value, str) and value[:1].isdigit() and "-" not in value else value


def _known_ids(session, clean, errors, key, query, message="not found") -> None:
    if clean.get(key) and f"filter.{key}" not in errors:
        column = query.selected_columns[0]
        known = set(session.scalars(query.where(column.in_(clean[key]))))
        missing = [item for item in clean[key] if item not in known]
        if missing:
            errors[f"filter.{key}"] = [f"{message}: {', '.join(map(str, missing))}"]


# ---------------------------------------------------------------------------------------------------------------
# The filter: SQL


def _midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(), tzinfo=timezone.utc)


def _won_deals(session: Session, user: User | None) -> list:
    conditions = [PipelineStage.kind == StageKind.won]
    if user is not None:
        readable = deal_visible(session, user=user)
        if readable is not None:
            conditions.append(readable)
    return conditions


def _account_conditions(session: Session, flt: dict, *, user: User | None, now: datetime) -> list:
    """Conditions on ``Account`` for the account-level keys of ``flt`` (validated)."""
    conditions = []
    if flt.get("branch_ids"):
        paths = session.scalars(select(EpsNode.path).where(EpsNode.id.in_(flt["branch_ids"]))).all()
        conditions.append(Account.eps_node_id.in_(
            select(EpsNode.id).where(or_(*[EpsNode.path.like(f"{path}%") for path in paths]))))
    if flt.get("sectors"):
        conditions.append(Account.sector.in_(flt["sectors"]))
    if flt.get("account_kinds"):
        conditions.append(Account.kind.in_([AccountKind(kind) for kind in flt["account_kinds"]]))
    if flt.get("owner_ids"):
        conditions.append(Account.owner_id.in_(flt["owner_ids"]))
    if flt.get("rfm_segments"):
        scores = rfm_scores(session, user=user)
        conditions.append(Account.id.in_(select(scores.c.account_id).where(scores.c.segment.in_(flt["rfm_segments"]))))
    if "lifetime_value_min" in flt or "lifetime_value_max" in flt:
        won = (select(Deal.account_id).join(PipelineStage, PipelineStage.id == Deal.stage_id)
               .where(*_won_deals(session, user)).group_by(Deal.account_id))
        total = func.sum(Deal.amount)
        low, high = Decimal(flt.get("lifetime_value_min", "0")), flt.get("lifetime_value_max")
        if low > 0:
            conditions.append(Account.id.in_(won.having(total >= low)))
        if high is not None:  # an account with no won deal is worth 0
            conditions.append(Account.id.not_in(won.having(total > Decimal(high))))
    # Touches as correlated EXISTS: an index probe per account (interactions by account and time), an anti-join
    # on PostgreSQL, instead of a NOT IN over every recent touch.
    def touched(*conditions):
        return select(Interaction.id).where(Interaction.account_id == Account.id, *conditions).exists()

    if flt.get("last_contact_after"):
        conditions.append(touched(Interaction.occurred_at >= _midnight(flt["last_contact_after"])))
    if flt.get("last_contact_before"):
        # contacted at least once, and not since the day
        day = _midnight(flt["last_contact_before"])
        conditions.extend([touched(Interaction.occurred_at < day), ~touched(Interaction.occurred_at >= day)])
    if flt.get("no_contact_days") is not None:
        conditions.append(~touched(Interaction.occurred_at >= now - timedelta(days=flt["no_contact_days"])))
    if flt.get("products"):
        conditions.append(Account.id.in_(
            select(Deal.account_id).join(PipelineStage, PipelineStage.id == Deal.stage_id)
            .join(DealLine, DealLine.deal_id == Deal.id)
            .where(DealLine.product.in_(flt["products"]), *_won_deals(session, user))))
    if flt.get("open_deal_stage_ids"):
        deal_conditions = [Deal.stage_id.in_(flt["open_deal_stage_ids"])]
        if user is not None and (readable := deal_visible(session, user=user)) is not None:
            deal_conditions.append(readable)
        conditions.append(Account.id.in_(select(Deal.account_id).where(*deal_conditions)))
    if "satisfaction_min" in flt or "satisfaction_max" in flt:
        latest = (select(SurveyAnswer.account_id, SurveyAnswer.score,
                         func.row_number().over(partition_by=SurveyAnswer.account_id,
                                                order_by=(SurveyAnswer.answered_at.desc(), SurveyAnswer.id.desc()))
                         .label("position"))
                  .where(SurveyAnswer.kind == SurveyKind.csat).subquery())
        wanted = [latest.c.position == 1]
        if "satisfaction_min" in flt:
            wanted.append(latest.c.score >= flt["satisfaction_min"])
        if "satisfaction_max" in flt:
            wanted.append(latest.c.score <= flt["satisfaction_max"])
        conditions.append(Account.id.in_(select(latest.c.account_id).where(*wanted)))
    if flt.get("tags"):
        conditions.append(Account.id.in_(select(AccountTag.account_id).where(AccountTag.tag.in_(flt["tags"]))))
    return conditions


def _contact_conditions(flt: dict) -> list:
    """Conditions on ``Contact`` for the person-level keys of ``flt`` (validated)."""
    conditions = []
    if flt.get("contact_tags"):
        conditions.append(Contact.id.in_(select(ContactTag.contact_id).where(ContactTag.tag.in_(flt["contact_tags"]))))
    if flt.get("has_email") is not None:
        has = Contact.email.is_not(None) & (Contact.email != "")
        conditions.append(has if flt["has_email"] else ~has)
    if flt.get("consent_channel"):
        conditions.append(Contact.id.in_(consented_ids(flt["consent_channel"])))
    if flt.get("not_opted_out_channel"):
        opted_out = opted_out_ids(flt["not_opted_out_channel"]).subquery()
        conditions.append(~select(opted_out.c.contact_id).where(opted_out.c.contact_id == Contact.id).exists())
    return conditions


def _readable(session: Session, user: User | None):
    return None if user is None else readable_account_ids(session, user=user)


def filter_account_ids(session: Session, flt: dict, *, user: User | None = None, now: datetime | None = None) -> Select:
    """A select of the ids of the unmerged accounts matching ``flt`` (validated), limited to what ``user`` may read;
    the person-level keys ask for at least one unmerged contact matching all of them."""
    now = now or utcnow()
    query = select(Account.id).where(Account.merged_into_id.is_(None), *_account_conditions(session, flt, user=user, now=now))
    person = _contact_conditions(flt)
    if person:
        query = query.where(Account.id.in_(select(Contact.account_id).where(Contact.merged_into_id.is_(None), *person)))
    readable = _readable(session, user)
    if readable is not None:
        query = query.where(Account.id.in_(readable))
    return query


def filter_contact_ids(session: Session, flt: dict, *, user: User | None = None, now: datetime | None = None) -> Select:
    """A select of the ids of the unmerged contacts matching ``flt`` (validated) whose account ``user`` may read."""
    now = now or utcnow()
    query = select(Contact.id).where(Contact.merged_into_id.is_(None), *_contact_conditions(flt))
    account_level = _account_conditions(session, flt, user=user, now=now)
    if account_level:
        query = query.where(Contact.account_id.in_(
            select(Account.id).where(Account.merged_into_id.is_(None), *account_level)))
    readable = _readable(session, user)
    if readable is not None:
        query = query.where(Contact.account_id.in_(readable))
    return query


# ---------------------------------------------------------------------------------------------------------------
# Members


def contact_ids(session: Session, segment: Segment, *, user: User | None = None) -> Select:
    """A select of the ids of the (unmerged) contacts in ``segment`` now, limited to what ``user`` may read.

    For an accounts segment, the contacts of its accounts. ``user`` None: every member (jobs acting for no one).
    """
    if segment.kind == "static":
        query = select(Contact.id).where(Contact.merged_into_id.is_(None))
        if segment.subject == "accounts":
            query = query.where(Contact.account_id.in_(
                select(SegmentMember.account_id).where(SegmentMember.segment_id == segment.id)))
        else:
            query = query.where(Contact.id.in_(
                select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment.id)))
        readable = _readable(session, user)
        if readable is not None:
            query = query.where(Contact.account_id.in_(readable))
        return query
    if segment.subject == "accounts":
        query = select(Contact.id).where(Contact.merged_into_id.is_(None), Contact.account_id.in_(
            filter_account_ids(session, segment.filter or {}, user=user)))
        return query
    return filter_contact_ids(session, segment.filter or {}, user=user)


def account_ids(session: Session, segment: Segment, *, user: User | None = None) -> Select:
    """A select of the ids of the (unmerged) accounts in ``segment`` now, limited to what ``user`` may read.

    For a contacts segment, the accounts of its contacts."""
    if segment.kind == "static":
        if segment.subject == "accounts":
            query = select(Account.id).where(Account.merged_into_id.is_(None), Account.id.in_(
                select(SegmentMember.account_id).where(SegmentMember.segment_id == segment.id)))
        else:
            query = select(Account.id).where(Account.merged_into_id.is_(None), Account.id.in_(
                select(Contact.account_id).where(Contact.merged_into_id.is_(None), Contact.id.in_(
                    select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment.id)))))
        readable = _readable(session, user)
        if readable is not None:
            query = query.where(Account.id.in_(readable))
        return query
    if segment.subject == "accounts":
        return filter_account_ids(session, segment.filter or {}, user=user)
    return select(Account.id).where(Account.id.in_(
        select(Contact.account_id).where(Contact.id.in_(filter_contact_ids(session, segment.filter or {}, user=user)))))


def member_ids(session: Session, segment: Segment, *, user: User | None = None) -> Select:
    """The ids of the segment's own subject: contacts or accounts."""
    return (account_ids if segment.subject == "accounts" else contact_ids)(session, segment, user=user)


def members(session: Session, segment: Segment, *, user: User | None = None) -> Select:
    """A select of the members (``Contact`` or ``Account`` rows), by id, that ``user`` may read."""
    model = Account if segment.subject == "accounts" else Contact
    return select(model).where(model.id.in_(member_ids(session, segment, user=user))).order_by(model.id)


def count(session: Session, segment: Segment, *, user: User | None = None) -> int:
    """The live number of members ``user`` may read."""
    return session.scalar(select(func.count()).select_from(member_ids(session, segment, user=user).subquery()))


def preview_count(session: Session, *, user: User, subject: str, flt) -> int:
    """How many members a filter would have now (nothing saved)."""
    subject = _subject(subject)
    flt = validate_filter(session, flt)
    query = (filter_account_ids if subject == "accounts" else filter_contact_ids)(session, flt, user=user)
    return session.scalar(select(func.count()).select_from(query.subquery()))


# ---------------------------------------------------------------------------------------------------------------
# The segment itself


def get_segment_or_raise(session: Session, *, user: User, segment_id: int, change: bool = False) -> Segment:
    """The segment (every staff user reads it); ``change``: Forbidden unless ``user`` owns it or is an administrator."""
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("segment {segment_id} not found", segment_id=segment_id)
    if change:
        authorize_change(user, segment)
    return segment


def authorize_change(user: User, segment: Segment) -> None:
    if not (user.is_admin or segment.owner_id == user.id):
        raise Forbidden("only its owner or an administrator may change segment {segment_id}", segment_id=segment.id)


def list_segments(session: Session) -> Select:
    return select(Segment).order_by(Segment.name, Segment.id)


def _subject(subject: str) -> str:
    if subject not in SUBJECTS:
        raise Invalid("unknown subject", errors={"subject": [f"one of {', '.join(SUBJECTS)}"]})
    return subject


def _name(name) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise Invalid("a segment needs a name", errors={"name": ["required"]})
    if len(name) > NAME_LENGTH:
        raise Invalid("the name is too long", errors={"name": [f"at most {NAME_LENGTH} characters"]})
    return name


def create_segment(session: Session, *, actor: User, name: str, subject: str = "contacts", kind: str = "dynamic",
                   flt: dict | None = None, description: str = "", contact_ids_: list[int] | None = None,
                   account_ids_: list[int] | None = None, from_filter: bool = False) -> Segment:
    """A new segment owned by ``actor``: dynamic (``flt``), or static: the given ids, or (``from_filter``) the
    members of ``flt`` that ``actor`` may read now, frozen."""
    subject = _subject(subject)
    if kind not in KINDS:
        raise Invalid("unknown kind", errors={"kind": [f"one of {', '.join(KINDS)}"]})
    flt = validate_filter(session, flt)
    if kind == "dynamic" and (contact_ids_ or account_ids_ or from_filter):
        raise Invalid("a dynamic segment has no fixed members", errors={"kind": ["static for fixed members"]})
    segment = Segment(name=_name(name), subject=subject, kind=kind, filter=flt, description=(description or "")[:5000],
                      owner_id=actor.id)
    session.add(segment)
    session.flush()
    if kind == "static":
        if from_filter:
            query = (filter_account_ids if subject == "accounts" else filter_contact_ids)(session, flt, user=actor)
            _insert(session, segment, list(session.scalars(query)))
        ids = account_ids_ if subject == "accounts" else contact_ids_
        other = contact_ids_ if subject == "accounts" else account_ids_
        if other:
            raise Invalid("the members are not of the segment's subject",
                          errors={"contact_ids" if subject == "accounts" else "account_ids": [f"a {subject} segment"]})
        if ids:
            add_members(session, actor=actor, segment=segment, ids=ids, audited=False)
    audit.record(session, actor=actor, action="create", entity=segment, after=segment.audit_state())
    return segment


def update_segment(session: Session, *, actor: User, segment: Segment, **changes) -> Segment:
    """Rename, describe or change the filter of a segment (its owner or an administrator)."""
    authorize_change(actor, segment)
    before = segment.audit_state()
    if "name" in changes:
        segment.name = _name(changes["name"])
    if "description" in changes:
        segment.description = (changes["description"] or "")[:5000]
    if "filter" in changes:
        if segment.kind == "static":
            raise Invalid("a static segment's members are its list", errors={"filter": ["a static segment"]})
        segment.filter = validate_filter(session, changes["filter"])
    if "owner_id" in changes:
        if not actor.is_admin and changes["owner_id"] != segment.owner_id:
            raise Forbidden("only an administrator may give segment {segment_id} to another owner", segment_id=segment.id)
        if changes["owner_id"] is not None and session.get(User, changes["owner_id"]) is None:
            raise Invalid("no such user", errors={"owner_id": ["not found"]})
        segment.owner_id = changes["owner_id"]
    session.flush()
    audit.record(session, actor=actor, action="update", entity=segment, before=before, after=segment.audit_state())
    return segment


def delete_segment(session: Session, *, actor: User, segment: Segment) -> None:
    authorize_change(actor, segment)
    audit.record(session, actor=actor, action="delete", entity=segment, before=segment.audit_state())
    session.execute(delete(SegmentMember).where(SegmentMember.segment_id == segment.id))
    session.delete(segment)
    session.flush()


def _static(segment: Segment) -> None:
    if segment.kind != "static":
        raise Invalid("only a static segment has a list of members", errors={"kind": ["not a static segment"]})


def _readable_ids(session: Session, actor: User, segment: Segment, ids: list[int], field: str) -> list[int]:
    """``ids`` if every one is a (unmerged) member ``actor`` may read; Invalid naming the others (by the given ids)."""
    if isinstance(ids, bool) or not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise Invalid("a list of ids is needed", errors={field: ["a list of ids"]})
    if len(ids) > MAX_MEMBERS:
        raise Invalid("too many ids at once", errors={field: [f"at most {MAX_MEMBERS}"]})
    ids = sorted(set(ids))
    model = Account if segment.subject == "accounts" else Contact
    account_column = Account.id if model is Account else Contact.account_id
    found: set[int] = set()
    readable = _readable(session, actor)
    for start in range(0, len(ids), 1000):
        query = select(model.id).where(model.id.in_(ids[start:start + 1000]), model.merged_into_id.is_(None))
        if readable is not None:
            query = query.where(account_column.in_(readable))
        found.update(session.scalars(query))
    missing = [i for i in ids if i not in found]
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" …" if len(missing) > 20 else "")
        raise Invalid("some members were not found", errors={field: [f"not found: {shown}"]})
    return ids


def _insert(session: Session, segment: Segment, ids: list[int]) -> int:
    column = "account_id" if segment.subject == "accounts" else "contact_id"
    present = set(session.scalars(select(getattr(SegmentMember, column)).where(SegmentMember.segment_id == segment.id)))
    new = [i for i in ids if i not in present]
    now = utcnow()
    for start in range(0, len(new), 1000):
        session.execute(insert(SegmentMember), [{"segment_id": segment.id, column: i, "added_at": now}
                                                for i in new[start:start + 1000]])
    return len(new)


def add_members(session: Session, *, actor: User, segment: Segment, ids: list[int], audited: bool = True) -> int:
    """Add members (ids of the segment's subject, each one ``actor`` may read) to a static segment; how many were new."""
    authorize_change(actor, segment)
    _static(segment)
    field = "account_ids" if segment.subject == "accounts" else "contact_ids"
    added = _insert(session, segment, _readable_ids(session, actor, segment, ids, field))
    if audited:
        audit.record(session, actor=actor, action="update", entity=segment, before=None,
                     after={"members_added": added})
    return added


def remove_members(session: Session, *, actor: User, segment: Segment, ids: list[int]) -> int:
    """Remove members from a static segment (ids it does not hold are ignored); how many were removed."""
    authorize_change(actor, segment)
    _static(segment)
    field = "account_ids" if segment.subject == "accounts" else "contact_ids"
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise Invalid("a list of ids is needed", errors={field: ["a list of ids"]})
    column = getattr(SegmentMember, field[:-1])
    removed = session.execute(delete(SegmentMember).where(SegmentMember.segment_id == segment.id,
                                                          column.in_(ids))).rowcount
    audit.record(session, actor=actor, action="update", entity=segment, before=None, after={"members_removed": removed})
    return removed


# ---------------------------------------------------------------------------------------------------------------
# CSV of contacts

_EMAIL_HEADERS = {"email", "e-mail", "e_mail", "mail", "почта", "электронная почта", "e-mail адрес"}
_PHONE_HEADERS = {"phone", "telephone", "tel", "телефон"}
_ID_HEADERS = {"contact id", "contact_id", "id", "contact", "контакт", "id контакта"}


@dataclass
class CsvResult:
    added: int
    matched: int
    rows: int


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Invalid("the file is not text", errors={"file": ["UTF-8 or Windows-1251 text"]})


def import_csv(session: Session, *, actor: User, segment: Segment, data: bytes) -> CsvResult:
    """Add the contacts a CSV names (columns e-mail, phone or contact id; a header row) to a static contacts segment.

    Each row is matched by its contact id, else its e-mail, else its phone, among the contacts ``actor`` may read;
    when any row matches nothing, Invalid lists those rows by line number and nothing is added.
    """
    authorize_change(actor, segment)
    _static(segment)
    if segment.subject != "contacts":
        raise Invalid("a CSV of contacts fills a contacts segment", errors={"file": ["a contacts segment"]})
    if not data or not data.strip():
        raise Invalid("the file is empty", errors={"file": ["empty"]})
    if len(data) > MAX_CSV_BYTES:
        raise Invalid("the file is too large", errors={"file": [f"at most {MAX_CSV_BYTES // 1_000_000} MB"]})
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    columns = {}
    for index, name in enumerate(header):
        for key, names in (("email", _EMAIL_HEADERS), ("phone", _PHONE_HEADERS), ("id", _ID_HEADERS)):
            if name in names:
                columns.setdefault(key, index)
    if not columns:
        raise Invalid("the file has no e-mail, phone or contact id column",
                      errors={"file": ["line 1: a header with e-mail, phone or contact id"]})
    if len(rows) - 1 > MAX_MEMBERS:
        raise Invalid("too many rows", errors={"file": [f"at most {MAX_MEMBERS} rows"]})
    readable = _readable(session, actor)
    ids, unmatched, counted = [], [], 0
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        counted += 1
        cell = {key: row[index].strip() if index < len(row) else "" for key, index in columns.items()}
        contact_id = _match(session, cell, readable)
        if contact_id is None:
            unmatched.append(line)
        else:
            ids.append(contact_id)
    if unmatched:
        shown = ", ".join(map(str, unmatched[:50])) + (" …" if len(unmatched) > 50 else "")
        raise Invalid("some rows match no contact", errors={"file": [f"no contact on lines {shown}"]})
    if not counted:
        raise Invalid("the file has no rows", errors={"file": ["no rows under the header"]})
    added = _insert(session, segment, sorted(set(ids)))
    audit.record(session, actor=actor, action="update", entity=segment, before=None,
                 after={"members_added": added, "from": "csv"})
    return CsvResult(added=added, matched=len(set(ids)), rows=counted)


def _match(session: Session, cell: dict, readable) -> int | None:
    candidates = []
    if cell.get("id"):
        if cell["id"].isdigit():
            candidates.append(select(Contact.id).where(Contact.id == int(cell["id"]), Contact.merged_into_id.is_(None)))
    else:
        email = phone = None
        if cell.get("email"):
            try:
                email = normalize_email(cell["email"])
            except ValueError:
                email = None
        if cell.get("phone"):
            try:
                phone = normalize_phone(cell["phone"])
            except ValueError:
                phone = None
        for key in ({"email": email}, {"phone": phone}):
            query = contacts_with(**key)
            if query is not None:
                candidates.append(query.with_only_columns(Contact.id))
    for query in candidates:
        if readable is not None:
            query = query.where(Contact.account_id.in_(readable))
        found = session.scalars(query.limit(1)).first()
        if found is not None:
            return found
    return None
