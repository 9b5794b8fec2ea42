"""Possible duplicates of an account being entered (``services.similar_accounts``), the branches a user may add
to (``services.branch_choices``), and a lead received by hand (``leads.receive_lead``), on both databases."""

from __future__ import annotations

import pytest

from accounts import leads, routing, services
from accounts.models import AccountKind, LeadStatus
from accounts.normalize import name_key
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import crm  # noqa: F401 - fixture


@pytest.mark.parametrize(("typed", "stored"), [
    ("ООО «Ромашка»", "Ромашка ООО"), ("Romashka LLC", "ROMASHKA"), ("АО \"Нева-Сервис\"", "нева сервис"),
    ("Ёлка и Ко", "елка и ко"),
])
def test_names_compare_without_quotes_case_and_legal_forms(typed, stored):
    assert name_key(typed) == name_key(stored)


def test_similar_accounts_by_inn_name_and_phone_within_the_users_rights(session, crm):
    admin = crm["admin"]
    a, b = crm["A"], crm["B"]
    a["account"].tax_id = "7707083893"
    factories.contact(session, actor=admin, account=a["account"], last_name="Phone", phone="+79161234567")
    b["account"].tax_id = "5001122339"
    editor = factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=a["branch"], user=editor)
    session.commit()

    def found(**typed):
        return {(item.account.id, item.reasons) for item in
                services.similar_accounts(session, user=editor, **typed)}

    assert found(name="Other", tax_id="7707 083 893") == {(a["account"].id, ("tax_id",))}
    assert found(name="Client A, LLC") == {(a["account"].id, ("name",))}
    assert found(name="Other", phone="8 (916) 123-45-67") == {(a["account"].id, ("phone",))}
    assert found(name="Client A", tax_id="7707083893") == {(a["account"].id, ("tax_id", "name"))}
    # B's account is out of the editor's reach: never returned, however alike.
    assert found(name="Client B", tax_id="5001122339") == set()
    assert {item.account.id for item in services.similar_accounts(session, user=admin, name="Client B")} == {
        b["account"].id}
    # The account itself (on its edit page) is no duplicate of itself; bad values are simply not matched.
    assert found(name="Client A", exclude=a["account"]) == set()
    assert found(name="Unrelated", tax_id="123", phone="nonsense") == set()


def test_branches_are_the_nodes_with_the_edit_right_and_no_account_nodes(session, crm):
    admin = crm["admin"]
    editor, viewer = factories.user(session), factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=editor)
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["B"]["branch"], user=editor)
    factories.grant(session, actor=admin, role=Role.viewer, target=crm["A"]["branch"], user=viewer)
    session.commit()
    assert [node.id for node in services.branch_choices(session, user=editor)] == [crm["A"]["branch"].id]
    assert services.branch_choices(session, user=viewer) == []
    every = {node.id for node in services.branch_choices(session, user=admin)}
    assert {crm["root"].id, crm["A"]["branch"].id, crm["B"]["branch"].id} <= every
    assert crm["A"]["account"].eps_node_id not in every


def test_a_first_contact_is_made_with_the_account(session, crm):
    account = services.create_account(session, actor=crm["admin"], name="With Person", region=crm["A"]["branch"],
                                      kind=AccountKind.prospect,
                                      contact={"name": "Anna Maria Ivanova", "phone": "+7 916 000-00-01"})
    person = services.list_contacts(session, user=crm["admin"], account_id=account.id)
    (contact,) = session.scalars(person).all()
    assert (contact.first_name, contact.last_name, contact.phone) == ("Anna Maria", "Ivanova", "+79160000001")


def test_a_lead_received_by_hand_is_routed_or_queued(session, crm):
    admin = crm["admin"]
    seller = factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=crm["A"]["branch"], user=seller)
    queued = leads.receive_lead(session, actor=admin, region=crm["A"]["branch"], company="Nobody Yet")
    assert queued.owner_id is None and queued.routing_reason
    routing.create_rule(session, actor=admin, name="Desk", team=factories.team(session, members=[seller]),
                        members=[{"user_id": seller.id}])
    routed = leads.receive_lead(session, actor=admin, region=crm["A"]["branch"], company="Somebody")
    assert routed.owner_id == seller.id and routed.status is LeadStatus.assigned
    kept = leads.receive_lead(session, actor=admin, region=crm["A"]["branch"], company="Later", route=False)
    assert kept.owner_id is None and kept.routing_reason is None and kept.status is LeadStatus.new
