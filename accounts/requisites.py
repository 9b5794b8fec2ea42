"""Checks of Russian company requisites: INN, KPP, OGRN, BIK and bank account numbers with their keys.

The one home of these rules: account forms and the API, the company details and the bank statement reader
call them. Each ``check_*`` returns the value trimmed, or raises :class:`BadRequisite` saying what is wrong;
an empty value is allowed (not known yet) and returned as "".

Algorithms: INN check digits (their home is ``accounts.normalize.is_valid_inn``, which an account's tax id
already goes through; ``check_inn`` gives it the shape of the other checks here), OGRN (the first 12 digits mod 11, mod 10) and OGRNIP (the first 14 mod 13, mod 10), and the Bank of Russia's
control key of an account number (regulation No. 579-P / 385-P: the BIK's last three digits, or "0" and its
5th-6th digits for a correspondent account, before the 20 digits, weights 7,1,3 repeated, sum ≡ 0 mod 10).
"""

from __future__ import annotations

import re

from accounts.normalize import is_valid_inn

__all__ = ["BadRequisite", "check_account_number", "check_bik", "check_corr_account", "check_inn", "check_kpp",
           "check_ogrn", "inn_is_valid"]

_KEY_WEIGHTS = (7, 1, 3) * 8
_KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


class BadRequisite(ValueError):
    """A requisite that is not well formed; ``str()`` says what is wrong (English, for the field's error)."""


def _digits(value: str | None, lengths: tuple[int, ...], what: str) -> str:
    value = (value or "").strip()
    if value and (not value.isascii() or not value.isdigit() or len(value) not in lengths):
        raise BadRequisite(f"{what} must be {' or '.join(map(str, lengths))} digits.")
    return value


def _weighted(digits: str, weights) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights))


def check_inn(value: str | None) -> str:
    """An INN: 10 digits (a company) or 12 (a person), with its check digits."""
    inn = _digits(value, (10, 12), "INN")
    if inn and not is_valid_inn(inn):
        raise BadRequisite("INN check digits do not match.")
    return inn


def inn_is_valid(value: str | None) -> bool:
    """Whether ``value`` is a well-formed INN (not empty)."""
    try:
        return bool(check_inn(value))
    except BadRequisite:
        return False


def check_kpp(value: str | None) -> str:
    """A KPP: 9 characters, digits but for the 5th and 6th (digits or capital Latin letters)."""
    kpp = (value or "").strip().upper()
    if kpp and not _KPP.match(kpp):
        raise BadRequisite("KPP must be 9 characters: 4 digits, 2 digits or letters, 3 digits.")
    return kpp


def check_ogrn(value: str | None) -> str:
    """An OGRN (13 digits) or OGRNIP (15 digits) with its check digit."""
    ogrn = _digits(value, (13, 15), "OGRN")
    if ogrn:
        body, check = int(ogrn[:-1]), int(ogrn[-1])
        if body % (11 if len(ogrn) == 13 else 13) % 10 != check:
            raise BadRequisite("OGRN check digit does not match.")
    return ogrn


def check_bik(value: str | None) -> str:
    """A BIK: 9 digits."""
    return _digits(value, (9,), "BIK")


def _key_ok(prefix: str, account: str) -> bool:
    return _weighted(prefix + account, _KEY_WEIGHTS) % 10 == 0


def check_account_number(value: str | None, bik: str | None) -> str:
    """A settlement account: 20 digits whose control key matches the bank's BIK (when the BIK is known)."""
    account = _digits(value, (20,), "Account number")
    bik = (bik or "").strip()
    if account and len(bik) == 9 and bik.isdigit() and not _key_ok(bik[-3:], account):
        raise BadRequisite("Account number does not match the bank's BIK (control key).")
    return account


def check_corr_account(value: str | None, bik: str | None) -> str:
    """A correspondent account: 20 digits whose control key matches the BIK ("0" and its 5th-6th digits)."""
    account = _digits(value, (20,), "Correspondent account")
    bik = (bik or "").strip()
    if account and len(bik) == 9 and bik.isdigit() and not _key_ok("0" + bik[4:6], account):
        raise BadRequisite("Correspondent account does not match the bank's BIK (control key).")
    return account
