"""Factories for test data, through the same services the app uses."""

from __future__ import annotations

import functools
import itertools
from decimal import Decimal

from sqlalchemy.orm import Session

from crmpm.users import services as users
from crmpm.users.models import Team, User
from eps import budgets, grants, services
from eps.models import EpsNode, Project, Role

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery"


def user(session: Session, *, admin: bool = False, name: str | None = None, email: str | None = None,
         password: str | None = None, passwordless: bool = False) -> User:
    """A user with ``password``, else with ``PASSWORD`` (hashed once per run: argon2 is slow on purpose).

    Only a user with a password can hold a session; ``passwordless`` makes one without (as imports do).
    """
    n = next(_counter)
    created = users.create(session, actor=None, email=email or f"user{n}@example.test", name=name or f"User {n}",
                           password=password, is_admin=admin)
    if password is None and not passwordless:
        created.password_hash = _shared_hash()
    return created


@functools.cache
def _shared_hash() -> str:
    return users.hash_password(PASSWORD)


def admin(session: Session) -> User:
    return user(session, admin=True, name="Admin")


def team(session: Session, *, members: list[User], name: str | None = None) -> Team:
    return users.create_team(session, actor=None, name=name or f"Team {next(_counter)}",
                             member_ids=[member.id for member in members])


def node(session: Session, *, actor: User, parent: EpsNode | None = None, code: str | None = None,
         protected: bool = False, budget: str | None = None) -> EpsNode:
    created = services.create_node(session, actor=actor, code=code or f"N{next(_counter)}",
                                   name=f"Node {code or ''}".strip(), parent=parent, protected=protected)
    if budget is not None:
        budgets.set_original(session, actor=actor, obj=created, amount=Decimal(budget))
    return created


def project(session: Session, *, actor: User, node: EpsNode, code: str | None = None,
            budget: str | None = None, planned: str | None = None, actual: str | None = None) -> Project:
    created = services.create_project(session, actor=actor, code=code or f"P{next(_counter)}",
                                      name=f"Project {code or ''}".strip(), eps_node=node)
    if budget is not None:
        budgets.set_original(session, actor=actor, obj=created, amount=Decimal(budget))
    costs = {}
    if planned is not None:
        costs["planned_cost"] = Decimal(planned)
    if actual is not None:
        costs["actual_cost"] = Decimal(actual)
    if costs:
        services.update_project(session, actor=actor, project=created, **costs)
    return created


def grant(session: Session, *, actor: User, role: Role | str, target, user: User | None = None,
          team: Team | None = None):
    return grants.create(session, actor=actor, role=Role(role), target=target, user=user, team=team)


def token(session: Session, *, user: User) -> str:
    _record, secret = users.create_token(session, actor=None, user=user)
    return secret


# CRM (accounts/): client accounts, contacts, pipelines, deals, through the CRM services.

from accounts import activities as crm_activities  # noqa: E402 - kept beside the section that uses it
from accounts import deals as crm_deals  # noqa: E402
from accounts import pipelines as crm_pipelines  # noqa: E402
from accounts import services as crm_services  # noqa: E402
from accounts.models import AccountKind  # noqa: E402

STANDARD_STAGES = [
    {"name": "Qualification", "probability": 10}, {"name": "Proposal", "probability": 40},
    {"name": "Negotiation", "probability": 70}, {"name": "Won", "probability": 100, "kind": "won"},
    {"name": "Lost", "probability": 0, "kind": "lost"},
]


def pipeline(session: Session, *, name: str | None = None, stages: list[dict] | None = None):
    return crm_pipelines.create_pipeline(session, actor=None, name=name or f"Pipeline {next(_counter)}",
                                         stages=stages or STANDARD_STAGES)


def account(session: Session, *, actor: User, region: EpsNode, name: str | None = None, owner: User | None = None,
            kind: AccountKind = AccountKind.client, tax_id: str | None = None, **fields):
    n = next(_counter)
    return crm_services.create_account(session, actor=actor, name=name or f"Account {n}", region=region,
                                       code=f"ACC{n}", owner=owner, kind=kind, tax_id=tax_id, **fields)


def contact(session: Session, *, actor: User, account, **fields):
    fields.setdefault("last_name", f"Person {next(_counter)}")
    return crm_services.create_contact(session, actor=actor, account=account, **fields)


def deal(session: Session, *, actor: User, account, pipeline, stage: str | None = None, amount: str = "100.00",
         **fields):
    stage_obj = crm_pipelines.stage_in(pipeline, name=stage) if stage else None
    n = next(_counter)
    return crm_deals.create_deal(session, actor=actor, account=account, name=f"Deal {n}", code=f"D{n}",
                                 pipeline=pipeline, stage=stage_obj, amount=Decimal(amount), **fields)


def move(session: Session, *, actor: User, deal, stage: str, **kwargs):
    return crm_deals.move_stage(session, actor=actor, deal=deal,
                                stage=crm_pipelines.stage_in(deal.pipeline, name=stage), **kwargs)


def interaction(session: Session, *, actor: User, account, occurred_at, kind: str = "call",
                direction: str = "outbound", **fields):
    return crm_activities.create_interaction(session, actor=actor, account=account, occurred_at=occurred_at,
                                             kind=kind, direction=direction, **fields)


def resource(session: Session, *, actor: User, code: str | None = None, name: str | None = None,
             price: str | None = None, **fields):
    """A resource of the pool; ``price`` a rate from 2000-01-01 on."""
    from datetime import date

    from wbs.resources import services as resources

    n = next(_counter)
    if price is not None:
        fields.setdefault("rates", [{"effective_from": date(2000, 1, 1), "price_per_unit": Decimal(price)}])
    return resources.create_resource(session, actor=actor, code=code or f"R{n}", name=name or f"Resource {n}",
                                     **fields)


def role(session: Session, *, actor: User, code: str | None = None, name: str | None = None,
         price: str | None = None, **fields):
    """A role; ``price`` a rate from 2000-01-01 on."""
    from datetime import date

    from wbs.resources import services as resources

    n = next(_counter)
    if price is not None:
        fields.setdefault("rates", [{"effective_from": date(2000, 1, 1), "price_per_unit": Decimal(price)}])
    return resources.create_role(session, actor=actor, code=code or f"ROLE{n}", name=name or f"Role {n}", **fields)


def assignment(session: Session, *, actor: User, activity, resource=None, role=None, **fields):
    """An assignment of ``resource`` and/or ``role`` to ``activity``."""
    from wbs.resources import services as resources

    project = session.get(Project, activity.project_id)
    return resources.create_assignment(session, actor=actor, project=project, activity=activity,
                                       resource_id=resource.id if resource else None,
                                       role_id=role.id if role else None, **fields)
