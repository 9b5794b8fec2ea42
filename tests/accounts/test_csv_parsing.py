"""Value parsers of the CSV import: money, dates, numbers, emails, phones."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.csvio.errors import ValueParseError
from accounts.csvio.parsing import (
    Money,
    Phone,
    Warned,
    parse_bool,
    parse_choice,
    parse_code,
    parse_currency,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_email,
    parse_int,
    parse_money,
    parse_percent,
    parse_person,
    parse_phone,
    parse_year,
)

MOSCOW = ZoneInfo("Europe/Moscow")


# --- money -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("$22,700.00", "22700.00", "USD"),
        ("22 700,00", "22700.00", None),
        ("22.700,00", "22700.00", None),
        ("22\u00a0700,00 ₽", "22700.00", "RUB"),
        ("22\u202f700,00 руб.", "22700.00", "RUB"),
        ("1 200 руб", "1200", "RUB"),
        ("1200 р.", "1200", "RUB"),
        ("RUB 1.500,50", "1500.50", "RUB"),
        ("1 500,50 RUR", "1500.50", "RUB"),
        ("usd 5", "5", "USD"),
        ("€3,5", "3.5", "EUR"),
        ("1'234.50 CHF", "1234.50", "CHF"),
        ("1\u2019234.50 CHF", "1234.50", "CHF"),
        ("12.345.678,9", "12345678.9", None),
        ("1,234,567.891", "1234567.891", None),
        ("22,700", "22700", None),  # a lone separator before three digits groups thousands
        ("1.500", "1500", None),
        ("0,500", "0.500", None),  # ...unless the integer part is zero
        ("1,5", "1.5", None),
        ("(1,200.00)", "-1200.00", None),
        ("-$1,200", "-1200", "USD"),
        ("$-1,200", "-1200", "USD"),
        ("1 200-", "-1200", None),
        ("−15", "-15", None),
        ("  $0.00  ", "0.00", "USD"),
    ],
)
def test_parse_money_reads_common_formats(text: str, amount: str, currency: str | None) -> None:
    assert parse_money(text) == Money(amount=Decimal(amount), currency=currency)


def test_parse_money_returns_decimal_never_float() -> None:
    assert type(parse_money("$0.10").amount) is Decimal


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "not an amount"),
        ("$5 EUR", "two currencies"),
        ("5 USB", "not a known currency"),
        ("1,2,3", "three digits"),
        ("12 34", "three digits"),
        ("1.234,567.8", "decimal separator"),
        ("1 234,567 8", "after the decimal separator"),
        ("--5", "two minus signs"),
        ("1e5", "not an amount"),
        ("", "not an amount"),
    ],
)
def test_parse_money_rejects_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueParseError, match=reason):
        parse_money(text)


_SYMBOLS = [
    ("$", "USD", True),
    ("€", "EUR", True),
    ("₽", "RUB", False),
    ("руб.", "RUB", False),
    ("USD", "USD", True),
    ("RUB", "RUB", False),
]
_STYLES = [(",", "."), (".", ","), (" ", ","), ("\u00a0", ","), ("\u202f", ","), ("'", "."), ("", "."), ("", ",")]


def _format(amount: Decimal, *, group: str, point: str) -> str:
    """Format like a spreadsheet would: grouped thousands, the locale's decimal mark."""
    sign, digits_text = ("-", str(-amount)) if amount < 0 else ("", str(amount))
    whole, _, frac = digits_text.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + group.join(groups) + (point + frac if frac else "")


@given(
    amount=st.decimals(min_value=0, max_value=Decimal("1e12"), places=2, allow_nan=False, allow_infinity=False),
    style=st.sampled_from(_STYLES),
    symbol=st.sampled_from(_SYMBOLS),
    negative=st.booleans(),
)
def test_money_round_trip(
    amount: Decimal, style: tuple[str, str], symbol: tuple[str, str, bool], negative: bool
) -> None:
    group, point = style
    if negative:
        amount = -amount
    number = _format(amount, group=group, point=point)
    token, code, prefix = symbol
    text = (
        f"{token}{number}" if prefix and len(token) == 1 else (f"{token} {number}" if prefix else f"{number} {token}")
    )
    parsed = parse_money(text)
    assert parsed.amount == amount
    assert parsed.currency == code


@given(
    number=st.integers(min_value=-(10**12), max_value=10**12),
    style=st.sampled_from(_STYLES),
)
def test_int_round_trip(number: int, style: tuple[str, str]) -> None:
    group, point = style
    assert parse_int(_format(Decimal(number), group=group, point=point)) == number


def test_parse_decimal_and_int() -> None:
    assert parse_decimal("1 234,5") == Decimal("1234.5")
    assert parse_int("12.0") == 12
    assert parse_int("1 200") == 1200
    with pytest.raises(ValueParseError, match="whole number"):
        parse_int("12.5")
    with pytest.raises(ValueParseError, match="below the minimum 0"):
        parse_int("-3", minimum=0)


