"""Client accounts and their contacts: create, change, find duplicates, merge, with access checks and audit.

Every account gets its own EPS node under the node of its branch; the deals of
the account are projects under that node, so EPS grants decide who sees what.
Importers call ``upsert_account`` / ``upsert_contact`` with an ``external_id``:
running an import twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher

from sqlalchemy import Select, func, or_, select, union, update
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.database import utcnow
from crmpm.errors import Conflict, Invalid, NotFound, Phrase
from crmpm.search import contains
from crmpm.users import services as users
from crmpm.users.models import User
from eps import services as eps_services
from eps.models import EpsNode
from eps.permissions import ROLE_PERMISSIONS, Permission, principal_grant_paths

from accounts import requisites
from accounts.documents import cleanup as document_cleanup
from accounts.marketing import consent, tags
from accounts.models import (
    Account, AccountKind, ChannelKind, ChannelType, Contact, ContactChannel, Deal, Interaction, Lead, SurveyAnswer,
    Task,
)
from accounts.names import PersonName, split_full_name
from accounts.normalize import InvalidValue, name_key, normalize_email, normalize_phone, normalize_tax_id
from accounts.permissions import authorize_on, readable_account_ids

ACCOUNT_FIELDS = ("name", "tax_id", "kind", "sector", "segment", "annual_revenue", "employees")
# The details invoices and acts print (the INN is ``tax_id``), checked by ``accounts.requisites``.
REQUISITE_FIELDS = ("kpp", "ogrn", "legal_address", "bank_name", "bank_bik", "bank_account", "bank_corr_account")
CONTACT_FIELDS = ("first_name", "last_name", "patronymic", "title", "email", "phone", "tax_id")
# A contact's phones and e-mails together; more is a paste gone wrong, not a person.
MAX_CHANNELS = 20
_CHANNEL_RULES = {ChannelType.phone: normalize_phone, ChannelType.email: normalize_email}
_CHANNEL_NAMES = {ChannelType.phone: Phrase("phone {number}"), ChannelType.email: Phrase("e-mail {number}")}


# Shared checks


def active_user(session: Session, *, user_id: int | None, field: str) -> User | None:
    """The active staff user with this id (None for None); NotFound or Invalid naming ``field`` otherwise
    (a client user of the portal is never an owner, an assignee or an actor)."""
    if user_id is None:
        return None
    user = users.get_or_raise(session, user_id=user_id, field=field)
    if not user.is_active:
        raise Invalid("user {email} is inactive", email=user.email, errors={field: ["inactive user"]})
    if user.is_client:
        raise Invalid("user {email} is a client of the portal", email=user.email, errors={field: ["client user"]})
    return user


def clean(field: str, value, normalizer):
    """``normalizer(value)``, turning a bad value into Invalid naming ``field``."""
    try:
        return normalizer(value)
    except InvalidValue as exc:
        # The reason is one of accounts.normalize's sentences, translatable as a phrase.
        raise Invalid("invalid {field}: {problem}", field=field, problem=Phrase(str(exc)),
                      errors={field: [str(exc)]}) from None


def _text(field: str, value: str | None, *, required: bool = False, max_length: int = 200) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Invalid("{field} is required", field=field, errors={field: ["must not be empty"]})
    if len(value) > max_length:
        raise Invalid("{field} is too long", field=field, errors={field: [f"at most {max_length} characters"]})
    return value


# Accounts


def get_account_or_raise(session: Session, *, user: User, account_id: int,
                         permission: Permission = Permission.read, field: str | None = None) -> Account:
    """The account, if ``user`` has ``permission`` on its node; NotFound (naming ``field``) when absent or unreadable."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("account {account_id} not found",
                       account_id=account_id, errors={field: ["not found"]} if field else None)
    try:
        authorize_on(session, user=user, obj=account, governed_by=account.eps_node, label="account",
                     permission=permission)
    except NotFound:
        raise NotFound("account {account_id} not found",
                       account_id=account_id, errors={field: ["not found"]} if field else None) from None
    return account


def get_by_external_id(session: Session, *, model, external_id: str):
    """The row of ``model`` with this external id, or None."""
    return session.scalar(select(model).where(model.external_id == external_id))


def find_account_named(session: Session, *, user: User, name: str) -> Account | None:
    """The oldest unmerged account with exactly this name that ``user`` may read, or None."""
    query = (select(Account).where(Account.name == name, Account.merged_into_id.is_(None))
             .order_by(Account.id).limit(1))
    readable = readable_account_ids(session, user=user)
    if readable is not None:
        query = query.where(Account.id.in_(readable))
    return session.scalars(query).first()


def list_accounts(session: Session, *, user: User, search: str | None = None, owner_id: int | None = None,
                  region_node_id: int | None = None, kind: AccountKind | None = None, parent_id: int | None = None,
                  include_merged: bool = False, is_person: bool | None = None) -> Select:
    """A select of the accounts ``user`` may read, by name, with optional filters."""
    query = select(Account).order_by(Account.name, Account.id)
    readable = readable_account_ids(session, user=user)
    if readable is not None:
        query = query.where(Account.id.in_(readable))
    if not include_merged:
        query = query.where(Account.merged_into_id.is_(None))
    matches = contains([Account.name], search)
    if matches is not None:
        query = query.where(or_(matches, Account.tax_id == search.strip()))
    if owner_id is not None:
        query = query.where(Account.owner_id == owner_id)
    if region_node_id is not None:
        query = query.where(Account.region_node_id == region_node_id)
    if kind is not None:
        query = query.where(Account.kind == kind)
    if parent_id is not None:
        query = query.where(Account.parent_id == parent_id)
    if is_person is not None:
        query = query.where(Account.is_person.is_(is_person))
    return query


