"""The CSV import through the service and the API: all or nothing, partial, dry run, stages, rights, bad input."""

from __future__ import annotations

import json
from decimal import Decimal
from io import BytesIO

import pytest
from sqlalchemy import func, select

from accounts import pipelines
from accounts.imports import import_csv
from accounts.models import Account, Contact, Deal, DealStageChange, Interaction, Lead, StageKind
from crmpm.audit.models import AuditEntry
from crmpm.errors import Forbidden
from crmpm.users.models import Team, User
from eps.models import EpsNode, Project
from tests import factories
from tests.accounts.fixtures import admin, api  # noqa: F401 - fixtures

TABLES = (Account, Contact, Deal, DealStageChange, Interaction, Lead, EpsNode, Project, AuditEntry, User, Team)
DEALS_MAPPING = {
    "columns": {"id": "external_id", "title": "title", "account": "account", "owner": "owner", "stage": "stage",
                "amount": "amount", "created": "engaged_at", "close": "expected_close"},
    "values": {"stage": {"Qualification": "Qualification", "Discovery": "Discovery", "Signed": "won",
                         "Dropped": "lost"}},
    "defaults": {"currency": "RUB", "lost_reason": "not imported"},
    "pipeline": "Sales",
}
HEADER = "id,title,account,owner,stage,amount,created,close\n"


def _counts(session):
    return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) for model in TABLES}


@pytest.fixture
def world(session, admin):
    root = factories.node(session, actor=admin, code="ENT")
    world = {"root": root, "pipeline": factories.pipeline(session, name="Sales"),
             "owner": factories.user(session, email="owner@example.test")}
    for side in ("A", "B"):
        branch = factories.node(session, actor=admin, parent=root, code=side)
        world[side] = {"branch": branch, "account": factories.account(session, actor=admin, region=branch,
                                                                       name=f"Client {side}",
                                                                       external_id=f"ACC-{side}")}
    session.commit()
    return world


def _files(tmp_path, text: str, mapping: dict | str = DEALS_MAPPING, *, encoding: str = "utf-8"):
    csv_path, mapping_path = tmp_path / "deals.csv", tmp_path / "deals.json"
    csv_path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    mapping_path.write_text(mapping if isinstance(mapping, str) else json.dumps(mapping), encoding="utf-8")
    return csv_path, mapping_path


GOOD = HEADER + ('D1,Pumps,ACC-A,owner@example.test,Qualification,"1 200,50 руб.",05.04.2026,2026-06-30\n'
                 'D2,Valves,Client A,owner@example.test,Signed,"3 000,00",2026-04-06,\n')
ONE_BAD = GOOD + ("D3,Gaskets,ACC-Nowhere,owner@example.test,Qualification,10,2026-04-07,\n"
                  "D4,Seals,ACC-A,owner@example.test,Qualification,10,2026-04-07,31.02.2026\n")


def test_one_bad_row_imports_nothing_and_partial_imports_the_rest(session, admin, world, tmp_path):
    csv_path, mapping_path = _files(tmp_path, ONE_BAD)
    before = _counts(session)
    report = import_csv(session, actor=admin, kind="deals", path=csv_path, mapping=mapping_path)
    session.commit()
    assert not report.committed
    assert _counts(session) == before
    assert [(e.line, e.column, e.field) for e in report.errors] == [(4, "account", "account"), (5, "close",
                                                                                                  "expected_close")]
    assert "unknown account 'ACC-Nowhere'" in report.errors[0].reason
    refusal = report.refusal()
    assert refusal.status == 422 and [row["line"] for row in refusal.errors["rows"]] == [4, 5]

    report = import_csv(session, actor=admin, kind="deals", path=csv_path, mapping=mapping_path, partial=True)
    session.commit()
    assert report.committed and report.created == 2 and report.error_lines == [4, 5]
    imported = {deal.external_id: deal for deal in session.scalars(select(Deal).where(Deal.external_id.in_(
        ["D1", "D2", "D3", "D4"])))}
    assert set(imported) == {"D1", "D2"}
    assert imported["D1"].amount == Decimal("1200.50") and imported["D1"].currency == "RUB"
    assert imported["D2"].stage.kind is StageKind.won and imported["D2"].account_id == world["A"]["account"].id
    assert imported["D2"].amount == Decimal("3000.00")


