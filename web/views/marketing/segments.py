"""Marketing pages: segments (list with live counts, the filter form, a segment's members, CSV lists, delete), and
the tags and consents forms of the account and contact pages.

Everything goes through ``accounts.marketing`` (segments, tags, consent): a segment is read by every staff user and
changed by its owner or an administrator; members and counts are only what the user may read.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from accounts import services
from accounts.marketing import consent, segments, tags
from accounts.marketing.models import CHANNELS
from accounts.models import Account, Pipeline, PipelineStage, StageKind
from crmpm.database import db
from crmpm.errors import Invalid
from crmpm.limits import accepts_upload
from crmpm.ratelimit import throttle
from crmpm.users.models import User
from eps.models import EpsNode
from eps.permissions import Permission, access_to, visible
from web.pages import page_blueprint, safe_next
from web.views.crm.accounts import KIND_LABELS
from web.pagination import paginate

bp = page_blueprint("marketing_segments", __name__, url_prefix="/marketing/segments")

LIST_KEYS = ("sectors", "products", "tags", "contact_tags")  # typed as text, separated by commas
ID_KEYS = ("branch_ids", "owner_ids", "open_deal_stage_ids")  # chosen in multiple pickers
CHOICE_KEYS = ("account_kinds", "rfm_segments")  # ticked
TEXT_KEYS = ("lifetime_value_min", "lifetime_value_max", "last_contact_before", "last_contact_after")
NUMBER_KEYS = ("no_contact_days", "satisfaction_min", "satisfaction_max")


def rfm_labels() -> dict[str, str]:
    return {"champions": _("Champions"), "loyal": _("Loyal"), "new": _("New"), "at_risk": _("At risk"),
            "hibernating": _("Hibernating")}


def channel_labels() -> dict[str, str]:
    return {"email": _("E-mail"), "sms": _("SMS"), "messenger": _("Messenger"), "phone": _("Phone")}


def kind_labels() -> dict[str, str]:
    return {kind.value: str(label) for kind, label in KIND_LABELS.items()}


def filter_from_form(form) -> dict:
    """The filter the form describes (only the fields filled in); Invalid naming ``filter.<key>`` for a number
    that is not one. The domain checks the rest (``segments.validate_filter``)."""
    flt: dict = {}
    for key in LIST_KEYS:
        items = [item.strip() for item in form.get(key, "").split(",") if item.strip()]
        if items:
            flt[key] = items
    for key in ID_KEYS + NUMBER_KEYS:
        values = [value.strip() for value in form.getlist(key) if value.strip()]
        if not values:
            continue
        if not all(value.isdigit() and len(value) < 10 for value in values):
            raise Invalid("the filter is not valid: {problems}", errors={f"filter.{key}": ["a number"]},
                          problems=f"{key}: a number")
        numbers = [int(value) for value in values]
        flt[key] = numbers if key in ID_KEYS else numbers[0]
    for key in CHOICE_KEYS:
        values = [value for value in form.getlist(key) if value]
        if values:
            flt[key] = values
    for key in TEXT_KEYS:
        value = form.get(key, "").strip().replace(" ", "").replace(",", ".") if "value" in key else form.get(key, "").strip()
        if value:
            flt[key] = value
    if form.get("has_email") in ("yes", "no"):
        flt["has_email"] = form["has_email"] == "yes"
    for key in ("consent_channel", "not_opted_out_channel"):
        if form.get(key):
            flt[key] = form[key]
    return flt


def _pickers() -> dict:
    session = db.session
    branches = session.scalars(select(EpsNode).where(
        EpsNode.id.in_(select(Account.region_node_id).distinct()),
        visible(session, user=g.user, model=EpsNode)).order_by(EpsNode.path).limit(500)).all()
    stages = session.execute(select(PipelineStage.id, Pipeline.name, PipelineStage.name)
                             .join(Pipeline, Pipeline.id == PipelineStage.pipeline_id)
                             .where(PipelineStage.kind == StageKind.open)
                             .order_by(Pipeline.name, PipelineStage.position)).all()
    owners = session.scalars(select(User).where(User.is_active.is_(True), User.is_client.is_(False))
                             .order_by(User.name).limit(1000)).all()
    return {"branches": branches, "stages": stages, "owners": owners, "kinds": kind_labels(),
            "rfm": rfm_labels(), "channels": channel_labels(), "all_channels": CHANNELS}


def _segment(segment_id: int):
    return segments.get_segment_or_raise(db.session, user=g.user, segment_id=segment_id)


def _may_change(segment) -> bool:
    return g.user.is_admin or segment.owner_id == g.user.id


@bp.route("/")
def index():
    """Every segment, with its live count of the members the user may read."""
    page = paginate(db.session, segments.list_segments(db.session))
    counts = {segment.id: segments.count(db.session, segment, user=g.user) for segment in page.items}
    owners = dict(db.session.execute(select(User.id, User.name).where(
        User.id.in_({segment.owner_id for segment in page.items if segment.owner_id}))).all())
    return render_template("marketing/segments.html", page=page, counts=counts, owners=owners)


@bp.route("/new")
def new():
    """The form of a new segment: a filter (dynamic or frozen now), or an empty static list."""
    return render_template("marketing/segment_form.html", segment=None, flt={}, **_pickers())


@bp.route("/new", methods=["POST"])
def create():
    """Create the segment the form describes and show it."""
    kind = request.form.get("kind", "dynamic")
    from_filter = kind == "frozen"
    segment = segments.create_segment(db.session, actor=g.user, name=request.form.get("name", ""),
                                      subject=request.form.get("subject", "contacts"),
                                      kind="static" if kind in ("static", "frozen") else kind,
                                      flt=filter_from_form(request.form) if kind != "static" else {},
                                      description=request.form.get("description", ""), from_filter=from_filter)
    flash(_("Segment %(name)s saved.", name=segment.name), "success")
    return redirect(url_for("marketing_segments.show", segment_id=segment.id), code=303)


@bp.route("/preview", methods=["POST"])
def preview():
    """How many members the filter has now (nothing saved): the form comes back with the figure."""
    subject = request.form.get("subject", "contacts")
    flt = filter_from_form(request.form)
    count = segments.preview_count(db.session, user=g.user, subject=subject, flt=flt)
    return render_template("marketing/segment_form.html", segment=None, flt=flt, preview=count,
                           form=request.form, **_pickers())


@bp.route("/<int:segment_id>")
def show(segment_id: int):
    """A segment: its filter, live count and members (those the user may read), its CSV upload when static."""
    segment = _segment(segment_id)
    page = paginate(db.session, segments.members(db.session, segment, user=g.user))
    owner = db.session.get(User, segment.owner_id) if segment.owner_id else None
    return render_template("marketing/segment.html", segment=segment, page=page, owner=owner,
                           can_change=_may_change(segment), rfm=rfm_labels(), channels=channel_labels())


@bp.route("/<int:segment_id>/edit")
def edit(segment_id: int):
    segment = _segment(segment_id)
    segments.authorize_change(g.user, segment)
    return render_template("marketing/segment_form.html", segment=segment, flt=segment.filter or {}, **_pickers())


@bp.route("/<int:segment_id>/edit", methods=["POST"])
def update(segment_id: int):
    segment = _segment(segment_id)
    changes = {"name": request.form.get("name", ""), "description": request.form.get("description", "")}
    if segment.kind == "dynamic":
        changes["filter"] = filter_from_form(request.form)
    segments.update_segment(db.session, actor=g.user, segment=segment, **changes)
    flash(_("Segment %(name)s saved.", name=segment.name), "success")
    return redirect(url_for("marketing_segments.show", segment_id=segment.id), code=303)


@bp.route("/<int:segment_id>/delete", methods=["POST"])
def delete(segment_id: int):
    segment = _segment(segment_id)
    name = segment.name
    segments.delete_segment(db.session, actor=g.user, segment=segment)
    flash(_("Segment %(name)s deleted.", name=name), "success")
    return redirect(url_for("marketing_segments.index"), code=303)


@bp.route("/<int:segment_id>/csv", methods=["POST"])
@accepts_upload("MAX_CSV_UPLOAD_LENGTH")
def upload(segment_id: int):
    """Add the contacts of a CSV (e-mail, phone or contact id columns) to a static list: all rows or none."""
    segment = _segment(segment_id)
    segments.authorize_change(g.user, segment)
    throttle().attempt("segment-csv", g.user.id)
    file = request.files.get("file")
    if file is None or not file.filename:
        raise Invalid(_("Choose a file to upload."), errors={"file": ["required"]})
    result = segments.import_csv(db.session, actor=g.user, segment=segment, data=file.read())
    flash(_("%(rows)s rows read, %(added)s contacts added.", rows=result.rows, added=result.added), "success")
    return redirect(url_for("marketing_segments.show", segment_id=segment.id), code=303)


@bp.route("/<int:segment_id>/members/remove", methods=["POST"])
def remove_member(segment_id: int):
    segment = _segment(segment_id)
    value = request.form.get("member_id", "")
    if not value.isdigit() or len(value) > 9:
        raise Invalid(_("Choose a member."), errors={"member_id": ["a number"]})
    segments.remove_members(db.session, actor=g.user, segment=segment, ids=[int(value)])
    return redirect(url_for("marketing_segments.show", segment_id=segment.id), code=303)


# ---------------------------------------------------------------------------------------------------------------
# Tags and consents on the account and contact pages


def marketing_section(subject) -> Markup:
    """The tags (accounts and contacts) and consents (contacts) of ``subject``'s page, read with its rights."""
    session = db.session
    node = subject.eps_node if isinstance(subject, Account) else subject.account.eps_node
    can_edit = access_to(session, user=g.user, obj=node).can(Permission.edit)
    is_account = isinstance(subject, Account)
    rows = [] if is_account else consent.consents_of(session, subject.id)
    return Markup(render_template("marketing/_section.html", subject=subject, is_account=is_account,
                                  tags=tags.tags_of(session, subject), consents=rows, can_edit=can_edit,
                                  channels=channel_labels(), back=request.full_path.rstrip("?")))


