"""A project held as a deal is marked so (``projects.is_deal``), and on PostgreSQL the projects that are not deals
have trigram indexes of their own.

The search's projects kind shows the projects that are not deals (a deal is found as a deal). Without a marker,
keeping them meant reading every project and every deal for a word in every deal's name (``deal``: 200,000 of
them, about 100 ms at benchmark size); with ``is_deal`` and partial trigram indexes ``WHERE NOT is_deal`` on the
folded name and code (built by ``crmpm.search.index_expression``, as migration 0011's), PostgreSQL answers from
the indexes of the projects that are not deals alone. ``accounts.deals.create`` sets the marker from now on; a
deal is never detached from its project, so it is never cleared. SQLite gets the column only.

Filling the column writes every deal's project (a few seconds per 100,000 deals); building the indexes takes a
lock that stops writes on ``projects`` while they are built (well under a second: they hold only the projects
that are not deals).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 23:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

from crmpm.search import COLLATION_ATTRIBUTE, ICU_COLLATION, index_expression

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# (index name, column SQL): the projects kind's columns, over the projects that are not deals.
PLAIN_PROJECT_INDEXES = (
    ("ix_projects_plain_name_search", "name"),
    ("ix_projects_plain_code_search", "code"),
)


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (SQLite takes one with a constant default): rebuilding the table, as a
    # batch would on SQLite, would trip the deals' foreign key to it.
    op.add_column("projects", sa.Column("is_deal", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE projects SET is_deal = true WHERE id IN (SELECT project_id FROM deals)")
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if not hasattr(bind.dialect, COLLATION_ATTRIBUTE):
        # Decided as crmpm.database.make_engine decides it, when this connection did not come from there.
        folds = bind.execute(text("SELECT lower('ЛАДОГА') = 'ладога'")).scalar()
        setattr(bind.dialect, COLLATION_ATTRIBUTE, None if folds else ICU_COLLATION)
    for name, column in PLAIN_PROJECT_INDEXES:
        op.execute(f"CREATE INDEX {name} ON projects USING gin (({index_expression(column, bind.dialect)}) "
                   "gin_trgm_ops) WHERE NOT is_deal")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _column in PLAIN_PROJECT_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_column("projects", "is_deal")  # SQLite 3.35 and later drop a column in place
