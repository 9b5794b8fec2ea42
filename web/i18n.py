"""Languages and formats: the user's locale picks the translation and how numbers, money and dates look."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request, session
from babel.numbers import format_compact_decimal
from flask_babel import Babel, format_currency, format_date, format_datetime, format_decimal, get_locale, gettext

from crmpm.errors import CrmpmError, Phrase

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# Code and the language's own name, as the switch shows it.
LANGUAGES = {"en": "English", "ru": "Русский"}
DEFAULT_LOCALE = "en"
SESSION_LOCALE_KEY = "locale"

babel = Babel()


def select_locale() -> str:
    """The user's saved locale (a staff user's, or on the portal a client's); before login, the one chosen with
    the switch, else the browser's."""
    user = g.get("user") or g.get("client_user")
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    chosen = session.get(SESSION_LOCALE_KEY)
    if chosen in LANGUAGES:
        return chosen
    if request:
        return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    """Translations from ``web/translations``; format helpers as Jinja filters."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    # Dates are stored in UTC and shown on the company's clock.
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow")
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.filters.update(
        money=money, amount=amount, compact=compact, number=number, date=date_, datetime=datetime_, month=month, percent=percent)
    app.jinja_env.globals.update(languages=LANGUAGES, current_locale=lambda: str(get_locale()),
                                 base_currency=lambda: current_app.config["BASE_CURRENCY"])


_CODE_BEFORE_DIGIT = re.compile(r"^(-?)([A-Z]{3})(?=[\d])")


def money(value: Decimal | None, currency: str | None = None) -> str:
    """An amount with its currency, as the locale writes it: ``1 234,50 ₽`` or ``RUB 1,234.50``."""
    if value is None:
        return ""
    text = format_currency(value, currency or current_app.config["BASE_CURRENCY"])
    # Where the locale has no symbol for the currency, CLDR glues its code to the digits ("RUB1,234.50").
    return _CODE_BEFORE_DIGIT.sub("\\1\\2\u00a0", text)


def amount(value: Decimal | None) -> str:
    """An amount without the currency, always two decimals (for columns whose heading names it)."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.00")


def compact(value) -> str:
    """A short form for chart axes: ``1.2M``, ``1,2 млн``."""
    if value is None:
        return ""
    return format_compact_decimal(value, locale=get_locale(), fraction_digits=1)


def number(value) -> str:
    """A count or plain number in the locale's digits grouping."""
    if value is None:
        return ""
    return format_decimal(value)


def percent(value: float | Decimal | None) -> str:
    """A share as a whole percentage."""
    if value is None:
        return ""
    return format_decimal(Decimal(value) * 100, format="#,##0") + "\u00a0%"


def date_(value: date | datetime | None, format: str = "medium") -> str:  # noqa: A002 - babel's own argument name
    """A date in the locale's words (``27 нояб. 2026 г.``)."""
    if value is None:
        return ""
    return format_date(value, format)


def datetime_(value: datetime | None, format: str = "medium") -> str:  # noqa: A002
    """A point in time on the company's clock."""
    if value is None:
        return ""
    return format_datetime(value, format)


def month(value: date | None, format: str = "LLL yyyy") -> str:  # noqa: A002
    """A month, as a column heading or chart label (``янв. 2026``, ``Jan 2026``)."""
    if value is None:
        return ""
    return format_date(value, format)


# Domain messages (crmpm.errors): templates extracted into the same catalog as the pages' texts.

def translate_error(exc: CrmpmError) -> str:
    """A domain error's message in the user's language, as a page shows it (the API keeps the English)."""
    return translate(exc.template, exc.params)


def translate(template: str, params: Mapping[str, Any]) -> str:
    """``template`` from the catalog, formatted with ``params`` the locale's way; English where there is no translation.

    Parameters that are :class:`~crmpm.errors.Phrase` are translated in turn; amounts, dates and times are written
    as the locale writes them (a placeholder with a format spec of its own keeps it). A translation whose
    placeholders do not fit the parameters is ignored. A sentence that starts with words (its own or a phrase's)
    starts with a capital; one that starts with a code or a name is left as it is.
    """
    text, used = _translated(template, params)
    literal, field, _spec, _conversion = next(iter(_LOCAL_FORMATTER.parse(used)), ("", None, "", None))
    starts_with_words = literal[:1].isalpha() if literal else isinstance(params.get(field or ""), Phrase)
    return text[:1].upper() + text[1:] if starts_with_words else text


def _translated(template: str, params: Mapping[str, Any]) -> tuple[str, str]:
    """The translation formatted, and the template used (the translation, or the English one if it did not fit)."""
    translated = gettext(template) if template else template
    if not params:
        return translated, translated.replace("{", "{{").replace("}", "}}")
    try:
        return _LOCAL_FORMATTER.vformat(translated, (), params), translated
    except (KeyError, IndexError, ValueError):
        return _LOCAL_FORMATTER.vformat(template, (), params), template


def _local_value(value: Any) -> str:
    """One parameter as the user reads it."""
    if isinstance(value, Phrase):
        return _translated(value.template, value.params)[0]
    if isinstance(value, Decimal) and value.is_finite():
        places = max(0, -value.as_tuple().exponent)
        return format_decimal(value, format="#,##0" + ("." + "0" * places if places else ""))
    if isinstance(value, datetime):
        return datetime_(value)
    if isinstance(value, date):
        return date_(value)
    return str(value)


class _LocalFormatter(string.Formatter):
    """``str.format`` with the user's translations and number and date formats for unadorned placeholders."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec:
            return format(value, format_spec)
        return _local_value(value)


_LOCAL_FORMATTER = _LocalFormatter()