def _check_parent(session: Session, *, account: Account | None, parent: Account | None) -> None:
    if parent is None:
        return
    seen = set()
    current = parent
    while current is not None:
        if account is not None and current.id == account.id:
            raise Conflict("account {parent_name} is {account_name} or one of its subsidiaries; "
                           "a holding cannot be its own subsidiary",
                           parent_name=parent.name, account_name=account.name,
                           errors={"parent_id": ["would make a cycle"]})
        if current.id in seen:
            break
        seen.add(current.id)
        current = current.parent


def create_account(session: Session, *, actor: User, name: str, region: EpsNode | None = None,
                   eps_node: EpsNode | None = None, code: str | None = None, tax_id: str | None = None,
                   kind: AccountKind = AccountKind.prospect, sector: str = "", segment: str = "",
                   parent: Account | None = None, owner: User | None = None, external_id: str | None = None,
                   annual_revenue: Decimal | None = None, employees: int | None = None,
                   contact: dict | None = None, is_person: bool = False, requisites: dict | None = None) -> Account:
    """A new account with its own EPS node under ``region`` (edit rights there), or on an existing ``eps_node``.

    An account under a branch is the branch's content, like a project under a
    node: whoever works the branch's leads (editors) can add the client.
    ``contact``: the first person there (``name``, ``email``, ``phone``), created with it.
    ``is_person``: the account of a private client (``create_private_client`` makes those).
    ``requisites``: KPP, OGRN, legal address and bank details (``REQUISITE_FIELDS``), checked.
    """
    name = _text("name", name, required=True)
    if owner is not None and not owner.is_active:
        raise Invalid("user {email} is inactive", email=owner.email, errors={"owner_id": ["inactive user"]})
    if annual_revenue is not None and annual_revenue < 0:
        raise Invalid("annual revenue cannot be negative", errors={"annual_revenue": ["must not be negative"]})
    if employees is not None and employees < 0:
        raise Invalid("employees cannot be negative", errors={"employees": ["must not be negative"]})
    tax_id = clean("tax_id", tax_id, normalize_tax_id)
    details = _requisites(None, {key: value for key, value in (requisites or {}).items() if key in REQUISITE_FIELDS})
    if external_id is not None and get_by_external_id(session, model=Account, external_id=external_id):
        raise Conflict("an account with external id {external_id!r} exists",
                       external_id=external_id, errors={"external_id": ["already in use"]})
    if eps_node is not None:
        # An existing client node (created in the EPS first) becomes the account's node.
        authorize_on(session, user=actor, obj=eps_node, governed_by=eps_node, label="EPS node",
                     permission=Permission.edit)
        if session.scalar(select(Account.id).where(Account.eps_node_id == eps_node.id)) is not None:
            raise Conflict("EPS node {code} already belongs to an account", code=eps_node.code,
                           errors={"eps_node_id": ["already linked"]})
        if eps_node.parent_id is None:
            raise Invalid("an account's node must hang under a branch node", errors={"eps_node_id": ["a root node"]})
        node, region = eps_node, session.get(EpsNode, eps_node.parent_id)
    else:
        if region is None:
            raise Invalid("an account needs a branch (region) node", errors={"region_node_id": ["required"]})
        node = eps_services.create_node(session, actor=actor, code=code or eps_services.unused_code(
                                            session, model=EpsNode, name=name, fallback="ACC"),
                                        name=name, parent=region, content=True)
    _check_parent(session, account=None, parent=parent)
    # The new account holds its node (not only its id), and a new contact its account: a row made in a savepoint
    # stays one object with the session for as long as what was made from it, so rolling the savepoint back
    # discards it rather than leaving a copy loaded again later (account.eps_node) of a row that is gone.
    account = Account(name=name, tax_id=tax_id, kind=kind, is_person=is_person, sector=_text("sector", sector),
                      segment=_text("segment", segment), region_node=region, eps_node=node,
                      parent_id=parent.id if parent else None, owner_id=owner.id if owner else None,
                      external_id=external_id, annual_revenue=annual_revenue, employees=employees, **details)
    session.add(account)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=account, after=account.audit_state())
    if contact and any((contact.get(key) or "").strip() for key in ("name", "email", "phone")):
        person = split_full_name(contact.get("name"))
        if not person:
            raise Invalid("the contact person needs a name", errors={"contact_name": ["required"]})
        create_contact(session, actor=actor, account=account, first_name=person.first, last_name=person.last,
                       patronymic=person.patronymic, email=contact.get("email"), phone=contact.get("phone"))
    return account


