"""The portal seen from staff pages: a project's "shared with the client" toggle (the project and deal pages) and
a contact's portal access (the contact page). Small sections rendered by ``portal_sharing(project)`` and
``portal_access(contact)``; the forms post here, the rules are in ``accounts.portal``."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from accounts import services as crm
from accounts.portal import invites, sharing
from accounts.portal.models import PortalUser
from crmpm.database import db
from crmpm.ratelimit import throttle
from eps import services as eps_services
from eps.permissions import Permission, access_to
from web.pages import page_blueprint, safe_next

bp = page_blueprint("portal_staff", __name__, url_prefix="/client-portal")


def portal_sharing(project) -> Markup:
    """The "client portal" line of a project's page: shared or not, and the toggle for those who may edit."""
    can_edit = access_to(db.session, user=g.user, obj=project).can(Permission.edit)
    return Markup(render_template("portal/staff/_sharing.html", project=project, can_edit=can_edit,
                                  shared=sharing.is_shared(db.session, project),
                                  back=request.full_path.rstrip("?")))


def portal_access(contact) -> Markup:
    """The "client portal" line of a contact's page: their access, and invite / end access for editors."""
    can_edit = access_to(db.session, user=g.user, obj=contact.account.eps_node).can(Permission.edit)
    client = db.session.query(PortalUser).filter_by(contact_id=contact.id).one_or_none()
    return Markup(render_template("portal/staff/_access.html", contact=contact, client=client, can_edit=can_edit,
                                  back=request.full_path.rstrip("?")))


@bp.app_context_processor
def _helpers() -> dict:
    return {"portal_sharing": portal_sharing, "portal_access": portal_access}


@bp.route("/projects/<int:project_id>", methods=["POST"])
def share(project_id: int):
    """Share the project with its account's clients, or stop (edit rights)."""
    project = eps_services.get_project_or_raise(db.session, user=g.user, project_id=project_id)
    shared = sharing.share(db.session, actor=g.user, project=project, shared=request.form.get("shared") == "1")
    flash(_("The project is shared with the client.") if shared else _("The project is no longer shared with the "
                                                                         "client."), "success")
    return redirect(safe_next("pm.project", project_id=project.id), code=303)


def _link_for(token: str) -> str:
    return url_for("portal_auth.welcome", token=token, _external=True)


@bp.route("/contacts/<int:contact_id>/invite", methods=["POST"])
def invite(contact_id: int):
    """Invite the contact to the portal: the link is e-mailed to them and shown here once."""
    contact = crm.get_contact_or_raise(db.session, user=g.user, contact_id=contact_id)
    throttle().attempt("portal-invite", g.user.id)
    sent = invites.invite(db.session, actor=g.user, contact=contact, link_for=_link_for)
    flash(_("The invitation is sent to %(email)s. Its link, shown once: %(link)s", email=sent.user.email,
            link=sent.link), "success")
    return redirect(safe_next("crm.contact", contact_id=contact.id), code=303)


@bp.route("/contacts/<int:contact_id>/revoke", methods=["POST"])
def revoke(contact_id: int):
    """End the contact's portal access."""
    contact = crm.get_contact_or_raise(db.session, user=g.user, contact_id=contact_id)
    invites.revoke(db.session, actor=g.user, contact=contact)
    flash(_("The contact's portal access has ended."), "success")
    return redirect(safe_next("crm.contact", contact_id=contact.id), code=303)
