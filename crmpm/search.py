"""Text search: one rule for "this column holds what the user typed", ignoring case in every script.

``contains(columns, text)`` builds the condition every list's search uses (the
API's ``?q=`` and the pages' search boxes alike); ``equals(column, text)`` the one
for a whole value (a lead's company against account names). Both sides go through the same
SQL function, ``folded``, so what matches does not depend on how Python and the
database each lower a letter:

* SQLite's own ``lower()`` folds ASCII only ("Ладога" would not find "ладога"):
  there ``folded`` is ``crmpm_fold``, a deterministic Python function that
  ``crmpm.database.make_engine`` registers on every connection.
* PostgreSQL's ``lower()`` follows the database's ``LC_CTYPE``: under a UTF-8
  locale (``C.UTF-8``, ``ru_RU.UTF-8``) it folds every script; under ``C``/``POSIX``
  it folds ASCII only. ``make_engine`` checks this on the first connection and,
  when it does not fold, ``folded`` lowers under the ICU root collation instead.

On top of lowering, ``ß`` matches ``ss`` (``STRASSE`` finds ``Straße``) and the
final sigma matches the other one, as Unicode case folding does, and the Turkish
dotted ``İ`` matches ``i`` (Python and ICU lower it to ``i`` and a combining dot,
the C library to ``i``: all three agree after folding). Other letters lower as
Unicode's mapping does. A search with ``%`` or ``_`` means those characters, not
wildcards.

A ``%text%`` search reads every row of the table either way (no B-tree index
serves a leading wildcard); what it costs at 100,000 accounts is in
``BENCHMARKS.md`` ("Search in every script").
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import String, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["SQLITE_FUNCTION", "ICU_COLLATION", "contains", "equals", "fold", "folded", "like_pattern"]

SQLITE_FUNCTION = "crmpm_fold"
ICU_COLLATION = "und-x-icu"
# Folded beyond lowering, the same way on every backend.
_EXTRA = (("ß", "ss"), ("ς", "σ"), ("i\u0307", "i"))
# The dialect attribute make_engine sets on PostgreSQL when lower() does not fold non-ASCII letters.
COLLATION_ATTRIBUTE = "crmpm_fold_collation"


def fold(text: str | None) -> str | None:
    """``text`` as search compares it (SQLite's ``crmpm_fold``): lowered, ``ß`` as ``ss``, ``ς`` as ``σ``, ``i̇`` as ``i``."""
    if text is None:
        return None
    text = str(text).lower()
    for letter, replacement in _EXTRA:
        text = text.replace(letter, replacement)
    return text


class folded(FunctionElement):  # noqa: N801 (a SQL function reads as one)
    """``fold`` in SQL: the expression search compares."""

    type = String()
    inherit_cache = True
    name = "folded"


@compiles(folded)
def _folded_default(element, compiler, **kw) -> str:
    argument = compiler.process(element.clauses, **kw)
    collation = getattr(compiler.dialect, COLLATION_ATTRIBUTE, None)
    lowered = f'lower({argument} COLLATE "{collation}")' if collation else f"lower({argument})"
    for letter, replacement in _EXTRA:
        lowered = f"replace({lowered}, '{letter}', '{replacement}')"
    return lowered


@compiles(folded, "sqlite")
def _folded_sqlite(element, compiler, **kw) -> str:
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's own characters escaped by a backslash, so they match themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(columns: Iterable, text: str | None) -> ColumnElement | None:
    """The condition "one of ``columns`` holds ``text``", ignoring case in any script; None for blank text.

    >>> from sqlalchemy import column
    >>> from sqlalchemy.dialects import sqlite
    >>> print(contains([column("name"), column("code")], "Ладога").compile(dialect=sqlite.dialect()))
    crmpm_fold(name) LIKE crmpm_fold(?) ESCAPE '\\' OR crmpm_fold(code) LIKE crmpm_fold(?) ESCAPE '\\'
    """
    text = (text or "").strip()
    if not text:
        return None
    needle = folded(literal(like_pattern(text), String()))
    return or_(*(folded(column).like(needle, escape="\\") for column in columns))


def equals(column, text: str) -> ColumnElement:
    """The condition "``column`` is ``text``", ignoring case in any script (and surrounding spaces of ``text``)."""
    return folded(column) == folded(literal(text.strip(), String()))