def test_dry_run_writes_nothing(session, admin, world, tmp_path):
    csv_path, mapping_path = _files(tmp_path, GOOD)
    before = _counts(session)
    report = import_csv(session, actor=admin, kind="deals", path=csv_path, mapping=mapping_path, dry_run=True)
    session.commit()
    assert (report.created, report.errors, report.committed) == (2, [], False)
    assert _counts(session) == before


def test_missing_stages_are_added_and_terminal_values_map_to_won_and_lost(session, admin, world, tmp_path):
    text = HEADER + ("D1,One,ACC-A,,Discovery,1,2026-04-01,\nD2,Two,ACC-A,,Signed,1,2026-04-01,\n"
                     "D3,Three,ACC-A,,Dropped,1,2026-04-01,\n")
    csv_path, mapping_path = _files(tmp_path, text)
    report = import_csv(session, actor=admin, kind="deals", path=csv_path, mapping=mapping_path)
    session.commit()
    assert report.created == 3, report.summary()
    pipeline = pipelines.get_by_name(session, name="Sales")
    session.refresh(pipeline)
    names = [stage.name for stage in pipeline.stages]
    assert names == ["Qualification", "Proposal", "Negotiation", "Discovery", "Won", "Lost"]
    kinds = {deal.external_id: deal.stage for deal in session.scalars(select(Deal))}
    assert (kinds["D1"].name, kinds["D2"].kind, kinds["D3"].kind) == ("Discovery", StageKind.won, StageKind.lost)


def test_pipeline_is_created_when_missing(session, admin, world, tmp_path):
    mapping = {**DEALS_MAPPING, "pipeline": "Imported"}
    csv_path, mapping_path = _files(tmp_path, GOOD, mapping)
    report = import_csv(session, actor=admin, kind="deals", path=csv_path, mapping=mapping_path)
    session.commit()
    pipeline = pipelines.get_by_name(session, name="Imported")
    # Open stages in the order of the mapping's values table, then the terminal ones.
    assert [(s.name, s.kind.value) for s in pipeline.stages] == [
        ("Qualification", "open"), ("Discovery", "open"), ("Won", "won"), ("Lost", "lost")]
    assert report.created == 2


