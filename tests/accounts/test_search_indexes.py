"""PostgreSQL answers the search from the trigram indexes of migrations 0011 and 0014 (contact channels): each
kind's query, as the search runs it, is planned with its table's search indexes (sequential and plain index scans turned off, so the plan shows
whether the index *can* serve the query: the expression must be the query's own to the letter)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from accounts import search
from crmpm import search as crmpm_search
from crmpm.search import SEARCH_INDEX_SUFFIX
from tests import factories
from tests.accounts.test_product_search import world  # noqa: F401 - fixture

# What each kind must read through: (text searched, the indexes its plan uses).
PLANS = {
    "accounts": ("Alderwood", {"ix_accounts_name_search"}),
    "contacts": ("Alderwood", {"ix_contacts_full_name_search", "ix_contacts_email_search",
                               "ix_contact_channels_value_search"}),
    "leads": ("Alderwood", {"ix_leads_company_search", "ix_leads_contact_name_search", "ix_leads_email_search"}),
    "deals": ("Alderwood", {"ix_projects_name_search", "ix_projects_code_search"}),
    # The projects that are not deals have indexes of their own (migration 0017).
    "projects": ("Alderwood", {"ix_projects_plain_name_search", "ix_projects_plain_code_search"}),
    "activities": ("Alderwood", {"ix_activities_name_search", "ix_activities_code_search"}),
}
# The trigram indexes over every project, deals included (the deals kind's).
WHOLE_PROJECT_INDEXES = {"ix_projects_name_search", "ix_projects_code_search"}


@pytest.fixture
def postgresql(session):
    if session.connection().dialect.name != "postgresql":
        pytest.skip("the trigram indexes are PostgreSQL's")
    return session


def planned_indexes(session, run) -> set[str]:
    """The search indexes in the plans of the statements ``run()`` sends, with sequential scans off."""
    connection = session.connection()
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    # Without plain scans only an index with a usable condition can read a table: on this small a table the
    # planner would otherwise read a whole B-tree (or the table) rather than a trigram index.
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    connection.execute(text("SET LOCAL enable_indexscan = off"))
    # Nor, for the channels, a bitmap of every e-mail (or phone) by their type (two B-trees hold it): on a
    # table this small it costs less than the trigram index; the question is whether that index can serve.
    # Rolled back with the test.
    connection.execute(text("DROP INDEX ix_contact_channels_type_value"))
    connection.execute(text("ALTER TABLE contact_channels DROP CONSTRAINT uq_contact_channels_contact_type_value"))
    event.listen(connection, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    used = set()
    for statement, parameters in statements:
        plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
        used |= {word.strip('",()') for word in plan.split() if word.strip('",()').endswith(SEARCH_INDEX_SUFFIX)}
    connection.execute(text("SET LOCAL enable_seqscan = on"))
    connection.execute(text("SET LOCAL enable_indexscan = on"))
    return used


@pytest.mark.parametrize("kind", list(PLANS))
def test_each_kind_is_planned_with_its_trigram_indexes(postgresql, world, kind):
    typed, expected = PLANS[kind]
    find = {k.name: k.find for k in search.KINDS}[kind]
    used = planned_indexes(postgresql, lambda: find(postgresql, user=world["admin"], text=typed, limit=6))
    if kind == "projects":
        # Read from the partial indexes of the projects that are not deals, never from the whole table's. Which
        # of the two partial indexes appear follows the statistics (a full run of the suite has planned with the
        # code's alone), so at least one of them is asked for, not both.
        assert used & expected and not used & WHOLE_PROJECT_INDEXES, used
        return
    assert expected <= used, used


def test_a_phone_is_planned_with_the_phone_indexes(postgresql, world):
    kinds = {k.name: k.find for k in search.KINDS}
    used = planned_indexes(postgresql, lambda: [kinds[k](postgresql, user=world["admin"], text="555-12-34", limit=6)
                                                for k in ("contacts", "leads")])
    assert {"ix_contacts_phone_search", "ix_contact_channels_digits_search", "ix_leads_phone_search"} <= used, used


def test_a_second_email_is_planned_with_the_channels_index(postgresql, world):
    used = planned_indexes(postgresql, lambda: search.find_contacts(postgresql, user=world["admin"],
                                                                    text="anna.home@", limit=6))
    assert "ix_contact_channels_value_search" in used, used


def test_a_seller_of_one_branch_is_answered_from_the_readable_rows(postgresql, world, monkeypatch):
    """Few readable accounts, a text in more rows than that ("Ltd" in three accounts, "Anna" in two contacts and
    their e-mails, against two readable nodes; any text of more than one row counts as frequent here): the plan
    reads the readable rows first (a materialized CTE) and checks the text on them alone, instead of looking the
    text up in the whole index."""
    factories.account(postgresql, actor=world["admin"], region=world["B"]["account"].region_node, name="Oak Ltd")
    monkeypatch.setattr(crmpm_search, "FEW_MATCHES", 1)
    connection = postgresql.connection()
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        search.find_accounts(postgresql, user=world["seller"], text="Ltd", limit=6)
        search.find_contacts(postgresql, user=world["seller"], text="Anna", limit=6)
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    plans = ["\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
             for statement, parameters in statements if "readable" in statement]
    assert len(plans) == 2, statements
    for plan in plans:
        assert "CTE Scan on readable" in plan and "Filter: matches" in plan, plan
        assert SEARCH_INDEX_SUFFIX not in plan, plan


def test_the_accounts_name_search_uses_its_index_on_a_big_table_by_itself(postgresql, world):
    # 100,000 accounts and fresh statistics: the planner picks the index on its own, sequential scans allowed.
    connection = postgresql.connection()
    node = world["A"]["account"].region_node_id
    connection.execute(text(
        "INSERT INTO eps_nodes (id, code, name, parent_id, path, depth, protected, protect_path, created_at, "
        "updated_at, original_budget, current_budget) SELECT 1000000 + g, 'BIG' || g, 'Big ' || g, :node, "
        "'/big/' || g || '/', 2, false, '', now(), now(), 0, 0 FROM generate_series(1, 100000) g"), {"node": node})
    connection.execute(text(
        "INSERT INTO accounts (id, name, kind, sector, segment, region_node_id, eps_node_id, created_at, updated_at) "
        "SELECT 1000000 + g, 'Account ' || g, 'client', '', '', :node, 1000000 + g, now(), now() "
        "FROM generate_series(1, 100000) g"), {"node": node})
    connection.execute(text("ANALYZE accounts"))
    statement = str(search.services.list_accounts(postgresql, user=world["admin"])
                    .where(search.contains([search.Account.name], "Account 4242"))
                    .compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement))
    assert "ix_accounts_name_search" in plan, plan


def _plan(connection, statement, parameters) -> dict:
    return connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()[0]["Plan"]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _statements(session, run) -> list:
    connection = session.connection()
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    return statements


def test_contacts_take_a_few_matches_of_each_table_before_dropping_the_repeats(postgresql, world):
    """A word in most e-mails: each table's matches (contacts, their channels) are cut at CANDIDATES before the
    union drops the contacts found twice, so the union never gathers every match of both tables."""
    connection = postgresql.connection()
    statements = _statements(postgresql, lambda: search.find_contacts(postgresql, user=world["admin"],
                                                                      text="example", limit=6))
    (statement, parameters), = [(s, p) for s, p in statements if "contact_channels" in s]
    unions = [node for node in _nodes(_plan(connection, statement, parameters)) if node["Node Type"] == "Append"]
    assert len(unions) == 1, unions
    branches = unions[0]["Plans"]
    assert len(branches) == 2 and all(branch["Node Type"] == "Limit" for branch in branches), branches


def test_the_projects_kind_reads_the_indexes_of_the_projects_that_are_not_deals_alone(postgresql, world):
    """A word in every deal's name: the projects kind is answered from the partial indexes over the projects
    that are not deals (``WHERE NOT is_deal``), never from the whole table's, where each deal would be read and
    dropped."""
    kinds = {k.name: k.find for k in search.KINDS}
    used = planned_indexes(postgresql, lambda: kinds["projects"](postgresql, user=world["admin"], text="supply",
                                                                 limit=6))
    assert used and used <= {"ix_projects_plain_name_search", "ix_projects_plain_code_search"}, used


def test_a_search_repeated_on_a_connection_is_never_prepared(postgresql, world):
    """psycopg prepares a statement run five times on a connection, and PostgreSQL may then plan it once for
    every value (blind to the pattern and the granted paths): the search's statements are planned for their
    values each time instead. The same query outside the search is prepared, so the check can fail."""
    connection = postgresql.connection()
    for _ in range(8):
        for kind in search.KINDS:
            kind.find(postgresql, user=world["seller"], text="Alderwood", limit=6)
    prepared = connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
    assert not [statement for statement in prepared if "_search" in statement or "LIKE" in statement], prepared
    for _ in range(8):
        postgresql.execute(search.services.list_accounts(postgresql, user=world["seller"], search="Alderwood")
                           .limit(6)).all()
    prepared = connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
    assert [statement for statement in prepared if "LIKE" in statement], prepared
