"""The search page (/search?q=…) and the search box on every page: every kind found, grouped, the matched field
shown and marked (escaped), phones in any format, case folded in every script, nothing the user may not read."""

from __future__ import annotations

import html
import re

import pytest

from crmpm.search import MAX_QUERY_LENGTH
from tests import factories
# Fixtures: world (branches A and B, a seller of A), words (one record of each kind per script).
from tests.accounts.test_product_search import words, world  # noqa: F401
from tests.accounts.test_search import CASES
from tests.leaks import hidden_mentions


def search(pages, user, text, **args):
    pages.log_in_as(user)
    answer = pages.get("/search", query_string={"q": text, **args})
    assert answer.status_code == 200, answer.status_code
    return answer.get_data(as_text=True)


def section(body, kind) -> str:
    """The HTML of the group of ``kind`` on the page, or "" when there is none."""
    found = re.search(rf'<section class="card search-group" id="found-{kind}".*?</section>', body, re.S)
    return found.group(0) if found else ""


def test_every_kind_is_found_grouped_with_links_and_the_matched_field_marked(pages, world):
    a = world["A"]
    body = search(pages, world["admin"], "alderwood")
    links = {
        "accounts": f'/crm/accounts/{a["account"].id}', "contacts": f'/crm/contacts/{a["contact"].id}',
        "leads": f'/crm/leads/{a["lead"].id}', "deals": f'/crm/deals/{a["deal"].id}',
        "projects": f'/projects/{a["project"].id}',
        "activities": f'/projects/{a["project"].id}/activities/{a["activity"].id}',
    }
    order = [body.index(f'id="found-{kind}"') for kind in links]
    assert order == sorted(order)  # grouped, in the kinds' order
    for kind, link in links.items():
        group = section(body, kind)
        assert f'href="{link}"' in group, kind
        assert "<mark>Alderwood</mark>" in group, kind
        assert "Birchfield" not in group
    assert "<mark>Alderwood</mark> Ltd" in section(body, "accounts")
    assert re.search(r"company:</span>\s*<mark>Alderwood</mark> Farms", section(body, "leads"))


@pytest.mark.parametrize("typed", ["+7 (812) 555-12-34", "8 812 5551234", "5551234"])
def test_a_phone_in_any_format_finds_the_contact_and_marks_the_digits(pages, world, typed):
    group = section(search(pages, world["admin"], typed), "contacts")
    assert "Anna Alderwoodson" in group and "Birchfield" not in group
    marked = "78125551234" if typed != "5551234" else "5551234"
    assert re.search(rf"phone:</span>\s*\+?[0-9]*<mark>\+?{marked}</mark>", group), group


def test_an_email_finds_the_contact(pages, world):
    group = section(search(pages, world["admin"], "ANNA@alderwood"), "contacts")
    assert re.search(r"e-mail:</span>\s*<mark>anna@alderwood</mark>\.example", group), group


@pytest.mark.parametrize("typed,marked_text", [("+7 (921) 111-22-33", "79211112233"), ("1112233", "1112233"),
                                               ("anna.home@", "anna.home@")])
def test_a_second_phone_or_email_finds_the_contact_and_opens_its_card(pages, world, typed, marked_text):
    contact = world["A"]["contact"]
    group = section(search(pages, world["admin"], typed), "contacts")
    assert group.count("<li>") == 1 and "Anna Alderwoodson" in group and "Birchfield" not in group
    assert f'href="/crm/contacts/{contact.id}"' in group
    field = "e-mail" if "@" in typed else "phone"
    assert re.search(rf"{field}:</span>\s*\+?[0-9]*<mark>\+?{re.escape(marked_text)}</mark>", group), group
    assert pages.get(f"/crm/contacts/{contact.id}").status_code == 200


def test_more_contacts_shows_the_search_page_for_contacts_alone(pages, session, world):
    admin, account = world["admin"], world["A"]["account"]
    for n in range(6):
        factories.contact(session, actor=admin, account=account, last_name=f"Person {n}",
                          channels=[("phone", "mobile", f"+7 (921) 999-00-0{n}")])
    session.commit()
    group = section(search(pages, admin, "921 999-00"), "contacts")
    assert group.count("<li>") == 5
    more = html.unescape(re.search(r'href="([^"]*kind=contacts[^"]*)"', group).group(1))
    page = pages.get(more).get_data(as_text=True)
    assert section(page, "contacts").count("<li>") == 6 and not section(page, "accounts")


def test_a_seller_never_finds_another_branchs_contact_through_its_channels(pages, world):
    b = world["B"]
    for typed in ("+7 (921) 444-55-66", "4445566", "b.home@private", "private.example"):
        body = search(pages, world["seller"], typed)
        assert 'class="card search-group"' not in body, typed
        assert hidden_mentions(body, [b["contact"], b["account"]], asked=typed) == [], typed
        assert f'/crm/contacts/{b["contact"].id}' in section(search(pages, world["admin"], typed), "contacts")


