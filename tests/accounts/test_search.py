"""Search ignores case in every script, on every list of the API and on both databases.

SQLite's own ``lower()`` folds ASCII only, so before ``crmpm.search`` an upper-case
Cyrillic search ("ЛАДОГА") found nothing there; ``STRASSE`` found ``Straße`` on neither
database. Each list is searched for one record per script and must answer that
record and no other.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from accounts import leads as lead_services
from accounts import deals as deal_services
from crmpm.search import fold
from eps.models import EpsNode
from tests import factories
from tests.accounts.fixtures import admin, api  # noqa: F401 - fixtures

# One name per script, and how a user may type it: upper, lower, mixed, ß spelled out, dotted İ as i.
NAMES = {
    "cyrillic": "Ладога",
    "german": "Straße",
    "greek": "ΟΔΟΣ",
    "turkish": "İSTANBUL",
}
SEARCHES = {
    "cyrillic": ["Ладога", "ЛАДОГА", "ладога", "лАДОГА", "адог"],
    "german": ["Straße", "STRASSE", "strasse", "STRAßE", "straß"],
    "greek": ["ΟΔΟΣ", "οδος", "Οδος", "ΟΔΟ"],
    "turkish": ["İSTANBUL", "İstanbul", "istanbul", "İST"],
}
CASES = [(script, text) for script, texts in SEARCHES.items() for text in texts]


def test_fold_matches_what_the_user_types_to_what_is_stored():
    # The rule on its own, against Python's full Unicode case folding as the oracle.
    for script, texts in SEARCHES.items():
        for text in texts:
            assert fold(text.casefold().replace("i\u0307", "i")) == fold(text), (script, text)
            assert fold(text) in fold(NAMES[script]), (script, text)


def search_world(session, admin):
    """One branch node, project, account, contact, lead, deal and user per script, plus ASCII ones."""
    root = factories.node(session, actor=admin, code="ROOT")
    pipeline = factories.pipeline(session, name="Sales")
    world = {"root": root, "pipeline": pipeline}
    for script, word in {**NAMES, "ascii": "Plain"}.items():
        branch = factories.node(session, actor=admin, parent=root, code=f"BR-{script[:3].upper()}")
        branch.name = f"Филиал {word}" if script != "ascii" else "Branch Plain"
        project = factories.project(session, actor=admin, node=branch, code=f"PR-{script[:3].upper()}")
        project.name = f"Проект {word}"
        account = factories.account(session, actor=admin, region=branch, name=f"ООО {word}")
        factories.contact(session, actor=admin, account=account, first_name="Мария", last_name=f"{word}ина")
        lead_services.create_lead(session, actor=admin, region=branch, company=f"{word} Сервис",
                                  contact_name="Пётр")
        deal_services.create_deal(session, actor=admin, account=account, name=f"Поставка {word}",
                                  pipeline=pipeline, code=f"D-{script[:3].upper()}")
        factories.user(session, name=f"Сотрудник {word}", email=f"{script}@example.test")
        world[script] = word
    session.commit()
    return world


@pytest.fixture
def words(session, admin):
    return search_world(session, admin)


# Each list: path, the field holding the searched name, and the name as created above.
LISTS = {
    "accounts": ("/api/v1/accounts", "name", "ООО {}"),
    "contacts": ("/api/v1/contacts", "last_name", "{}ина"),
    "leads": ("/api/v1/leads", "company", "{} Сервис"),
    "deals": ("/api/v1/deals", "name", "Поставка {}"),
    "eps nodes": ("/api/v1/eps/nodes", "name", "Филиал {}"),
    "projects": ("/api/v1/projects", "name", "Проект {}"),
}


@pytest.mark.parametrize("script,text", CASES)
def test_every_api_list_finds_the_record_whatever_the_case(api, admin, words, script, text):
    for label, (path, field, shape) in LISTS.items():
        answer = api.get(path, user=admin, query_string={"q": text, "per_page": 100})
        assert answer.status_code == 200, (label, answer.json)
        found = {item[field] for item in answer.json["items"]}
        expected = shape.format(words[script])
        # Deals are projects and accounts are EPS nodes too: those lists also hold them.
        if label == "projects":
            found.discard(f"Поставка {words[script]}")
        if label == "eps nodes":
            found.discard(f"ООО {words[script]}")
        assert found == {expected}, (label, text, found)


def test_csv_exports_search_the_same_way(api, admin, words):
    answer = api.get("/api/v1/accounts", user=admin, query_string={"q": "ЛАДОГА", "format": "csv"})
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [row["name"] for row in rows] == ["ООО Ладога"]


def test_an_ascii_search_still_finds_only_ascii_matches(api, admin, words):
    found = {item["name"] for item in api.get("/api/v1/accounts", user=admin,
                                              query_string={"q": "PLAIN"}).json["items"]}
    assert found == {"ООО Plain"}


@pytest.mark.parametrize("text", ["%", "_", "\\", "İ", "ı", "ﬁ", "\u0307", "'", "%_\\"])
def test_like_characters_and_odd_letters_match_themselves_and_never_fail(api, admin, words, text):
    for label, (path, _field, _shape) in LISTS.items():
        answer = api.get(path, user=admin, query_string={"q": text})
        assert answer.status_code == 200, (label, text, answer.json)
        if text in ("%", "_", "\\", "%_\\", "'"):
            # No name here holds these characters: a wildcard reading would have listed everything.
            assert answer.json["items"] == [], (label, text)


def test_the_board_searches_in_every_script(session, admin, words):
    columns = deal_services.board(session, user=admin, pipeline=words["pipeline"], search="ПОСТАВКА ЛАДОГА")
    names = [card.project.name for column in columns for card in column.deals]
    assert names == ["Поставка Ладога"]


@pytest.mark.parametrize("company", ["ООО ЛАДОГА", "ооо ладога ", "ООО Ладога"])
def test_a_leads_company_finds_its_account_whatever_the_case(session, admin, words, company):
    from accounts import routing

    branch = session.scalars(select(EpsNode).where(EpsNode.code == "BR-CYR")).one()
    lead = lead_services.create_lead(session, actor=admin, region=branch, company=company)
    found = routing.existing_client(session, lead=lead)
    assert found is not None and found.name == "ООО Ладога"
