"""Two activities may be linked once per relationship type.

P6 allows an FS and an FF link between the same pair of activities (real files have them); the unique
constraint on (predecessor, successor) becomes one on (predecessor, successor, type). Downgrading
fails while such pairs exist rather than silently dropping links: remove the extra links first.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:30:00
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Named by the models' naming convention (uq_<table>_<first column>): the same name before and after.
NAME = "uq_activity_relationships_predecessor_id"


def upgrade() -> None:
    with op.batch_alter_table("activity_relationships") as batch_op:
        batch_op.drop_constraint(NAME, type_="unique")
        batch_op.create_unique_constraint(NAME, ["predecessor_id", "successor_id", "type"])


def downgrade() -> None:
    with op.batch_alter_table("activity_relationships") as batch_op:
        batch_op.drop_constraint(NAME, type_="unique")
        batch_op.create_unique_constraint(NAME, ["predecessor_id", "successor_id"])