def create_private_client(session: Session, *, actor: User, region: EpsNode, first_name: str = "",
                          last_name: str = "", patronymic: str = "", owner: User | None = None, **contact) -> Contact:
    """A private client (B2C): a contact with a person account of their own on the branch ``region``.

    The person account (``Account.is_person``) is named after the person (``PersonName.formal``) and
    follows their name when it changes; the person's deals are projects under its node, as a company's
    are. Edit rights on the branch are needed, as for a new account. ``contact`` is the rest of
    ``create_contact``'s arguments (``email``, ``phone``, ``channels``, ``external_id``...).
    """
    person = PersonName(_text("first_name", first_name), _text("last_name", last_name),
                        _text("patronymic", patronymic))
    if not person.first and not person.last:
        raise Invalid("a contact needs a name", errors={"last_name": ["give a first or last name"]})
    account = create_account(session, actor=actor, name=person.formal(), region=region, owner=owner,
                             kind=AccountKind.client, is_person=True)
    return create_contact(session, actor=actor, account=account, first_name=person.first, last_name=person.last,
                          patronymic=person.patronymic, owner=owner, **contact)


def _follow_person(session: Session, *, actor: User, contact: Contact) -> None:
    """A person account keeps its person's name (the contact's, in the formal order)."""
    account = contact.account
    if account is None or not account.is_person:
        return
    name = PersonName(contact.first_name, contact.last_name, contact.patronymic).formal()
    if name and account.name != name:
        update_account(session, actor=actor, account=account, name=name)


def _requisites(account: Account | None, given: dict) -> dict:
    """The requisites in ``given``, trimmed and checked together with the account's others (a new account number
    against the BIK it will have); Invalid naming every wrong field."""
    current = {key: getattr(account, key) if account is not None else "" for key in REQUISITE_FIELDS}
    values = {**current, **{key: (value or "").strip() for key, value in given.items()}}
    limits = {"legal_address": 500, "bank_name": 300}
    errors = {key: [f"at most {limit} characters"] for key, limit in limits.items() if len(values[key]) > limit}
    checks = {"kpp": lambda: requisites.check_kpp(values["kpp"]), "ogrn": lambda: requisites.check_ogrn(values["ogrn"]),
              "bank_bik": lambda: requisites.check_bik(values["bank_bik"]),
              "bank_account": lambda: requisites.check_account_number(values["bank_account"], values["bank_bik"]),
              "bank_corr_account": lambda: requisites.check_corr_account(values["bank_corr_account"],
                                                                         values["bank_bik"])}
    for key, check in checks.items():
        if key in given or (key in ("bank_account", "bank_corr_account") and "bank_bik" in given):
            try:
                values[key] = check()
            except requisites.BadRequisite as error:
                errors[key] = [str(error)]
    if errors:
        raise Invalid("the account's details are not valid: {fields}", fields=", ".join(sorted(errors)), errors=errors)
    return {key: values[key] for key in REQUISITE_FIELDS if key in given}


def update_account(session: Session, *, actor: User, account: Account, **changes) -> Account:
    """Change an account's fields, parent or owner (edit rights on its node); a new name renames the node."""
    authorize_on(session, user=actor, obj=account, governed_by=account.eps_node, label="account",
                 permission=Permission.edit)
    before = account.audit_state()
    if "name" in changes:
        account.name = _text("name", changes.pop("name"), required=True)
        if account.eps_node.name != account.name:
            eps_services.update_node(session, actor=actor, node=account.eps_node, name=account.name)
    if "tax_id" in changes:
        account.tax_id = clean("tax_id", changes.pop("tax_id"), normalize_tax_id)
    given = {key: changes.pop(key) for key in REQUISITE_FIELDS if key in changes}
    for key, value in _requisites(account, given).items():
        setattr(account, key, value)
    if "owner" in changes:
        owner = changes.pop("owner")
        if owner is not None and not owner.is_active:
            raise Invalid("user {email} is inactive", email=owner.email, errors={"owner_id": ["inactive user"]})
        account.owner_id = owner.id if owner else None
    if "parent" in changes:
        parent = changes.pop("parent")
        _check_parent(session, account=account, parent=parent)
        account.parent_id = parent.id if parent else None
    for key in ("annual_revenue", "employees"):
        if key in changes and changes[key] is not None and changes[key] < 0:
            raise Invalid("{key} cannot be negative", key=key, errors={key: ["must not be negative"]})
    for key, value in changes.items():
        if key not in ACCOUNT_FIELDS:
            raise Invalid("unknown account field {key}", key=key, errors={key: ["unknown field"]})
        # AccountKind is a str too: only plain text is trimmed and measured.
        setattr(account, key, _text(key, value) if type(value) is str else value)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=account, before=before, after=account.audit_state())
    return account


def upsert_account(session: Session, *, actor: User, external_id: str, **fields) -> tuple[Account, bool]:
    """The account with ``external_id``, updated with ``fields``, or a new one; True when created."""
    account = get_by_external_id(session, model=Account, external_id=external_id)
    if account is None:
        return create_account(session, actor=actor, external_id=external_id, **fields), True
    fields.pop("region", None)
    fields.pop("eps_node", None)
    fields.pop("code", None)
    changed = {key: value for key, value in fields.items()
               if getattr(account, key if key not in ("owner", "parent") else f"{key}_id")
               != (getattr(value, "id", None) if key in ("owner", "parent") else value)}
    if changed:
        update_account(session, actor=actor, account=account, **changed)
    return account, False


