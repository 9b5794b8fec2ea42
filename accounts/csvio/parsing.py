"""Value parsers for CSV cells: money, dates, datetimes, integers, emails, phones...

Every parser takes the raw cell text (already known to be non-empty) and either
returns a typed value or raises ``ValueParseError`` with a reason a sales manager
can act on. None of them guesses silently: an ambiguous value is an error.

>>> parse_money("$22,700.00")
Money(amount=Decimal('22700.00'), currency='USD')
>>> parse_money("22 700,50 руб.")
Money(amount=Decimal('22700.50'), currency='RUB')
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import lru_cache

from accounts.csvio.errors import ValueParseError
from accounts.normalize import (
    InvalidValue,
    NotAPhoneNumber,
    normalize_email,
    normalize_phone,
    normalize_tax_id,
    phone_region,
    restored_inn,
)

__all__ = [
    "Money",
    "Phone",
    "TypedCell",
    "Warned",
    "split_values",
    "parse_tax_id",
    "DATE_ORDERS",
    "DEFAULT_DATE_ORDER",
    "DEFAULT_PHONE_COUNTRY_CODE",
    "clean_text",
    "clean_name",
    "parse_bool",
    "parse_choice",
    "parse_code",
    "parse_currency",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_email",
    "parse_int",
    "parse_money",
    "parse_percent",
    "parse_person",
    "parse_phone",
    "parse_year",
]

DATE_ORDERS = ("DMY", "MDY")
# Russian installations write 05.04.2021 and 05/04/2021 day first.
DEFAULT_DATE_ORDER = "DMY"
DEFAULT_PHONE_COUNTRY_CODE = "7"

MIN_YEAR, MAX_YEAR = 1900, 2100

# Group separators people (and Excel) put between digits: no-break, narrow no-break,
# thin and figure spaces become a plain space; the typographic apostrophe of Swiss
# numbers (1’234.50) becomes a plain one.
_SPACE_TABLE = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u2019": "'"})


@dataclass(frozen=True, slots=True)
class Money:
    """An amount with the currency written next to it, if any."""

    amount: Decimal
    currency: str | None


@dataclass(frozen=True, slots=True)
class Phone:
    """A phone number: E.164 when it could be normalized, and the text as written."""

    e164: str | None
    raw: str


@dataclass(frozen=True, slots=True)
class Warned:
    """A parsed value kept in another form than written (a phone without its extension, an INN given back its
    leading zero...): the transform keeps ``value`` and reports ``reason`` as a RowWarning of the row."""

    value: object
    reason: str


class TypedCell(str):
    """A spreadsheet cell: its text (what a CSV export would hold) and the ``value`` the spreadsheet typed.

    ``value`` is a ``Decimal`` (a number cell, read through ``str`` so a float's binary artefacts never
    show: 0.1 stays 0.1), a ``date``, a naive ``datetime`` or a ``bool``. Fields that take numbers,
    dates or booleans use ``value``; every other field reads the text. ``percent`` is true when the
    cell is formatted as a percentage (``value`` is then in percent units: 0.25 shows and reads as 25).
    """

    value: object
    percent: bool

    def __new__(cls, text: str, value: object, *, percent: bool = False) -> TypedCell:
        cell = super().__new__(cls, text)
        cell.value = value
        cell.percent = percent
        return cell


# --- text --------------------------------------------------------------------------------


def clean_text(text: str) -> str | None:
    """Strip surrounding whitespace (including no-break spaces); empty becomes None."""
    # str.strip() already removes no-break and thin spaces (they are Unicode whitespace).
    text = text.strip()
    return text or None


def clean_name(text: str) -> str | None:
    """Clean a name or reference: strip and collapse inner runs of whitespace."""
    # References are later matched against names in the database; "Tina  Thomas"
    # with two spaces must still find Tina Thomas.
    text = " ".join(text.split())  # split() with no argument also splits on no-break spaces
    return text or None


# --- numbers -----------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"\d+(?:[ ',.]\d+)*")


def _canonical_number(text: str) -> str:
    """Turn '22 700,50', '22.700,50', '22,700.50' into '22700.50' (no sign handling)."""
    if not text.isascii():
        text = text.translate(_SPACE_TABLE)
    text = text.strip()
    if not _NUMBER_RE.fullmatch(text):
        raise ValueParseError(f"{text!r} is not a number")
    parts = re.split(r"([ ',.])", text)
    groups, seps = parts[0::2], parts[1::2]
    if not seps:
        return text
    marks = set(seps)
    decimal_sep: str | None
    if "," in marks and "." in marks:
        # Both present: whichever comes last separates the decimals (22,700.00 / 22.700,00).
        decimal_sep = seps[-1]
        if decimal_sep in " '" or seps.count(decimal_sep) != 1:
            raise ValueParseError(f"{text!r}: cannot tell the decimal separator")
    elif marks <= {" ", "'"}:
        decimal_sep = None
    else:
        mark = "," if "," in marks else "."
        if seps.count(mark) > 1:
            decimal_sep = None  # 1,000,000 or 1.000.000
        elif marks - {mark}:
            decimal_sep = mark  # 1 000,50: spaces group, so the comma is decimal
        elif len(groups[-1]) == 3 and groups[0] != "0":
            # "22,700" and "1.500": three digits after a lone separator are read as
            # thousands; money is never written with three decimals.
            decimal_sep = None
        else:
            decimal_sep = mark
    if decimal_sep is None:
        int_groups, int_seps, frac = groups, seps, ""
    else:
        if seps[-1] != decimal_sep:
            raise ValueParseError(f"{text!r}: digit groups after the decimal separator")
        int_groups, int_seps, frac = groups[:-1], seps[:-1], groups[-1]
    if int_seps:
        if len(set(int_seps)) != 1 or int_seps[0] == decimal_sep:
            raise ValueParseError(f"{text!r}: mixed thousands separators")
        if not 1 <= len(int_groups[0]) <= 3 or any(len(g) != 3 for g in int_groups[1:]):
            raise ValueParseError(f"{text!r}: thousands groups must have three digits")
    whole = "".join(int_groups)
    return f"{whole}.{frac}" if frac else whole


def _split_sign(text: str) -> tuple[bool, str]:
    """Return (negative, rest) for '-5', '−5', '5-', '(5)'."""
    text = text.strip()
    if len(text) > 1 and text[0] == "(" and text[-1] == ")":
        return True, text[1:-1].strip()
    if text[:1] in ("-", "\u2212"):
        return True, text[1:].strip()
    if text[-1:] == "-":
        return True, text[:-1].strip()
    if text[:1] == "+":
        return False, text[1:].strip()
    return False, text


def parse_decimal(text: str) -> Decimal:
    """Parse a plain number with any thousands/decimal separators into a Decimal."""
    negative, rest = _split_sign(text)
    value = Decimal(_canonical_number(rest))
    return -value if negative else value


def parse_int(text: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Parse an integer ('1 200', '1,200', '12.0'); a fraction is an error."""
    value = parse_decimal(text)
    if value != value.to_integral_value():
        raise ValueParseError(f"{text.strip()!r} is not a whole number")
    number = int(value)
    if minimum is not None and number < minimum:
        raise ValueParseError(f"{number} is below the minimum {minimum}")
    if maximum is not None and number > maximum:
        raise ValueParseError(f"{number} is above the maximum {maximum}")
    return number


