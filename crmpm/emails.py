"""E-mail addresses: the one rule for every address crmpm keeps (users, contacts, leads, imports).

``email-validator`` checks an address (its syntax, never DNS) and gives its one
spelling, lower-cased so that addresses compare as people expect
(docs/decisions/0004-phones-emails-downloads.md). The CRM's normalisation
(``accounts.normalize.normalize_email``), the users' service, the API's field and
the pages' form all call ``normalize_email``; lookups (log-in, duplicates) use
``email_key``, which never refuses.

>>> normalize_email("  Ivan.Petrov@Mail.RU "), normalize_email("ivan@пример.рф")
('ivan.petrov@mail.ru', 'ivan@пример.рф')
"""

from __future__ import annotations

from functools import lru_cache

import email_validator
from email_validator import EmailNotValidError, validate_email

__all__ = ["InvalidEmail", "email_key", "normalize_email"]

# crmpm's own users and many companies' internal mail live on ".local" and ".test" names (an Active Directory
# domain, a staging system), which email-validator refuses as special-use; taking them off its list is the
# library's documented switch. The list is module-wide: crmpm is the only user of email-validator.
_ALLOWED_SPECIAL_USE = ("local", "test")
email_validator.SPECIAL_USE_DOMAIN_NAMES[:] = [
    name for name in email_validator.SPECIAL_USE_DOMAIN_NAMES if name not in _ALLOWED_SPECIAL_USE]


class InvalidEmail(ValueError):
    """Text that is not an e-mail address."""


# Cached: an import names the same addresses row after row, and the library takes 0.1-0.4 ms a value.
@lru_cache(maxsize=65536)
def normalize_email(value: str) -> str:
    """``value`` checked as an e-mail address and spelled one way (trimmed, lower-cased); InvalidEmail if it is none."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidEmail("not a valid email address") from None
    return checked.normalized.lower()


def email_key(value: str) -> str:
    """The spelling to look an address up by: ``normalize_email``'s, or trimmed and lower-cased text if it is none."""
    try:
        return normalize_email(value)
    except InvalidEmail:
        return value.strip().lower()