def find_duplicate_accounts(session: Session, *, user: User) -> list[dict]:
    """Groups of readable, unmerged accounts sharing a tax id: candidates for a merge."""
    base = select(Account).where(Account.merged_into_id.is_(None), Account.tax_id.is_not(None))
    readable = readable_account_ids(session, user=user)
    if readable is not None:
        base = base.where(Account.id.in_(readable))
    shared = (select(Account.tax_id).where(Account.id.in_(base.with_only_columns(Account.id)))
              .group_by(Account.tax_id).having(func.count() > 1))
    rows = session.scalars(base.where(Account.tax_id.in_(shared)).order_by(Account.tax_id, Account.id)).all()
    groups: dict[str, list[Account]] = {}
    for account in rows:
        groups.setdefault(account.tax_id, []).append(account)
    return [{"key": "tax_id", "value": value, "records": records} for value, records in groups.items()]


# How alike two names must be (difflib's ratio of their ``name_key``) to be shown as a possible duplicate.
SIMILAR_NAME_RATIO = 0.9
SIMILAR_LIMIT = 10
_NAME_CANDIDATES = 200


@dataclass(frozen=True)
class SimilarAccount:
    """An existing account that may be the one being entered, and why: ``tax_id``, ``name`` and/or ``phone``."""

    account: Account
    reasons: tuple[str, ...]


def similar_accounts(session: Session, *, user: User, name: str = "", tax_id: str | None = None,
                     phone: str | None = None, exclude: Account | None = None,
                     limit: int = SIMILAR_LIMIT) -> list[SimilarAccount]:
    """Unmerged accounts ``user`` may read that look like the one being entered (asked before saving it).

    The same tax id, a name alike once quotes and legal forms are set aside
    (``normalize.name_key``), or a contact with the same phone. Accounts the user
    may not read are never returned. Values that do not normalize are ignored here
    (``create_account`` refuses them with the reason).
    """
    base = select(Account).where(Account.merged_into_id.is_(None))
    readable = readable_account_ids(session, user=user)
    if readable is not None:
        base = base.where(Account.id.in_(readable))
    if exclude is not None:
        base = base.where(Account.id != exclude.id)
    found: dict[int, tuple[Account, list[str]]] = {}

    def note(accounts, reason):
        for account in accounts:
            found.setdefault(account.id, (account, []))[1].append(reason)

    try:
        tax_id = normalize_tax_id(tax_id)
    except InvalidValue:
        tax_id = None
    if tax_id:
        note(session.scalars(base.where(Account.tax_id == tax_id).order_by(Account.id).limit(limit)), "tax_id")
    key = name_key(name)
    if key:
        words = sorted(key.split(), key=len, reverse=True)
        condition = contains([Account.name], words[0])
        if condition is not None:
            candidates = session.scalars(base.where(condition).order_by(Account.id).limit(_NAME_CANDIDATES))
            note((account for account in candidates
                  if SequenceMatcher(None, key, name_key(account.name)).ratio() >= SIMILAR_NAME_RATIO
                  or (len(key) >= 4 and key in name_key(account.name))), "name")
    try:
        phone = normalize_phone(phone)
    except InvalidValue:
        phone = None
    if phone:
        holders = select(Contact.account_id).where(Contact.phone == phone, Contact.merged_into_id.is_(None))
        note(session.scalars(base.where(Account.id.in_(holders)).order_by(Account.id).limit(limit)), "phone")
    ordered = sorted(found.values(), key=lambda item: (-len(item[1]), item[0].name, item[0].id))
    return [SimilarAccount(account=account, reasons=tuple(reasons)) for account, reasons in ordered[:limit]]


def branch_choices(session: Session, *, user: User, limit: int = 200) -> list[EpsNode]:
    """The EPS nodes a new account (or lead) may be placed under by ``user``: readable nodes with the edit
    right that are no account's own node, in tree order; at most ``limit``."""
    query = eps_services.list_nodes(session, user=user).where(EpsNode.id.not_in(select(Account.eps_node_id)))
    if not user.is_admin:
        # The rule of ``authorize(..., Permission.edit)`` for many nodes at once (as ``editable_deal_ids``): a
        # grant of an editing role on the node or above it, not cut off by a protected node in between.
        roles = tuple(role for role, permissions in ROLE_PERMISSIONS.items() if Permission.edit in permissions)
        paths = principal_grant_paths(session, user=user, roles=roles)
        if not paths:
            return []
        query = query.where(or_(*(EpsNode.path.startswith(granted) for granted in paths)))
        nodes = session.scalars(query.limit(limit * 4)).all()
        return [node for node in nodes
                if any(node.path.startswith(granted) and len(node.protect_path or "") <= len(granted)
                       for granted in paths)][:limit]
    return list(session.scalars(query.limit(limit)))


