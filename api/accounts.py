"""Client accounts and their contacts: CRUD, the account timeline, duplicates and merges."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounts import activities, services
from accounts.models import AccountKind
from accounts.names import split_full_name
from api.common import Blueprint, Code, Id, Money, Name, Trimmed, current_user, page_schema, paginate, session
from api.export import ListArgs, csv_response, page_or_csv, wants_csv
from eps import services as eps_services

blp = Blueprint("accounts", __name__, url_prefix="/accounts", description="Client accounts (companies)")
contacts_blp = Blueprint("contacts", __name__, url_prefix="/contacts", description="People at client accounts")


def Text(max_length: int = 200, *, min_length: int = 0, **kwargs) -> fields.String:  # noqa: N802 - a field factory
    """Free text of at most ``max_length`` characters, trimmed."""
    return Trimmed(validate=validate.Length(min=min_length, max=max_length), **kwargs)


def ExternalId() -> fields.String:  # noqa: N802
    """An importer's id of a record in the system it came from."""
    return Trimmed(validate=validate.Length(min=1, max=100))


def user_field(field: str, user_id):
    """The active user ``user_id`` (None stays None), or a 404/422 naming ``field``."""
    return services.active_user(session(), user_id=user_id, field=field)


def account_field(field: str, account_id, **kwargs):
    """The readable account ``account_id`` (None stays None), or a 404 naming ``field``."""
    if account_id is None:
        return None
    return services.get_account_or_raise(session(), user=current_user(), account_id=account_id, field=field,
                                         **kwargs)


def contact_field(field: str, contact_id):
    """The readable contact ``contact_id`` (None stays None), or a 404 naming ``field``."""
    if contact_id is None:
        return None
    return services.get_contact_or_raise(session(), user=current_user(), contact_id=contact_id, field=field)


class RequisitesFields(Schema):
    """An account's details for invoices, acts and the exchange with accounting (checked by
    ``accounts.requisites``)."""

    kpp = Text(9, metadata={"description": "KPP: 9 characters"})
    ogrn = Text(15, metadata={"description": "OGRN (13 digits) or OGRNIP (15), with its check digit"})
    legal_address = Text(500)
    bank_name = Text(300)
    bank_bik = Text(9, metadata={"description": "BIK: 9 digits"})
    bank_account = Text(20, metadata={"description": "settlement account: 20 digits, its key matching the BIK"})
    bank_corr_account = Text(20, metadata={"description": "correspondent account: 20 digits, its key matching the BIK"})


class AccountCreateSchema(RequisitesFields):
    name = Name(required=True)
    region_node_id = Id(strict=True, metadata={"description": "The branch node; a new node is made under it."})
    eps_node_id = Id(strict=True, metadata={"description": "An existing client node to link instead."})
    code = Code(metadata={"description": "Code of the account's new EPS node (default: generated)."})
    tax_id = Text(40, allow_none=True)
    kind = fields.Enum(AccountKind, by_value=True, load_default=AccountKind.prospect)
    sector = Text(load_default="")
    segment = Text(load_default="")
    parent_id = Id(strict=True, allow_none=True)
    owner_id = Id(strict=True, allow_none=True)
    external_id = ExternalId()
    annual_revenue = Money(allow_none=True)
    employees = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0))

    @validates_schema
    def _one_place(self, data, **_kwargs):
        if ("region_node_id" in data) == ("eps_node_id" in data):
            raise ValidationError({"region_node_id": ["Give exactly one of region_node_id and eps_node_id."]})


class AccountUpdateSchema(RequisitesFields):
    name = Name()
    tax_id = Text(40, allow_none=True)
    kind = fields.Enum(AccountKind, by_value=True)
    sector = Text()
    segment = Text()
    parent_id = Id(strict=True, allow_none=True)
    owner_id = Id(strict=True, allow_none=True)
    annual_revenue = Money(allow_none=True)
    employees = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0))


