"""Unrouted leads keep the routing reason; deputies' temporary grants are recorded per absence.

A lead nobody could take stays in the queue with ``leads.routing_reason``. A
handover gives the deputy the grants they need for the handed-over work, kept
in ``handover_grants`` so that the return takes exactly those away.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:20:00
"""

import sqlalchemy as sa
from alembic import op

import crmpm.database

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch_op:
        batch_op.add_column(sa.Column("routing_reason", sa.JSON(), nullable=True))
    op.create_table(
        "handover_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("absence_id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("eps_node_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("granted_at", crmpm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", crmpm.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["absence_id"], ["absences.id"], name=op.f("fk_handover_grants_absence_id_absences"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["grant_id"], ["grants.id"], name=op.f("fk_handover_grants_grant_id_grants"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["eps_node_id"], ["eps_nodes.id"],
                                name=op.f("fk_handover_grants_eps_node_id_eps_nodes"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_handover_grants_project_id_projects"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_grants")),
    )
    with op.batch_alter_table("handover_grants") as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_grants_absence_id"), ["absence_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handover_grants") as batch_op:
        batch_op.drop_index(batch_op.f("ix_handover_grants_absence_id"))
    op.drop_table("handover_grants")
    with op.batch_alter_table("leads") as batch_op:
        batch_op.drop_column("routing_reason")
