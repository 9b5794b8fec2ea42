"""The segments API (the contract: POST /segments → 201 with its live count; GET /segments/{id}/members with the live
count as ``total``), CSV static lists, and the tags and consents of accounts and contacts."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from crmpm.audit.models import AuditEntry
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import admin, api, crm  # noqa: F401 - fixtures


def _people(session, crm, n=4):
    """``n`` more contacts with e-mails at each of the accounts A and B."""
    made = {"A": [crm["A"]["contact"]], "B": [crm["B"]["contact"]]}
    for side in ("A", "B"):
        for i in range(n):
            made[side].append(factories.contact(session, actor=crm["admin"], account=crm[side]["account"],
                                                email=f"p{i}@{side.lower()}.example", phone=f"+7916123450{i}"))
    session.commit()
    return made


def test_create_a_segment_and_read_its_members_with_the_live_count(api, session, crm):
    people = _people(session, crm)
    created = api.post("/api/v1/segments", user=crm["admin"], json={"name": "With e-mail", "filter": {"has_email": True}})
    assert created.status_code == 201, created.json
    segment = created.json
    assert segment["id"] and segment["count"] == 10 and segment["kind"] == "dynamic"
    members = api.get(f"/api/v1/segments/{segment['id']}/members?per_page=3", user=crm["admin"])
    assert members.status_code == 200
    assert members.json["total"] == 10 and len(members.json["items"]) == 3 and members.json["pages"] == 4
    everyone = {c.id for side in people.values() for c in side}
    seen = set()
    for page in range(1, 5):
        seen |= {item["id"] for item in api.get(f"/api/v1/segments/{segment['id']}/members?per_page=3&page={page}",
                                                user=crm["admin"]).json["items"]}
    assert seen == everyone
    # live: a new contact with an e-mail is a member at once
    factories.contact(session, actor=crm["admin"], account=crm["A"]["account"], email="new@a.example")
    session.commit()
    assert api.get(f"/api/v1/segments/{segment['id']}", user=crm["admin"]).json["count"] == 11
    listed = api.get("/api/v1/segments", user=crm["admin"]).json
    assert [(item["name"], item["count"]) for item in listed["items"]] == [("With e-mail", 11)]
    preview = api.post("/api/v1/segments/preview", user=crm["admin"], json={"filter": {"branch_ids": [crm["A"]["branch"].id]}})
    assert preview.json == {"count": 6}


def test_a_reader_gets_only_the_members_they_may_read(api, session, crm):
    people = _people(session, crm)
    reader = factories.user(session)
    factories.grant(session, actor=crm["admin"], role=Role.viewer, target=crm["B"]["branch"], user=reader)
    session.commit()
    segment = api.post("/api/v1/segments", user=crm["admin"], json={"name": "All", "filter": {}}).json
    assert segment["count"] == 10
    theirs = api.get(f"/api/v1/segments/{segment['id']}/members", user=reader).json
    assert theirs["total"] == 5 and {item["id"] for item in theirs["items"]} == {c.id for c in people["B"]}
    assert api.get(f"/api/v1/segments/{segment['id']}", user=reader).json["count"] == 5
    assert api.get("/api/v1/segments", user=reader).json["items"][0]["count"] == 5
    # read by everyone, changed only by its owner or an administrator
    assert api.patch(f"/api/v1/segments/{segment['id']}", user=reader, json={"name": "Mine"}).status_code == 403
    assert api.delete(f"/api/v1/segments/{segment['id']}", user=reader).status_code == 403
    own = api.post("/api/v1/segments", user=reader, json={"name": "Own", "subject": "accounts", "filter": {}}).json
    assert own["count"] == 1
    assert api.patch(f"/api/v1/segments/{own['id']}", user=reader, json={"name": "Renamed"}).json["name"] == "Renamed"
    assert api.delete(f"/api/v1/segments/{own['id']}", user=reader).status_code == 204
    assert api.get(f"/api/v1/segments/{own['id']}", user=reader).status_code == 404


def test_a_bad_filter_answers_422_naming_the_key_and_saves_nothing(api, session, crm):
    for flt, key in (({"colour": "red"}, "filter.colour"), ({"lifetime_value_min": "many"}, "filter.lifetime_value_min"),
                     ({"account_kinds": ["alien"]}, "filter.account_kinds"), ({"no_contact_days": -1}, "filter.no_contact_days")):
        response = api.post("/api/v1/segments", user=crm["admin"], json={"name": "Bad", "filter": flt})
        assert response.status_code == 422 and key in response.json["errors"], response.json
    assert api.post("/api/v1/segments", user=crm["admin"], json={"name": "Bad", "filter": [1]}).status_code == 422
    assert api.post("/api/v1/segments/preview", user=crm["admin"], json={"filter": {"x": 1}}).status_code == 422
    assert api.get("/api/v1/segments", user=crm["admin"]).json["total"] == 0


def _csv(api, user, segment_id, text, name="list.csv"):
    return api.post(f"/api/v1/segments/{segment_id}/members/csv", user=user,
                    data={"file": (io.BytesIO(text.encode()), name)}, content_type="multipart/form-data")


def test_a_static_list_from_a_csv_reports_unmatched_lines_and_writes_nothing(api, session, crm):
    people = _people(session, crm)
    reader = factories.user(session)
    factories.grant(session, actor=crm["admin"], role=Role.editor, target=crm["A"]["branch"], user=reader)
    session.commit()
    segment = api.post("/api/v1/segments", user=reader, json={"name": "Fair", "kind": "static"}).json
    a = people["A"]
    bad = _csv(api, reader, segment["id"],
               f"E-mail;Phone;Contact id\n{a[1].email};;\nnobody@x.example;;\n;{a[2].phone};\n"
               f";;{people['B'][1].id}\n")
    assert bad.status_code == 422 and "3, 5" in bad.json["errors"]["file"][0], bad.json  # line 5: not readable
    assert api.get(f"/api/v1/segments/{segment['id']}", user=reader).json["count"] == 0
    good = _csv(api, reader, segment["id"], f"email,phone,contact id\n{a[1].email.upper()},,\n,8 916 123-45-01,\n,,{a[3].id}\n")
    assert good.status_code == 200, good.json
    assert good.json == {"rows": 3, "matched": 3, "added": 3, "count": 3}
    members = api.get(f"/api/v1/segments/{segment['id']}/members", user=reader).json
    assert {item["id"] for item in members["items"]} == {a[1].id, a[2].id, a[3].id}
    removed = api.post(f"/api/v1/segments/{segment['id']}/members/remove", user=reader, json={"contact_ids": [a[1].id]})
    assert removed.json == {"changed": 1, "count": 2}
    added = api.post(f"/api/v1/segments/{segment['id']}/members", user=reader, json={"contact_ids": [people["B"][0].id]})
    assert added.status_code == 422 and "contact_ids" in added.json["errors"]
    assert _csv(api, reader, segment["id"], "name\nJohn\n").status_code == 422
    dynamic = api.post("/api/v1/segments", user=reader, json={"name": "Dyn", "filter": {}}).json
    assert _csv(api, reader, dynamic["id"], f"email\n{a[1].email}\n").status_code == 422


def test_a_static_segment_frozen_from_a_filter(api, session, crm):
    people = _people(session, crm)
    frozen = api.post("/api/v1/segments", user=crm["admin"], json={
        "name": "B now", "kind": "static", "from_filter": True, "filter": {"branch_ids": [crm["B"]["branch"].id]}}).json
    assert frozen["count"] == 5
    factories.contact(session, actor=crm["admin"], account=crm["B"]["account"], email="later@b.example")
    session.commit()
    members = api.get(f"/api/v1/segments/{frozen['id']}/members", user=crm["admin"]).json
    assert {item["id"] for item in members["items"]} == {c.id for c in people["B"]}


def test_tags_are_normalized_audited_and_need_edit_rights(api, session, crm):
    viewer = factories.user(session)
    factories.grant(session, actor=crm["admin"], role=Role.viewer, target=crm["A"]["branch"], user=viewer)
    session.commit()
    account, contact = crm["A"]["account"], crm["A"]["contact"]
    put = api.put(f"/api/v1/accounts/{account.id}/tags", user=crm["admin"], json={"tags": [" VIP ", "vip", "Export  Ready"]})
    assert put.status_code == 200 and put.json == {"tags": ["export ready", "vip"]}
    assert api.get(f"/api/v1/accounts/{account.id}/tags", user=viewer).json == {"tags": ["export ready", "vip"]}
    assert api.put(f"/api/v1/accounts/{account.id}/tags", user=viewer, json={"tags": []}).status_code == 403
    assert api.put(f"/api/v1/contacts/{contact.id}/tags", user=crm["admin"], json={"tags": ["Lead"]}).json == {"tags": ["lead"]}
    assert api.get(f"/api/v1/contacts/{crm['B']['contact'].id}/tags", user=viewer).status_code == 404
    too_many = api.put(f"/api/v1/contacts/{contact.id}/tags", user=crm["admin"], json={"tags": [f"t{i}" for i in range(51)]})
    assert too_many.status_code == 422 and "tags" in too_many.json["errors"]
    too_long = api.put(f"/api/v1/contacts/{contact.id}/tags", user=crm["admin"], json={"tags": ["x" * 101]})
    assert too_long.status_code == 422
    audited = [entry.after["tags"] for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
               if "tags" in (entry.after or {})]
    assert audited == [["export ready", "vip"], ["lead"]]
    segment = api.post("/api/v1/segments", user=crm["admin"], json={"name": "VIP", "subject": "accounts",
                                                                     "filter": {"tags": ["VIP"]}}).json
    assert segment["count"] == 1 and segment["filter"] == {"tags": ["vip"]}


def test_consent_and_opt_out_per_channel(api, session, crm):
    viewer = factories.user(session)
    factories.grant(session, actor=crm["admin"], role=Role.viewer, target=crm["A"]["branch"], user=viewer)
    session.commit()
    contact = crm["A"]["contact"]
    url = f"/api/v1/contacts/{contact.id}/consents"
    empty = api.get(url, user=viewer).json
    assert [row["channel"] for row in empty] == ["email", "sms", "messenger", "phone"]
    assert all(row["consented_at"] is None and row["may_send"] for row in empty)
    given = api.put(f"{url}/email", user=crm["admin"], json={"consent": True, "source": "signed form"})
    assert given.status_code == 200
    email = given.json[0]
    assert email["consented_at"] and email["consent_source"] == "signed form" and email["consent_stands"]
    out = api.put(f"{url}/sms", user=crm["admin"], json={"consent": False, "source": "phone call"}).json[1]
    assert out["opted_out_at"] and out["opt_out_source"] == "phone call" and not out["may_send"]
    assert api.put(f"{url}/sms", user=viewer, json={"consent": True, "source": "x"}).status_code == 403
    assert api.put(f"{url}/pigeon", user=crm["admin"], json={"consent": True, "source": "x"}).status_code == 422
    assert api.put(f"{url}/email", user=crm["admin"], json={"consent": True, "source": ""}).status_code == 422
    assert api.get(f"/api/v1/contacts/{crm['B']['contact'].id}/consents", user=viewer).status_code == 404
    consenting = api.post("/api/v1/segments/preview", user=crm["admin"], json={"filter": {"consent_channel": "email"}})
    assert consenting.json == {"count": 1}
    not_out = api.post("/api/v1/segments/preview", user=crm["admin"], json={"filter": {"not_opted_out_channel": "sms"}})
    assert not_out.json == {"count": 1}
    audited = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_type == "contact_consents"))
    assert audited == 2
