"""Languages and formats: the user's locale picks the translation and how numbers, money and dates look."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from flask import Flask, current_app, g, request, session
from babel.numbers import format_compact_decimal
from flask_babel import Babel, format_currency, format_date, format_datetime, format_decimal, get_locale

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# Code and the language's own name, as the switch shows it.
LANGUAGES = {"en": "English", "ru": "Русский"}
DEFAULT_LOCALE = "en"
SESSION_LOCALE_KEY = "locale"

babel = Babel()


def select_locale() -> str:
    """The user's saved locale; before login, the one chosen with the switch, else the browser's."""
    user = g.get("user")
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
