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

A ``%text%`` search reads every row of the table on SQLite (no B-tree index
serves a leading wildcard); what it costs at 100,000 accounts is in
``BENCHMARKS.md`` ("Search in every script"). On PostgreSQL the searched
columns have trigram (``pg_trgm``) GIN indexes on the very expression ``folded``
compiles to (migration 0011; 0014 for contact channels; built by ``index_expression``), so the planner
answers a ``%text%`` of three letters or more from the index.

The search across the product (``/search``) finds records of several kinds;
each kind answers ``Hit``s, and ``first_match`` and ``marked`` say which field
matched and where, with the same folding as the SQL (``BENCHMARKS.md``, "One
search across the product"). Each kind's statements are planned for their own
values (``planned_for_their_values``), and a frequent text (``frequent``) may be
checked on a smaller set of rows read first (``first_of_few``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import String, case, func, literal, literal_column, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["CANDIDATES", "FEW_MATCHES", "MAX_QUERY_LENGTH", "SQLITE_FUNCTION", "ICU_COLLATION", "Hit", "Kind", "contains",
           "digits", "equals", "first_match", "first_of", "first_of_few", "frequent", "count_up_to", "include_name", "fold", "folded", "index_expression", "like_pattern", "marked", "planned_for_their_values"]

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


# The longest text a search takes (the search page refuses longer ones with a message).
MAX_QUERY_LENGTH = 100


# The PostgreSQL trigram indexes of migration 0011 end their names so; Alembic's comparison of the models
# with a database leaves them out (they are not in the models: see that migration).
SEARCH_INDEX_SUFFIX = "_search"


def include_name(name, type_, _parent_names) -> bool:
    """Alembic's ``include_name``: everything but the search indexes."""
    return not (type_ == "index" and name and name.endswith(SEARCH_INDEX_SUFFIX))


def index_expression(column_sql: str, dialect) -> str:
    """The SQL ``folded`` compiles to over ``column_sql`` on ``dialect``: an expression index's expression.

    PostgreSQL uses an expression index only for the same expression as the
    query's, so the migration builds its indexes from this, never by hand.
    """
    return str(folded(literal_column(column_sql)).compile(dialect=dialect))


@dataclass(frozen=True)
class Hit:
    """One record found by a search: its kind and id, how to name it, and which field matched with what.

    ``parent_id`` is the record's container where its address needs one (an activity's project);
    ``detail`` a second line (a contact's account, a deal's code).
    """

    kind: str
    id: int
    title: str
    field: str
    value: str
    detail: str = ""
    parent_id: int | None = None


@contextmanager
def planned_for_their_values(session) -> Iterator[None]:
    """Statements sent meanwhile on ``session``'s connection are planned for their own values each time.

    psycopg prepares a statement on a connection once it has run five times there, and PostgreSQL may then
    plan it once for every value (a "generic plan", chosen by estimated cost): a plan that cannot see the
    ``LIKE`` pattern (a word in most names or a rare one), cannot use the path index for a granted path
    (``path LIKE $1``) and guesses the ``LIMIT``. For a search those plans were up to 30 times slower
    (``BENCHMARKS.md``, "One search across the product"), and which were chosen changed with the statistics.
    Planning each statement costs well under a millisecond. Nothing changes on SQLite.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    driver = connection.connection.dbapi_connection
    previous = driver.prepare_threshold
    driver.prepare_threshold = None  # neither prepared nor counted towards preparing
    try:
        yield
    finally:
        driver.prepare_threshold = previous


@dataclass(frozen=True)
class Kind:
    """A kind of record the product-wide search finds: its name and how (``find(session, *, user, text,
    limit) -> list[Hit]``, only what ``user`` may read, at most ``limit``, by title).

    ``find`` runs its statements ``planned_for_their_values``. The kinds are listed in
    ``accounts.search.KINDS``; a new kind (documents) is one more entry there.
    """

    name: str
    find: Callable[..., list[Hit]]

    def __post_init__(self) -> None:
        find = self.find

        @functools.wraps(find)
        def planned(session, **kwargs) -> list[Hit]:
            with planned_for_their_values(session):
                return find(session, **kwargs)

        object.__setattr__(self, "find", planned)


# How many matches of a kind a search reads before ordering them: a word found in most rows stops there
# instead of sorting them all (the search page shows a few of each kind; the kind's list shows them all).
CANDIDATES = 200


def first_of(session, query, *, limit: int) -> list:
    """The first ``limit`` rows by title (then id) among the first ``CANDIDATES`` matches of ``query``, a select
    of labelled columns including ``title`` and ``id``."""
    inner = query.order_by(None).limit(CANDIDATES).subquery()
    return session.execute(select(inner).order_by(inner.c.title, inner.c.id).limit(limit)).all()


def first_of_few(session, query, *, limit: int, matching: ColumnElement, most: int) -> list | None:
    """The first ``limit`` rows by title (then id) among the first ``CANDIDATES`` rows of ``query`` (the user's
    readable ones, a select of labelled columns including ``title`` and ``id``) for which ``matching`` (the text
    condition, kept out of ``query``) holds, in one statement that reads at most ``most + 1`` rows of ``query``;
    None when ``query`` holds more than ``most`` rows and fewer than ``CANDIDATES`` of those read hold the text
    (then not every row was checked: the caller looks the text up in its index instead).

    For a user who may read few rows, so a word found in most rows they may not read is not looked up in the
    index and refused row by row. The same rows are found either way.

    The rows are read once: the text is checked on each as it is read (a materialized CTE, read only as far as
    the ``CANDIDATES`` matches need), and only when fewer matches than that were found are the rows read
    counted, from the same CTE, to tell whether they were all of them (``BENCHMARKS.md``, "Rights first").
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    readable = query.order_by(None).add_columns(matching.label("matches")).limit(most + 1).cte("readable")
    if postgresql:
        readable = readable.prefix_with("MATERIALIZED")
    columns = [column for column in readable.c if column.name != "matches"]
    found = select(*columns).where(readable.c.matches).limit(CANDIDATES).cte("found")
    if postgresql:
        found = found.prefix_with("MATERIALIZED")
    # Counted only when the matches ran out: then the CTE has been read to its end already.
    rows_read = case((select(func.count()).select_from(found).scalar_subquery() < CANDIDATES,
                      select(func.count()).select_from(readable).scalar_subquery()), else_=0)
    first = select(found).order_by(found.c.title, found.c.id).limit(limit).subquery()
    one = select(literal(1).label("one")).subquery()
    rows = session.execute(select(rows_read.label("rows_read"), *first.c)
                           .select_from(one.outerjoin(first, literal(True)))
                           .order_by(first.c.title, first.c.id)).all()
    if not rows or rows[0].rows_read > most:
        return None
    return [row for row in rows if row.id is not None]


# A text held by at most this many rows is looked up in its index whoever searches: that reads no more rows than
# this. A more frequent one may be better checked on a smaller set of rows (the readable ones), as ``first_of_few``
# does.
FEW_MATCHES = 1_000


def count_up_to(session, query, most: int) -> int:
    """How many rows ``query`` answers, counted up to ``most`` (the rest not read)."""
    return session.scalar(select(func.count()).select_from(query.order_by(None).limit(most).subquery()))


def frequent(session, matches) -> bool:
    """Whether more than ``FEW_MATCHES`` rows hold a text (``matches``, a select of them whatever the rights).

    Always False on SQLite, which reads every row of a ``%text%`` search either way.
    """
    if session.get_bind().dialect.name != "postgresql":
        return False
    return count_up_to(session, matches, FEW_MATCHES + 1) > FEW_MATCHES


def digits(text: str | None) -> str:
    """The digits of ``text`` (how phone numbers are compared: ``+7 (812) 555-12-34`` → ``78125551234``)."""
    return "".join(ch for ch in (text or "") if ch.isdigit())


def first_match(fields: Sequence[tuple[str, str | None]], text: str, *,
                phone_digits: str = "", phone_fields: Iterable[str] = ()) -> tuple[str, str] | None:
    """The first ``(field, value)`` of ``fields`` holding ``text`` as ``contains`` compares, or a phone field
    holding ``phone_digits``; None when none does."""
    needle = fold(text.strip())
    phone_fields = set(phone_fields)
    for field, value in fields:
        if not value:
            continue
        if field in phone_fields:
            if phone_digits and phone_digits in digits(value):
                return field, value
        elif needle and needle in fold(value):
            return field, value
    return None


def _folded_char(ch: str) -> str:
    return fold(ch)


def _digit_char(ch: str) -> str:
    return ch if ch.isdigit() else ""


def marked(value: str, text: str, *, phone: bool = False) -> list[tuple[str, bool]]:
    """``value`` cut into ``(piece, matched)`` pieces around the first place it holds ``text``.

    Compared as ``contains`` does (folded), or by digits for a phone; the whole
    value unmarked when the place cannot be found. The pieces are plain text:
    the page escapes them and marks the matched one.

    >>> marked("ООО Ладога", "ЛАДОГ")
    [('ООО ', False), ('Ладог', True), ('а', False)]
    >>> marked("+78125551234", "555-12-34", phone=True)
    [('+7812', False), ('5551234', True)]
    """
    key: Callable[[str], str] = _digit_char if phone else _folded_char
    needle = digits(text) if phone else fold(text.strip())
    if not value or not needle:
        return [(value or "", False)]
    # The keyed value, and for each of its characters the position in ``value`` it came from.
    keyed, origin = [], []
    for position, ch in enumerate(value):
        for piece in key(ch):
            keyed.append(piece)
            origin.append(position)
    at = "".join(keyed).find(needle)
    if at < 0:
        return [(value, False)]
    start, end = origin[at], origin[at + len(needle) - 1] + 1
    pieces = [(value[:start], False), (value[start:end], True), (value[end:], False)]
    return [piece for piece in pieces if piece[0]]