class AccountReadSchema(Schema):
    id = fields.Integer()
    external_id = fields.String(allow_none=True)
    name = fields.String()
    tax_id = fields.String(allow_none=True)
    kind = fields.Enum(AccountKind, by_value=True)
    is_person = fields.Boolean(metadata={"description": (
        "A private client's own account (B2C), named after the person; its one contact is the client.")})
    sector = fields.String()
    segment = fields.String()
    region_node_id = Id()
    eps_node_id = Id()
    parent_id = Id(allow_none=True)
    owner_id = Id(allow_none=True)
    annual_revenue = Money(allow_none=True)
    employees = fields.Integer(allow_none=True)
    merged_into_id = Id(allow_none=True)
    kpp = fields.String()
    ogrn = fields.String()
    legal_address = fields.String()
    bank_name = fields.String()
    bank_bik = fields.String()
    bank_account = fields.String()
    bank_corr_account = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class AccountListArgs(ListArgs):
    q = fields.String(validate=validate.Length(min=1, max=200))
    owner_id = Id()
    region_node_id = Id()
    parent_id = Id()
    kind = fields.Enum(AccountKind, by_value=True)
    is_person = fields.Boolean(metadata={"description": "Private clients only (true) or companies only (false)."})
    include_merged = fields.Boolean(load_default=False)


class MergeSchema(Schema):
    merge_id = Id(required=True, strict=True, metadata={"description": "The record folded into this one."})


class TimelineItemSchema(Schema):
    type = fields.String(metadata={"description": "interaction, stage_change or task"})
    id = fields.Integer()
    at = fields.DateTime()
    deal_id = Id(allow_none=True)
    title = fields.String()
    detail = fields.String(allow_none=True)


AccountPageSchema = page_schema(AccountReadSchema)
TimelinePageSchema = page_schema(TimelineItemSchema)


def _account(account_id):
    return services.get_account_or_raise(session(), user=current_user(), account_id=account_id)


@blp.route("", methods=["POST"])
@blp.arguments(AccountCreateSchema)
@blp.response(201, AccountReadSchema)
def create_account(data):
    """Create an account: a new EPS node under ``region_node_id`` (edit rights there), or link ``eps_node_id``."""
    user, db = current_user(), session()
    region = eps_node = None
    if "region_node_id" in data:
        region = eps_services.get_node_or_raise(db, user=user, node_id=data.pop("region_node_id"),
                                                field="region_node_id")
    else:
        eps_node = eps_services.get_node_or_raise(db, user=user, node_id=data.pop("eps_node_id"), field="eps_node_id")
    parent = account_field("parent_id", data.pop("parent_id", None))
    owner = user_field("owner_id", data.pop("owner_id", None))
    details = {key: data.pop(key) for key in services.REQUISITE_FIELDS if key in data}
    return services.create_account(db, actor=user, region=region, eps_node=eps_node, parent=parent, owner=owner,
                                   requisites=details, **data)


@blp.route("", methods=["GET"])
@blp.arguments(AccountListArgs, location="query")
@blp.response(200, AccountPageSchema)
def list_accounts(args):
    """The accounts the caller may read; filter by text (name or exact tax id), owner, branch, kind, holding."""
    query = services.list_accounts(session(), user=current_user(), search=args.get("q"), owner_id=args.get("owner_id"),
                                   region_node_id=args.get("region_node_id"), kind=args.get("kind"),
                                   parent_id=args.get("parent_id"), include_merged=args["include_merged"],
                                   is_person=args.get("is_person"))
    return page_or_csv(query, args, AccountReadSchema, filename="accounts")


@blp.route("/<int:account_id>", methods=["GET"])
@blp.response(200, AccountReadSchema)
def get_account(account_id):
    """One account."""
    return _account(account_id)