def test_parse_year_has_a_sane_range() -> None:
    assert parse_year("1998") == 1998
    assert parse_year("2001.0") == 2001
    for bad in ("1599", "98", "3024", "19 98"):
        with pytest.raises(ValueParseError):
            parse_year(bad, today=date(2026, 1, 1))


def test_parse_percent() -> None:
    assert parse_percent("25") == Decimal(25)
    assert parse_percent("12,5 %") == Decimal("12.5")
    assert parse_percent("100%") == Decimal(100)
    with pytest.raises(ValueParseError, match="between 0 and 100"):
        parse_percent("120")


def test_parse_currency() -> None:
    assert parse_currency("usd") == "USD"
    assert parse_currency("₽") == "RUB"
    assert parse_currency("руб.") == "RUB"
    with pytest.raises(ValueParseError, match="not a known currency"):
        parse_currency("XYZ")


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-04-15", datetime(2021, 4, 15, tzinfo=MOSCOW)),
        ("2021-04-15 23:03:00", datetime(2021, 4, 15, 23, 3, tzinfo=MOSCOW)),
        ("2021-04-15T23:03", datetime(2021, 4, 15, 23, 3, tzinfo=MOSCOW)),
        ("2021-04-15T23:03:00.5Z", datetime(2021, 4, 15, 23, 3, 0, 500000, tzinfo=UTC)),
        ("2021-04-15T23:03:00+05:00", datetime(2021, 4, 15, 23, 3, tzinfo=timezone(timedelta(hours=5)))),
        ("15 Apr, 2021 00:02:00", datetime(2021, 4, 15, 0, 2, tzinfo=MOSCOW)),
        ("15 April 2021", datetime(2021, 4, 15, tzinfo=MOSCOW)),
        ("Apr 15, 2021 11:03 PM", datetime(2021, 4, 15, 23, 3, tzinfo=MOSCOW)),
        ("15 апреля 2021 г.", datetime(2021, 4, 15, tzinfo=MOSCOW)),
        ("15.04.2021", datetime(2021, 4, 15, tzinfo=MOSCOW)),
        ("15.04.2021 9:30", datetime(2021, 4, 15, 9, 30, tzinfo=MOSCOW)),
        ("15.04.21", datetime(2021, 4, 15, tzinfo=MOSCOW)),
        ("15/04/2021", datetime(2021, 4, 15, tzinfo=MOSCOW)),
        ("05/04/2021", datetime(2021, 4, 5, tzinfo=MOSCOW)),
    ],
)
def test_parse_datetime_formats_day_first(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text, tz=MOSCOW, date_order="DMY")
    assert parsed == expected
    assert parsed.tzinfo is not None


def test_ambiguous_slash_dates_follow_date_order() -> None:
    assert parse_date("05/04/2021", date_order="DMY") == date(2021, 4, 5)
    assert parse_date("05/04/2021", date_order="MDY") == date(2021, 5, 4)
    assert parse_date("12-31-2021", date_order="MDY") == date(2021, 12, 31)


def test_a_date_contradicting_date_order_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueParseError, match="month-first but the mapping's date_order is DMY"):
        parse_date("04/15/2021", date_order="DMY")
    with pytest.raises(ValueParseError, match="day-first but the mapping's date_order is MDY"):
        parse_date("15/04/2021", date_order="MDY")


def test_dotted_dates_are_always_day_first() -> None:
    assert parse_date("05.04.2021", date_order="MDY") == date(2021, 4, 5)


@pytest.mark.parametrize(
    "text",
    ["31.02.2021", "2021-13-01", "32 Foo, 2021", "yesterday", "15.04.1850", "25:00 01.01.2021", "2021-04-15 25:00"],
)
def test_bad_dates_are_rejected(text: str) -> None:
    with pytest.raises(ValueParseError):
        parse_datetime(text, tz=MOSCOW)


def test_parse_date_keeps_the_written_day_of_a_datetime() -> None:
    assert parse_date("16 Apr, 2021 00:03:00") == date(2021, 4, 16)
    assert parse_date("2021-04-15T23:30:00-08:00") == date(2021, 4, 15)


def test_naive_datetimes_take_the_installation_zone() -> None:
    tz = ZoneInfo("Asia/Vladivostok")
    parsed = parse_datetime("2021-04-15 10:00", tz=tz)
    assert parsed.utcoffset() == timedelta(hours=10)


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    )
)
def test_datetime_round_trip_through_common_formats(moment: datetime) -> None:
    expected = moment.replace(tzinfo=MOSCOW)
    assert parse_datetime(moment.isoformat(sep=" "), tz=MOSCOW) == expected
    assert parse_datetime(moment.strftime("%d %b, %Y %H:%M:%S"), tz=MOSCOW) == expected
    assert parse_datetime(moment.strftime("%d.%m.%Y %H:%M:%S"), tz=MOSCOW) == expected
    assert parse_datetime(moment.strftime("%m/%d/%Y %I:%M:%S %p"), tz=MOSCOW, date_order="MDY") == expected


