"""Named baselines: any number per project, each a snapshot of its activities; one each as primary, secondary
and tertiary.

The activities' own ``baseline_start``/``baseline_finish`` stay the primary baseline's dates (earned value and
the Gantt read them). A project that had a baseline before gets it as a baseline named "Baseline 1", primary,
made from those columns (its duration and cost taken from the activities as they are now: the columns held no
more).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 02:40:00
"""

import sqlalchemy as sa
from alembic import op

import crmpm.database

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'baselines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=True),
        sa.Column('data_date', crmpm.database.ProjectLocalDateTime(), nullable=True),
        sa.Column('activity_count', sa.Integer(), nullable=False),
        sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_baselines_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_baselines_project_id_projects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_baselines')),
        sa.UniqueConstraint('project_id', 'name', name=op.f('uq_baselines_project_id_name')),
        sa.UniqueConstraint('project_id', 'role', name=op.f('uq_baselines_project_id_role')),
    )
    op.create_index(op.f('ix_baselines_project_id'), 'baselines', ['project_id'], unique=False)
    op.create_table(
        'baseline_activities',
        sa.Column('baseline_id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('start', crmpm.database.ProjectLocalDateTime(), nullable=True),
        sa.Column('finish', crmpm.database.ProjectLocalDateTime(), nullable=True),
        sa.Column('duration_hours', sa.Float(), nullable=False),
        sa.Column('budgeted_cost', crmpm.database.Money(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'],
                                name=op.f('fk_baseline_activities_activity_id_activities'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['baseline_id'], ['baselines.id'],
                                name=op.f('fk_baseline_activities_baseline_id_baselines'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('baseline_id', 'activity_id', name=op.f('pk_baseline_activities')),
    )
    op.create_index(op.f('ix_baseline_activities_activity_id'), 'baseline_activities', ['activity_id'],
                    unique=False)
    _baselines_from_the_columns()


def _baselines_from_the_columns() -> None:
    # Every project with a baseline in its activities' columns gets it as "Baseline 1", primary.
    op.execute(
        "INSERT INTO baselines (project_id, name, role, data_date, activity_count, created_at) "
        "SELECT a.project_id, 'Baseline 1', 'primary', NULL, count(*), CURRENT_TIMESTAMP FROM activities a "
        "WHERE a.baseline_start IS NOT NULL OR a.baseline_finish IS NOT NULL GROUP BY a.project_id")
    op.execute(
        "INSERT INTO baseline_activities (baseline_id, activity_id, start, finish, duration_hours, budgeted_cost) "
        "SELECT b.id, a.id, a.baseline_start, a.baseline_finish, a.original_duration_hours, a.budgeted_cost "
        "FROM activities a JOIN baselines b ON b.project_id = a.project_id "
        "WHERE a.baseline_start IS NOT NULL OR a.baseline_finish IS NOT NULL")


def downgrade() -> None:
    op.drop_index(op.f('ix_baseline_activities_activity_id'), table_name='baseline_activities')
    op.drop_table('baseline_activities')
    op.drop_index(op.f('ix_baselines_project_id'), table_name='baselines')
    op.drop_table('baselines')
