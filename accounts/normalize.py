"""Normalizing and checking what people type: tax ids (INN), emails, phones.

Pure functions, no database: the services call them before anything is stored,
and duplicate detection compares the normalized forms.

>>> normalize_phone("8 (916) 123-45-67")
'+79161234567'
>>> is_valid_inn("7707083893")
True
"""

from __future__ import annotations

import re

__all__ = ["InvalidValue", "is_valid_inn", "normalize_email", "normalize_phone", "normalize_tax_id"]

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FOREIGN_TAX_ID_RE = re.compile(r"^[A-Z0-9]{4,32}$")


class InvalidValue(ValueError):
    """A value that cannot be normalized; the message says why."""


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


def normalize_tax_id(value: str | None) -> str | None:
    """A tax id without spaces and dashes; all digits means an INN, whose check digits must hold."""
    if value is None:
        return None
    cleaned = re.sub(r"[\s\-./]", "", value).upper()
    if not cleaned:
        return None
    if cleaned.isdigit():
        if len(cleaned) not in (10, 12):
            raise InvalidValue("an INN has 10 digits (companies) or 12 (persons)")
        if not is_valid_inn(cleaned):
            raise InvalidValue("the INN check digits do not match")
        return cleaned
    # Foreign tax ids (VAT numbers) carry letters; only their shape is checked.
    if not _FOREIGN_TAX_ID_RE.match(cleaned):
        raise InvalidValue("a tax id is 4 to 32 letters and digits")
    return cleaned


def normalize_email(value: str | None) -> str | None:
    """An email trimmed and lower-cased, or None when empty."""
    if value is None or not value.strip():
        return None
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL_RE.match(email):
        raise InvalidValue("not a valid email address")
    return email


def normalize_phone(value: str | None, *, country_code: str = "7") -> str | None:
    """A phone number in E.164 form (``+79161234567``); national Russian forms get +7."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if re.search(r"[^\d\s()+\-.]", text):
        raise InvalidValue("a phone number holds digits, spaces, brackets, dashes and a leading +")
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        pass
    elif text.startswith("00"):
        digits = digits[2:]
    elif country_code == "7" and len(digits) == 11 and digits[0] in "78":
        digits = "7" + digits[1:]
    elif len(digits) == 10:
        digits = country_code + digits
    if not 8 <= len(digits) <= 15:
        raise InvalidValue("a phone number has 8 to 15 digits with its country code")
    return "+" + digits
