"""A world for the client portal's tests: two client accounts in one branch, shared and unshared projects,
client-visible and staff-only documents, and a client user for each account."""

from __future__ import annotations

from datetime import datetime

from accounts.documents import services as documents
from accounts.portal import invites, sharing
from crmpm.users import resets, services as users
from tests import factories
from wbs import services as wbs

PORTAL_PASSWORD = "harbour lights 2026"


def client_user(session, *, actor, contact):
    """Invite ``contact`` and set their password through the link (as the welcome page does)."""
    tokens = []
    sent = invites.invite(session, actor=actor, contact=contact, link_for=lambda token: tokens.append(token) or token)
    state, reset = resets.find(session, token=tokens[0])
    resets.redeem(session, reset=reset, password=PORTAL_PASSWORD)
    return sent.user


def build(session, admin, app) -> dict:
    branch = factories.node(session, actor=admin, code="NW")
    pipeline = factories.pipeline(session)
    alpha = factories.account(session, actor=admin, region=branch, name="Alpha Shipyard")
    beta = factories.account(session, actor=admin, region=branch, name="Beta Foundry")
    alice = factories.contact(session, actor=admin, account=alpha, first_name="Alice", last_name="Ivanova",
                              email="alice@alpha.test")
    bob = factories.contact(session, actor=admin, account=beta, first_name="Bob", last_name="Petrov",
                            email="bob@beta.test")
    shared = factories.deal(session, actor=admin, account=alpha, pipeline=pipeline)
    hidden = factories.deal(session, actor=admin, account=alpha, pipeline=pipeline)
    other = factories.deal(session, actor=admin, account=beta, pipeline=pipeline)
    for deal, name in ((shared, "Dock crane refit"), (hidden, "Alpha secret tender"), (other, "Beta furnace line")):
        deal.project.name = name
    for deal in (shared, other):
        sharing.share(session, actor=admin, project=deal.project, shared=True)
    element = wbs.create_element(session, actor=admin, project=shared.project, code="DES", name="Design stage")
    wbs.create_activity(session, actor=admin, project=shared.project, code="A1", name="Drawings",
                        wbs_element_id=element.id, original_duration_hours=80.0, percent_complete=50.0,
                        early_start=datetime(2026, 11, 2, 9), early_finish=datetime(2026, 11, 13, 18))
    wbs.create_activity(session, actor=admin, project=shared.project, code="M1", name="Design approved",
                        type="finish_milestone", wbs_element_id=element.id, early_start=datetime(2026, 11, 13, 18),
                        early_finish=datetime(2026, 11, 13, 18))
    wbs.create_activity(session, actor=admin, project=other.project, code="M1", name="Beta furnace lit",
                        type="finish_milestone", early_finish=datetime(2026, 12, 1, 18))
    docs = {}
    for key, subject, visible in (("shared", shared.project, True), ("staff_only", shared.project, False),
                                  ("hidden_project", hidden.project, True), ("account", alpha, True),
                                  ("other", other.project, True)):
        document = documents.add_document(session, actor=admin, subject=subject, name=f"{key}.txt", kind="other",
                                          data=f"{key} contents".encode(), content_type="text/plain")
        document.client_visible = visible
        docs[key] = document
    with app.app_context():  # the invitations' e-mails are jobs of the app
        alice_user = client_user(session, actor=admin, contact=alice)
        bob_user = client_user(session, actor=admin, contact=bob)
        session.commit()
    return {"branch": branch, "alpha": alpha, "beta": beta, "alice": alice, "bob": bob, "shared": shared,
            "hidden": hidden, "other": other, "docs": docs, "alice_user": alice_user, "bob_user": bob_user,
            "users": users}


def log_in_client(client, user) -> None:
    """A portal session for ``user`` in the test client's cookie (the login has its own tests)."""
    with client.session_transaction() as cookie:
        cookie.clear()
        cookie["portal_user_id"] = user.id
        cookie["portal_stamp"] = user.session_stamp
