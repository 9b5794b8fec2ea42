"""Amounts in words and figures, against the words written out by hand and the rules of Russian grammar."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounts.paperwork.words import NBSP, amount_in_words, long_date, money, quantity, ru_plural

RUBLE = ("рубль", "рубля", "рублей")


@pytest.mark.parametrize(("amount", "words"), [
    ("123456.78", "Сто двадцать три тысячи четыреста пятьдесят шесть рублей 78 копеек"),
    # тысяча is feminine: одна тысяча, две тысячи, двадцать одна тысяча
    ("1001.01", "Одна тысяча один рубль 01 копейка"),
    ("2002.02", "Две тысячи два рубля 02 копейки"),
    ("21000.00", "Двадцать одна тысяча рублей 00 копеек"),
    ("22000.22", "Двадцать две тысячи рублей 22 копейки"),
    ("5000.05", "Пять тысяч рублей 05 копеек"),
    # 11–14 take the genitive plural whatever the last digit
    ("111.11", "Сто одиннадцать рублей 11 копеек"),
    ("12.12", "Двенадцать рублей 12 копеек"),
    ("14.14", "Четырнадцать рублей 14 копеек"),
    ("1000000.00", "Один миллион рублей 00 копеек"),
    ("2000000.51", "Два миллиона рублей 51 копейка"),
    ("0.50", "Ноль рублей 50 копеек"),
])
def test_russian_roubles_in_words(amount, words):
    assert amount_in_words(Decimal(amount), "RUB", "ru") == words


def test_english_words():
    assert amount_in_words(Decimal("1220.00"), "RUB", "en") == "One thousand, two hundred and twenty roubles 00 kopecks"
    assert amount_in_words(Decimal("1.01"), "RUB", "en") == "One rouble 01 kopeck"


@pytest.mark.parametrize(("number", "form"), [(1, 0), (2, 1), (4, 1), (5, 2), (11, 2), (12, 2), (14, 2), (21, 0),
                                              (22, 1), (25, 2), (101, 0), (111, 2), (1000, 2)])
def test_russian_plural_forms(number, form):
    assert ru_plural(number, RUBLE) == RUBLE[form]


def test_money_and_quantities_in_each_language():
    assert money(Decimal("1234567.891"), "ru") == f"1{NBSP}234{NBSP}567,89"
    assert money(Decimal("1234567.891"), "en") == "1,234,567.89"
    assert money(Decimal("0"), "ru") == "0,00"
    assert quantity(Decimal("2.000"), "ru") == "2" and quantity(Decimal("1.500"), "ru") == "1,5"
    assert quantity(Decimal("1500.25"), "en") == "1,500.25"


def test_dates_in_each_language():
    assert long_date(date(2026, 12, 5), "ru") == "5 декабря 2026 г."
    assert long_date(date(2026, 3, 1), "en") == "1 March 2026"