def parse_year(text: str, *, today: date | None = None) -> int:
    """Parse a founding year between 1600 and the current year."""
    current = (today or date.today()).year
    text = text.strip()
    if not re.fullmatch(r"\d{4}(?:\.0+)?", text):
        raise ValueParseError(f"{text!r} is not a four-digit year")
    return parse_int(text, minimum=1600, maximum=current)


def parse_percent(text: str) -> Decimal:
    """Parse a percentage in percent units ('25', '25 %', '12,5%') between 0 and 100."""
    rest = text.strip()
    if rest.endswith("%"):
        rest = rest[:-1]
    value = parse_decimal(rest)
    if not Decimal(0) <= value <= Decimal(100):
        raise ValueParseError(f"{text.strip()!r} is not between 0 and 100 percent")
    return value


# --- money -------------------------------------------------------------------------------

_CURRENCY_SYMBOLS = {
    "$": "USD",
    "us$": "USD",
    "€": "EUR",
    "₽": "RUB",
    "руб": "RUB",
    "руб.": "RUB",
    "р": "RUB",
    "р.": "RUB",
    "£": "GBP",
    "₸": "KZT",
    "₴": "UAH",
    "₺": "TRY",
    "₹": "INR",
    "¥": "CNY",  # in a Russian CRM yuan is far more common than yen
}
# ISO 4217 codes likely in CRM exports; an unknown three-letter word is an error,
# not a currency, so a typo like "USB" is reported.
_CURRENCY_CODES = frozenset(
    """RUB USD EUR GBP CNY JPY CHF KZT BYN UAH TRY INR AED AMD AZN GEL KGS UZS TJS MDL
    PLN CZK SEK NOK DKK HUF RON BGN CAD AUD NZD HKD SGD KRW BRL MXN ZAR ILS SAR""".split()
)
_CURRENCY_ALIASES = {"RUR": "RUB"}  # the pre-1998 ruble code, still in old 1C exports
# Currencies by name, as Russian CRMs (amoCRM, Bitrix24, 1C) and spreadsheets write them: lower case,
# "ё" as "е", one space between words. Nominative, genitive and plural forms a column header or cell uses.
_CURRENCY_NAMES = {
    **dict.fromkeys(("рубль", "рубли", "рублей", "рубля", "российский рубль", "российские рубли",
                     "российских рублей", "руб", "р", "ruble", "rubles", "rouble", "roubles",
                     "russian ruble", "russian rouble"), "RUB"),
    **dict.fromkeys(("доллар", "доллары", "долларов", "доллара", "доллар сша", "долларов сша", "доллары сша",
                     "американский доллар", "долл", "долл сша", "dollar", "dollars", "us dollar", "us dollars",
                     "united states dollar"), "USD"),
    **dict.fromkeys(("евро", "euro", "euros"), "EUR"),
    **dict.fromkeys(("юань", "юани", "юаней", "китайский юань", "жэньминьби", "yuan", "renminbi",
                     "chinese yuan"), "CNY"),
    **dict.fromkeys(("тенге", "казахстанский тенге", "tenge", "kazakhstani tenge"), "KZT"),
    **dict.fromkeys(("белорусский рубль", "белорусских рублей", "бел руб", "belarusian ruble"), "BYN"),
    **dict.fromkeys(("гривна", "гривны", "гривен", "украинская гривна", "hryvnia"), "UAH"),
    **dict.fromkeys(("фунт стерлингов", "фунт", "фунты стерлингов", "pound sterling", "british pound"), "GBP"),
    **dict.fromkeys(("швейцарский франк", "швейцарских франков", "swiss franc"), "CHF"),
    **dict.fromkeys(("иена", "йена", "японская иена", "японская йена", "yen", "japanese yen"), "JPY"),
    **dict.fromkeys(("турецкая лира", "лира", "turkish lira"), "TRY"),
    **dict.fromkeys(("дирхам", "дирхам оаэ", "uae dirham"), "AED"),
    **dict.fromkeys(("сум", "узбекский сум"), "UZS"),
    **dict.fromkeys(("драм", "армянский драм"), "AMD"),
    **dict.fromkeys(("лари", "грузинский лари"), "GEL"),
    **dict.fromkeys(("манат", "азербайджанский манат"), "AZN"),
    **dict.fromkeys(("сом", "киргизский сом", "кыргызский сом"), "KGS"),
}

