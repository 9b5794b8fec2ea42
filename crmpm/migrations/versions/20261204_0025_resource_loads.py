"""Booked hours of assignments by week-and-month chunk (resource_loads); a deal's planned WBS template.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 22:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('resource_loads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=True),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('actual_hours', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['resource_assignments.id'], name=op.f('fk_resource_loads_assignment_id_resource_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_resource_loads_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_loads'))
    )
    with op.batch_alter_table('resource_loads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_loads_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_loads_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_resource_loads_resource_day', ['resource_id', 'day', 'project_id', 'hours'],
                              unique=False)
        batch_op.create_index('ix_resource_loads_role_day', ['role_id', 'day', 'project_id', 'hours'], unique=False)

    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template_project_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_deals_template_project_id_projects'), 'projects',
                                    ['template_project_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_deals_template_project_id_projects'), type_='foreignkey')
        batch_op.drop_column('template_project_id')

    with op.batch_alter_table('resource_loads', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_loads_role_day')
        batch_op.drop_index('ix_resource_loads_resource_day')
        batch_op.drop_index(batch_op.f('ix_resource_loads_project_id'))
        batch_op.drop_index(batch_op.f('ix_resource_loads_assignment_id'))

    op.drop_table('resource_loads')
