"""PostgreSQL's plans of the statements a piece of code sends: does an index serve them?"""

from __future__ import annotations

import pytest
from sqlalchemy import event, text


def postgresql_only(session):
    """``session``, or a skip when the test runs on SQLite (its planner is not the one the targets are about)."""
    if session.connection().dialect.name != "postgresql":
        pytest.skip("the plans measured are PostgreSQL's")
    return session


def plans_of(session, run, *, off: tuple[str, ...] = ("seqscan",), containing: str = "SELECT") -> list[str]:
    """The plans (``EXPLAIN``) of the statements holding ``containing`` that ``run()`` sends, planned with the
    ``off`` methods turned off: on a test's few rows a sequential scan and a sort cost less than any index, so
    turning them off asks whether an index *can* serve the statement (a disabled method is still used when
    nothing else can, so its node in the plan says that no index could)."""
    connection = session.connection()
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if containing in statement:
            statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    for method in off:
        connection.execute(text(f"SET LOCAL enable_{method} = off"))
    try:
        return ["\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
                for statement, parameters in statements]
    finally:
        for method in off:
            connection.execute(text(f"SET LOCAL enable_{method} = on"))
