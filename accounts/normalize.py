"""Normalizing and checking what people type: tax ids (INN), emails, phones.

Pure functions, no database: the services and the CSV import call them before
anything is stored, and duplicate detection compares the normalized forms. This
is the CRM's home of the phone rule, and its door to the e-mail rule, which
lives in ``crmpm.emails`` because users have addresses too; the rules themselves
are libraries' (docs/decisions/0004-phones-emails-downloads.md): ``email-validator``
checks an address (syntax only, never DNS), ``phonenumbers`` reads a number the
way it is written in its country and gives it in E.164.

>>> normalize_phone("8 (916) 123-45-67")
'+79161234567'
>>> is_valid_inn("7707083893")
True
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from crmpm import emails

__all__ = [
    "DEFAULT_PHONE_REGION", "InvalidValue", "NotAPhoneNumber", "is_valid_inn", "name_key", "normalize_email",
    "normalize_phone", "normalize_tax_id", "phone_region", "restored_inn",
]

# Numbers written without a country code are read as Russian ones.
DEFAULT_PHONE_REGION = "RU"

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
# What a phone number is written with, before its extension (phonenumbers itself would read letters as digits).
_PHONE_CHARS_RE = re.compile(r"[\d\s()+\-./]+")
# Where a recognized extension begins: its first letter ("доб.", "ext.", "x") or "#".
_EXTENSION_START_RE = re.compile(r"[^\W\d_]|#")
_FOREIGN_TAX_ID_RE = re.compile(r"^[A-Z0-9]{4,32}$")


# Legal forms that do not tell two companies apart ("ООО «Ромашка»" and "Romashka LLC" are the same name).
_LEGAL_FORMS = frozenset({
    "ооо", "оао", "зао", "пао", "ао", "нао", "ип", "гк", "тоо", "фгуп", "муп", "гуп", "ано", "нко",
    "llc", "ltd", "inc", "corp", "co", "gmbh", "ag", "jsc", "ojsc", "cjsc", "pjsc", "plc", "sa", "bv", "oy", "ab",
})
_WORD_RE = re.compile(r"[^\W_]+")


class InvalidValue(ValueError):
    """A value that cannot be normalized; the message says why."""


class NotAPhoneNumber(InvalidValue):
    """Text that is no phone number at all (letters, no digits), as against a number of the wrong length."""


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10


def is_valid_inn(inn: str) -> bool:
    """Whether ``inn`` is a Russian tax id with correct check digits (10 for companies, 12 for persons)."""
    if not inn.isdigit():
        return False
    if len(inn) == 10:
        return _check_digit(inn, _INN10_WEIGHTS) == int(inn[9])
    if len(inn) == 12:
        return (_check_digit(inn, _INN11_WEIGHTS) == int(inn[10])
                and _check_digit(inn, _INN12_WEIGHTS) == int(inn[11]))
    return False


def restored_inn(value: str) -> str | None:
    """The INN ``value`` was before a spreadsheet stored it as a number and dropped its leading zero, or None.

    A 9- or 11-digit number is given its zero back only when the result's check digits hold (region
    codes begin 01-09, so one zero is all a number can lose); anything else is None.

    >>> restored_inn("274062111"), restored_inn("274062112"), restored_inn("7707083893")
    ('0274062111', None, None)
    """
    if value.isdigit() and len(value) in (9, 11) and is_valid_inn("0" + value):
        return "0" + value
    return None


def normalize_tax_id(value: str | None) -> str | None:
    """A tax id without spaces and dashes; all digits means an INN, whose check digits must hold."""
    if value is None:
        return None
    cleaned = re.sub(r"[\s\-./]", "", value).upper()
    if not cleaned:
        return None
    if cleaned.isdigit():
        if len(cleaned) in (9, 11):
            raise InvalidValue("an INN has 10 digits (companies) or 12 (persons); given back the leading zero a "
                               "spreadsheet may have dropped, its check digits do not match either")
        if len(cleaned) not in (10, 12):
            raise InvalidValue("an INN has 10 digits (companies) or 12 (persons)")
        if not is_valid_inn(cleaned):
            raise InvalidValue("the INN check digits do not match")
        return cleaned
    # Foreign tax ids (VAT numbers) carry letters; only their shape is checked.
    if not _FOREIGN_TAX_ID_RE.match(cleaned):
        raise InvalidValue("a tax id is 4 to 32 letters and digits")
    return cleaned


def name_key(name: str) -> str:
    """A company name as duplicates are compared: lower case, without quotes, punctuation and legal forms.

    >>> name_key("ООО «Ромашка-Сервис»"), name_key("Romashka Service, LLC")
    ('ромашка сервис', 'romashka service')
    """
    words = _WORD_RE.findall((name or "").casefold().replace("ё", "е"))
    kept = [word for word in words if word not in _LEGAL_FORMS]
    return " ".join(kept or words)


def normalize_email(value: str | None) -> str | None:
    """An email address checked and spelled one way (``crmpm.emails``, the one rule), or None when empty.

    >>> normalize_email("  Ivan.Petrov@Mail.RU ")
    'ivan.petrov@mail.ru'
    """
    if value is None or not value.strip():
        return None
    try:
        return emails.normalize_email(value)
    except emails.InvalidEmail:
        raise InvalidValue("not a valid email address") from None


def phone_region(country_code: str) -> str:
    """The region ``phonenumbers`` reads national numbers of a calling code in ("7" → "RU", "1" → "US")."""
    return phonenumbers.region_code_for_country_code(int(country_code))


# Cached: an import names the same switchboards row after row, and the library takes 0.1-0.4 ms a value.
@lru_cache(maxsize=65536)
def normalize_phone(value: str | None, *, region: str = DEFAULT_PHONE_REGION,
                    drop_extension: bool = False) -> str | None:
    """A phone number in E.164 form (``+79161234567``), or None when empty.

    A number without a country code is read as ``region`` writes it (8 (916)… in
    Russia; 00 and, in Russia, 8-10 dial abroad). An extension is refused unless
    ``drop_extension`` (E.164 has none; the CSV import keeps the text as written).

    >>> normalize_phone("8 (916) 123-45-67"), normalize_phone("0049 30 1234567")
    ('+79161234567', '+49301234567')
    """
    if value is None or not value.strip():
        return None
    text = " ".join(value.split())
    number = _parse_phone(text, region)
    if number.extension:
        if not drop_extension:
            raise InvalidValue("a phone number is stored without its extension")
        text = _EXTENSION_START_RE.split(text, maxsplit=1)[0]
    if not _PHONE_CHARS_RE.fullmatch(text):
        raise NotAPhoneNumber("a phone number holds digits, spaces, brackets, dashes and a leading +")
    if not phonenumbers.is_possible_number(number):
        raise InvalidValue("a phone number has as many digits as the numbers of its country")
    if not phonenumbers.is_valid_number(number):
        # Checked against the numbering plans phonenumbers ships: +7 000… or 810-269-5603 read in Russia (8-10
        # dialling abroad to +269 5603) are refused, not stored wrong.
        raise InvalidValue("no phone number of its country begins like this one")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_phone(text: str, region: str) -> phonenumbers.PhoneNumber:
    """``text`` read by phonenumbers, with two ways of writing Russians use that it does not know."""
    if text.startswith("00"):
        text = "+" + text[2:]  # the international prefix of most countries, used in Russia too
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE and region == "RU" \
                and re.fullmatch(r"\+\s*8\D*(?:\d\D*){10}", text):
            return _parse_phone("+7" + text.lstrip("+ ")[1:], region)  # "+8 916 ..." is a common slip for +7
        if exc.error_type == phonenumbers.NumberParseException.NOT_A_NUMBER:
            raise NotAPhoneNumber("a phone number holds digits, spaces, brackets, dashes and a leading +") from None
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise InvalidValue("no country has the calling code of this phone number") from None
        raise InvalidValue("a phone number has as many digits as the numbers of its country") from None
