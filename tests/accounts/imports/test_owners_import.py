"""Owners in a real import (service and API): the dry run's list and table, the owners table passed back,
``create_owners`` for administrators only, and owners created inactive on the file's branch."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from sqlalchemy import func, select

from accounts.csvio import resolve_mapping
from accounts.imports import import_csv
from accounts.imports.owners import with_owners
from accounts.models import Account, Deal
from crmpm.errors import Forbidden
from crmpm.jobs.runner import run_job
from crmpm.users.models import Team, User
from tests import factories
from tests.accounts.fixtures import admin, api  # noqa: F401 - fixtures
from tests.accounts.imports.exports import AMO_COMPANIES, AMO_COMPANY_HEADER, AMO_DEAL_HEADER, AMO_DEALS, write_csv


@pytest.fixture
def world(session, admin):
    branch = factories.node(session, actor=admin, code="MSK")
    people = {name: factories.user(session, name=name, email=email) for name, email in
              (("Иван Петров", "i.petrov@firm.ru"), ("Мария Смирнова", "m.smirnova@firm.ru"),
               ("Ольга Кузнецова", "o.kuznetsova@firm.ru"))}
    editor = factories.user(session, name="Редактор", email="editor@firm.ru")
    factories.grant(session, actor=admin, role="editor", target=branch, user=editor)
    session.commit()
    return {"branch": branch, "people": people, "editor": editor}


@pytest.fixture
def companies(tmp_path):
    path = tmp_path / "companies.csv"
    write_csv(path, AMO_COMPANY_HEADER, AMO_COMPANIES, encoding="utf-8-sig", delimiter=";")
    return path


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_the_dry_run_lists_every_unmatched_owner_with_a_table_to_fill_in(session, admin, world, companies):
    report = import_csv(session, actor=admin, kind="accounts", path=companies, mapping="amocrm", dry_run=True)
    assert [(owner["name"], owner["rows"]) for owner in report.unmatched_owners] == \
        [("Оля К.", 1), ("Дмитрий Волков", 1)]
    assert report.owners_table() == {"Оля К.": "", "Дмитрий Волков": ""}
    assert report.created == 2  # Иван Петров by full name, "Смирнова" by surname
    assert sorted(error.line for error in report.errors) == [4, 5]
    text = report.summary()
    assert "owners matched to no user (2): 'Оля К.' (1 rows), 'Дмитрий Волков' (1 rows)" in text
    assert "    name,email\n    Оля К.,\n    Дмитрий Волков," in text
    assert report.to_dict()["owners_table"] == {"Оля К.": "", "Дмитрий Волков": ""}


def test_the_filled_table_matches_them(session, admin, world, companies):
    mapping = with_owners(resolve_mapping(mapping="amocrm", kind="accounts"),
                          {"Оля К.": "o.kuznetsova@firm.ru", "Дмитрий Волков": "i.petrov@firm.ru"})
    report = import_csv(session, actor=admin, kind="accounts", path=companies, mapping=mapping)
    session.commit()
    assert report.committed and report.created == 4 and report.unmatched_owners == []
    query = select(Account.external_id, User.email).join(User, User.id == Account.owner_id)
    owners = dict(session.execute(query).all())
    assert owners == {"30117": "i.petrov@firm.ru", "30121": "m.smirnova@firm.ru", "30125": "o.kuznetsova@firm.ru",
                      "30130": "i.petrov@firm.ru"}


def test_only_administrators_create_owners(session, admin, world, companies):
    users_before, accounts_before = _count(session, User), _count(session, Account)
    with pytest.raises(Forbidden, match="only administrators create users"):
        import_csv(session, actor=world["editor"], kind="accounts", path=companies, mapping="amocrm",
                   create_owners=True)
    assert (_count(session, User), _count(session, Account)) == (users_before, accounts_before)
    # Without the flag the editor's import runs, and lists the owners it could not match.
    report = import_csv(session, actor=world["editor"], kind="accounts", path=companies, mapping="amocrm",
                        dry_run=True)
    assert [owner["name"] for owner in report.unmatched_owners] == ["Оля К.", "Дмитрий Волков"]


def test_created_owners_are_inactive_on_the_files_branch_and_keep_their_history(session, admin, world, companies,
                                                                                  tmp_path):
    mapping = with_owners(resolve_mapping(mapping="amocrm", kind="accounts"), {"Оля К.": "o.kuznetsova@firm.ru"})
    dry = import_csv(session, actor=admin, kind="accounts", path=companies, mapping=mapping, dry_run=True,
                     create_owners=True)
    assert [owner["email"] for owner in dry.created_owners] == ["dmitry.volkov@imported.local"]
    assert session.scalar(select(User).where(User.name == "Дмитрий Волков")) is None  # a dry run writes nothing

    report = import_csv(session, actor=admin, kind="accounts", path=companies, mapping=mapping, create_owners=True)
    session.commit()
    assert report.committed and report.created == 4 and report.errors == []
    assert report.created_owners == [{"name": "Дмитрий Волков", "email": "dmitry.volkov@imported.local", "rows": 1,
                                      "branch": "MSK"}]
    assert "owners created as inactive users (1; they cannot log in)" in report.summary()
    volkov = session.scalar(select(User).where(User.email == "dmitry.volkov@imported.local"))
    assert (volkov.name, volkov.is_active, volkov.password_hash) == ("Дмитрий Волков", False, None)
    assert [team.name for team in volkov.teams] == ["MSK branch"]
    assert session.scalar(select(Account.owner_id).where(Account.external_id == "30130")) == volkov.id

    # The deals file names him again: with the flag his deals keep him (he stays inactive, is not created twice).
    deals = tmp_path / "deals.csv"
    write_csv(deals, AMO_DEAL_HEADER, AMO_DEALS, encoding="utf-8-sig", delimiter=";")
    deal_mapping = with_owners(resolve_mapping(mapping="amocrm", kind="deals"), {"Оля К.": "o.kuznetsova@firm.ru"})
    refused = import_csv(session, actor=admin, kind="deals", path=deals, mapping=deal_mapping)
    assert not refused.committed and {error.reason for error in refused.errors} == \
        {"user dmitry.volkov@imported.local is inactive"}
    report = import_csv(session, actor=admin, kind="deals", path=deals, mapping=deal_mapping, create_owners=True)
    session.commit()
    # A deal amoCRM writes on two rows (one per product) is one deal.
    assert report.committed and report.created == len({deal["ID"] for deal in AMO_DEALS}) and report.repeated == 1
    assert report.created_owners == []
    session.refresh(volkov)
    assert volkov.is_active is False
    assert session.scalar(select(func.count()).select_from(Deal).where(Deal.owner_id == volkov.id)) == 2
    assert session.scalar(select(func.count()).select_from(User).where(User.name == "Дмитрий Волков")) == 1
    assert session.scalar(select(Team).where(Team.name == "MSK branch")).members == [volkov]


# Through the API


def _post(api, user, kind, path, *, mapping="amocrm", owners=None, query="", create_owners=None):
    data = {"file": (BytesIO(path.read_bytes()), path.name), "mapping": mapping}
    if owners is not None:
        data["owners"] = (BytesIO(owners.encode("utf-8")), "owners.csv")
    if create_owners is not None:
        data["create_owners"] = create_owners
    return api.post(f"/api/v1/imports/{kind}{query}", user=user, data=data, json=None,
                    content_type="multipart/form-data")


def test_api_takes_a_sets_name_an_owners_table_and_create_owners(api, session, admin, world, companies):
    dry = _post(api, admin, "accounts", companies, query="?dry_run=true")
    assert dry.status_code == 200, dry.json
    assert dry.json["owners_table"] == {"Оля К.": "", "Дмитрий Волков": ""}
    assert [owner["name"] for owner in dry.json["unmatched_owners"]] == ["Оля К.", "Дмитрий Волков"]

    refused = _post(api, world["editor"], "accounts", companies, query="?create_owners=true")
    assert refused.status_code == 403 and "only administrators create users" in refused.json["message"]
    refused = _post(api, world["editor"], "accounts", companies, create_owners="true")
    assert refused.status_code == 403
    assert _count(session, Account) == 0

    done = _post(api, admin, "accounts", companies, owners="name,email\nОля К.,o.kuznetsova@firm.ru\n",
                 query="?create_owners=true")
    assert done.status_code == 200, done.json
    assert done.json["created"] == 4 and done.json["committed"] is True
    assert done.json["created_owners"] == [{"name": "Дмитрий Волков", "email": "dmitry.volkov@imported.local",
                                            "rows": 1, "branch": "MSK"}]


def test_api_refuses_a_set_without_the_kind(api, session, admin, world, companies):
    response = _post(api, admin, "leads", companies)
    assert response.status_code == 422
    assert "the mapping set 'amocrm' has no mapping for leads" in json.dumps(response.json, ensure_ascii=False)


def test_api_job_with_a_sets_name_and_owners(api, session, admin, world, companies):
    response = _post(api, admin, "accounts", companies, owners='{"Оля К.": "o.kuznetsova@firm.ru"}',
                     query="?async=true&create_owners=true")
    assert response.status_code == 202, response.json
    job_id = response.json["id"]
    run_job(api._client.application, job_id)
    session.expire_all()
    job = api.get(f"/api/v1/jobs/{job_id}", user=admin).json
    assert job["status"] == "succeeded", job
    assert job["result"]["created"] == 4 and job["result"]["created_owners"][0]["name"] == "Дмитрий Волков"
