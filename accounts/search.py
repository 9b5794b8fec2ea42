"""The search across the product: every kind of record it finds, and the CRM's kinds.

``KINDS`` lists the kinds in the order the search page shows them: accounts,
contacts, leads and deals (here), projects and activities (``wbs.search``).
Each finder reads only what the user may read through the lists' own queries
(``services.list_accounts``, ``services.list_contacts``, ``leads.list_leads``,
``deals.list_deals``), so the search shows what the lists would; text matches as
``crmpm.search.contains`` (every script, both databases).

A query that looks like a phone number (``+7 (812) 555-12-34``, ``8 812 5551234``,
``5551234``) also matches phones by digits: phones are stored in E.164
(``accounts.normalize``), so the query is normalized the same way when it is a
whole number and compared by its digits otherwise.

Contacts are found by every phone and e-mail of theirs (``contact_channels``), the
hit naming the one that matched, and open on the contact card.

A user who may read few accounts (``FEW_READABLE`` or fewer: a seller with one
branch) searching a frequent text (in more than ``crmpm.search.FEW_MATCHES`` rows)
is answered from the readable rows first (``starts_from_readable``,
``crmpm.search.first_of_few``: read once, the text checked on each, in one statement
that gives up past ``FEW_READABLE`` rows): a word found in most names they may not
read would otherwise be looked up in the index and refused row by row. The readable
rows are the rights' own (``permissions.readable_account_ids``, as
``services.list_accounts`` and ``services.list_contacts`` use it); what is found is
the same. A rare text is looked up in its index without counting the readable rows.

Documents are one more ``Kind`` in ``KINDS`` (``accounts.documents.services.find_documents``: their names
and the text of their current versions) and one more entry in the search page's table of kinds.
"""

from __future__ import annotations

import re

from sqlalchemy import exists, literal_column, or_, select, union, union_all
from sqlalchemy.orm import Session, aliased

from crmpm.database import transaction_memo
from crmpm.search import (
    CANDIDATES, Hit, Kind, contains, count_up_to, digits, first_match, first_of, first_of_few, frequent,
    like_pattern,
)
from crmpm.users.models import User
from eps.models import EpsNode, Project
from eps.permissions import visible
from wbs import search as wbs_search

from accounts import services
from accounts.deals import list_deals
from accounts.documents.services import find_documents
from accounts.leads import list_leads
from accounts.models import Account, ChannelType, Contact, ContactChannel, Deal, Lead
from accounts.permissions import readable_account_ids
from accounts.normalize import InvalidValue, normalize_phone

__all__ = ["FEW_READABLE", "KINDS", "MIN_PHONE_DIGITS", "find_accounts", "find_contacts",
           "find_deals", "find_leads", "phone_digits", "readable_nodes_count", "starts_from_readable"]

# Fewer digits than this are part of a name or a code ("Account 4242"), not a phone number.
MIN_PHONE_DIGITS = 5
_PHONE_QUERY_RE = re.compile(r"\+?[\d\s()\-./]+")

# A contact's whole name as people type it; inline SQL, so the PostgreSQL index on it (migration 0011) matches.
CONTACT_FULL_NAME = Contact.first_name + literal_column("' '") + Contact.last_name


def phone_digits(text: str) -> str:
    """The digits to look for in stored phones when ``text`` looks like a phone number, else ``""``.

    >>> phone_digits("8 812 5551234"), phone_digits("+7 (812) 555-12-34"), phone_digits("555-12-34")
    ('78125551234', '78125551234', '5551234')
    >>> phone_digits("Account 4242"), phone_digits("4242")
    ('', '')
    """
    text = text.strip()
    if not _PHONE_QUERY_RE.fullmatch(text) or len(digits(text)) < MIN_PHONE_DIGITS:
        return ""
    try:
        return digits(normalize_phone(text))
    except InvalidValue:
        # Part of a number (the local part, the last digits): compared as typed.
        return digits(text)


# At most this many readable accounts: the search may start from them (see the module's docstring).
FEW_READABLE = 20_000


