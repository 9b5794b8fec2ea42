"""SQL statements built once and used again, instead of built on every request.

A list's statement depends on who asks only through their rights' condition (``eps.permissions.visible``:
one object per set of grant paths) and on the list's filters. Built anew, the same statement costs a
request its construction, SQLAlchemy's cache key of it and the rewriting of the cached result columns
for the new objects (about a tenth of a small API list); the same object is executed at once. A
statement holds SQL, never rows: what it returns is read when it runs, under the rights it was built for.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Select, Table, bindparam

__all__ = ["PAGE_PARAMETERS", "built_once", "derived_once", "page_of"]

F = TypeVar("F", bound=Callable)

# Statements kept per builder: every set of rights in use and its lists' filters, the least used dropped.
KEPT = 2048

# What ``built_once`` builders returned and still keep: statements worth deriving once from (``page_of``).
_KEPT_STATEMENTS: weakref.WeakSet = weakref.WeakSet()


def built_once(builder: F) -> F:
    """Keep what ``builder`` returns per set of arguments (all hashable: SQL objects, ids, strings).

    Arguments of unbounded variety (a searched text) are for ``builder.__wrapped__``, which builds anew.
    """
    cached = functools.lru_cache(maxsize=KEPT)(builder)

    @functools.wraps(builder)
    def build(*args):
        statement = cached(*args)
        _KEPT_STATEMENTS.add(statement)
        return statement

    build.cache_info = cached.cache_info
    return build  # type: ignore[return-value]


def derived_once(derive: F) -> F:
    """``derive(statement, *args)`` kept like ``built_once`` when ``statement`` was built once itself, and
    built anew from a statement built anew (which no later request will bring again)."""
    cached = built_once(derive)

    @functools.wraps(derive)
    def build(statement, *args):
        if statement in _KEPT_STATEMENTS:
            return cached(statement, *args)
        return derive(statement, *args)

    return build  # type: ignore[return-value]


# The parameters of ``page_of``'s statement: how many rows, after how many.
PAGE_PARAMETERS = ("page_limit", "page_offset")


@derived_once
def page_of(query: Select, table: Table | None = None) -> Select:
    """``query`` limited to one page (the size and offset are parameters: ``PAGE_PARAMETERS``), selecting
    the columns of ``table`` instead of its own when given."""
    page = query.limit(bindparam(PAGE_PARAMETERS[0])).offset(bindparam(PAGE_PARAMETERS[1]))
    return page if table is None else page.with_only_columns(*table.columns)
