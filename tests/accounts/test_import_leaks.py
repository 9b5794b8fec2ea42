"""An import's report names nothing the importing user may not read: no hidden id, code or name."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from io import BytesIO

import pytest

from accounts import leads
from eps.models import Role
from tests import factories
from tests.accounts.fixtures import admin, api  # noqa: F401 - fixtures

WHEN = datetime(2026, 5, 4, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def world(session, admin):
    root = factories.node(session, actor=admin, code="ENT")
    pipeline = factories.pipeline(session, name="Sales")
    mine = factories.node(session, actor=admin, parent=root, code="MINE")
    hidden = factories.node(session, actor=admin, parent=root, code="HIDDEN-BR")
    hidden.name = "Secret branch"
    own = factories.account(session, actor=admin, region=mine, name="Own Client", external_id="ACC-OWN")
    secret = factories.account(session, actor=admin, region=hidden, name="Secret Baltic", external_id="ACC-SECRET")
    contact = factories.contact(session, actor=admin, account=secret, last_name="Secretov", email="spy@secret.example",
                                external_id="C-SECRET")
    deal = factories.deal(session, actor=admin, account=secret, pipeline=pipeline, external_id="D-SECRET")
    deal.project.name = "Secret deal"
    lead = leads.create_lead(session, actor=admin, region=hidden, company="Secret Lead Co", external_id="L-SECRET",
                             email="lead@secret.example")
    editor = factories.user(session, name="Editor")
    factories.grant(session, actor=admin, role=Role.manager, target=mine, user=editor)
    session.commit()
    hidden_objects = {"account": secret.id, "EPS node": hidden.id, "node": hidden.id, "contact": contact.id,
                      "deal": deal.id, "project": deal.project_id, "lead": lead.id, "eps node": secret.eps_node_id}
    # What the file may itself say (a name or code it refers to) is echoed back; anything else is a leak.
    names = ["Secret Baltic", "Secretov", "Secret deal", "Secret Lead Co", "Secret branch", "HIDDEN-BR",
             "spy@secret.example", "lead@secret.example", deal.project.code, secret.eps_node.code]
    return {"editor": editor, "pipeline": pipeline, "ids": hidden_objects, "names": names, "own": own}


def _post(api, user, kind, text, mapping, query="?dry_run=true"):
    data = {"file": (BytesIO(text.encode("utf-8")), "data.csv"),
            "mapping": (BytesIO(json.dumps(mapping).encode("utf-8")), "mapping.json")}
    return api.post(f"/api/v1/imports/{kind}{query}", user=user, data=data, json=None,
                    content_type="multipart/form-data")


def _leaks(body: dict, world, given: str) -> list[str]:
    text = json.dumps(body, ensure_ascii=False)
    found = [name for name in world["names"] if name.lower() in text.lower() and name not in given]
    for label, hidden_id in world["ids"].items():
        # How a message names a record by id: "account 12", "EPS node 7", "account_id": 12.
        if re.search(rf"\b{label}\s+{hidden_id}\b|\"{label}_id\": {hidden_id}\b", text, re.I):
            found.append(f"{label} {hidden_id}")
    return found


FILES = {
    "contacts": ({"columns": {"id": "external_id", "account": "account", "last": "last_name"}},
                 "id,account,last\nC1,ACC-SECRET,One\nC2,Secret Baltic,Two\nC-SECRET,ACC-OWN,Three\n"),
    "accounts": ({"columns": {"id": "external_id", "name": "name", "parent": "parent", "region": "region"}},
                 "id,name,parent,region\nA1,Sub,ACC-SECRET,MINE\nA2,Sub Two,Secret Baltic,MINE\n"
                 "ACC-SECRET,Mine now,,MINE\nA3,Elsewhere,,HIDDEN-BR\n"),
    "leads": ({"columns": {"id": "external_id", "company": "company", "region": "region"}},
              "id,company,region\nL1,Co,HIDDEN-BR\nL-SECRET,Co,MINE\n"),
    "deals": ({"columns": {"id": "external_id", "title": "title", "account": "account", "contact": "contact",
                           "lead": "lead", "stage": "stage"}, "pipeline": "Sales"},
              "id,title,account,contact,lead,stage\nD1,One,ACC-SECRET,,,Qualification\n"
              "D2,Two,,C-SECRET,,Qualification\nD3,Three,,,L-SECRET,Qualification\n"
              "D-SECRET,Four,ACC-OWN,,,Qualification\n"),
    "interactions": ({"columns": {"id": "external_id", "account": "account", "contact": "contact", "deal": "deal",
                                  "lead": "lead", "kind": "kind", "direction": "direction", "at": "occurred_at"}},
                     "id,account,contact,deal,lead,kind,direction,at\n"
                     "I1,ACC-SECRET,,,,call,inbound,2026-05-04 10:00\nI2,,C-SECRET,,,call,inbound,2026-05-04 10:00\n"
                     "I3,,,D-SECRET,,call,inbound,2026-05-04 10:00\nI4,,,,L-SECRET,call,inbound,2026-05-04 10:00\n"),
}


@pytest.mark.parametrize("query", ["?dry_run=true", "?partial=true", ""])
@pytest.mark.parametrize("kind", sorted(FILES))
def test_import_errors_name_nothing_hidden(api, world, kind, query):
    mapping, text = FILES[kind]
    response = _post(api, world["editor"], kind, text, mapping, query)
    body = response.get_json()
    rows = body["errors"] if isinstance(body.get("errors"), list) else body["errors"]["rows"]
    # Every row refers to something hidden, and each is refused.
    assert len({row["line"] for row in rows}) == text.count("\n") - 1, body
    assert _leaks(body, world, text) == [], body
