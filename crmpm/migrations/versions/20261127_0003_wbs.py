"""WBS: project plans, calendars, WBS elements, activities and their relationships.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-27 08:12:31.183221
"""

from alembic import op
import sqlalchemy as sa
import crmpm.database


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('hours_per_day', sa.Float(), nullable=False),
    sa.Column('week', sa.JSON(), nullable=False),
    sa.Column('external_id', sa.String(length=60), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_calendars_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendars'))
    )
    with op.batch_alter_table('calendars', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendars_project_id'), ['project_id'], unique=False)

    op.create_table('wbs_elements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=60), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['wbs_elements.id'], name=op.f('fk_wbs_elements_parent_id_wbs_elements')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_wbs_elements_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wbs_elements')),
    sa.UniqueConstraint('project_id', 'code', name=op.f('uq_wbs_elements_project_id'))
    )
    with op.batch_alter_table('wbs_elements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wbs_elements_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wbs_elements_project_id'), ['project_id'], unique=False)

    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('wbs_element_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('original_duration_hours', sa.Float(), nullable=False),
    sa.Column('remaining_duration_hours', sa.Float(), nullable=True),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('constraint_type', sa.String(length=30), nullable=True),
    sa.Column('constraint_date', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('secondary_constraint_type', sa.String(length=30), nullable=True),
    sa.Column('secondary_constraint_date', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('actual_start', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('actual_finish', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('expected_finish', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('percent_complete', sa.Float(), nullable=False),
    sa.Column('budgeted_cost', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('actual_cost', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('external_id', sa.String(length=60), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('baseline_start', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('baseline_finish', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('early_start', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('early_finish', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('late_start', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('late_finish', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('remaining_early_start', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('remaining_early_finish', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('remaining_late_start', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('remaining_late_finish', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('total_float_hours', sa.Float(), nullable=True),
    sa.Column('free_float_hours', sa.Float(), nullable=True),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.Column('longest_path', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['calendars.id'], name=op.f('fk_activities_calendar_id_calendars')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_activities_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wbs_element_id'], ['wbs_elements.id'], name=op.f('fk_activities_wbs_element_id_wbs_elements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities')),
    sa.UniqueConstraint('project_id', 'code', name=op.f('uq_activities_project_id'))
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_activities_project_wbs', ['project_id', 'wbs_element_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_wbs_element_id'), ['wbs_element_id'], unique=False)

    op.create_table('calendar_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('periods', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['calendars.id'], name=op.f('fk_calendar_exceptions_calendar_id_calendars'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_exceptions')),
    sa.UniqueConstraint('calendar_id', 'day', name=op.f('uq_calendar_exceptions_calendar_id'))
    )
    op.create_table('project_plans',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('data_date', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('planned_start', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('must_finish_by', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('default_calendar_id', sa.Integer(), nullable=True),
    sa.Column('progress_mode', sa.String(length=30), nullable=False),
    sa.Column('lag_calendar', sa.String(length=30), nullable=False),
    sa.Column('float_type', sa.String(length=30), nullable=False),
    sa.Column('critical_definition', sa.String(length=30), nullable=False),
    sa.Column('critical_float_hours', sa.Float(), nullable=False),
    sa.Column('open_ended_critical', sa.Boolean(), nullable=False),
    sa.Column('use_expected_finish', sa.Boolean(), nullable=False),
    sa.Column('scheduled_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('early_finish', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('late_finish', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['default_calendar_id'], ['calendars.id'], name=op.f('fk_project_plans_default_calendar_id_calendars'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_plans_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_project_plans'))
    )
    op.create_table('activity_relationships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('predecessor_id', sa.Integer(), nullable=False),
    sa.Column('successor_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=2), nullable=False),
    sa.Column('lag_hours', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['predecessor_id'], ['activities.id'], name=op.f('fk_activity_relationships_predecessor_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['successor_id'], ['activities.id'], name=op.f('fk_activity_relationships_successor_id_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_relationships')),
    sa.UniqueConstraint('predecessor_id', 'successor_id', name=op.f('uq_activity_relationships_predecessor_id'))
    )
    with op.batch_alter_table('activity_relationships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_relationships_predecessor_id'), ['predecessor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_relationships_successor_id'), ['successor_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('activity_relationships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_relationships_successor_id'))
        batch_op.drop_index(batch_op.f('ix_activity_relationships_predecessor_id'))

    op.drop_table('activity_relationships')
    op.drop_table('project_plans')
    op.drop_table('calendar_exceptions')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_wbs_element_id'))
        batch_op.drop_index('ix_activities_project_wbs')
        batch_op.drop_index(batch_op.f('ix_activities_project_id'))

    op.drop_table('activities')
    with op.batch_alter_table('wbs_elements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wbs_elements_project_id'))
        batch_op.drop_index(batch_op.f('ix_wbs_elements_parent_id'))

    op.drop_table('wbs_elements')
    with op.batch_alter_table('calendars', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendars_project_id'))

    op.drop_table('calendars')