# --- text, emails, phones, booleans ------------------------------------------------------


def test_parse_email_lower_cases_and_validates() -> None:
    assert parse_email(" BeckiTTucker@DayRep.com ") == "beckittucker@dayrep.com"
    assert parse_email("mailto:x@y.ru") == "x@y.ru"
    assert parse_email("<ivan@пример.рф>") == "ivan@пример.рф"
    for bad in ("bad@", "a@b", "a b@c.com", "a..b@c.com", "@c.com", "a@-c.com", "a@c.123", "a@@c.com"):
        with pytest.raises(ValueParseError, match="not an email"):
            parse_email(bad)


@pytest.mark.parametrize(
    ("text", "country", "e164"),
    [
        ("+7 (495) 123-45-67", "7", "+74951234567"),
        ("+8 916 123-45-67", "7", "+79161234567"),
        ("8 (916) 123-45-67", "7", "+79161234567"),
        ("7 916 123 45 67", "7", "+79161234567"),
        ("9161234567", "7", "+79161234567"),
        ("8-10-1-805-247-8982", "7", "+18052478982"),
        ("00 44 20 7946 0958", "7", "+442079460958"),
        ("805-247-8982", "1", "+18052478982"),
        ("1 (805) 247-8982", "1", "+18052478982"),
        ("030 1234567", "49", "+49301234567"),
    ],
)
def test_parse_phone_normalizes_to_e164_and_keeps_raw(text: str, country: str, e164: str | None) -> None:
    assert parse_phone(text, country_code=country) == Phone(e164=e164, raw=text)


@pytest.mark.parametrize(
    ("text", "e164", "reason"),
    [
        ("8 916 123 45 67 доб. 123", "+79161234567", "the extension is not kept"),
        ("+1 805 247 8982 ext. 12", "+18052478982", "the extension is not kept"),
        ("12-34", None, "cannot be normalized"),  # too short: no E.164 form, the raw text only in the warning
    ],
)
def test_parse_phone_warns_of_what_it_does_not_keep(text: str, e164: str | None, reason: str) -> None:
    result = parse_phone(text, country_code="7")
    assert isinstance(result, Warned)
    assert result.value == Phone(e164=e164, raw=text)
    assert reason in result.reason


def test_parse_phone_rejects_text() -> None:
    with pytest.raises(ValueParseError, match="not a phone number"):
        parse_phone("call me")


def test_parse_bool_choice_code_person() -> None:
    assert parse_bool("Yes") is True
    assert parse_bool("нет") is False
    with pytest.raises(ValueParseError):
        parse_bool("maybe")
    assert parse_choice("Web form", choices=("call", "web_form")) == "web_form"
    with pytest.raises(ValueParseError, match="not one of call, web_form"):
        parse_choice("fax", choices=("call", "web_form"))
    assert parse_code(" 77 07 083893 ") == "7707083893"
    with pytest.raises(ValueParseError, match="scientific notation"):
        parse_code("7.70708E+11")
    assert parse_person("Tina  Thomas") == "Tina Thomas"
    assert parse_person("Tina@FinePick.com") == "tina@finepick.com"


RUSSIAN_STYLES = [
    "+7 ({0}) {1}-{2}-{3}",
    "8 ({0}) {1}-{2}-{3}",
    "8{0}{1}{2}{3}",
    "+7-{0}-{1}-{2}{3}",
    "7 {0} {1} {2} {3}",
    "{0} {1} {2} {3}",
    "+7{0}{1}{2}{3} доб. 42",
]


@given(national=st.from_regex(r"9[0-9]{9}", fullmatch=True))
def test_russian_mobile_numbers_in_any_common_style_normalize_alike(national: str) -> None:
    """Every common way of writing one mobile number gives the same result: its E.164 form where the numbering
    plan has the number (most of the 9xx range), and no E.164 form in any style where it does not."""
    texts = [style.format(national[:3], national[3:6], national[6:8], national[8:]) for style in RUSSIAN_STYLES]
    results = {_unwarned(parse_phone(text, country_code="7")).e164 for text in texts}
    assert len(results) == 1
    if phonenumbers.is_valid_number(phonenumbers.parse("+7" + national)):
        assert results == {"+7" + national}


@pytest.mark.parametrize("style", RUSSIAN_STYLES)
@pytest.mark.parametrize("national", ["9161234567", "9031112233", "9857654321"])
def test_assigned_russian_mobile_numbers_keep_their_text(national: str, style: str) -> None:
    text = style.format(national[:3], national[3:6], national[6:8], national[8:])
    assert _unwarned(parse_phone(text, country_code="7")) == Phone(e164="+7" + national, raw=text)


def _unwarned(value):
    return value.value if isinstance(value, Warned) else value
