"""Staff pages of web-to-lead forms (``accounts.marketing.forms``): the list, new and edit (which lead fields,
required or not, their labels), and a form's page with the iframe code to embed, its counts and its recent leads
(only those the reader may read). Every staff user reads them; those who may change a form's branch change it."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from accounts import services as account_services
from accounts.marketing import forms
from accounts.marketing.models import Campaign, WebForm
from crmpm.database import db
from crmpm.errors import Invalid
from eps.models import EpsNode
from eps.permissions import Permission, access_to
from web.pages import page_blueprint
from web.pagination import paginate
from web.views.marketing.public_forms import field_labels

bp = page_blueprint("marketing_forms", __name__, url_prefix="/forms")

MAX_CAMPAIGN_CHOICES = 500
RECENT_LEADS = 20
# The staff's reasons (accounts.marketing.forms.unavailable_reason) in the reader's language.
REASONS = {
    "the user the form acts as no longer exists": lambda: _("the user the form acts as no longer exists"),
    "the user the form acts as is deactivated": lambda: _("the user the form acts as is deactivated"),
    "the user the form acts as may no longer change its branch":
        lambda: _("the user the form acts as may no longer change its branch"),
}


def _campaigns() -> list:
    return db.session.execute(select(Campaign.id, Campaign.name, Campaign.code).order_by(Campaign.name)
                              .limit(MAX_CAMPAIGN_CHOICES)).all()


def _branches(current: WebForm | None = None) -> list[EpsNode]:
    branches = account_services.branch_choices(db.session, user=g.user)
    if current is not None and all(node.id != current.region_node_id for node in branches):
        node = db.session.get(EpsNode, current.region_node_id)
        if node is not None and access_to(db.session, user=g.user, obj=node).can(Permission.read):
            branches.insert(0, node)
    return branches


def _int_or_none(name: str) -> int | None:
    value = (request.form.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 10:
        raise Invalid(_("Choose one of the offered values."), errors={name: ["not a choice"]})
    return int(value)


def _submitted() -> dict:
    """The form's settings from the page's form."""
    chosen = [{"name": name, "required": request.form.get(f"required_{name}") == "on",
               "label": request.form.get(f"label_{name}", "")}
              for name in forms.FIELDS if request.form.get(f"ask_{name}") == "on"]
    region = _int_or_none("region_node_id")
    if region is None:
        raise Invalid(_("Choose the branch its leads come in on."), errors={"region_node_id": ["required"]})
    return {"name": request.form.get("name", ""), "fields": chosen, "region_node_id": region,
            "campaign_id": _int_or_none("campaign_id"), "source": request.form.get("source", ""),
            "product": request.form.get("product", ""), "thank_you": request.form.get("thank_you", ""),
            "language": request.form.get("language", ""), "is_active": request.form.get("is_active") == "on"}


def _editor(form: WebForm | None):
    asked = {field["name"]: field for field in (form.fields if form else [])}
    return render_template("marketing/forms/edit.html", web_form=form, asked=asked, names=forms.FIELDS,
                           labels=field_labels(), branches=_branches(form), campaigns=_campaigns(),
                           form_languages=forms.LANGUAGES)


@bp.route("/")
def index():
    """Every form, with whether the reader may change it."""
    page = paginate(db.session, forms.list_forms(db.session, user=g.user))
    nodes = {node.id: node for node in db.session.scalars(
        select(EpsNode).where(EpsNode.id.in_({form.region_node_id for form in page.items})))}
    readable = {node_id for node_id, node in nodes.items()
                if access_to(db.session, user=g.user, obj=node).can(Permission.read)}
    return render_template("marketing/forms/index.html", page=page, nodes=nodes, readable=readable,
                           may_create=bool(account_services.branch_choices(db.session, user=g.user, limit=1)))


@bp.route("/new")
def new():
    return _editor(None)


@bp.route("/new", methods=["POST"])
def create():
    form = forms.create_form(db.session, actor=g.user, **_submitted())
    flash(_("The form %(name)s is created.", name=form.name), "info")
    return redirect(url_for(".show", form_id=form.id), code=303)


@bp.route("/<int:form_id>")
def show(form_id: int):
    """A form: its embed code, counts, whether it takes submissions, and its leads the reader may read."""
    form = forms.get_form_or_raise(db.session, user=g.user, form_id=form_id)
    node = db.session.get(EpsNode, form.region_node_id)
    reason = forms.unavailable_reason(db.session, form=form)
    leads = db.session.scalars(forms.recent_leads(db.session, user=g.user, form=form).limit(RECENT_LEADS)).all()
    campaign = db.session.get(Campaign, form.campaign_id) if form.campaign_id else None
    url = url_for("public_forms.show", key=form.key, _external=True)
    return render_template("marketing/forms/show.html", web_form=form, url=url, leads=leads, campaign=campaign,
                           node=node if access_to(db.session, user=g.user, obj=node).can(Permission.read) else None,
                           reason=REASONS[reason]() if reason else None,
                           spam=forms.spam_caught(db.session, form=form),
                           may_manage=forms.may_manage(db.session, user=g.user, form=form),
                           labels=field_labels())


@bp.route("/<int:form_id>/edit")
def edit(form_id: int):
    return _editor(forms.get_form_or_raise(db.session, user=g.user, form_id=form_id))


@bp.route("/<int:form_id>/edit", methods=["POST"])
def update(form_id: int):
    form = forms.get_form_or_raise(db.session, user=g.user, form_id=form_id)
    forms.update_form(db.session, actor=g.user, form=form, **_submitted())
    flash(_("The form is saved; it takes submissions with your rights."), "info")
    return redirect(url_for(".show", form_id=form.id), code=303)


@bp.route("/<int:form_id>/delete", methods=["POST"])
def delete(form_id: int):
    form = forms.get_form_or_raise(db.session, user=g.user, form_id=form_id)
    forms.delete_form(db.session, actor=g.user, form=form)
    flash(_("The form is deleted; its leads stay."), "info")
    return redirect(url_for(".index"), code=303)