def readable_nodes_count(session: Session, *, user: User) -> int | None:
    """How many EPS nodes ``user`` may read, counted up to ``FEW_READABLE + 1``; None when they may read all, and
    on SQLite (which reads every row of a ``%text%`` search anyway). Once per transaction.

    Every account is a node of its own, so no more accounts than this are readable; counting the nodes reads
    one table, where counting the accounts would join a second to it (twice the time at 10,000 accounts).
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    key = ("readable nodes count", user.id)
    memo = transaction_memo(session)
    if key not in memo:
        readable = readable_account_ids(session, user=user)
        memo[key] = None if readable is None else count_up_to(
            session, select(EpsNode.id).where(visible(session, user=user, model=EpsNode)), FEW_READABLE + 1)
    return memo[key]


def starts_from_readable(session: Session, *, user: User, matches) -> bool:
    """Whether a search tries the readable rows first: ``user`` may read at most ``FEW_READABLE`` accounts
    and more than ``crmpm.search.FEW_MATCHES`` rows hold the text (``matches``, a select of them whatever the
    rights; counted only that far). The readable rows are then read once, the text checked on each, in one
    statement that stops past ``FEW_READABLE`` of them (``crmpm.search.first_of_few``); what is found is the
    same either way.

    A text in ``FEW_MATCHES`` rows or fewer (most searches: a name, a number) is answered from its index
    without counting the readable rows at all.
    """
    if readable_account_ids(session, user=user) is None or not frequent(session, matches):
        return False
    readable = readable_nodes_count(session, user=user)
    return readable is not None and readable <= FEW_READABLE


def _phone_condition(column, wanted: str):
    return column.like(like_pattern(wanted), escape="\\") if wanted else None


def _either(*conditions):
    conditions = [condition for condition in conditions if condition is not None]
    return or_(*conditions) if conditions else None


def find_accounts(session: Session, *, user: User, text: str, limit: int) -> list[Hit]:
    """Readable accounts whose name holds ``text`` or whose tax id (INN) is ``text``, by name."""
    text = text.strip()
    condition = _either(contains([Account.name], text), Account.tax_id == text if text else None)
    if condition is None:
        return []
    columns = (Account.id.label("id"), Account.name.label("title"), Account.tax_id.label("tax_id"))
    readable = readable_account_ids(session, user=user)
    rows = None
    if readable is not None and starts_from_readable(session, user=user, matches=select(Account.id).where(condition)):
        # The readable accounts straight from the rights' own select (one pass over them: through the list's
        # "id IN (readable)" the planner reads them twice); merged ones left out as the list leaves them.
        query = readable.with_only_columns(*columns).where(Account.merged_into_id.is_(None))
        rows = first_of_few(session, query, limit=limit, matching=condition, most=FEW_READABLE)
    if rows is None:
        query = services.list_accounts(session, user=user).with_only_columns(*columns)
        rows = first_of(session, query.where(condition), limit=limit)
    hits = []
    for row in rows:
        found = first_match([("name", row.title)], text) or ("tax_id", row.tax_id or "")
        hits.append(Hit(kind="accounts", id=row.id, title=row.title, field=found[0], value=found[1]))
    return hits


def _channel_condition(text: str, wanted: str):
    """Channels holding ``text`` (e-mails, folded) or the number typed (phones, by digits); None for neither."""
    return _either(
        (ContactChannel.type == ChannelType.email) & contains([ContactChannel.value], text) if text.strip() else None,
        (ContactChannel.type == ChannelType.phone) & _phone_condition(ContactChannel.value, wanted)
        if wanted else None)


def _matched_channels(session: Session, contact_ids: list[int], text: str, wanted: str) -> dict[int, tuple[str, str]]:
    """For each of ``contact_ids``, its first channel (by type, then place) holding what was typed."""
    condition = _channel_condition(text, wanted)
    if not contact_ids or condition is None:
        return {}
    found: dict[int, tuple[str, str]] = {}
    rows = session.execute(select(ContactChannel.contact_id, ContactChannel.type, ContactChannel.value)
                           .where(ContactChannel.contact_id.in_(contact_ids), condition)
                           .order_by(ContactChannel.contact_id, ContactChannel.type, ContactChannel.position,
                                     ContactChannel.id)).all()
    for contact_id, channel_type, value in rows:
        found.setdefault(contact_id, (channel_type.value, value))
    return found


def find_contacts(session: Session, *, user: User, text: str, limit: int) -> list[Hit]:
    """Readable contacts whose name or any e-mail holds ``text``, or any phone the number typed, by name.

    Phones and e-mails are the contact's channels (``ContactChannel``) besides its first ones on the contact.
    """
    wanted = phone_digits(text)
    own = _either(contains([CONTACT_FULL_NAME, Contact.email], text), _phone_condition(Contact.phone, wanted))
    if own is None:
        return []
    channels = _channel_condition(text, wanted)
    # Aliases here and below, so the rights' own subqueries on accounts and projects stay uncorrelated.
    owner = aliased(Account)
    listed = services.list_contacts(session, user=user).order_by(None)
    query = (listed
             .with_only_columns(Contact.id.label("id"), CONTACT_FULL_NAME.label("title"),
                                Contact.email.label("email"), Contact.phone.label("phone"),
                                Contact.account_id.label("account_id"), owner.name.label("account_name"))
             .join(owner, owner.id == Contact.account_id))
    # The rows the text's indexes answer, in both tables (a contact once per matching row: as many as the
    # index side would read).
    matched = select(Contact.id).where(own)
    if channels is not None:
        matched = union_all(matched, select(ContactChannel.contact_id).where(channels))
    readable = readable_account_ids(session, user=user)
    rows = None
    if readable is not None and starts_from_readable(session, user=user, matches=matched):
        # The readable accounts' contacts (as find_accounts reads them), each one's channels through their
        # contact_id index; merged contacts left out as the list leaves them.
        condition = _either(own, exists().where(ContactChannel.contact_id == Contact.id, channels)
                            if channels is not None else None)
        rows_of_readable = (readable
                            .with_only_columns(Contact.id.label("id"), CONTACT_FULL_NAME.label("title"),
                                               Contact.email.label("email"), Contact.phone.label("phone"),
                                               Contact.account_id.label("account_id"),
                                               Account.name.label("account_name"))
                            .join(Contact, Contact.account_id == Account.id)
                            .where(Contact.merged_into_id.is_(None)))
        rows = first_of_few(session, rows_of_readable, limit=limit, matching=condition, most=FEW_READABLE)
    if rows is None:
        # Each table's readable matches through its own indexes, at most CANDIDATES of each: a word in most
        # e-mails stops there, instead of gathering every match of both tables to drop the repeats.
        ids = listed.with_only_columns(Contact.id.label("id")).where(own).limit(CANDIDATES).subquery()
        ids = select(ids.c.id)
        if channels is not None:
            by_channel = (listed.with_only_columns(Contact.id.label("id"))
                          .join(ContactChannel, ContactChannel.contact_id == Contact.id)
                          .where(channels).limit(CANDIDATES).subquery())
            ids = union(ids, select(by_channel.c.id))
        rows = first_of(session, query.where(Contact.id.in_(ids)), limit=limit)
    own_matches = {row.id: first_match([("full_name", row.title.strip()), ("email", row.email),
                                         ("phone", row.phone)], text, phone_digits=wanted, phone_fields=("phone",))
                   for row in rows}
    # The others were found by a channel: which one, in one more question.
    by_channel = _matched_channels(session, [key for key, match in own_matches.items() if match is None],
                                   text, wanted)
    hits = []
    for row in rows:
        title = row.title.strip()
        field, value = own_matches[row.id] or by_channel.get(row.id) or ("full_name", title)
        hits.append(Hit(kind="contacts", id=row.id, title=title, field=field, value=value, detail=row.account_name,
                        parent_id=row.account_id))
    return hits


def find_leads(session: Session, *, user: User, text: str, limit: int) -> list[Hit]:
    """Readable leads whose company, contact name or e-mail holds ``text``, or whose phone holds the number typed."""
    wanted = phone_digits(text)
    condition = _either(contains([Lead.company, Lead.contact_name, Lead.email], text),
                        _phone_condition(Lead.phone, wanted))
    if condition is None:
        return []
    query = (list_leads(session, user=user)
             .with_only_columns(Lead.id.label("id"), Lead.company.label("title"), Lead.contact_name.label("person"),
                                Lead.email.label("email"), Lead.phone.label("phone"))
             .where(condition))
    hits = []
    for row in first_of(session, query, limit=limit):
        fields = [("company", row.title), ("contact_name", row.person), ("email", row.email), ("phone", row.phone)]
        field, value = first_match(fields, text, phone_digits=wanted, phone_fields=("phone",)) or ("company", row.title)
        hits.append(Hit(kind="leads", id=row.id, title=row.title or row.person, field=field, value=value,
                        detail=row.person if row.title else ""))
    return hits


def find_deals(session: Session, *, user: User, text: str, limit: int) -> list[Hit]:
    """Readable deals whose name or code (their project's) holds ``text``, by name."""
    if not text.strip():
        return []
    named, client = aliased(Project), aliased(Account)
    condition = contains([named.name, named.code], text)
    query = (list_deals(session, user=user)
             .with_only_columns(Deal.id.label("id"), named.name.label("title"), named.code.label("code"),
                                client.name.label("account_name"))
             .join(named, named.id == Deal.project_id)
             .join(client, client.id == Deal.account_id)
             .where(condition))
    hits = []
    for row in first_of(session, query, limit=limit):
        field, value = first_match([("name", row.title), ("code", row.code)], text) or ("name", row.title)
        hits.append(Hit(kind="deals", id=row.id, title=row.title, field=field, value=value,
                        detail=f"{row.code} · {row.account_name}"))
    return hits


def _find_projects(session: Session, *, user: User, text: str, limit: int) -> list[Hit]:
    # A deal is a project too: it is found as a deal, not twice. ``NOT is_deal`` lets the indexes of the projects
    # that are not deals answer; the deals' own table stays the rule (an anti-join through its project_id
    # index, on the few projects found), so a project whose marker were missing would still be left out.
    return wbs_search.find_projects(session, user=user, text=text, limit=limit,
                                    exclude=[Project.is_deal, exists().where(Deal.project_id == Project.id)])


KINDS: tuple[Kind, ...] = (
    Kind("accounts", find_accounts),
    Kind("contacts", find_contacts),
    Kind("leads", find_leads),
    Kind("deals", find_deals),
    Kind("projects", _find_projects),
    Kind("activities", wbs_search.find_activities),
    Kind("documents", find_documents),
)