# A currency next to an amount: a symbol, or a word or two ("USD", "руб.", "долларов США").
_TOKEN = r"US\$|\$|€|₽|£|₸|₴|₺|₹|¥|[^\W\d_]+\.?(?:\s[^\W\d_]+\.?)?"
_MONEY_RE = re.compile(
    rf"(?P<cur1>{_TOKEN})?\s*(?P<body>[-−(+]?\s*[\d][\d\s',.]*\)?-?)\s*(?P<cur2>{_TOKEN})?",
    re.IGNORECASE,
)


def _currency_key(token: str) -> str:
    return " ".join(token.casefold().replace("ё", "е").replace(".", " ").split())


def parse_currency(text: str) -> str:
    """Parse a currency code, symbol or name ('usd', '$', 'руб.', 'Российский рубль', 'доллар США') into ISO 4217.

    >>> parse_currency("Российский рубль"), parse_currency("доллар США"), parse_currency("€")
    ('RUB', 'USD', 'EUR')
    """
    token = text.strip()
    code = (_CURRENCY_SYMBOLS.get(token.lower()) or _CURRENCY_NAMES.get(_currency_key(token))
            or _CURRENCY_ALIASES.get(token.upper(), token.upper()))
    if code not in _CURRENCY_CODES:
        key = _currency_key(token)
        close = difflib.get_close_matches(key, list(_CURRENCY_NAMES), n=1, cutoff=0.75)
        hint = (f" (did you mean {_CURRENCY_NAMES[close[0]]}?)" if close
                else f"; write an ISO code such as RUB, USD, EUR")
        raise ValueParseError(f"{token!r} is not a known currency{hint}")
    return code


