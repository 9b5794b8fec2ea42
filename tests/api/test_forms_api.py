"""The web forms API: create, read, list, change and delete forms; checks named per field."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts.marketing.models import Campaign, WebForm
from accounts.models import Lead
from eps.models import Role
from tests import factories

FIELDS = [{"name": "contact_name", "required": True}, {"name": "email", "required": True, "label": "E-mail"}]


@pytest.fixture
def branch(session, admin):
    root = factories.node(session, actor=admin, code="ROOT")
    a = factories.node(session, actor=admin, parent=root, code="A")
    editor = factories.user(session)
    factories.grant(session, actor=admin, role=Role.editor, target=a, user=editor)
    campaign = Campaign(name="Spring", code="SPRING")
    session.add(campaign)
    session.commit()
    return {"root": root, "a": a, "editor": editor, "campaign": campaign}


def test_create_read_list_change_and_delete_a_form(api, session, branch):
    editor = branch["editor"]
    response = api.post("/api/v1/forms", user=editor, json={
        "name": "Contact us", "fields": FIELDS, "region_node_id": branch["a"].id,
        "campaign_id": branch["campaign"].id, "language": "en", "thank_you": "Thanks!"})
    assert response.status_code == 201, response.json
    form = response.json
    assert form["key"].startswith("f") and len(form["key"]) > 40
    assert form["url"].endswith(f"/forms/{form['key']}")
    assert form["fields"] == [{"name": "contact_name", "required": True, "label": ""},
                              {"name": "email", "required": True, "label": "E-mail"}]
    assert (form["source"], form["submissions"], form["is_active"], form["created_by_id"]) == (
        "web form", 0, True, editor.id)
    assert api.get(f"/api/v1/forms/{form['id']}", user=editor).json["name"] == "Contact us"
    assert [item["id"] for item in api.get("/api/v1/forms", user=editor).json["items"]] == [form["id"]]
    changed = api.patch(f"/api/v1/forms/{form['id']}", user=editor, json={"is_active": False, "source": "site"})
    assert changed.status_code == 200 and (changed.json["is_active"], changed.json["source"]) == (False, "site")
    assert api.get("/api/v1/forms?active=true", user=editor).json["total"] == 0
    assert api.delete(f"/api/v1/forms/{form['id']}", user=editor).status_code == 204
    assert api.get(f"/api/v1/forms/{form['id']}", user=editor).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"fields": []}, "fields"),
    ({"fields": [{"name": "password"}]}, "fields"),
    ({"fields": [{"name": "message", "required": True}]}, "fields"),  # no way to reach the person
    ({"fields": [{"name": "email", "required": True}, {"name": "email"}]}, "fields"),
    ({"language": "de"}, "language"),
    ({"campaign_id": 999999}, "campaign_id"),
    ({"name": ""}, "name"),
    ({"region_node_id": "x"}, "region_node_id"),
])
def test_bad_settings_are_refused_naming_the_field(api, session, branch, body, field):
    data = {"name": "Form", "fields": FIELDS, "region_node_id": branch["a"].id} | body
    response = api.post("/api/v1/forms", user=branch["editor"], json=data)
    assert response.status_code in (404, 422), response.json
    assert field in str(response.json.get("errors")), response.json
    assert session.scalar(select(WebForm.id)) is None


def test_deleting_a_form_keeps_its_leads(api, session, admin, branch):
    from accounts.marketing import forms

    form = forms.create_form(session, actor=branch["editor"], name="F", fields=FIELDS, region_node_id=branch["a"].id)
    done = forms.submit(session, form=form, data={"contact_name": "Ann", "email": "ann@example.com"})
    session.commit()
    assert api.delete(f"/api/v1/forms/{form.id}", user=branch["editor"]).status_code == 204
    session.expire_all()
    lead = session.get(Lead, done.lead.id)
    assert lead is not None and lead.web_form_id is None