def test_users_import_teams_and_branch_teams(session, admin, world, tmp_path):
    csv_path = tmp_path / "users.csv"
    csv_path.write_text("email,name,team,branch\nann@example.test,Ann Lee,Sales,A\nbob@example.test,Bob,,B\n",
                        encoding="utf-8")
    mapping_path = tmp_path / "users.json"
    mapping_path.write_text(json.dumps({"columns": {"email": "email", "name": "name", "team": "team",
                                                    "branch": "region"}, "defaults": {"active": False}}))
    report = import_csv(session, actor=admin, kind="users", path=csv_path, mapping=mapping_path)
    session.commit()
    assert report.created == 2 and report.committed
    ann = session.scalar(select(User).where(User.email == "ann@example.test"))
    assert not ann.is_active and ann.password_hash is None
    assert sorted(team.name for team in ann.teams) == ["A branch", "Sales"]
    again = import_csv(session, actor=admin, kind="users", path=csv_path, mapping=mapping_path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    with pytest.raises(Forbidden):
        import_csv(session, actor=world["owner"], kind="users", path=csv_path, mapping=mapping_path)


# Through the API


def _post(api, user, kind, csv_text, mapping=DEALS_MAPPING, query="", as_field=False):
    data = {"file": (BytesIO(csv_text.encode("utf-8") if isinstance(csv_text, str) else csv_text), "data.csv")}
    if mapping is not None:
        text = mapping if isinstance(mapping, str) else json.dumps(mapping)
        data["mapping"] = text if as_field else (BytesIO(text.encode("utf-8")), "mapping.json")
    return api.post(f"/api/v1/imports/{kind}{query}", user=user, data=data, json=None,
                    content_type="multipart/form-data")


def test_api_import_and_report(api, session, admin, world):
    before = _counts(session)
    dry = _post(api, admin, "deals", GOOD, query="?dry_run=true")
    assert dry.status_code == 200 and dry.json["created"] == 2 and dry.json["committed"] is False
    assert _counts(session) == before
    response = _post(api, admin, "deals", GOOD, as_field=True)
    assert response.status_code == 200, response.json
    assert (response.json["created"], response.json["committed"]) == (2, True)
    again = _post(api, admin, "deals", GOOD)
    assert (again.json["created"], again.json["updated"], again.json["unchanged"]) == (0, 0, 2)


def test_api_all_or_nothing_lists_rows(api, session, admin, world):
    before = _counts(session)
    response = _post(api, admin, "deals", ONE_BAD)
    assert response.status_code == 422
    rows = response.json["errors"]["rows"]
    assert [(row["line"], row["column"]) for row in rows] == [(4, "account"), (5, "close")]
    assert _counts(session) == before
    partial = _post(api, admin, "deals", ONE_BAD, query="?partial=true")
    assert partial.status_code == 200 and partial.json["created"] == 2
    assert [error["line"] for error in partial.json["errors"]] == [4, 5]


@pytest.mark.parametrize("role, status", [("viewer", 403), (None, 404), ("finance", 403), ("editor", 200)])
def test_api_rights(api, session, admin, world, role, status):
    user = factories.user(session)
    if role is not None:
        factories.grant(session, actor=admin, role=role, target=world["A"]["branch"], user=user)
    session.commit()
    api.token_for(user)  # issued before counting: its audit entry is not the import's
    before = _counts(session)
    text = HEADER + "D1,Pumps,ACC-A,owner@example.test,Qualification,10,2026-04-01,\n"
    response = _post(api, user, "deals", text)
    assert response.status_code == status, response.json
    if status == 200:
        assert response.json["created"] == 1
    else:
        assert _counts(session) == before
    # The other branch's account is out of reach whatever the grant on A.
    outside = _post(api, user, "deals", HEADER + "D9,X,ACC-B,,Qualification,10,2026-04-01,\n")
    assert outside.status_code == 404


def test_api_users_import_needs_an_administrator(api, session, admin, world):
    response = _post(api, world["owner"], "users", "email,name\nx@example.test,X\n",
                     {"columns": {"email": "email", "name": "name"}})
    assert response.status_code == 403


@pytest.mark.parametrize("kind, csv_text, mapping, status, key, words", [
    ("gadgets", GOOD, DEALS_MAPPING, 404, "kind", "unknown import kind 'gadgets'"),
    ("deals", GOOD, '{"columns": {"id": "external_id",}', 422, "mapping", "malformed JSON"),
    ("deals", GOOD, {**DEALS_MAPPING, "columns": {**DEALS_MAPPING["columns"], "title": "titel"}}, 422, "mapping",
     "did you mean 'title'"),
    ("deals", GOOD, {**DEALS_MAPPING, "delimiter": ";"}, 422, "mapping", "is the delimiter right?"),
    ("deals", HEADER + 'D1,"Pumps,ACC-A,,Qualification,1,2026-04-01,\n', DEALS_MAPPING, 422, "file", "quote"),
    ("deals", "\ufeff" + GOOD, {**DEALS_MAPPING, "encoding": "cp1251"}, 422, "file", "byte order mark"),
    ("deals", GOOD.encode("cp1251"), {**DEALS_MAPPING, "encoding": "utf-8"}, 422, "file", "not valid utf-8"),
    ("deals", GOOD, None, 422, "mapping", "a mapping is needed"),
])
def test_api_bad_input(api, session, admin, world, kind, csv_text, mapping, status, key, words):
    before = _counts(session)
    response = _post(api, admin, kind, csv_text, mapping)
    assert response.status_code == status, response.json
    assert key in response.json["errors"], response.json
    assert words in response.json["message"], response.json["message"]
    assert _counts(session) == before


def test_bom_and_cp1251_files_are_read(session, admin, world, tmp_path):
    for index, (text, encoding) in enumerate([("\ufeff" + GOOD, "utf-8"), (GOOD, "cp1251")]):
        folder = tmp_path / str(index)
        folder.mkdir()
        csv_path, mapping_path = _files(folder, text, encoding=encoding)
        report = import_csv(session, actor=admin, kind="deals", path=csv_path, mapping=mapping_path, dry_run=True)
        assert (report.created, report.errors) == (2, []), report.summary()
