"""The VAT rate (НДС) an invoice of a given date carries.

The general rate of the Tax Code of the Russian Federation (article 164, point 3), by the date it came into force:

* 20 % from 1994-01-01, 18 % from 2004-01-01;
* 20 % from 2019-01-01 (federal law of 03.08.2018 No. 303-FZ; e.g. https://dgs35.ru/raznoe/nds-stavka-2019-novye-stavki-nds-v-2019-godu-tablica.html,
  https://elcode.ru/service/biblioteka/operativno-i-dostoverno/18-373/513079);
* 22 % from 2026-01-01 (federal law of 28.11.2025 No. 425-FZ, changing article 164 point 3; e.g. Garant's review
  https://harant.ru/blog/nalogi/uvelichenie-nds-do-22-s-1-yanvarya-2026-goda-pravovye-posledstviya-i-vliyanie-na-nalogoplatelshhikov,
  https://lexviator.ru/tax2026).

The reduced rates (10 %, 0 %) depend on the goods, not the date, and are out of scope: a seller who bills at
another rate, or without VAT (a simplified-tax seller: "без НДС", 0 %), sets ``CompanyDetails.vat_rate``, which
then overrides the table for every date.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

__all__ = ["RATES", "law_rate_on", "rate_on"]

# (in force from, percent), in date order.
RATES: tuple[tuple[date, Decimal], ...] = (
    (date(1994, 1, 1), Decimal("20.00")),
    (date(2004, 1, 1), Decimal("18.00")),
    (date(2019, 1, 1), Decimal("20.00")),
    (date(2026, 1, 1), Decimal("22.00")),
)


def law_rate_on(day: date) -> Decimal:
    """The general Russian VAT rate in force on ``day`` (percent); the earliest listed for older dates."""
    index = bisect_right([start for start, _rate in RATES], day) - 1
    return RATES[max(index, 0)][1]


def rate_on(session: Session, day: date) -> Decimal:
    """The rate invoices dated ``day`` carry: the company's own rate if set (0 allowed), else the law's."""
    from accounts.billing.models import CompanyDetails

    override = session.scalar(select(CompanyDetails.vat_rate).order_by(CompanyDetails.id).limit(1))
    return Decimal(override).quantize(Decimal("0.01")) if override is not None else law_rate_on(day)
