"""Statements built once: the same object for the same arguments, never shared across different rights."""

from __future__ import annotations

from sqlalchemy import column, select, table

from crmpm.statements import PAGE_PARAMETERS, built_once, derived_once, page_of

items = table("items", column("id"), column("name"))


@built_once
def _named(name: str):
    return select(items).where(items.c.name == name).order_by(items.c.id)


def test_a_statement_is_built_once_per_set_of_arguments():
    assert _named("a") is _named("a")
    assert _named("a") is not _named("b")
    assert _named.__wrapped__("a") is not _named("a")  # the builder itself builds anew


def test_a_page_of_a_statement_built_once_is_built_once_with_its_size_and_offset_as_parameters():
    page = page_of(_named("a"))
    assert page is page_of(_named("a"))
    assert page is not page_of(_named("b"))
    sql = str(page.compile())
    assert all(f":{name}" in sql for name in PAGE_PARAMETERS), sql


def test_what_is_derived_from_a_statement_built_anew_is_not_kept():
    calls = []

    @derived_once
    def ordered(statement):
        calls.append(statement)
        return statement.order_by(items.c.name)

    fresh = select(items)
    ordered(fresh), ordered(fresh)
    assert len(calls) == 2  # built anew each time: nobody brings this statement back
    kept = _named("c")
    first, second = ordered(kept), ordered(kept)
    assert first is second and len(calls) == 3
