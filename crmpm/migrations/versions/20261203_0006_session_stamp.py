"""A random session stamp per user, so that sessions can be ended server-side.

The session cookie carries a copy of the stamp; logout, a password change and
deactivation replace it, which ends every session of the user. Existing users
get a random stamp each (their current sessions end once, at the upgrade).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:50:00
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("session_stamp", sa.String(length=32), nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("session_stamp", sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(session_stamp=secrets.token_urlsafe(16)))
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("session_stamp", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("session_stamp")
