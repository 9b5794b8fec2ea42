"""Every role × every CRM endpoint × inside or outside the granted subtree.

The user holds one grant on branch A. Inside it an action succeeds when the role
includes the permission it needs and is refused with 403 otherwise; outside it
(branch B), and for a user without grants, everything is 404.
"""

from datetime import datetime, timezone

import pytest

from accounts import activities, leads
from eps.models import Role
from eps.permissions import ROLE_PERMISSIONS, Permission
from tests import factories
from tests.accounts.fixtures import admin, api  # noqa: F401 - fixtures
from tests.accounts.paperwork.test_generate import issued_invoice
from tests.api.test_permission_matrix import _fill
from tests.leaks import hidden_mentions

ROLES = [None, *Role]
WHEN = datetime(2026, 5, 4, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def world(app, session, admin):
    root = factories.node(session, actor=admin, code="ROOT")
    pipeline = factories.pipeline(session, name="Sales")
    objects = {"root": root, "pipeline": pipeline}
    for side in ("A", "B"):
        branch = factories.node(session, actor=admin, parent=root, code=side)
        account = factories.account(session, actor=admin, region=branch, name=f"Client {side}")
        contact = factories.contact(session, actor=admin, account=account, email=f"one@{side.lower()}.example")
        contact2 = factories.contact(session, actor=admin, account=account, email=f"one@{side.lower()}.example")
        account2 = factories.account(session, actor=admin, region=branch, name=f"Client {side} again")
        deal = factories.deal(session, actor=admin, account=account, pipeline=pipeline)
        interaction = factories.interaction(session, actor=admin, account=account, occurred_at=WHEN)
        task = activities.create_task(session, actor=admin, title="Call", due_at=WHEN, account=account)
        lead = leads.create_lead(session, actor=admin, region=branch, company=f"Lead {side}")
        invoice = issued_invoice(session, deal, number={"A": 1, "B": 2}[side])
        objects[side] = {"branch": branch, "account": account, "account2": account2, "contact": contact, "contact2": contact2,
                         "deal": deal, "interaction": interaction, "task": task, "lead": lead, "invoice": invoice,
                         "deal_project": deal.project, "portal_contact": _portal_contact(app, session, admin, account)}
    objects["other"] = factories.user(session)
    session.commit()
    return objects


def _portal_contact(app, session, admin, account):
    """A contact of ``account`` who is a client user of the portal (invited; the e-mail's job asked for)."""
    from accounts.portal import invites

    contact = factories.contact(session, actor=admin, account=account, email=f"client{account.id}@clients.example")
    with app.app_context():
        invites.invite(session, actor=admin, contact=contact, link_for=lambda token: token)
        session.commit()
    return contact


R, E, M = {Permission.read}, {Permission.edit}, {Permission.manage}

# name: (method, path, body, permissions any of which allows it, success status)
ACTIONS = {
    "read_account": ("GET", "/api/v1/accounts/{account}", None, R, 200),
    "update_account": ("PATCH", "/api/v1/accounts/{account}", {"sector": "Retail"}, E, 200),
    # An account under a branch is the branch's content (like a project under a node): edit rights.
    "create_account": ("POST", "/api/v1/accounts", {"name": "New", "region_node_id": "{branch}"}, E, 201),
    "account_timeline": ("GET", "/api/v1/accounts/{account}/timeline", None, R, 200),
    "merge_account": ("POST", "/api/v1/accounts/{account}/merge", {"merge_id": "{account2}"}, M, 200),
    "create_contact": ("POST", "/api/v1/contacts", {"account_id": "{account}", "last_name": "X"}, E, 201),
    "read_contact": ("GET", "/api/v1/contacts/{contact}", None, R, 200),
    "update_contact": ("PATCH", "/api/v1/contacts/{contact}", {"title": "CEO"}, E, 200),
    "merge_contact": ("POST", "/api/v1/contacts/{contact}/merge", {"merge_id": "{contact2}"}, E, 200),
    "create_deal": ("POST", "/api/v1/deals", {"account_id": "{account}", "name": "D", "pipeline_id": "{pipeline}"},
                    E, 201),
    "read_deal": ("GET", "/api/v1/deals/{deal}", None, R, 200),
    "update_deal": ("PATCH", "/api/v1/deals/{deal}", {"amount": "10.00"}, E, 200),
    "move_stage": ("POST", "/api/v1/deals/{deal}/stage", {"stage": "Proposal"}, E, 200),
    "deal_history": ("GET", "/api/v1/deals/{deal}/history", None, R, 200),
    "deal_paperwork": ("POST", "/api/v1/deals/{deal}/paperwork", {"kind": "offer", "format": "docx"}, E, 201),
    "invoice_paperwork": ("POST", "/api/v1/invoices/{invoice}/paperwork", {"kind": "act", "format": "docx"}, E, 201),
    "create_interaction": ("POST", "/api/v1/interactions", {"account_id": "{account}", "kind": "call",
                                                            "direction": "inbound",
                                                            "occurred_at": "2026-05-05T10:00:00+03:00"}, E, 201),
    "read_interaction": ("GET", "/api/v1/interactions/{interaction}", None, R, 200),
    "create_task": ("POST", "/api/v1/tasks", {"deal_id": "{deal}", "title": "T",
                                              "due_at": "2026-12-01T10:00:00+00:00"}, E, 201),
    "read_task": ("GET", "/api/v1/tasks/{task}", None, R, 200),
    "update_task": ("PATCH", "/api/v1/tasks/{task}", {"status": "done"}, E, 200),
    "create_lead": ("POST", "/api/v1/leads", {"region_node_id": "{branch}", "company": "C"}, E, 201),
    "read_lead": ("GET", "/api/v1/leads/{lead}", None, R, 200),
    "assign_lead": ("POST", "/api/v1/leads/{lead}/assign", {"owner_id": "{other}"}, E, 200),
    "qualify_lead": ("POST", "/api/v1/leads/{lead}/qualify", {"pipeline_id": "{pipeline}",
                                                              "account_id": "{account}"}, E, 201),
    # The lead's company is no client yet: qualifying it adds the account under the lead's branch.
    "qualify_lead_new_account": ("POST", "/api/v1/leads/{lead}/qualify", {"pipeline_id": "{pipeline}"}, E, 201),
    "record_answer": ("POST", "/api/v1/surveys", {"account_id": "{account}", "kind": "csat", "score": 4}, E, 201),
    # Marketing: tags and a person's consents, by the rights on the account.
    "read_account_tags": ("GET", "/api/v1/accounts/{account}/tags", None, R, 200),
    "set_account_tags": ("PUT", "/api/v1/accounts/{account}/tags", {"tags": ["vip"]}, E, 200),
    "read_contact_tags": ("GET", "/api/v1/contacts/{contact}/tags", None, R, 200),
    "set_contact_tags": ("PUT", "/api/v1/contacts/{contact}/tags", {"tags": ["vip"]}, E, 200),
    "read_consents": ("GET", "/api/v1/contacts/{contact}/consents", None, R, 200),
    "set_consent": ("PUT", "/api/v1/contacts/{contact}/consents/email", {"consent": False, "source": "a call"}, E, 200),
    # The client portal: inviting a contact needs edit rights on its account; sharing a deal's project with the
    # account's clients, edit rights on the project.
    "invite_to_portal": ("POST", "/api/v1/contacts/{contact}/portal-invite", {}, E, 201),
    "end_portal_access": ("DELETE", "/api/v1/contacts/{portal_contact}/portal-invite", None, E, 204),
    "read_sharing": ("GET", "/api/v1/projects/{deal_project}/portal", None, R, 200),
    "share_with_client": ("PUT", "/api/v1/projects/{deal_project}/portal", {"shared": True}, E, 200),
}


@pytest.mark.parametrize("place", ["inside", "outside"])
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_permission_matrix(api, session, admin, world, role, action, place):
    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["branch"], user=user)
    session.commit()
    side = world["A"] if place == "inside" else world["B"]
    ids = {key: obj.id for key, obj in side.items()} | {"other": world["other"].id,
                                                        "pipeline": world["pipeline"].id}
    method, path, body, needed, success = ACTIONS[action]
    response = api.request(method, _fill(path, ids), user=user, json=_fill(body, ids))

    granted = ROLE_PERMISSIONS[role] if role is not None else frozenset()
    if place == "outside" or role is None:
        expected = 404
    elif granted & needed:
        expected = success
    else:
        expected = 403
    assert response.status_code == expected, (response.status_code, response.get_json())
    if expected >= 400:
        # The refusal names nothing the user may not read that the request did not name itself.
        hidden = [world["root"], *world["B"].values()] + ([*world["A"].values()] if role is None else [])
        asked = [_fill(path, ids), _fill(body, ids)]
        assert hidden_mentions(response.get_json(), hidden, asked) == [], response.get_json()


