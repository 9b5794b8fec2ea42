"""Russian CRM vocabulary: currencies by code, symbol or name; INNs that lost their leading zero in Excel."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.csvio import Money, ValueParseError, import_file, parse_mapping
from accounts.csvio.parsing import Warned, parse_currency, parse_money, parse_tax_id
from accounts.normalize import InvalidValue, is_valid_inn, normalize_tax_id, restored_inn


@pytest.mark.parametrize(("text", "code"), [
    ("Российский рубль", "RUB"), ("российский рубль", "RUB"), ("руб.", "RUB"), ("₽", "RUB"), ("рублей", "RUB"),
    ("RUR", "RUB"), ("доллар США", "USD"), ("Доллары США", "USD"), ("USD", "USD"), ("$", "USD"),
    ("US dollar", "USD"), ("евро", "EUR"), ("Euro", "EUR"), ("€", "EUR"), ("eur", "EUR"), ("Китайский юань", "CNY"),
    ("тенге", "KZT"), ("Белорусский рубль", "BYN"),
])
def test_a_currency_is_read_by_code_symbol_or_name(text: str, code: str) -> None:
    assert parse_currency(text) == code


def test_an_unknown_currency_suggests_the_code_of_the_closest_name() -> None:
    with pytest.raises(ValueParseError, match=r"'Российский рупь' is not a known currency \(did you mean RUB\?\)"):
        parse_currency("Российский рупь")
    with pytest.raises(ValueParseError, match="write an ISO code such as RUB, USD, EUR"):
        parse_currency("тугрики")


@pytest.mark.parametrize(("text", "money"), [
    ("2 900 000 руб.", Money(Decimal("2900000"), "RUB")),
    ("1 250 000,50 ₽", Money(Decimal("1250000.50"), "RUB")),
    ("1 500 рублей", Money(Decimal("1500"), "RUB")),
    ("100 долларов США", Money(Decimal("100"), "USD")),
    ("EUR 1.500,50", Money(Decimal("1500.50"), "EUR")),
    ("$22,700.00", Money(Decimal("22700.00"), "USD")),
])
def test_money_names_its_currency_in_any_of_these_ways(text: str, money: Money) -> None:
    assert parse_money(text) == money


def test_a_deals_file_with_currency_names_imports_them_as_codes(tmp_path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("id;title;stage;amount;currency\r\n"
                    "1;Насосы;new;1 000;Российский рубль\r\n"
                    "2;Клапаны;new;2 000;доллар США\r\n"
                    "3;Прокладки;new;300 €;евро\r\n"
                    "4;Фланцы;new;10;рупь\r\n", encoding="cp1251", newline="")
    mapping = parse_mapping(data={"columns": {"id": "external_id", "title": "title", "stage": "stage",
                                              "amount": "amount", "currency": "currency"}}, kind="deals")
    batch = import_file(kind="deals", path=path, mapping=mapping)
    assert [(r.line, r.fields["amount"], r.fields["currency"]) for r in batch.records] == [
        (2, Decimal("1000"), "RUB"), (3, Decimal("2000"), "USD"), (4, Decimal("300"), "EUR")]
    assert [(e.line, e.column) for e in batch.errors] == [(5, "currency")]


def _inn12_with_leading_zero() -> str:
    for tail in range(10**8, 10**8 + 5000):
        digits = "0" + str(tail)  # 10 digits; the two check digits follow
        for check in range(100):
            candidate = f"{digits}{check:02d}"
            if is_valid_inn(candidate):
                return candidate
    raise AssertionError("no 12-digit INN with a leading zero found")


def test_an_inn_that_lost_its_leading_zero_is_restored_when_the_check_digits_prove_it() -> None:
    assert restored_inn("274062111") == "0274062111"       # Bashkortostan's tax office, 10 digits
    inn12 = _inn12_with_leading_zero()
    assert restored_inn(inn12[1:]) == inn12
    result = parse_tax_id("274062111")
    assert isinstance(result, Warned) and result.value == "0274062111"
    assert "leading zero" in result.reason


def test_an_inn_short_of_a_digit_that_the_zero_does_not_prove_is_refused_with_the_hint() -> None:
    assert restored_inn("274062112") is None
    with pytest.raises(ValueParseError, match="leading zero a spreadsheet may have dropped"):
        parse_tax_id("274062112")
    with pytest.raises(InvalidValue, match="leading zero"):
        normalize_tax_id("274062112")
    # A whole INN is as before: checked, not warned of.
    assert parse_tax_id("7707083893") == "7707083893"
    with pytest.raises(ValueParseError, match="check digits do not match"):
        parse_tax_id("7707083894")


def test_an_accounts_file_restores_and_refuses_inns_row_by_row(tmp_path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("id,name,inn\nA1,Башкирия,274062111\nA2,Ромашка,7707083893\nA3,Лютик,274062112\n",
                    encoding="utf-8")
    mapping = parse_mapping(data={"columns": {"id": "external_id", "name": "name", "inn": "tax_id"}},
                            kind="accounts")
    batch = import_file(kind="accounts", path=path, mapping=mapping)
    assert [(r.line, r.fields["tax_id"]) for r in batch.records] == [(2, "0274062111"), (3, "7707083893")]
    assert [(w.line, w.column, w.value) for w in batch.warnings] == [(2, "inn", "274062111")]
    assert [(e.line, e.column) for e in batch.errors] == [(4, "inn")]