def merge_accounts(session: Session, *, actor: User, keep: Account, merge: Account) -> Account:
    """Fold ``merge`` into ``keep`` (manage rights on both): contacts, deals, history move; ``merge`` is remembered."""
    for account in (keep, merge):
        authorize_on(session, user=actor, obj=account, governed_by=account.eps_node, label="account",
                     permission=Permission.manage)
    if keep.id == merge.id:
        raise Conflict("an account cannot be merged into itself", errors={"merge_id": ["same as the kept account"]})
    for account in (keep, merge):
        if account.merged_into_id is not None:
            raise Conflict("account {account_id} was already merged into {merged_into_id}",
                           account_id=account.id, merged_into_id=account.merged_into_id,
                           errors={"merge_id": ["already merged"]})
    before = merge.audit_state()
    for deal in session.scalars(select(Deal).where(Deal.account_id == merge.id)):
        eps_services.move_project(session, actor=actor, project=deal.project, eps_node=keep.eps_node)
        deal.account_id = keep.id
    for model in (Contact, Interaction, Task, SurveyAnswer, Lead):
        session.execute(update(model).where(model.account_id == merge.id).values(account_id=keep.id)
                        .execution_options(synchronize_session=False))
    session.execute(update(Account).where(Account.parent_id == merge.id, Account.id != keep.id)
                    .values(parent_id=keep.id).execution_options(synchronize_session=False))
    document_cleanup.move_account_documents(session, from_account_id=merge.id, to_account_id=keep.id)
    tags.merge_account_tags(session, keep_id=keep.id, merge_id=merge.id)
    for key in ("tax_id", "sector", "segment", "owner_id", "annual_revenue", "employees"):
        if not getattr(keep, key) and getattr(merge, key):
            setattr(keep, key, getattr(merge, key))
    merge.merged_into_id = keep.id
    session.flush()
    session.expire_all()
    audit.record(session, actor=actor, action="merge", entity=merge, before=before, after=merge.audit_state())
    audit.record(session, actor=actor, action="absorb", entity=keep, after={"merged_id": merge.id})
    return keep


# Contacts


