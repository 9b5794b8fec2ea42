"""Rows of a SELECT read by the database driver itself, for the few statements every API request runs.

SQLAlchemy's execution of a Core statement costs more than a small statement itself: an execution
context, the compiled cache's key, the result's metadata and a ``Row`` per row (measured on the API's
token and list statements: some 70 µs of the 140 µs a token's statement takes, against psycopg
alone). ``fetch_all`` compiles a statement built once (``crmpm.statements``) once per dialect and
then sends its SQL through the session's own DBAPI connection, in the session's transaction, and
returns plain tuples. What SQLAlchemy does around a statement is kept: the session's autoflush, its
connection and transaction, the bind processors of the statement's parameters, the column types'
result processors (money, zone-aware times, enums), the engine's and connection's
``before_cursor_execute`` / ``after_cursor_execute`` listeners (the begin-on-write engine's among them)
and its handling of driver errors (wrapped as SQLAlchemy's, a lost connection invalidated).

On any other driver than psycopg, and for a statement whose SQL depends on its parameters (an
expanding ``IN``, a literal rendered at execution), the statement runs through SQLAlchemy as before.
``tests/crmpm/test_rows.py`` checks both paths give the same rows.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import Select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

__all__ = ["fetch_all"]

# statement -> {dialect: its plan}; a statement built anew (a searched text) is forgotten with it.
_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Plan:
    """A SELECT compiled for one dialect: its SQL, its fixed parameters and its result processors."""

    __slots__ = ("compiled", "sql", "fixed", "required", "bind_processors", "processors", "keys")

    def __init__(self, statement: Select, dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.compiled = compiled
        self.sql = compiled.string
        self.required = frozenset(name for name, bind in compiled.binds.items() if bind.required)
        self.fixed = {name: value for name, value in compiled.construct_params(_check=False).items()
                      if name not in self.required}
        self.bind_processors = compiled._bind_processors
        self.processors: list | None = None  # from the first result's column types
        self.keys = tuple(entry.keyname for entry in compiled._result_columns)

    @staticmethod
    def driver_can_run(compiled) -> bool:
        return not (compiled.positional or compiled.literal_execute_params or compiled.post_compile_params
                    or compiled.escaped_bind_names or not compiled._result_columns)

    def parameters(self, given: dict | None) -> dict:
        missing = self.required.difference(given or ())
        if missing:
            raise InvalidRequestError(f"a value is required for bind parameter {min(missing)!r}")
        values = {**self.fixed, **given} if given else dict(self.fixed)
        for name, process in self.bind_processors.items():
            if name in values:
                values[name] = process(values[name])
        return values

    def row_processors(self, description, dialect) -> list:
        if self.processors is None:
            processors = [entry.type._cached_result_processor(dialect, column[1])
                          for entry, column in zip(self.compiled._result_columns, description)]
            self.processors = [(index, process) for index, process in enumerate(processors) if process is not None]
        return self.processors


class _Context:
    """What the cursor listeners read of an execution context (``crmpm.database._only_reads``)."""

    __slots__ = ("compiled",)
    _is_server_side = False

    def __init__(self, compiled) -> None:
        self.compiled = compiled


def fetch_all(session: Session, statement: Select, parameters: dict | None = None) -> list[tuple]:
    """Every row of ``statement`` (a SELECT of columns, no ORM entities) as a tuple, in its column order,
    after the session's autoflush, in its transaction; run by the driver where it can be (module doc)."""
    if session.autoflush:
        session.flush()
    connection = session.connection()
    dialect = connection.dialect
    plan = _plan(statement, dialect) if dialect.driver == "psycopg" else None
    if plan is None:
        return [tuple(row) for row in connection.execute(statement, parameters).all()]
    values = plan.parameters(parameters)
    context = _Context(plan.compiled)
    cursor = connection.connection.driver_connection.cursor()
    try:
        for listen in connection.dispatch.before_cursor_execute:
            listen(connection, cursor, plan.sql, values, context, False)
        cursor.execute(plan.sql, values)
        for listen in connection.dispatch.after_cursor_execute:
            listen(connection, cursor, plan.sql, values, context, False)
        rows = cursor.fetchall()
        processors = plan.row_processors(cursor.description, dialect) if rows else ()
    except dialect.loaded_dbapi.Error as exc:
        connection._handle_dbapi_exception(exc, plan.sql, values, cursor, None)
        raise  # (what the handler raises is SQLAlchemy's error; this line is never reached)
    finally:
        cursor.close()
    if processors:
        return [_processed(row, processors) for row in rows]
    return rows


def _processed(row: tuple, processors: list) -> tuple:
    values: list[Any] = list(row)
    for index, process in processors:
        values[index] = process(values[index])
    return tuple(values)


def _plan(statement: Select, dialect) -> _Plan | None:
    plans = _PLANS.get(statement)
    if plans is None:
        plans = _PLANS[statement] = {}
    if dialect not in plans:
        plan = _Plan(statement, dialect)
        plans[dialect] = plan if _Plan.driver_can_run(plan.compiled) else None
    return plans[dialect]