@bp.app_context_processor
def _section_helper() -> dict:
    return {"marketing_section": marketing_section}


def _target(subject_type: str, subject_id: int):
    if subject_type == "account":
        return services.get_account_or_raise(db.session, user=g.user, account_id=subject_id)
    return services.get_contact_or_raise(db.session, user=g.user, contact_id=subject_id)


@bp.route("/tags/<any(account, contact):subject_type>/<int:subject_id>", methods=["POST"])
def set_tags(subject_type: str, subject_id: int):
    """Replace the tags of an account or contact (comma-separated)."""
    target = _target(subject_type, subject_id)
    words = [word for word in request.form.get("tags", "").split(",") if word.strip()]
    tags.set_tags(db.session, g.user, target, words)
    flash(_("Tags saved."), "success")
    return redirect(safe_next(), code=303)


@bp.route("/consents/<int:contact_id>", methods=["POST"])
def set_consent(contact_id: int):
    """Record a person's consent to, or opt-out of, one channel, with how it was given."""
    contact = _target("contact", contact_id)
    choice = request.form.get("consent")
    if choice not in ("yes", "no"):
        raise Invalid(_("Choose consent or opt-out."), errors={"consent": ["yes or no"]})
    consent.set_consent(db.session, actor=g.user, contact=contact, channel=request.form.get("channel", ""),
                        consent=choice == "yes", source=request.form.get("source", ""))
    flash(_("Consent recorded."), "success")
    return redirect(safe_next(), code=303)