def get_contact_or_raise(session: Session, *, user: User, contact_id: int,
                         permission: Permission = Permission.read, field: str | None = None) -> Contact:
    """The contact, if ``user`` has ``permission`` on its account; NotFound when absent or unreadable."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("contact {contact_id} not found",
                       contact_id=contact_id, errors={field: ["not found"]} if field else None)
    try:
        authorize_on(session, user=user, obj=contact, governed_by=contact.account.eps_node, label="contact",
                     permission=permission)
    except NotFound:
        raise NotFound("contact {contact_id} not found",
                       contact_id=contact_id, errors={field: ["not found"]} if field else None) from None
    return contact


def list_contacts(session: Session, *, user: User, account_id: int | None = None, search: str | None = None,
                  include_merged: bool = False) -> Select:
    """A select of the contacts ``user`` may read, by name."""
    query = select(Contact).order_by(Contact.last_name, Contact.first_name, Contact.id)
    readable = readable_account_ids(session, user=user)
    if readable is not None:
        query = query.where(Contact.account_id.in_(readable))
    if account_id is not None:
        query = query.where(Contact.account_id == account_id)
    if not include_merged:
        query = query.where(Contact.merged_into_id.is_(None))
    matches = contains([Contact.last_name, Contact.first_name, Contact.email], search)
    if matches is not None:
        query = query.where(matches)
    return query


def _contact_values(fields: dict) -> dict:
    values = {}
    for key, value in fields.items():
        if key == "email":
            values[key] = clean("email", value, normalize_email)
        elif key == "phone":
            values[key] = clean("phone", value, normalize_phone)
        elif key == "tax_id":
            values[key] = clean("tax_id", value, normalize_tax_id)
        elif key in CONTACT_FIELDS:
            values[key] = _text(key, value)
        else:
            raise Invalid("unknown contact field {key}", key=key, errors={key: ["unknown field"]})
    return values


def contact_channels(channels) -> list[tuple[ChannelType, ChannelKind, str]]:
    """``channels`` (mappings or tuples of type, kind and value) checked and normalized, blanks and repeats dropped.

    A bad value is Invalid naming it by its place ("phone 2") and its field (``channels-<i>-value``,
    ``i`` counting from 0 over what was given, as the pages' form names it).
    """
    cleaned: list[tuple[ChannelType, ChannelKind, str]] = []
    seen: set[tuple[ChannelType, str]] = set()
    numbers = {ChannelType.phone: 0, ChannelType.email: 0}
    for index, channel in enumerate(channels):
        if isinstance(channel, dict):
            raw_type, raw_kind, raw_value = channel.get("type"), channel.get("kind"), channel.get("value")
        else:
            raw_type, raw_kind, raw_value = channel
        field = f"channels-{index}"
        try:
            channel_type = ChannelType(raw_type)
        except ValueError:
            raise Invalid("unknown channel type {value}", value=str(raw_type)[:20],
                          errors={f"{field}-type": ["phone or email"]}) from None
        try:
            kind = ChannelKind(raw_kind or ChannelKind.work)
        except ValueError:
            raise Invalid("unknown channel kind {value}", value=str(raw_kind)[:20],
                          errors={f"{field}-kind": [", ".join(k.value for k in ChannelKind)]}) from None
        if raw_value is None or not str(raw_value).strip():
            continue
        numbers[channel_type] += 1
        name = Phrase(_CHANNEL_NAMES[channel_type].template, number=numbers[channel_type])
        try:
            value = _CHANNEL_RULES[channel_type](str(raw_value))
        except InvalidValue as exc:
            raise Invalid("invalid {field}: {problem}", field=name, problem=Phrase(str(exc)),
                          errors={f"{field}-value": [str(exc)]}) from None
        if (channel_type, value) in seen:
            continue
        seen.add((channel_type, value))
        cleaned.append((channel_type, kind, value))
    if len(cleaned) > MAX_CHANNELS:
        raise Invalid("a contact has at most {limit} phones and e-mails", limit=MAX_CHANNELS,
                      errors={"channels": [f"at most {MAX_CHANNELS}"]})
    return cleaned


def _set_channels(contact: Contact, channels: list[tuple[ChannelType, ChannelKind, str]]) -> None:
    """Make ``channels`` (already clean) the contact's, in this order; ``email`` and ``phone`` follow the first."""
    existing = {(channel.type, channel.value): channel for channel in contact.channels}
    kept = []
    positions = {ChannelType.phone: 0, ChannelType.email: 0}
    for channel_type, kind, value in channels:
        channel = existing.pop((channel_type, value), None) or ContactChannel(type=channel_type, value=value)
        channel.kind = kind
        channel.position = positions[channel_type]
        positions[channel_type] += 1
        kept.append(channel)
    contact.channels = sorted(kept, key=lambda c: (c.type.value, c.position))
    _sync_primary(contact)


def _sync_primary(contact: Contact) -> None:
    firsts = {channel_type: next((c.value for c in sorted(contact.channels, key=lambda c: c.position)
                                  if c.type is channel_type), None) for channel_type in ChannelType}
    contact.email = firsts[ChannelType.email]
    contact.phone = firsts[ChannelType.phone]


def _current_channels(contact: Contact) -> list[tuple[ChannelType, ChannelKind, str]]:
    return [(channel.type, channel.kind, channel.value)
            for channel in sorted(contact.channels, key=lambda c: (c.type.value, c.position))]


def _with_primary(channels: list, channel_type: ChannelType, value: str | None) -> list:
    """``channels`` with ``value`` as the first of its type, in the place (and kind) of the former first one."""
    others = [c for c in channels if not (c[0] is channel_type and c[2] == value)]
    first = next((i for i, c in enumerate(others) if c[0] is channel_type), None)
    if value is None:
        return [c for i, c in enumerate(others) if i != first]
    if first is None:
        return [(channel_type, ChannelKind.work, value), *others]
    return [*others[:first], (channel_type, others[first][1], value), *others[first + 1:]]


def create_contact(session: Session, *, actor: User, account: Account, first_name: str = "", last_name: str = "",
                   patronymic: str = "", title: str = "", email: str | None = None, phone: str | None = None, tax_id: str | None = None,
                   owner: User | None = None, external_id: str | None = None, channels=None) -> Contact:
    """A new contact at ``account`` (edit rights on it) with its phones and e-mails, all normalized.

    ``channels`` (type, kind, value; in order) are its phones and e-mails; ``email`` and ``phone``,
    when given, are put first. The first of each type is also ``Contact.email`` / ``phone``.
    """
    authorize_on(session, user=actor, obj=account, governed_by=account.eps_node, label="account",
                 permission=Permission.edit)
    values = _contact_values({"first_name": first_name, "last_name": last_name, "patronymic": patronymic,
                              "title": title, "email": email,
                              "phone": phone, "tax_id": tax_id})
    if not values["first_name"] and not values["last_name"]:
        raise Invalid("a contact needs a name", errors={"last_name": ["give a first or last name"]})
    if owner is not None and not owner.is_active:
        raise Invalid("user {email} is inactive", email=owner.email, errors={"owner_id": ["inactive user"]})
    if external_id is not None and get_by_external_id(session, model=Contact, external_id=external_id):
        raise Conflict("a contact with external id {external_id!r} exists",
                       external_id=external_id, errors={"external_id": ["already in use"]})
    cleaned = contact_channels(channels or [])
    for channel_type in ChannelType:
        value = values[channel_type.value]
        if value is not None and not any(c[0] is channel_type and c[2] == value for c in cleaned):
            cleaned.insert(0, (channel_type, ChannelKind.work, value))
    contact = Contact(account=account, owner_id=owner.id if owner else None, external_id=external_id, **values)
    contact.channels = []
    _set_channels(contact, _primary_first(cleaned, values))
    session.add(contact)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=contact,
                 after={**contact.audit_state(), "channels": _channels_state(contact)})
    return contact


def _primary_first(cleaned: list, values: dict) -> list:
    """``cleaned`` with the given ``email``/``phone`` first of their types (the rest in the order given)."""
    result = list(cleaned)
    for channel_type in ChannelType:
        value = values.get(channel_type.value)
        if value is not None:
            same = [c for c in result if c[0] is channel_type and c[2] == value]
            result = same + [c for c in result if c not in same]
    return result


def _channels_state(contact: Contact) -> list[dict]:
    return [channel.audit_state() for channel in sorted(contact.channels, key=lambda c: (c.type.value, c.position))]