def parse_money(text: str) -> Money:
    """Parse '$22,700.00', '22 700,00 ₽', 'RUB 1.500,50', '(1,200.00)' into Money."""
    cleaned = (text if text.isascii() else text.translate(_SPACE_TABLE)).strip()
    # A sign may sit outside the symbol: "-$1,200" or "-1 200 руб.".
    outer_negative = cleaned[:1] in ("-", "\u2212")
    if outer_negative:
        cleaned = cleaned[1:].strip()
    match = _MONEY_RE.fullmatch(cleaned)
    if not match:
        raise ValueParseError(f"{text.strip()!r} is not an amount of money")
    currencies = {parse_currency(c) for c in (match["cur1"], match["cur2"]) if c}
    if len(currencies) > 1:
        raise ValueParseError(f"{text.strip()!r} names two currencies")
    amount = parse_decimal(match["body"].strip())
    if outer_negative:
        if amount < 0:
            raise ValueParseError(f"{text.strip()!r} has two minus signs")
        amount = -amount
    return Money(amount=amount, currency=currencies.pop() if currencies else None)


# --- dates and times ---------------------------------------------------------------------

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "jan january янв январь января",
        "feb february фев февраль февраля",
        "mar march мар март марта",
        "apr april апр апрель апреля",
        "may май мая",
        "jun june июн июнь июня",
        "jul july июл июль июля",
        "aug august авг август августа",
        "sep sept september сен сент сентябрь сентября",
        "oct october окт октябрь октября",
        "nov november ноя нояб ноябрь ноября",
        "dec december дек декабрь декабря",
    ],
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_TIME = (
    r"(?:[T ,]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<frac>\d{1,6}))?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
)
_ISO_RE = re.compile(r"(?P<y>\d{4})([-/.])(?P<m>\d{1,2})\2(?P<d>\d{1,2})" + _TIME)
_NUMERIC_RE = re.compile(r"(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})" + _TIME)
_DAY_MONTH_RE = re.compile(r"(?P<d>\d{1,2})[\s-]+(?P<mon>[^\W\d_]+)\.?,?[\s-]+(?P<y>\d{4})(?:\s*г\.?)?" + _TIME)
_MONTH_DAY_RE = re.compile(r"(?P<mon>[^\W\d_]+)\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>\d{4})" + _TIME)