LISTS = ["/api/v1/accounts", "/api/v1/contacts", "/api/v1/deals", "/api/v1/interactions", "/api/v1/tasks",
         "/api/v1/leads"]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_lists_and_reports_hold_only_the_granted_subtree(api, session, admin, world, role):
    user = factories.user(session)
    factories.grant(session, actor=admin, role=role, target=world["A"]["branch"], user=user)
    session.commit()
    inside = {"/api/v1/accounts": sorted([world["A"]["account"].id, world["A"]["account2"].id]),
              "/api/v1/deals": world["A"]["deal"].id,
              "/api/v1/interactions": world["A"]["interaction"].id, "/api/v1/tasks": world["A"]["task"].id,
              "/api/v1/leads": world["A"]["lead"].id}
    for path in LISTS:
        body = api.get(path, user=user).json
        if path in inside:
            expected = inside[path] if isinstance(inside[path], list) else [inside[path]]
            assert sorted(item["id"] for item in body["items"]) == expected, path
        else:
            assert {item["account_id"] for item in body["items"]} == {world["A"]["account"].id}
        csv_rows = api.get(path + "?format=csv", user=user).data.decode().strip().splitlines()
        assert len(csv_rows) == 1 + body["total"], path
    funnel = api.get(f"/api/v1/reports/funnel?pipeline_id={world['pipeline'].id}", user=user).json
    assert funnel["total"] == 1
    # Retention reports: cohorts, before/after and the contact norm count only the granted branch's accounts.
    for side in "AB":
        factories.move(session, actor=admin, deal=world[side]["deal"], stage="Won")
    session.commit()
    cohorts = api.get("/api/v1/reports/cohorts", user=user).json["cohorts"]
    assert sum(cohort["size"] for cohort in cohorts) == 1
    year = "a_since=2025-01-01&a_until=2026-01-01&b_since=2026-01-01&b_until=2027-01-01"
    compare = api.get(f"/api/v1/reports/compare?{year}&kpis=win_rate,contact_norm", user=user).json
    assert compare["b"]["win_rate"]["won"] == 1 and compare["b"]["contact_norm"]["accounts"] == 2
    norm = api.get("/api/v1/reports/contact-norm", user=user).json
    assert [row["id"] for row in norm["by_branch"]] == [world["A"]["branch"].id]
    assert {row["account_id"] for row in norm["behind"]} <= {world["A"]["account"].id, world["A"]["account2"].id}


