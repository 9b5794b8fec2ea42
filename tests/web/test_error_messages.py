"""The domain's refusals on the pages: in the user's language, with the figures as the locale writes them."""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask_babel import force_locale

from crmpm.app import create_app
from crmpm.errors import Conflict, Invalid, Phrase
from eps import budgets
from tests import factories
from web import i18n

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_PACKAGES = ("eps", "wbs", "accounts", "crmpm")
# The keywords `make messages` extracts the domain's message templates with.
DOMAIN_KEYWORDS = {name: None for name in (
    "Invalid", "Conflict", "Forbidden", "NotFound", "Unauthenticated", "CrmpmError", "Phrase", "InvalidValue",
    "WrongPassword", "TooManyAttempts")}


def _domain_templates() -> set[str]:
    found = set()
    for package in DOMAIN_PACKAGES:
        for _file, _line, message, _comments, _context in extract_from_dir(
                str(ROOT / package), method_map=[("**.py", "python")], keywords=DOMAIN_KEYWORDS):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _fields(text: str) -> list[tuple]:
    return sorted((name, conversion or "", spec) for _literal, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None)


def _russian() -> dict[str, str]:
    catalog = read_po((i18n.TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.po").open("rb"), locale="ru")
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str)}


def test_every_domain_message_is_extracted_and_translated():
    templates = _domain_templates()
    assert len(templates) > 150  # the extraction found the domain's messages at all
    assert "the current budget of {target} would become negative ({new_current})" in templates
    pot = {m.id for m in read_po((i18n.TRANSLATIONS / "messages.pot").open("rb")) if m.id}
    assert not sorted(templates - pot), "run `make messages`"
    russian = _russian()
    assert not sorted(t for t in templates if not russian.get(t)), "translate them in ru/messages.po"


def test_translations_keep_exactly_the_placeholders():
    russian = _russian()
    for template in _domain_templates():
        assert _fields(russian[template]) == _fields(template), (template, russian[template])


@pytest.fixture
def bare_app():
    return create_app({"DATABASE_URL": "sqlite://", "TESTING": True})


@pytest.fixture
def ru(bare_app):
    with bare_app.test_request_context("/"), force_locale("ru"):
        yield


def test_a_message_and_its_phrases_are_translated_with_russian_figures(ru):
    exc = Conflict("parent {parent} has {available} undistributed; {delta} was asked for {target}",
                   parent=Phrase("EPS node {code}", code="A"), available=Decimal("1300.00"),
                   delta=Decimal("-400.5"), target=Phrase("project {code}", code="PA"))
    assert i18n.translate_error(exc) == ("У родителя (узел EPS A) не распределено 1\u00a0300,00, а запрошено -400,5 "
                                         "(получатель: проект PA)")
    assert exc.message == "parent EPS node A has 1300.00 undistributed; -400.5 was asked for project PA"


def test_a_sentence_starting_with_a_phrase_gets_a_capital_and_one_starting_with_a_code_does_not(ru):
    assert i18n.translate("{target} not found", {"target": Phrase("project {id}", id=7)}) == "Не найдено: проект 7"
    assert i18n.translate("{what} with code {code!r} already exists",
                          {"what": Phrase("a project"), "code": "P-1"}) == "Проект с кодом 'P-1' уже существует"
    assert i18n.translate("{key}: {problem}", {"key": "file", "problem": "bad"}) == "file: bad"


def test_dates_follow_the_locale_unless_the_template_fixes_the_format(ru):
    first = date(2026, 3, 2)
    assert i18n.translate("plan month {month} is not the first day of a month", {"month": first}) == \
        "Месяц плана 2 мар. 2026\u202fг. — не первое число месяца"
    assert i18n.translate("plan amount for {month:%Y-%m} is negative", {"month": first}) == \
        "Сумма плана на 2026-03 отрицательная"


def test_a_template_without_translation_stays_english_with_local_figures(ru):
    assert i18n.translate("a message nobody translated: {amount}", {"amount": Decimal("1234.50")}) == \
        "A message nobody translated: 1\u00a0234,50"
    # A message made without parameters (a parser's, or one a form already translated) is shown as it is.
    assert i18n.translate_error(Invalid("Сумма: не число {x}")) == "Сумма: не число {x}"


def test_a_translation_that_breaks_its_placeholders_is_ignored(ru, monkeypatch):
    monkeypatch.setattr(i18n, "gettext", lambda text: "Сломано {nothing}" if text.startswith("user") else text)
    assert i18n.translate("user {email} is inactive", {"email": "a@b.test"}) == "User a@b.test is inactive"


def test_english_pages_show_the_english_message_with_a_capital(bare_app):
    with bare_app.test_request_context("/"), force_locale("en"):
        exc = Conflict("the current budget of {target} would become negative ({new_current})",
                       target=Phrase("project {code}", code="PA"), new_current=Decimal("-1000.00"))
        assert i18n.translate_error(exc) == "The current budget of project PA would become negative (-1,000.00)"


def _russian_admin(session):
    user = factories.user(session, admin=True, name="Администратор")
    user.locale = "ru"
    session.commit()
    return user


def test_a_refused_approval_flashes_the_russian_reason_with_the_figures(pages, session, admin, world):
    # A1 has 200 of A's 500; +400 on A1 would take more than the 300 A has undistributed.
    change = budgets.request_change(session, actor=admin, obj=world["A1"], amount=Decimal("400.00"), reason="big")
    session.commit()
    pages.log_in_as(_russian_admin(session))
    response = pages.post(f"/finance/changes/{change.id}/approve",
                          headers={"Referer": f"http://localhost/finance/nodes/{world['A1'].id}"})
    assert response.status_code == 303
    body = pages.get(response.location).get_data(as_text=True)
    assert "flash-error" in body
    assert ("У родителя (узел EPS A) не распределено 300,00, а запрошено 400,00 (получатель: узел EPS A1)"
            in body), body
    assert "was asked for" not in body


def test_the_same_refusal_through_the_api_stays_english(app, session, admin, world):
    change = budgets.request_change(session, actor=admin, obj=world["A1"], amount=Decimal("400.00"), reason="big")
    session.commit()
    token = factories.token(session, user=_russian_admin(session))
    session.commit()
    response = app.test_client().post(f"/api/v1/eps/nodes/{world['A1'].id}/budget/changes/{change.id}/approve",
                                      json={}, headers={"Authorization": f"Bearer {token}",
                                                        "Accept-Language": "ru"})
    assert response.status_code == 409
    assert response.get_json()["message"] == \
        "parent EPS node A has 300.00 undistributed; 400.00 was asked for EPS node A1"
