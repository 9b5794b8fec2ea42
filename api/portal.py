"""The client portal seen from the staff API: inviting a contact, ending their access, sharing a project."""

from __future__ import annotations


from flask import request, url_for
from marshmallow import Schema, fields, validate

from accounts import services as crm
from accounts.portal import invites, sharing
from accounts.portal.models import PortalProject
from api.common import Blueprint, current_user, session
from crmpm.jobs.services import public_url
from crmpm.ratelimit import throttle
from eps import services as eps_services

contacts_blp = Blueprint("portal_contacts", __name__, url_prefix="/contacts",
                         description="Client contacts' access to the portal")
projects_blp = Blueprint("portal_projects", __name__, url_prefix="/projects",
                         description="Projects shared with their account's clients on the portal")


class InviteSchema(Schema):
    locale = fields.String(load_default=None, validate=validate.OneOf(invites.LOCALES))


class InvitationSchema(Schema):
    link = fields.String(metadata={"description": "The portal's page setting the client's password; works once."})
    expires_at = fields.DateTime()
    user_id = fields.Integer()
    contact_id = fields.Integer()
    account_id = fields.Integer()
    email = fields.String()
    role = fields.String()


class SharingSchema(Schema):
    shared = fields.Boolean(required=True)


class SharingReadSchema(Schema):
    project_id = fields.Integer()
    shared = fields.Boolean()
    shared_at = fields.DateTime(allow_none=True)
    shared_by_id = fields.Integer(allow_none=True)


def _link_for(token: str) -> str:
    """The absolute address of the portal's set-password page for ``token``."""
    base = public_url(session()) or request.host_url.rstrip("/")
    return base + url_for("portal_auth.welcome", token=token)


def _contact(contact_id: int):
    return crm.get_contact_or_raise(session(), user=current_user(), contact_id=contact_id)


@contacts_blp.route("/<int:contact_id>/portal-invite", methods=["POST"])
@contacts_blp.arguments(InviteSchema)
@contacts_blp.response(201, InvitationSchema)
@contacts_blp.throttled()
def invite(data, contact_id):
    """Invite the contact to the client portal (edit rights on its account): their client user and a one-time
    link to set a password, e-mailed to them and returned once. Inviting again sends a new link (the old one
    stops working) and gives back access that was ended."""
    contact = _contact(contact_id)
    throttle().attempt("portal-invite", current_user().id)
    sent = invites.invite(session(), actor=current_user(), contact=contact, link_for=_link_for,
                          locale=data["locale"])
    return {"link": sent.link, "expires_at": sent.expires_at, "user_id": sent.user.id, "contact_id": contact.id,
            "account_id": sent.client.account_id, "email": sent.user.email, "role": "client"}


@contacts_blp.route("/<int:contact_id>/portal-invite", methods=["DELETE"])
@contacts_blp.response(204)
def revoke(contact_id):
    """End the contact's portal access (edit rights on its account): their login deactivated, sessions ended."""
    invites.revoke(session(), actor=current_user(), contact=_contact(contact_id))


def _sharing(project) -> dict:
    row = session().get(PortalProject, project.id)
    return {"project_id": project.id, "shared": row is not None, "shared_at": row.shared_at if row else None,
            "shared_by_id": row.shared_by_id if row else None}


@projects_blp.route("/<int:project_id>/portal", methods=["GET"])
@projects_blp.response(200, SharingReadSchema)
def get_sharing(project_id):
    """Whether the project is shared with its account's clients on the portal."""
    return _sharing(eps_services.get_project_or_raise(session(), user=current_user(), project_id=project_id))


@projects_blp.route("/<int:project_id>/portal", methods=["PUT"])
@projects_blp.arguments(SharingSchema)
@projects_blp.response(200, SharingReadSchema)
def put_sharing(data, project_id):
    """Share the project with its account's clients, or stop (edit rights on the project)."""
    project = eps_services.get_project_or_raise(session(), user=current_user(), project_id=project_id)
    sharing.share(session(), actor=current_user(), project=project, shared=data["shared"])
    return _sharing(project)
