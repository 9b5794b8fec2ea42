"""Search indexes: trigram (pg_trgm) GIN indexes on the folded expressions the search compares, PostgreSQL only.

``crmpm.search.contains`` compares ``folded(column) LIKE folded('%text%')``; a
trigram index on that very expression lets PostgreSQL answer it without reading
the table (three letters or more). Each expression is built by
``crmpm.search.index_expression`` for this database (``lower()``, or under the ICU
collation when the database's ``lower()`` does not fold), so it is the query's own;
phones, stored in E.164 and searched by digits, are indexed as they are.
SQLite has no such index: nothing changes there. The indexes are not in the
models (an expression and an operator class SQLAlchemy's ``Index`` would not
compare); ``SEARCH_INDEXES`` is their one list.

Building them takes a lock that stops writes on each table while it is built
(about a second per 100,000 rows).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 19:00:00
"""

from alembic import op
from sqlalchemy import text

from crmpm.search import COLLATION_ATTRIBUTE, ICU_COLLATION, index_expression

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# (index name, table, column SQL, folded?) — the columns accounts.search and wbs.search compare.
SEARCH_INDEXES = (
    ("ix_accounts_name_search", "accounts", "name", True),
    ("ix_contacts_full_name_search", "contacts", "first_name || ' ' || last_name", True),
    ("ix_contacts_email_search", "contacts", "email", True),
    ("ix_contacts_phone_search", "contacts", "phone", False),
    ("ix_leads_company_search", "leads", "company", True),
    ("ix_leads_contact_name_search", "leads", "contact_name", True),
    ("ix_leads_email_search", "leads", "email", True),
    ("ix_leads_phone_search", "leads", "phone", False),
    ("ix_projects_name_search", "projects", "name", True),
    ("ix_projects_code_search", "projects", "code", True),
    ("ix_activities_name_search", "activities", "name", True),
    ("ix_activities_code_search", "activities", "code", True),
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if not hasattr(bind.dialect, COLLATION_ATTRIBUTE):
        # Decided as crmpm.database.make_engine decides it, when this connection did not come from there.
        folds = bind.execute(text("SELECT lower('ЛАДОГА') = 'ладога'")).scalar()
        setattr(bind.dialect, COLLATION_ATTRIBUTE, None if folds else ICU_COLLATION)
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column, is_folded in SEARCH_INDEXES:
        expression = index_expression(column, bind.dialect) if is_folded else column
        op.execute(f"CREATE INDEX {name} ON {table} USING gin (({expression}) gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _table, _column, _folded in SEARCH_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
