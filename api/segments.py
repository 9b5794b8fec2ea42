"""Segments (saved filters and static lists of contacts or accounts), and the tags and consents of accounts and
contacts.

A segment is read by every staff user and changed by its owner or an administrator; its members (and its count)
are always only those the caller may read. A filter's bad key answers 422 naming ``filter.<key>``.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from accounts import services
from accounts.marketing import consent as consents
from accounts.marketing import segments, tags
from accounts.marketing.models import NAME_LENGTH
from api.common import Blueprint, Id, PageArgs, current_user, page_schema, paginate, session
from crmpm.errors import Invalid
from crmpm.limits import accepts_upload
from crmpm.ratelimit import throttle
from eps.permissions import Permission

blp = Blueprint("segments", __name__, url_prefix="/segments",
                description="Segments: saved filters over contacts and accounts, and static lists")
tags_blp = Blueprint("tags-and-consents", __name__, url_prefix="",
                     description="Tags on accounts and contacts; a person's consent and opt-out per channel")

FILTER_DOC = ("Every key optional, combined with AND: " + ", ".join(segments.FILTER_KEYS)
              + ". An unknown key or a bad value answers 422 naming filter.<key>.")


class SegmentSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    subject = fields.String()
    kind = fields.String()
    filter = fields.Dict()
    description = fields.String()
    owner_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    count = fields.Integer(metadata={"description": "The live number of members the caller may read."})


class SegmentCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_LENGTH))
    subject = fields.String(load_default="contacts", validate=validate.OneOf(segments.SUBJECTS))
    kind = fields.String(load_default="dynamic", validate=validate.OneOf(segments.KINDS))
    filter = fields.Dict(load_default=dict, metadata={"description": FILTER_DOC})
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    contact_ids = fields.List(Id(), validate=validate.Length(max=segments.MAX_MEMBERS),
                              metadata={"description": "A static contacts segment's members."})
    account_ids = fields.List(Id(), validate=validate.Length(max=segments.MAX_MEMBERS),
                              metadata={"description": "A static accounts segment's members."})
    from_filter = fields.Boolean(load_default=False, metadata={
        "description": "A static segment of the filter's members now (those the caller may read), frozen."})


class SegmentUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=NAME_LENGTH))
    filter = fields.Dict(metadata={"description": FILTER_DOC})
    description = fields.String(validate=validate.Length(max=5000))
    owner_id = Id(allow_none=True)


class SegmentPreviewSchema(Schema):
    subject = fields.String(load_default="contacts", validate=validate.OneOf(segments.SUBJECTS))
    filter = fields.Dict(load_default=dict, metadata={"description": FILTER_DOC})


class SegmentCountSchema(Schema):
    count = fields.Integer()


class MembersChangeSchema(Schema):
    contact_ids = fields.List(Id(), validate=validate.Length(max=segments.MAX_MEMBERS))
    account_ids = fields.List(Id(), validate=validate.Length(max=segments.MAX_MEMBERS))


class MembersChangedSchema(Schema):
    changed = fields.Integer()
    count = fields.Integer()


class SegmentMemberSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    account_id = fields.Integer(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class SegmentCsvFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": (
        "CSV (UTF-8 or Windows-1251) with a header: e-mail, phone or contact id columns.")})


class SegmentCsvReportSchema(Schema):
    rows = fields.Integer()
    matched = fields.Integer()
    added = fields.Integer()
    count = fields.Integer()


SegmentPageSchema = page_schema(SegmentSchema)
SegmentMemberPageSchema = page_schema(SegmentMemberSchema)


def _read(segment) -> dict:
    db, user = session(), current_user()
    return {**{key: getattr(segment, key) for key in ("id", "name", "subject", "kind", "filter", "description",
                                                      "owner_id", "created_at", "updated_at")},
            "count": segments.count(db, segment, user=user)}


def _segment(segment_id: int, *, change: bool = False):
    return segments.get_segment_or_raise(session(), user=current_user(), segment_id=segment_id, change=change)


@blp.route("", methods=["POST"])
@blp.arguments(SegmentCreateSchema)
@blp.response(201, SegmentSchema)
def create_segment(data):
    """Create a segment owned by the caller: dynamic (a filter), or static (``contact_ids``/``account_ids``, or the
    filter's members now with ``from_filter``); answers it with its live count."""
    segment = segments.create_segment(session(), actor=current_user(), name=data["name"], subject=data["subject"],
                                      kind=data["kind"], flt=data["filter"], description=data["description"],
                                      contact_ids_=data.get("contact_ids"), account_ids_=data.get("account_ids"),
                                      from_filter=data["from_filter"])
    return _read(segment)


@blp.route("", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, SegmentPageSchema)
def list_segments(args):
    """Every segment, by name, each with its live count of the members the caller may read."""
    page = paginate(segments.list_segments(session()), args)
    page["items"] = [_read(segment) for segment in page["items"]]
    return page


@blp.route("/preview", methods=["POST"])
@blp.arguments(SegmentPreviewSchema)
@blp.response(200, SegmentCountSchema)
def preview(data):
    """How many members (that the caller may read) a filter has now; nothing is saved."""
    return {"count": segments.preview_count(session(), user=current_user(), subject=data["subject"], flt=data["filter"])}


@blp.route("/<int:segment_id>", methods=["GET"])
@blp.response(200, SegmentSchema)
def get_segment(segment_id):
    """One segment with its live count."""
    return _read(_segment(segment_id))


@blp.route("/<int:segment_id>", methods=["PATCH"])
@blp.arguments(SegmentUpdateSchema)
@blp.response(200, SegmentSchema)
def update_segment(data, segment_id):
    """Rename, describe or refilter a segment (its owner or an administrator; a new owner: an administrator)."""
    segment = _segment(segment_id)
    return _read(segments.update_segment(session(), actor=current_user(), segment=segment, **data))


@blp.route("/<int:segment_id>", methods=["DELETE"])
@blp.response(204)
def delete_segment(segment_id):
    """Delete a segment (its owner or an administrator)."""
    segments.delete_segment(session(), actor=current_user(), segment=_segment(segment_id))


@blp.route("/<int:segment_id>/members", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, SegmentMemberPageSchema)
def list_members(args, segment_id):
    """The members now (contacts or accounts, by id) that the caller may read; ``total`` is the live count."""
    segment = _segment(segment_id)
    page = paginate(segments.members(session(), segment, user=current_user()), args)
    if segment.subject == "accounts":
        page["items"] = [{"id": account.id, "name": account.name, "account_id": account.id, "email": None,
                          "phone": None} for account in page["items"]]
    return page


@blp.route("/<int:segment_id>/members", methods=["POST"])
@blp.arguments(MembersChangeSchema)
@blp.response(200, MembersChangedSchema)
def add_members(data, segment_id):
    """Add members to a static segment (ids of its subject that the caller may read; 422 names the others)."""
    segment = _segment(segment_id, change=True)
    ids = _ids_of(segment, data)
    changed = segments.add_members(session(), actor=current_user(), segment=segment, ids=ids)
    return {"changed": changed, "count": segments.count(session(), segment, user=current_user())}


@blp.route("/<int:segment_id>/members/remove", methods=["POST"])
@blp.arguments(MembersChangeSchema)
@blp.response(200, MembersChangedSchema)
def remove_members(data, segment_id):
    """Remove members from a static segment."""
    segment = _segment(segment_id, change=True)
    changed = segments.remove_members(session(), actor=current_user(), segment=segment, ids=_ids_of(segment, data))
    return {"changed": changed, "count": segments.count(session(), segment, user=current_user())}


def _ids_of(segment, data) -> list[int]:
    field = "account_ids" if segment.subject == "accounts" else "contact_ids"
    other = "contact_ids" if field == "account_ids" else "account_ids"
    if data.get(other):
        raise Invalid("the members are not of the segment's subject", errors={other: [f"a {segment.subject} segment"]})
    if field not in data:
        raise Invalid("which members?", errors={field: ["required"]})
    return data[field]


@blp.route("/<int:segment_id>/members/csv", methods=["POST"])
@accepts_upload("MAX_CSV_UPLOAD_LENGTH")
@blp.arguments(SegmentCsvFileSchema, location="files")
@blp.response(200, SegmentCsvReportSchema)
@blp.throttled()
def import_members(files, segment_id):
    """Add the contacts a CSV names to a static contacts segment: every row must match a contact the caller may
    read (by contact id, e-mail or phone), else 422 lists the rows by line number in ``errors.file`` and nothing
    is added."""
    segment = _segment(segment_id, change=True)
    throttle().attempt("segment-csv", current_user().id)
    result = segments.import_csv(session(), actor=current_user(), segment=segment, data=files["file"].read())
    return {"rows": result.rows, "matched": result.matched, "added": result.added,
            "count": segments.count(session(), segment, user=current_user())}


# ---------------------------------------------------------------------------------------------------------------
# Tags and consents


class TagsSchema(Schema):
    tags = fields.List(fields.String(validate=validate.Length(max=1000)), required=True,
                       validate=validate.Length(max=1000),
                       metadata={"description": f"Normalized (stripped, lower-cased); at most {tags.MAX_TAGS}."})


class ConsentSchema(Schema):
    channel = fields.String()
    consented_at = fields.DateTime(allow_none=True)
    consent_source = fields.String()
    opted_out_at = fields.DateTime(allow_none=True)
    opt_out_source = fields.String()
    may_send = fields.Boolean(metadata={"description": "No opt-out stands."})
    consent_stands = fields.Boolean(metadata={"description": "Consent given and not withdrawn."})


class ConsentChangeSchema(Schema):
    consent = fields.Boolean(required=True, metadata={"description": "true: consent; false: opt-out."})
    source = fields.String(required=True, validate=validate.Length(min=1, max=200),
                           metadata={"description": "How: a signed form, a call, a letter."})


def _account(account_id, permission=Permission.read):
    return services.get_account_or_raise(session(), user=current_user(), account_id=account_id, permission=permission)


def _contact(contact_id, permission=Permission.read):
    return services.get_contact_or_raise(session(), user=current_user(), contact_id=contact_id, permission=permission)


@tags_blp.route("/accounts/<int:account_id>/tags", methods=["GET"])
@tags_blp.response(200, TagsSchema)
def account_tags(account_id):
    """An account's tags."""
    return {"tags": tags.tags_of(session(), _account(account_id))}


@tags_blp.route("/accounts/<int:account_id>/tags", methods=["PUT"])
@tags_blp.arguments(TagsSchema)
@tags_blp.response(200, TagsSchema)
def set_account_tags(data, account_id):
    """Replace an account's tags (edit rights on it)."""
    return {"tags": tags.set_tags(session(), current_user(), _account(account_id), data["tags"])}


@tags_blp.route("/contacts/<int:contact_id>/tags", methods=["GET"])
@tags_blp.response(200, TagsSchema)
def contact_tags(contact_id):
    """A contact's tags."""
    return {"tags": tags.tags_of(session(), _contact(contact_id))}


@tags_blp.route("/contacts/<int:contact_id>/tags", methods=["PUT"])
@tags_blp.arguments(TagsSchema)
@tags_blp.response(200, TagsSchema)
def set_contact_tags(data, contact_id):
    """Replace a contact's tags (edit rights on its account)."""
    return {"tags": tags.set_tags(session(), current_user(), _contact(contact_id), data["tags"])}


@tags_blp.route("/contacts/<int:contact_id>/consents", methods=["GET"])
@tags_blp.response(200, ConsentSchema(many=True))
def contact_consents(contact_id):
    """Every channel (e-mail, SMS, messenger, phone) with when and how the person consented and opted out."""
    return consents.consents_of(session(), _contact(contact_id).id)


@tags_blp.route("/contacts/<int:contact_id>/consents/<string:channel>", methods=["PUT"])
@tags_blp.arguments(ConsentChangeSchema)
@tags_blp.response(200, ConsentSchema(many=True))
def set_contact_consent(data, contact_id, channel):
    """Record the person's consent to (``consent`` true) or opt-out of (false) a channel, and how (edit rights on
    the contact's account); answers every channel."""
    contact = _contact(contact_id)
    consents.set_consent(session(), actor=current_user(), contact=contact, channel=channel, consent=data["consent"],
                         source=data["source"])
    return consents.consents_of(session(), contact.id)
