"""Amounts in figures and in words, as Russian and English paperwork prints them.

Figures: ``1 234 567,89`` in Russian (a no-break space between thousands, a comma before kopecks),
``1,234,567.89`` in English. Words: the whole units in words from num2words (its Russian cardinals put
тысяча in the feminine — одна, две тысячи — as they must) and the fraction in two figures, each followed by
its noun in the form its number asks for: "Сто двадцать три тысячи четыреста пятьдесят шесть рублей
78 копеек", the way Russian invoices and 1C print it. num2words' own ``to="currency"`` spells the kopecks out
too and writes "ноль копеек"; the layout here is ours, the number words are num2words'.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from num2words import num2words

NBSP = "\u00a0"
CENT = Decimal("0.01")

# The noun forms of a currency's unit and its hundredth: (one, two to four, five and more) in Russian,
# (one, many) in English.
RU_NOUNS = {
    "RUB": (("рубль", "рубля", "рублей"), ("копейка", "копейки", "копеек")),
    "USD": (("доллар США", "доллара США", "долларов США"), ("цент", "цента", "центов")),
    "EUR": (("евро", "евро", "евро"), ("цент", "цента", "центов")),
    "CNY": (("юань", "юаня", "юаней"), ("фэнь", "фэня", "фэней")),
    "KZT": (("тенге", "тенге", "тенге"), ("тиын", "тиына", "тиынов")),
    "BYN": (("белорусский рубль", "белорусских рубля", "белорусских рублей"),
            ("копейка", "копейки", "копеек")),
}
EN_NOUNS = {
    "RUB": (("rouble", "roubles"), ("kopeck", "kopecks")),
    "USD": (("US dollar", "US dollars"), ("cent", "cents")),
    "EUR": (("euro", "euros"), ("cent", "cents")),
    "CNY": (("yuan", "yuan"), ("fen", "fen")),
    "KZT": (("tenge", "tenge"), ("tiyn", "tiyn")),
    "BYN": (("Belarusian rouble", "Belarusian roubles"), ("kopeck", "kopecks")),
}
# Short names after a figure ("1 234,00 руб.").
RU_SHORT = {"RUB": "руб.", "USD": "долл. США", "EUR": "евро"}
EN_SHORT = {"RUB": "RUB", "USD": "USD", "EUR": "EUR"}

RU_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
             "ноября", "декабря")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def ru_plural(number: int, forms: tuple[str, str, str]) -> str:
    """The Russian noun form for a count: 1, 21, 101 → forms[0]; 2–4, 22–24 → forms[1]; 0, 5–20, 11–14 → forms[2]."""
    last_two = number % 100
    last = number % 10
    if last == 1 and last_two != 11:
        return forms[0]
    if 2 <= last <= 4 and not 12 <= last_two <= 14:
        return forms[1]
    return forms[2]


def _split(amount: Decimal) -> tuple[int, int]:
    cents = int((abs(Decimal(amount)).quantize(CENT, rounding=ROUND_HALF_UP) * 100).to_integral_value())
    return divmod(cents, 100)


def money(amount: Decimal | None, language: str) -> str:
    """An amount in figures with two decimals: ``1 234 567,89`` (ru, no-break spaces) or ``1,234,567.89`` (en)."""
    if amount is None:
        return ""
    value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    text = f"{abs(value):,.2f}"
    if language == "ru":
        text = text.replace(",", NBSP).replace(".", ",")
    return ("-" if value < 0 else "") + text


def quantity(value: Decimal | None, language: str) -> str:
    """A quantity without trailing zeros: ``2``, ``1,5`` (ru) or ``1.5`` (en)."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, _, fraction = text.partition(".")
    whole = f"{int(whole):,}"
    if language == "ru":
        whole = whole.replace(",", NBSP)
        return whole + ("," + fraction if fraction else "")
    return whole + ("." + fraction if fraction else "")


def currency_short(currency: str, language: str) -> str:
    """What follows a figure: "руб." for roubles in Russian, else the ISO code."""
    return (RU_SHORT if language == "ru" else EN_SHORT).get(currency, currency)


def amount_in_words(amount: Decimal, currency: str, language: str) -> str:
    """The amount in words with its currency, the fraction in figures, first letter capital.

    >>> amount_in_words(Decimal("123456.78"), "RUB", "ru")
    'Сто двадцать три тысячи четыреста пятьдесят шесть рублей 78 копеек'
    """
    whole, cents = _split(amount)
    if language == "ru":
        words = num2words(whole, lang="ru")
        units, hundredths = RU_NOUNS.get(currency, ((currency,) * 3, ("/100",) * 3))
        text = f"{words} {ru_plural(whole, units)} {cents:02d} {ru_plural(cents, hundredths)}"
    else:
        words = num2words(whole, lang="en")
        units, hundredths = EN_NOUNS.get(currency, ((currency,) * 2, ("/100",) * 2))
        text = (f"{words} {units[0] if whole == 1 else units[1]} "
                f"{cents:02d} {hundredths[0] if cents == 1 else hundredths[1]}")
    if Decimal(amount) < 0:
        text = ("минус " if language == "ru" else "minus ") + text
    return text[:1].upper() + text[1:]


def long_date(day: date | None, language: str) -> str:
    """A date as the document's language writes it: «5 декабря 2026 г.» or «5 December 2026»."""
    if day is None:
        return ""
    if language == "ru":
        return f"{day.day} {RU_MONTHS[day.month - 1]} {day.year} г."
    return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"


def short_date(day: date | None, language: str) -> str:
    """A date in figures: 05.12.2026 (ru) or 2026-12-05 (en)."""
    if day is None:
        return ""
    return day.strftime("%d.%m.%Y") if language == "ru" else day.isoformat()
