"""A portal world: two client accounts under one branch, each with a client user; account A's deal project shared
with A's client, another project of A not shared; a PM (editor of A's project), the deal's and account's owner,
a viewer of the project, billing milestones and an issued invoice with its act dated."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from accounts.billing.models import BillingMilestone
from accounts.portal.models import PortalProject, PortalUser
from crmpm.users import services as users
from eps.models import Role
from tests import factories
from tests.accounts.billing.factories import issued_invoice

PASSWORD = "client-Password-1"


def client_user(session, *, account, contact, name: str, email: str):
    """A client user of ``contact`` with ``PASSWORD``, and their portal row."""
    user = users.create(session, actor=None, email=email, name=name, password=None)
    user.password_hash = users.hash_password(PASSWORD)
    user.is_client = True
    session.flush()
    row = PortalUser(user_id=user.id, contact_id=contact.id, account_id=account.id)
    session.add(row)
    session.flush()
    return row


def build(session) -> dict:
    admin = factories.admin(session)
    branch = factories.node(session, actor=admin, code="BR")
    owner = factories.user(session, name="Owner")
    pm = factories.user(session, name="Pm")
    viewer = factories.user(session, name="Viewer")
    outsider = factories.user(session, name="Outsider")
    factories.grant(session, actor=admin, role=Role.editor, target=branch, user=owner)
    pipeline = factories.pipeline(session)
    account_a = factories.account(session, actor=admin, region=branch, name="Alpha", owner=owner)
    account_b = factories.account(session, actor=admin, region=branch, name="Beta", owner=owner)
    contact_a = factories.contact(session, actor=admin, account=account_a, last_name="Clientova",
                                  first_name="Anna")
    contact_b = factories.contact(session, actor=admin, account=account_b, last_name="Bystrov", first_name="Boris")
    deal_a = factories.deal(session, actor=admin, account=account_a, pipeline=pipeline, owner=owner)
    deal_b = factories.deal(session, actor=admin, account=account_b, pipeline=pipeline, owner=owner)
    project_a = deal_a.project
    hidden = factories.project(session, actor=admin, node=account_a.eps_node, code="HIDDEN")
    project_b = deal_b.project
    factories.grant(session, actor=admin, role=Role.editor, target=project_a, user=pm)
    factories.grant(session, actor=admin, role=Role.viewer, target=project_a, user=viewer)
    factories.grant(session, actor=admin, role=Role.editor, target=project_b, user=outsider)
    for project in (project_a, project_b):
        session.add(PortalProject(project_id=project.id, shared_by_id=admin.id))
    milestones = {}
    for key, project in (("a1", project_a), ("a2", project_a), ("b1", project_b), ("hidden", hidden)):
        milestones[key] = BillingMilestone(project_id=project.id, name=f"Stage {key}", amount=Decimal("1000.00"),
                                           planned_date=date(2026, 12, 10))
        session.add(milestones[key])
    session.flush()
    act_a = issued_invoice(session, project=project_a, account=account_a, total="1200.00")
    act_a.act_date = date(2026, 12, 3)
    no_act = issued_invoice(session, project=project_a, account=account_a, total="500.00")
    act_b = issued_invoice(session, project=project_b, account=account_b, total="700.00")
    act_b.act_date = date(2026, 12, 3)
    session.flush()
    client_a = client_user(session, account=account_a, contact=contact_a, name="Anna Clientova",
                           email="anna@alpha.test")
    client_b = client_user(session, account=account_b, contact=contact_b, name="Boris Bystrov",
                           email="boris@beta.test")
    return {"admin": admin, "branch": branch, "owner": owner, "pm": pm, "viewer": viewer, "outsider": outsider,
            "account_a": account_a, "account_b": account_b, "contact_a": contact_a, "contact_b": contact_b,
            "deal_a": deal_a, "deal_b": deal_b, "project_a": project_a, "project_b": project_b, "hidden": hidden,
            "milestones": milestones, "act_a": act_a, "no_act": no_act, "act_b": act_b,
            "client_a": client_a, "client_b": client_b}