@blp.route("/<int:account_id>", methods=["PATCH"])
@blp.arguments(AccountUpdateSchema)
@blp.response(200, AccountReadSchema)
def update_account(data, account_id):
    """Change an account (edit rights on its node)."""
    account = _account(account_id)
    if "parent_id" in data:
        data["parent"] = account_field("parent_id", data.pop("parent_id"))
    if "owner_id" in data:
        data["owner"] = user_field("owner_id", data.pop("owner_id"))
    return services.update_account(session(), actor=current_user(), account=account, **data)


@blp.route("/<int:account_id>/timeline", methods=["GET"])
@blp.arguments(ListArgs, location="query")
@blp.response(200, TimelinePageSchema)
def account_timeline(args, account_id):
    """The account's history, newest first: interactions, deal stage moves and tasks."""
    # Rows about a deal the caller may not read (a protected project under the account) are left out.
    query = activities.timeline(session(), account=_account(account_id), user=current_user())
    if wants_csv(args):
        return csv_response(session().execute(query.limit(100_000)).all(), TimelineItemSchema(),
                            filename="timeline")
    return paginate(query, args, scalars=False)


class DuplicateGroupSchema(Schema):
    key = fields.String(metadata={"description": "email, phone or tax_id"})
    value = fields.String()
    records = fields.List(fields.Nested(AccountReadSchema))


class DuplicatesSchema(Schema):
    items = fields.List(fields.Nested(DuplicateGroupSchema))


@blp.route("/duplicates", methods=["GET"])
@blp.response(200, DuplicatesSchema)
def account_duplicates():
    """Readable accounts sharing a tax id: candidates for a merge."""
    return {"items": services.find_duplicate_accounts(session(), user=current_user())}


@blp.route("/<int:account_id>/merge", methods=["POST"])
@blp.arguments(MergeSchema)
@blp.response(200, AccountReadSchema)
def merge_account(data, account_id):
    """Fold account ``merge_id`` into this one (manage rights on both); its deals, contacts and history move here."""
    keep = _account(account_id)
    merge = account_field("merge_id", data["merge_id"])
    return services.merge_accounts(session(), actor=current_user(), keep=keep, merge=merge)


# Contacts


_FULL_NAME = {"description": ("The whole name in one field, split when first_name, last_name and patronymic are "
                               "empty: Russian names in the order Фамилия Имя Отчество (accounts.names).")}


class ContactCreateSchema(Schema):
    account_id = Id(strict=True, metadata={"description": "The contact's company."})
    region_node_id = Id(strict=True, metadata={"description": (
        "Instead of account_id: a private client (B2C), with an account of their own on this branch.")})
    full_name = Text(metadata=_FULL_NAME)
    first_name = Text(load_default="")
    last_name = Text(load_default="")
    patronymic = Text(load_default="")
    title = Text(load_default="")
    email = Text(254, allow_none=True)
    phone = Text(40, allow_none=True)
    tax_id = Text(40, allow_none=True)
    owner_id = Id(strict=True, allow_none=True)
    external_id = ExternalId()

    @validates_schema
    def _one_place(self, data, **_kwargs):
        if ("account_id" in data) == ("region_node_id" in data):
            raise ValidationError({"account_id": ["Give exactly one of account_id and region_node_id."]})


class ContactUpdateSchema(Schema):
    account_id = Id(strict=True)
    full_name = Text(metadata=_FULL_NAME)
    first_name = Text()
    last_name = Text()
    patronymic = Text()
    title = Text()
    email = Text(254, allow_none=True)
    phone = Text(40, allow_none=True)
    tax_id = Text(40, allow_none=True)
    owner_id = Id(strict=True, allow_none=True)


class ContactReadSchema(Schema):
    id = fields.Integer()
    external_id = fields.String(allow_none=True)
    account_id = Id()
    name = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    patronymic = fields.String()
    title = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    tax_id = fields.String(allow_none=True)
    owner_id = Id(allow_none=True)
    merged_into_id = Id(allow_none=True)
    merged_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class ContactListArgs(ListArgs):
    account_id = Id()
    q = fields.String(validate=validate.Length(min=1, max=200))
    include_merged = fields.Boolean(load_default=False)


