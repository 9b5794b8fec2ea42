"""Search indexes on contact channels: every phone and e-mail of a contact, PostgreSQL only.

The search finds a contact by any of its channels (``accounts.search.find_contacts``):
``folded(value) LIKE folded('%text%')`` for e-mails, ``value LIKE '%digits%'`` for
phones (stored in E.164). As migration 0011 did for the contacts' own e-mail and
phone, a trigram (pg_trgm) GIN index on the folded value (built by
``crmpm.search.index_expression``, so it is the query's own expression) and one on
the value as it is (the digits). Both hold every channel; the query's ``type``
condition is checked on the rows the index answers. SQLite: nothing changes.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 20:00:00
"""

from alembic import op
from sqlalchemy import text

from crmpm.search import COLLATION_ATTRIBUTE, ICU_COLLATION, index_expression

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# (index name, table, column SQL, folded?), as in 0011's SEARCH_INDEXES (names end in _search: see
# crmpm.search.include_name).
SEARCH_INDEXES = (
    ("ix_contact_channels_value_search", "contact_channels", "value", True),
    ("ix_contact_channels_digits_search", "contact_channels", "value", False),
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