def test_user_without_grants_sees_empty_lists_and_reports(api, session, world):
    nobody = factories.user(session)
    session.commit()
    for path in LISTS:
        assert api.get(path, user=nobody).json["total"] == 0
    assert api.get(f"/api/v1/reports/funnel?pipeline_id={world['pipeline'].id}", user=nobody).json["total"] == 0
    assert api.get("/api/v1/reports/lifetime-value", user=nobody).json["items"] == []
    assert api.get("/api/v1/reports/cohorts", user=nobody).json["cohorts"] == []
    assert api.get("/api/v1/reports/contact-norm", user=nobody).json["total"]["accounts"] == 0


def test_configuration_is_for_administrators(api, session, admin, world):
    manager = factories.user(session)
    factories.grant(session, actor=admin, role=Role.manager, target=world["root"], user=manager)
    team = factories.team(session, members=[manager])
    session.commit()
    stages = [{"name": "A", "probability": 10}, {"name": "W", "probability": 100, "kind": "won"},
              {"name": "L", "probability": 0, "kind": "lost"}]
    assert api.post("/api/v1/pipelines", user=manager, json={"name": "P", "stages": stages}).status_code == 403
    assert api.patch(f"/api/v1/pipelines/{world['pipeline'].id}", user=manager,
                     json={"name": "Renamed"}).status_code == 403
    assert api.post("/api/v1/routing-rules", user=manager,
                    json={"name": "R", "team_id": team.id}).status_code == 403
    assert api.get("/api/v1/pipelines", user=manager).status_code == 200
    # Absences: one's own, not other people's.
    other = world["other"]
    body = {"starts_at": "2026-12-01T00:00:00+00:00", "ends_at": "2026-12-10T00:00:00+00:00"}
    assert api.post("/api/v1/absences", user=manager, json={**body, "user_id": other.id}).status_code == 403
    own = api.post("/api/v1/absences", user=manager, json=body)
    assert own.status_code == 201
    assert api.get(f"/api/v1/absences/{own.json['id']}", user=other).status_code == 404
    end = f"/api/v1/absences/{own.json['id']}/end"
    assert api.post(end, user=other, json={"ends_at": "2026-12-05T00:00:00+00:00"}).status_code == 404
    assert api.post(end, user=manager, json={"ends_at": "2026-12-05T00:00:00+00:00"}).status_code == 200


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "no-grant")
def test_segments_are_read_by_everyone_their_members_only_as_far_as_granted(api, session, admin, world, role):
    from accounts.marketing import segments

    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["branch"], user=user)
    dynamic = segments.create_segment(session, actor=admin, name="Everyone", flt={})
    static = segments.create_segment(session, actor=admin, name="Listed", kind="static",
                                     contact_ids_=[world[side][key].id for side in "AB" for key in ("contact", "contact2")])
    accounts = segments.create_segment(session, actor=admin, name="Companies", subject="accounts", flt={})
    session.commit()
    listed = sorted([world["A"]["contact"].id, world["A"]["contact2"].id])
    # Everyone in branch A: its two listed contacts and the one invited to the portal.
    everyone = sorted([*listed, world["A"]["portal_contact"].id])
    companies = sorted([world["A"]["account"].id, world["A"]["account2"].id])
    inside = {dynamic.id: everyone if role else [], static.id: listed if role else [],
              accounts.id: companies if role else []}
    for segment in (dynamic, static, accounts):
        members = api.get(f"/api/v1/segments/{segment.id}/members", user=user)
        assert members.status_code == 200
        assert sorted(item["id"] for item in members.json["items"]) == inside[segment.id]
        assert members.json["total"] == len(inside[segment.id])
        assert api.get(f"/api/v1/segments/{segment.id}", user=user).json["count"] == len(inside[segment.id])
        hidden = [world["root"], *world["B"].values()] + ([*world["A"].values()] if role is None else [])
        assert hidden_mentions(members.get_json(), hidden, []) == []
        assert api.patch(f"/api/v1/segments/{segment.id}", user=user, json={"name": "Mine"}).status_code == 403
        assert api.delete(f"/api/v1/segments/{segment.id}", user=user).status_code == 403
    # A list of one's own holds only contacts one may read; the others are refused by id, nothing added.
    own = api.post("/api/v1/segments", user=user, json={"name": "Own", "kind": "static"}).json
    added = api.post(f"/api/v1/segments/{own['id']}/members", user=user,
                     json={"contact_ids": [world["A"]["contact"].id]})
    assert added.status_code == (200 if role else 422)
    outside = api.post(f"/api/v1/segments/{own['id']}/members", user=user,
                       json={"contact_ids": [world["A"]["contact2"].id, world["B"]["contact"].id]})
    assert outside.status_code == 422 and api.get(f"/api/v1/segments/{own['id']}", user=user).json["count"] == (1 if role else 0)