class ContactDuplicateGroupSchema(Schema):
    key = fields.String(metadata={"description": "email, phone or tax_id"})
    value = fields.String()
    records = fields.List(fields.Nested(ContactReadSchema))


class ContactDuplicatesSchema(Schema):
    items = fields.List(fields.Nested(ContactDuplicateGroupSchema))


class DuplicateArgs(Schema):
    account_id = Id()


ContactPageSchema = page_schema(ContactReadSchema)


@contacts_blp.route("", methods=["POST"])
@contacts_blp.arguments(ContactCreateSchema)
@contacts_blp.response(201, ContactReadSchema)
def create_contact(data):
    """Add a contact to an account (edit rights on it), or a private client on a branch (edit rights there);
    email and phone are normalized."""
    _split_full_name(data)
    owner = user_field("owner_id", data.pop("owner_id", None))
    if "region_node_id" in data:
        region = eps_services.get_node_or_raise(session(), user=current_user(), node_id=data.pop("region_node_id"),
                                                field="region_node_id")
        return services.create_private_client(session(), actor=current_user(), region=region, owner=owner, **data)
    account = account_field("account_id", data.pop("account_id"))
    return services.create_contact(session(), actor=current_user(), account=account, owner=owner, **data)


def _split_full_name(data: dict) -> None:
    """``full_name`` into the name's parts (accounts.names) when the parts are empty or not given."""
    full = data.pop("full_name", None)
    if full and not any(data.get(key) for key in ("first_name", "last_name", "patronymic")):
        person = split_full_name(full)
        data.update(first_name=person.first, last_name=person.last, patronymic=person.patronymic)


@contacts_blp.route("", methods=["GET"])
@contacts_blp.arguments(ContactListArgs, location="query")
@contacts_blp.response(200, ContactPageSchema)
def list_contacts(args):
    """The contacts the caller may read; filter by account or text."""
    query = services.list_contacts(session(), user=current_user(), account_id=args.get("account_id"),
                                   search=args.get("q"), include_merged=args["include_merged"])
    return page_or_csv(query, args, ContactReadSchema, filename="contacts")


@contacts_blp.route("/<int:contact_id>", methods=["GET"])
@contacts_blp.response(200, ContactReadSchema)
def get_contact(contact_id):
    """One contact."""
    return contact_field(None, contact_id)


@contacts_blp.route("/<int:contact_id>", methods=["PATCH"])
@contacts_blp.arguments(ContactUpdateSchema)
@contacts_blp.response(200, ContactReadSchema)
def update_contact(data, contact_id):
    """Change a contact (edit rights on its account, and on the new one when moving it)."""
    contact = contact_field(None, contact_id)
    _split_full_name(data)
    if "account_id" in data:
        data["account"] = account_field("account_id", data.pop("account_id"))
    if "owner_id" in data:
        data["owner"] = user_field("owner_id", data.pop("owner_id"))
    return services.update_contact(session(), actor=current_user(), contact=contact, **data)


@contacts_blp.route("/duplicates", methods=["GET"])
@contacts_blp.arguments(DuplicateArgs, location="query")
@contacts_blp.response(200, ContactDuplicatesSchema)
def contact_duplicates(args):
    """Readable contacts sharing an email, a phone or a tax id: candidates for a merge."""
    return {"items": services.find_duplicate_contacts(session(), user=current_user(),
                                                      account_id=args.get("account_id"))}


@contacts_blp.route("/<int:contact_id>/merge", methods=["POST"])
@contacts_blp.arguments(MergeSchema)
@contacts_blp.response(200, ContactReadSchema)
def merge_contact(data, contact_id):
    """Fold contact ``merge_id`` into this one: its interactions and deals are repointed, it is kept as merged."""
    keep = contact_field(None, contact_id)
    merge = contact_field("merge_id", data["merge_id"])
    return services.merge_contacts(session(), actor=current_user(), keep=keep, merge=merge)
