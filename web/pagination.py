"""Pages of long lists: one query for the page, one for the count; the ``pagination`` macro draws the links."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import current_app, request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


MAX_PAGE = 1_000_000  # as the API's page argument: an offset the database can take


@dataclass
class Page:
    """One page of a list, and enough to link to the others."""

    items: Sequence
    page: int
    per_page: int
    total: int
    args: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        """1-based position of the first item shown (0 when empty)."""
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.page * self.per_page, self.total)

    def url(self, page: int) -> str:
        """The URL of ``page`` of the same list (same endpoint, same filters)."""
        return url_for(request.endpoint, **{**(request.view_args or {}), **self.args, "page": page})

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to link: the first, the last, and ``size`` around the current one; None for a gap."""
        shown = sorted({1, self.pages, *range(self.page - size, self.page + size + 1)} & set(range(1, self.pages + 1)))
        result: list[int | None] = []
        for number in shown:
            if result and number - result[-1] > 1:
                result.append(None)
            result.append(number)
        return result


def page_args(default_per_page: int | None = None) -> tuple[int, int]:
    """``page`` and ``per_page`` from the query string, kept within the configured bounds."""
    config = current_app.config
    default = default_per_page or config.get("PAGE_SIZE_DEFAULT", 50)
    page = request.args.get("page", 1, type=int) or 1
    per_page = request.args.get("per_page", default, type=int) or default
    return min(max(page, 1), MAX_PAGE), min(max(per_page, 1), config.get("PAGE_SIZE_MAX", 500))


def paginate(session: Session, query: Select, *, args: dict | None = None,
             default_per_page: int | None = None, total: int | None = None) -> Page:
    """Run one page of ``query`` (from the request's ``page``/``per_page``) and count the whole (``total``: the
    count, when the caller knows it already)."""
    page, per_page = page_args(default_per_page)
    if total is None:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=items, page=page, per_page=per_page, total=total, args=args or {})
