"""Integrations: named inbound channels created by administrators, each with its own bearer token.

The token is ``crmpmi_`` and 256 random bits, stored as a hash by the same rule as API tokens
(``crmpm.users.services.token_digest``) and shown once. The prefix differs from API tokens' (``crmpm_``):
``crmpm.users.services.user_for_token`` refuses an integration token anywhere in the API, and
``integration_for_token`` refuses a user's token on the inbound endpoints.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crmpm import audit
from crmpm.database import utcnow
from crmpm.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from crmpm.users import services as users
from crmpm.users.models import User
from eps.models import EpsNode
from eps.permissions import Permission, access_to

from accounts.inbound.models import Integration, IntegrationKind

TOKEN_PREFIX = "crmpmi_"
# How precisely ``last_used_at`` is kept: a busy exchange writes the row once per interval, not per call.
USE_RESOLUTION = timedelta(minutes=5)


def _admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("only administrators manage integrations")


def _check_acting(session: Session, *, node: EpsNode, user: User) -> None:
    """The acting user must be active and able to change ``node``: that is where its leads land."""
    if not user.is_active:
        raise Invalid("user {email} is inactive", email=user.email, errors={"acting_user_id": ["inactive user"]})
    if not access_to(session, user=user, obj=node).can(Permission.edit):
        raise Invalid("the acting user may not change EPS node {node_id}, where its leads would land",
                      node_id=node.id, errors={"acting_user_id": ["no edit rights on region_node_id"]})


def _unique_name(session: Session, name: str, *, other_than: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise Invalid("an integration needs a name", errors={"name": ["required"]})
    clash = select(Integration.id).where(Integration.name == name)
    if other_than is not None:
        clash = clash.where(Integration.id != other_than)
    if session.scalar(clash) is not None:
        raise Conflict("an integration named {name!r} exists", name=name, errors={"name": ["already in use"]})
    return name


def _node(session: Session, node_id: int) -> EpsNode:
    node = session.get(EpsNode, node_id)
    if node is None:
        raise NotFound("EPS node {node_id} not found", node_id=node_id, errors={"region_node_id": ["not found"]})
    return node


def create_integration(session: Session, *, actor: User, kind: IntegrationKind, name: str, region_node_id: int,
                       acting_user_id: int | None = None) -> tuple[Integration, str]:
    """A new integration (administrators); returns it and its token, which is never stored.

    Its records are made with the rights of ``acting_user_id`` (by default the administrator creating it):
    a user who may change ``region_node_id``, where its new leads land.
    """
    _admin(actor)
    region = _node(session, region_node_id)
    acting_user = users.get_or_raise(session, user_id=acting_user_id, field="acting_user_id") \
        if acting_user_id is not None else actor
    _check_acting(session, node=region, user=acting_user)
    integration = Integration(kind=IntegrationKind(kind), name=_unique_name(session, name), region_node=region,
                              acting_user=acting_user, created_by_id=actor.id, is_active=True)
    secret = _issue(integration)
    session.add(integration)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=integration, after=integration.audit_state())
    return integration, secret


def get_integration_or_raise(session: Session, *, actor: User, integration_id: int) -> Integration:
    """The integration (administrators: others are refused before anything is looked up)."""
    _admin(actor)
    integration = session.get(Integration, integration_id)
    if integration is None:
        raise NotFound("integration {integration_id} not found", integration_id=integration_id)
    return integration


def list_integrations(session: Session, *, actor: User) -> Select:
    """A select of every integration, oldest first (administrators)."""
    _admin(actor)
    return select(Integration).order_by(Integration.id)


def update_integration(session: Session, *, actor: User, integration: Integration, **changes) -> Integration:
    """Rename, switch on or off, or move where leads land / who acts (administrators)."""
    _admin(actor)
    before = integration.audit_state()
    if "name" in changes:
        integration.name = _unique_name(session, changes.pop("name"), other_than=integration.id)
    if "is_active" in changes:
        integration.is_active = bool(changes.pop("is_active"))
    region_node_id = changes.pop("region_node_id", None)
    acting_user_id = changes.pop("acting_user_id", None)
    region = _node(session, region_node_id) if region_node_id is not None else integration.region_node
    acting = users.get_or_raise(session, user_id=acting_user_id, field="acting_user_id") \
        if acting_user_id is not None else integration.acting_user
    if changes:
        raise Invalid("unknown integration fields {fields}", fields=sorted(changes),
                      errors={key: ["unknown field"] for key in changes})
    if region is not integration.region_node or acting is not integration.acting_user:
        _check_acting(session, node=region, user=acting)
        integration.region_node, integration.acting_user = region, acting
    session.flush()
    audit.record(session, actor=actor, action="update", entity=integration, before=before,
                 after=integration.audit_state())
    return integration


def rotate_token(session: Session, *, actor: User, integration: Integration) -> str:
    """A new token for the integration; the old one stops working at once (administrators)."""
    _admin(actor)
    before = integration.audit_state()
    secret = _issue(integration)
    session.flush()
    audit.record(session, actor=actor, action="rotate_token", entity=integration, before=before,
                 after=integration.audit_state())
    return secret


def _issue(integration: Integration) -> str:
    """A new token for ``integration``: its hash and first characters kept, the token returned."""
    secret = users.new_secret(TOKEN_PREFIX)
    integration.token_hash, integration.prefix = users.token_digest(secret), secret[:12]
    return secret


def delete_integration(session: Session, *, actor: User, integration: Integration) -> None:
    """Remove an integration and its record of delivered events; the interactions it recorded stay."""
    _admin(actor)
    audit.record(session, actor=actor, action="delete", entity=integration, before=integration.audit_state())
    session.delete(integration)
    session.flush()


def integration_for_token(session: Session, *, header: str | None, kind: IntegrationKind) -> Integration:
    """The active integration behind ``Authorization: Bearer <token>``, if it is of ``kind``.

    Unauthenticated (401) without a valid integration token (a user's API token included), Forbidden (403) when
    the token is another kind's (a telephony token posting e-mail) or its acting user was deactivated.
    """
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX):
        raise Unauthenticated("a valid integration token is needed: Authorization: Bearer crmpmi_...")
    integration = session.scalar(select(Integration).where(Integration.token_hash == users.token_digest(token)))
    if integration is None or not integration.is_active:
        raise Unauthenticated("a valid integration token is needed: Authorization: Bearer crmpmi_...")
    if integration.kind is not kind:
        raise Forbidden("this is a {kind} integration's token; it cannot deliver {wanted}",
                        kind=integration.kind.value, wanted=IntegrationKind(kind).value)
    if not integration.acting_user.is_active:
        raise Forbidden("the integration's acting user is inactive")
    now = utcnow()
    if integration.last_used_at is None or now - integration.last_used_at >= USE_RESOLUTION:
        integration.last_used_at = now
    return integration