def update_contact(session: Session, *, actor: User, contact: Contact, **changes) -> Contact:
    """Change a contact (edit rights on its account); moving it to another account needs edit there too.

    ``channels`` replaces all its phones and e-mails (in the order given); ``email`` or ``phone``
    alone changes the first of that type, keeping the others.
    """
    authorize_on(session, user=actor, obj=contact, governed_by=contact.account.eps_node, label="contact",
                 permission=Permission.edit)
    before = {**contact.audit_state(), "channels": _channels_state(contact)}
    if "account" in changes:
        account = changes.pop("account")
        authorize_on(session, user=actor, obj=account, governed_by=account.eps_node, label="account",
                     permission=Permission.edit)
        contact.account_id = account.id
    if "owner" in changes:
        owner = changes.pop("owner")
        if owner is not None and not owner.is_active:
            raise Invalid("user {email} is inactive", email=owner.email, errors={"owner_id": ["inactive user"]})
        contact.owner_id = owner.id if owner else None
    channels = contact_channels(changes.pop("channels")) if "channels" in changes else _current_channels(contact)
    values = _contact_values(changes)
    for channel_type in ChannelType:
        if channel_type.value in values:
            channels = _with_primary(channels, channel_type, values.pop(channel_type.value))
    if not (values.get("first_name", contact.first_name) or values.get("last_name", contact.last_name)):
        raise Invalid("a contact needs a name", errors={"last_name": ["give a first or last name"]})
    for key, value in values.items():
        setattr(contact, key, value)
    _set_channels(contact, channels)
    session.flush()
    _follow_person(session, actor=actor, contact=contact)
    audit.record(session, actor=actor, action="update", entity=contact, before=before,
                 after={**contact.audit_state(), "channels": _channels_state(contact)})
    return contact


def upsert_contact(session: Session, *, actor: User, external_id: str, account: Account | None,
                   region: EpsNode | None = None, **fields) -> tuple[Contact, bool]:
    """The contact with ``external_id``, updated with ``fields``, or a new one; True when created.

    Without an ``account``, a new contact is a private client on ``region`` (``create_private_client``)
    and a known one stays at the account it has.
    ``channels``, when given, are all its phones and e-mails (as ``update_contact`` takes them).
    """
    contact = get_by_external_id(session, model=Contact, external_id=external_id)
    if contact is None:
        if account is None:
            if region is None:
                raise Invalid("a contact without an account is a private client and needs a branch (region)",
                              errors={"region_node_id": ["required"]})
            return create_private_client(session, actor=actor, region=region, external_id=external_id,
                                         **fields), True
        return create_contact(session, actor=actor, account=account, external_id=external_id, **fields), True
    owner = fields.pop("owner", None)
    channels = fields.pop("channels", None)
    values = _contact_values(fields)
    changed = {key: value for key, value in values.items() if getattr(contact, key) != value}
    if channels is not None and sorted(contact_channels(channels), key=lambda c: c[0].value) \
            != _current_channels(contact):
        changed["channels"] = channels
    if account is not None and account.id != contact.account_id:
        changed["account"] = account
    if owner is not None and owner.id != contact.owner_id:
        changed["owner"] = owner
    if changed:
        update_contact(session, actor=actor, contact=contact, **changed)
    return contact, False


def find_contact(session: Session, *, account: Account | None = None, email: str | None = None,
                 phone: str | None = None) -> Contact | None:
    """An unmerged contact with this (normalized) email or phone among any of theirs, at ``account`` when given."""
    query = contacts_with(email=email, phone=phone)
    if query is None:
        return None
    if account is not None:
        query = query.where(Contact.account_id == account.id)
    return session.scalars(query.limit(1)).first()


def contacts_with(*, email: str | None = None, phone: str | None = None) -> Select | None:
    """A select of the unmerged contacts with this (normalized) email or phone among theirs, oldest first;
    None when neither is given."""
    keys = [Contact.id.in_(ContactChannel.holders(channel_type, value))
            for channel_type, value in ((ChannelType.email, email), (ChannelType.phone, phone)) if value]
    if not keys:
        return None
    return select(Contact).where(or_(*keys), Contact.merged_into_id.is_(None)).order_by(Contact.id)


def find_contact_named(session: Session, *, user: User, name: str, email: str | None = None,
                       phone: str | None = None) -> Contact | None:
    """The oldest unmerged contact ``user`` may read with this (normalized) e-mail or phone among theirs whose
    name holds every word of ``name`` (in any order, case and ё aside: "Иванов Иван" finds
    "Иван Иванович Иванов"; initials match the words they begin: "Иванов И.И."); None when there is no such contact or no e-mail and phone to look by."""
    keys = [Contact.id.in_(ContactChannel.holders(channel_type, value))
            for channel_type, value in ((ChannelType.email, email), (ChannelType.phone, phone)) if value]
    wanted = _name_words(name)
    if not keys or not wanted:
        return None
    query = select(Contact).where(or_(*keys), Contact.merged_into_id.is_(None)).order_by(Contact.id).limit(50)
    readable = readable_account_ids(session, user=user)
    if readable is not None:
        query = query.where(Contact.account_id.in_(readable))
    words = {word for word in wanted if "." not in word}
    initials = [initial for word in wanted if "." in word for initial in word.split(".") if initial]
    for contact in session.scalars(query):
        own = _name_words(f"{contact.first_name} {contact.patronymic} {contact.last_name}")
        if words <= own and all(any(word.startswith(initial) for word in own) for initial in initials):
            return contact
    return None


def _name_words(name: str) -> set[str]:
    return set((name or "").casefold().replace("ё", "е").split())


