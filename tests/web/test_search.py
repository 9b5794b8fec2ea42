"""Every page with a search box ignores case in every script, on both databases (see tests/accounts/test_search.py)."""

from __future__ import annotations

import csv
import io

import pytest

from tests import factories
from tests.accounts.test_search import CASES, search_world

# Page, its search argument, and what a hit shows (formatted with the word searched for).
PAGES = {
    "accounts": ("/crm/accounts", "q", "ООО {}"),
    "deals": ("/crm/deals", "q", "Поставка {}"),
    "board": ("/crm/pipeline", "q", "Поставка {}"),
    "projects": ("/projects/", "q", "Проект {}"),
}


@pytest.fixture
def words(session, admin):
    found = search_world(session, admin)
    found["team"] = factories.team(session, members=[], name="Searchers")
    session.commit()
    return found


def _others(words: dict, script: str) -> list[str]:
    return [words[other] for other in ("cyrillic", "german", "greek", "turkish", "ascii") if other != script]


@pytest.mark.parametrize("script,text", CASES)
def test_every_search_box_finds_the_record_whatever_the_case(pages, admin, words, script, text):
    pages.log_in_as(admin)
    pickers = {"team picker": (f"/admin/teams/{words['team'].id}", "who", "Сотрудник {}"),
               "grant picker": (f"/admin/nodes/{words['root'].id}/access", "who", "Сотрудник {}")}
    for label, (path, argument, shape) in {**PAGES, **pickers}.items():
        extra = {"owner": "all"} if label == "board" else {}
        page = pages.get(path, query_string={argument: text, **extra})
        assert page.status_code == 200, (label, text)
        html = page.get_data(as_text=True)
        assert shape.format(words[script]) in html, (label, text)
        for other in _others(words, script):
            assert shape.format(other) not in html, (label, text, other)


@pytest.mark.parametrize("text", ["ЛАДОГА", "STRASSE"])
def test_the_deals_csv_searches_the_same_way(pages, admin, words, text):
    pages.log_in_as(admin)
    answer = pages.get("/crm/deals.csv", query_string={"q": text})
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    expected = "Поставка Ладога" if text == "ЛАДОГА" else "Поставка Straße"
    assert [row["name"] for row in rows] == [expected]
