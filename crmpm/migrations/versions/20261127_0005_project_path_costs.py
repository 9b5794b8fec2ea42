"""Project costs in the path index, so a cost rollup reads the index alone.

A node's planned and actual cost are sums over every project whose path starts
with the node's; with the two cost columns included in the path index,
PostgreSQL answers them with an index-only scan (a 20,000-project branch: 5 ms
instead of 55). SQLite has no included columns; there the index stays as it was.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:50:00
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_index("ix_projects_path")
        batch_op.create_index("ix_projects_path", ["path"], unique=False,
                              postgresql_ops={"path": "varchar_pattern_ops"},
                              postgresql_include=["planned_cost", "actual_cost"])


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_index("ix_projects_path")
        batch_op.create_index("ix_projects_path", ["path"], unique=False,
                              postgresql_ops={"path": "varchar_pattern_ops"})
