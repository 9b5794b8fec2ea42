"""Timesheets: a resource's week of hours per activity and day, decisions per project, period locks.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 22:00:00
"""

import sqlalchemy as sa
from alembic import op

import crmpm.database

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('timesheets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('submitted_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_timesheets_resource_id_resources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_timesheets_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timesheets')),
    sa.UniqueConstraint('resource_id', 'week_start', name=op.f('uq_timesheets_resource_id'))
    )
    op.create_table('timesheet_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('timesheet_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hours', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_timesheet_lines_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_timesheet_lines_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['timesheet_id'], ['timesheets.id'], name=op.f('fk_timesheet_lines_timesheet_id_timesheets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timesheet_lines')),
    sa.UniqueConstraint('timesheet_id', 'activity_id', 'day', name=op.f('uq_timesheet_lines_timesheet_id'))
    )
    with op.batch_alter_table('timesheet_lines', schema=None) as batch_op:
        batch_op.create_index('ix_timesheet_lines_activity_id_day', ['activity_id', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_timesheet_lines_project_id'), ['project_id'], unique=False)

    op.create_table('timesheet_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('timesheet_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_timesheet_decisions_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_timesheet_decisions_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['timesheet_id'], ['timesheets.id'], name=op.f('fk_timesheet_decisions_timesheet_id_timesheets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timesheet_decisions')),
    sa.UniqueConstraint('timesheet_id', 'project_id', name=op.f('uq_timesheet_decisions_timesheet_id'))
    )
    with op.batch_alter_table('timesheet_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_timesheet_decisions_project_id_status', ['project_id', 'status'], unique=False)

    op.create_table('timesheet_locks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('eps_node_id', sa.Integer(), nullable=True),
    sa.Column('locked_through', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_timesheet_locks_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['eps_node_id'], ['eps_nodes.id'], name=op.f('fk_timesheet_locks_eps_node_id_eps_nodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timesheet_locks'))
    )
    with op.batch_alter_table('timesheet_locks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timesheet_locks_eps_node_id'), ['eps_node_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('timesheet_locks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timesheet_locks_eps_node_id'))

    op.drop_table('timesheet_locks')
    with op.batch_alter_table('timesheet_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_timesheet_decisions_project_id_status')

    op.drop_table('timesheet_decisions')
    with op.batch_alter_table('timesheet_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timesheet_lines_project_id'))
        batch_op.drop_index('ix_timesheet_lines_activity_id_day')

    op.drop_table('timesheet_lines')
    op.drop_table('timesheets')