def _year(text: str) -> int:
    """Four-digit years as written; two-digit ones pivot like strptime's %y (69 → 2069, 70 → 1970)."""
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _zone(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


@lru_cache(maxsize=65536)
def _parse_temporal(text: str, date_order: str) -> tuple[date, time | None, tzinfo | None]:
    """Parse a date with an optional time and zone; cached because exports repeat dates a lot."""
    value = " ".join(text.split())
    if match := _ISO_RE.fullmatch(value):
        year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    elif match := _NUMERIC_RE.fullmatch(value):
        first, second, year = int(match["a"]), int(match["b"]), _year(match["y"])
        if match["sep"] == ".":
            # Dotted dates are day first everywhere they are used (dd.mm.yyyy).
            day, month = first, second
        elif first > 12 and second <= 12:
            if date_order != "DMY":
                raise ValueParseError(f"{value!r} is day-first but the mapping's date_order is {date_order}")
            day, month = first, second
        elif second > 12 and first <= 12:
            if date_order != "MDY":
                raise ValueParseError(f"{value!r} is month-first but the mapping's date_order is {date_order}")
            day, month = second, first
        elif date_order == "DMY":
            day, month = first, second
        else:
            day, month = second, first
    elif (match := _DAY_MONTH_RE.fullmatch(value)) or (match := _MONTH_DAY_RE.fullmatch(value)):
        month_name = match["mon"].lower().rstrip(".")
        if month_name not in _MONTHS:
            raise ValueParseError(f"{value!r}: unknown month {match['mon']!r}")
        year, month, day = int(match["y"]), _MONTHS[month_name], int(match["d"])
    else:
        raise ValueParseError(f"{value!r} is not a date")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueParseError(f"{value!r}: year {year} is out of range {MIN_YEAR}-{MAX_YEAR}")
    try:
        day_value = date(year, month, day)
    except ValueError as exc:
        raise ValueParseError(f"{value!r}: {exc}") from None
    clock: time | None = None
    if match["hour"] is not None:
        hour, minute = int(match["hour"]), int(match["minute"])
        if match["ampm"]:
            if not 1 <= hour <= 12:
                raise ValueParseError(f"{value!r}: hour {hour} with AM/PM")
            hour = hour % 12 + (12 if match["ampm"][0] in "Pp" else 0)
        second = int(match["second"] or 0)
        micro = int((match["frac"] or "0").ljust(6, "0"))
        try:
            clock = time(hour, minute, second, micro)
        except ValueError as exc:
            raise ValueParseError(f"{value!r}: {exc}") from None
    return day_value, clock, _zone(match["zone"])


def parse_date(text: str, *, date_order: str = DEFAULT_DATE_ORDER) -> date:
    """Parse a calendar date; a time part, if present, is dropped (the date stays as written).

    Not a warning: exports write a date field's day with the time it was set (Zoho's "Closing
    Date"), and the day is all a date field holds.
    """
    day, _clock, _zone_info = _parse_temporal(text.strip(), date_order)
    return day


def parse_datetime(text: str, *, tz: tzinfo, date_order: str = DEFAULT_DATE_ORDER) -> datetime:
    """Parse a date-time; one without a zone is taken in ``tz``, a bare date is midnight."""
    day, clock, zone = _parse_temporal(text.strip(), date_order)
    return datetime.combine(day, clock or time(0), tzinfo=zone or tz)


# --- booleans ----------------------------------------------------------------------------

_TRUE = frozenset("1 y yes true t on x да д истина".split())
_FALSE = frozenset("0 n no false f off нет н ложь".split())


def parse_bool(text: str) -> bool:
    """Parse yes/no, true/false, 1/0, да/нет (any case)."""
    token = text.strip().lower()
    if token in _TRUE:
        return True
    if token in _FALSE:
        return False
    raise ValueParseError(f"{text.strip()!r} is not yes/no")


# --- emails and phones: accounts.normalize's rules ---------------------------------------


def parse_email(text: str) -> str:
    """Lower-case and validate an address ('mailto:' and '<...>' are stripped)."""
    value = text.strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    try:
        email = normalize_email(value)
    except InvalidValue:
        email = None
    if email is None:
        raise ValueParseError(f"{text.strip()!r} is not an email address")
    return email


def parse_phone(text: str, *, country_code: str = DEFAULT_PHONE_COUNTRY_CODE) -> Phone | Warned:
    """Normalize a phone number to E.164; the raw text is always kept in ``Phone.raw``.

    Text that is no phone number at all is a ValueParseError. A number whose extension is dropped
    (E.164 has none), or one that cannot be normalized (too short or long for its country, an
    unknown code), comes back ``Warned``: the row imports, and the report says what was not kept.
    """
    raw = " ".join(text.split())
    region = phone_region(country_code)
    try:
        return Phone(e164=normalize_phone(raw, region=region), raw=raw)
    except NotAPhoneNumber:
        raise ValueParseError(f"{raw!r} is not a phone number") from None
    except InvalidValue as exc:
        problem = str(exc)
    try:
        e164 = normalize_phone(raw, region=region, drop_extension=True)
    except InvalidValue:
        return Warned(Phone(e164=None, raw=raw),
                      f"cannot be normalized ({problem}): not stored as a phone, only reported here")
    return Warned(Phone(e164=e164, raw=raw), f"stored as {e164}: the extension is not kept (E.164 has none)")


_SPLIT_PHONES_RE = re.compile(r"[;,\n\r]+")
_SPLIT_EMAILS_RE = re.compile(r"[;,\s]+")
_EXTENSION_RE = re.compile(r"(?:доб|вн|ext|x|#)", re.IGNORECASE)


def split_values(text: str, *, emails: bool) -> list[str]:
    """The several phones or e-mails of one cell ("a, b", "a; b", one a line), in order, blanks dropped.

    Phones split on commas, semicolons and line ends (a space is inside a number); an extension
    written after a comma ("+7 495 123-45-67, доб. 12") stays with its number. E-mails split on
    whitespace too.

    >>> split_values("8 916 123-45-67, +7 495 111-22-33 доб. 4; 8 800 200-00-00", emails=False)
    ['8 916 123-45-67', '+7 495 111-22-33 доб. 4', '8 800 200-00-00']
    >>> split_values("a@x.ru,  b@y.ru; c@z.ru", emails=True)
    ['a@x.ru', 'b@y.ru', 'c@z.ru']
    """
    if emails:
        return [part for part in _SPLIT_EMAILS_RE.split(text) if part]
    parts: list[str] = []
    for part in _SPLIT_PHONES_RE.split(text):
        part = part.strip()
        if not part:
            continue
        if parts and _EXTENSION_RE.match(part):
            parts[-1] = f"{parts[-1]} {part}"
        else:
            parts.append(part)
    return parts


# --- identifiers -------------------------------------------------------------------------

_SCIENTIFIC_RE = re.compile(r"\d(?:[.,]\d+)?E\+\d+", re.IGNORECASE)


def parse_code(text: str) -> str:
    """Clean an identifier (external id, tax id): strip, drop inner spaces, reject Excel's 1.2E+11."""
    value = "".join(text.translate(_SPACE_TABLE).split())
    if _SCIENTIFIC_RE.fullmatch(value):
        # Excel turns long ids into floats; the digits are lost, so the id is unusable.
        raise ValueParseError(f"{value!r} is an id mangled by Excel into scientific notation")
    return value


def parse_tax_id(text: str) -> str | Warned:
    """A tax id by ``accounts.normalize``'s rule (an INN's check digits hold); an INN whose leading zero a
    spreadsheet dropped (9 or 11 digits) is given it back when the check digits prove it, with a warning."""
    value = parse_code(text)
    restored = restored_inn(value)
    if restored is not None:
        return Warned(restored, f"read as INN {restored}: the leading zero a spreadsheet drops is restored "
                                "(the check digits prove it)")
    try:
        return normalize_tax_id(value)
    except InvalidValue as exc:
        raise ValueParseError(f"{value!r}: {exc}") from None


def parse_choice(text: str, *, choices: tuple[str, ...]) -> str:
    """Match one of ``choices`` ignoring case and spaces/hyphens vs underscores ('Web form' → 'web_form')."""
    token = re.sub(r"[\s-]+", "_", text.strip().lower())
    if token in choices:
        return token
    raise ValueParseError(f"{text.strip()!r} is not one of {', '.join(choices)}")


def parse_person(text: str) -> str:
    """A person reference: an email (lower-cased, validated) or a cleaned name."""
    if "@" in text:
        return parse_email(text)
    name = clean_name(text)
    if name is None:
        raise ValueParseError("empty name")
    return name