def _readable_unmerged_contacts(session: Session, *, user: User, account_id: int | None = None) -> Select:
    base = select(Contact.id).where(Contact.merged_into_id.is_(None))
    readable = readable_account_ids(session, user=user)
    if readable is not None:
        base = base.where(Contact.account_id.in_(readable))
    if account_id is not None:
        base = base.where(Contact.account_id == account_id)
    return base


def find_duplicate_contacts(session: Session, *, user: User, account_id: int | None = None) -> list[dict]:
    """Groups of readable, unmerged contacts sharing an email, a phone (any of theirs) or a tax id."""
    base = _readable_unmerged_contacts(session, user=user, account_id=account_id)
    groups = []
    for channel_type in (ChannelType.email, ChannelType.phone):
        shared = (select(ContactChannel.value)
                  .where(ContactChannel.type == channel_type, ContactChannel.contact_id.in_(base))
                  .group_by(ContactChannel.value).having(func.count() > 1))
        rows = session.execute(select(ContactChannel.value, Contact)
                               .join(Contact, Contact.id == ContactChannel.contact_id)
                               .where(ContactChannel.type == channel_type, ContactChannel.contact_id.in_(base),
                                      ContactChannel.value.in_(shared))
                               .order_by(ContactChannel.value, Contact.id)).all()
        by_value: dict[str, list[Contact]] = {}
        for value, contact in rows:
            by_value.setdefault(value, []).append(contact)
        groups.extend({"key": channel_type.value, "value": value, "records": records}
                      for value, records in by_value.items())
    shared = (select(Contact.tax_id).where(Contact.id.in_(base), Contact.tax_id.is_not(None))
              .group_by(Contact.tax_id).having(func.count() > 1))
    by_tax_id: dict[str, list[Contact]] = {}
    for contact in session.scalars(select(Contact).where(Contact.id.in_(base), Contact.tax_id.in_(shared))
                                   .order_by(Contact.tax_id, Contact.id)):
        by_tax_id.setdefault(contact.tax_id, []).append(contact)
    groups.extend({"key": "tax_id", "value": value, "records": records} for value, records in by_tax_id.items())
    return groups


def duplicates_of(session: Session, *, user: User, contact: Contact, limit: int = 50) -> list[Contact]:
    """The readable, unmerged contacts other than ``contact`` sharing one of its phones, e-mails or its tax id."""
    # One set of candidates, each part an index look-up: an OR of one IN per value made PostgreSQL read every
    # contact to test each one.
    sharing = [ContactChannel.holders(channel.type, channel.value) for channel in contact.channels]
    if contact.tax_id:
        sharing.append(select(Contact.id).where(Contact.tax_id == contact.tax_id))
    if not sharing:
        return []
    candidates = union(*sharing) if len(sharing) > 1 else sharing[0]
    base = _readable_unmerged_contacts(session, user=user)
    return list(session.scalars(select(Contact).where(Contact.id.in_(candidates), Contact.id != contact.id,
                                                      Contact.id.in_(base))
                                .order_by(Contact.last_name, Contact.first_name, Contact.id).limit(limit)))


def merge_contacts(session: Session, *, actor: User, keep: Contact, merge: Contact) -> Contact:
    """Fold ``merge`` into ``keep`` (edit rights on both accounts): history is repointed, ``merge`` remembered."""
    for contact in (keep, merge):
        authorize_on(session, user=actor, obj=contact, governed_by=contact.account.eps_node, label="contact",
                     permission=Permission.edit)
    if keep.id == merge.id:
        raise Conflict("a contact cannot be merged into itself", errors={"merge_id": ["same as the kept contact"]})
    for contact in (keep, merge):
        if contact.merged_into_id is not None:
            raise Conflict("contact {contact_id} was already merged into {merged_into_id}",
                           contact_id=contact.id, merged_into_id=contact.merged_into_id,
                           errors={"merge_id": ["already merged"]})
    before = merge.audit_state()
    for model in (Interaction, Deal, Task, Lead, SurveyAnswer):
        session.execute(update(model).where(model.contact_id == merge.id).values(contact_id=keep.id)
                        .execution_options(synchronize_session=False))
    document_cleanup.move_documents(session, subject_type="contact", from_id=merge.id, to_id=keep.id,
                                    account_id=keep.account_id)
    # The person's choices (opt-outs above all) and tags follow the kept record.
    consent.merge_consents(session, keep_id=keep.id, merge_id=merge.id, actor=actor)
    tags.merge_contact_tags(session, keep_id=keep.id, merge_id=merge.id)
    for key in CONTACT_FIELDS:
        if key not in ("email", "phone") and not getattr(keep, key) and getattr(merge, key):
            setattr(keep, key, getattr(merge, key))
    # The merged record's phones and e-mails follow the kept one's (the merged record keeps its own copy, as history).
    kept = _current_channels(keep)
    known = {(channel_type, value) for channel_type, _kind, value in kept}
    _set_channels(keep, kept + [c for c in _current_channels(merge) if (c[0], c[2]) not in known])
    merge.merged_into_id = keep.id
    merge.merged_at = utcnow()
    session.flush()
    session.expire_all()
    audit.record(session, actor=actor, action="merge", entity=merge, before=before, after=merge.audit_state())
    audit.record(session, actor=actor, action="absorb", entity=keep, after={"merged_id": merge.id})
    return keep