def test_a_seller_searching_the_other_branch_finds_nothing_of_it(pages, world):
    b = world["B"]
    hidden = [b["account"], b["contact"], b["lead"], b["deal"], b["project"]]
    for typed in ("Birchfield", "birch", "+7 (495) 777-88-99", "anna@birchfield", "PR-B", "D-B"):
        body = search(pages, world["seller"], typed)
        assert 'class="card search-group"' not in body, typed
        assert hidden_mentions(body, hidden, asked=typed) == [], typed
        assert b["activity"].name not in body
    # The same words as the administrator: the branch is there (the search itself works).
    assert section(search(pages, world["admin"], "Birchfield"), "accounts")


def test_names_and_the_query_are_escaped(pages, session, world):
    branch = world["A"]["account"].region_node
    evil = factories.account(session, actor=world["admin"], region=branch, name='<script>alert("x")</script> Evil')
    session.commit()
    body = search(pages, world["admin"], "<script>")
    assert f'/crm/accounts/{evil.id}' in body
    assert "<script>alert" not in body
    assert "<mark>&lt;script&gt;</mark>alert(&#34;x&#34;)" in body or "<mark>&lt;script&gt;</mark>alert(&quot;x&quot;)" in body
    body = search(pages, world["admin"], '"><img src=x onerror=alert(1)>')
    assert "<img src=x" not in body


def test_blank_and_too_long_texts_get_a_clear_answer(pages, world):
    body = search(pages, world["admin"], "   ")
    assert "search-group" not in body and "Type a name, a code" in body
    body = search(pages, world["admin"], "A" * (MAX_QUERY_LENGTH + 1))
    assert "The search text is too long: at most 100 characters." in body and 'role="alert"' in body
    assert "search-group" not in body
    body = search(pages, world["admin"], "Alderwood" + " " * 3 + "x" * (MAX_QUERY_LENGTH - 10))
    assert "too long" not in body
    assert "Nothing found for" in search(pages, world["admin"], "no such thing anywhere")


def test_more_links_lead_to_the_kinds_list_filtered_by_the_text(pages, session, world):
    admin, branch = world["admin"], world["A"]["account"].region_node
    for n in range(6):
        factories.account(session, actor=admin, region=branch, name=f"Oakridge {n}")
    project = world["A"]["project"]
    from wbs import services as wbs_services
    for n in range(6):
        wbs_services.create_activity(session, actor=admin, project=project, code=f"OAK-{n}", name=f"Oakridge {n}")
    session.commit()
    body = search(pages, admin, "Oakridge")
    accounts = section(body, "accounts")
    assert accounts.count("<li>") == 5
    assert 'href="/crm/accounts?q=Oakridge"' in accounts
    # Activities have no list that searches: "more" shows the search page for that kind alone.
    more = html.unescape(re.search(r'href="([^"]*kind=activities[^"]*)"', section(body, "activities")).group(1))
    page = pages.get(more).get_data(as_text=True)
    assert section(page, "activities").count("<li>") == 6 and not section(page, "accounts")
    # The lists themselves find the same.
    assert pages.get("/crm/accounts?q=Oakridge").get_data(as_text=True).count("Oakridge") >= 6


def test_the_lead_inbox_takes_the_search_text(pages, world):
    pages.log_in_as(world["admin"])
    body = pages.get("/crm/leads", query_string={"q": "alderwood", "scope": "all"}).get_data(as_text=True)
    assert "Alderwood Farms" in body and "Birchfield Farms" not in body


def test_every_page_has_the_search_box(pages, world):
    pages.log_in_as(world["admin"])
    for path in ("/", "/crm/accounts", "/projects/", "/profile/"):
        body = pages.get(path).get_data(as_text=True)
        form = re.search(r'<form method="get" action="/search" class="site-search" role="search">.*?</form>', body, re.S)
        assert form, path
        assert '<label for="site-search-q"' in form.group(0) and 'id="site-search-q" name="q"' in form.group(0)
    assert "/assets/search.js" in body
    # Logged out there is no box (the search needs a user).
    pages.client.get("/logout")
    with pages.client.session_transaction() as cookie:
        cookie.clear()
    assert "site-search" not in pages.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("script,text", CASES)
def test_case_is_folded_in_every_script_on_the_page(pages, words, script, text):
    admin, world_words = words
    word = world_words[script]
    body = search(pages, admin, text)
    for kind, name in (("accounts", f"ООО {word}"), ("contacts", f"Мария {word}ина"), ("leads", f"{word} Сервис"),
                       ("deals", f"Поставка {word}"), ("projects", f"Проект {word}")):
        group = section(body, kind)
        assert html.escape(name) in group, (kind, text)
        assert group.count("<li>") == 1, (kind, text)
        assert "<mark>" in group
