"""The resource pool: resources, roles, rates, assignments; activities' primary resource, duration type and
levelled dates; calendars of kind "resource".

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 21:44:09
"""

import sqlalchemy as sa
from alembic import op

import crmpm.database

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('resource_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=60), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['resource_roles.id'], name=op.f('fk_resource_roles_parent_id_resource_roles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_roles')),
    sa.UniqueConstraint('code', name=op.f('uq_resource_roles_code'))
    )
    with op.batch_alter_table('resource_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_roles_parent_id'), ['parent_id'], unique=False)

    op.create_table('resource_role_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('price_per_unit', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('max_units_per_hour', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['role_id'], ['resource_roles.id'], name=op.f('fk_resource_role_rates_role_id_resource_roles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_role_rates')),
    sa.UniqueConstraint('role_id', 'effective_from', name=op.f('uq_resource_role_rates_role_id'))
    )
    op.create_table('resources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('max_units_per_hour', sa.Float(), nullable=False),
    sa.Column('default_units_per_hour', sa.Float(), nullable=False),
    sa.Column('unit_of_measure', sa.String(length=30), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('eps_node_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('external_id', sa.String(length=60), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['calendars.id'], name=op.f('fk_resources_calendar_id_calendars'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['eps_node_id'], ['eps_nodes.id'], name=op.f('fk_resources_eps_node_id_eps_nodes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['resources.id'], name=op.f('fk_resources_parent_id_resources'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_resources_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resources')),
    sa.UniqueConstraint('code', name=op.f('uq_resources_code')),
    sa.UniqueConstraint('user_id', name=op.f('uq_resources_user_id'))
    )
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resources_eps_node_id'), ['eps_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resources_parent_id'), ['parent_id'], unique=False)

    op.create_table('resource_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('price_per_unit', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('max_units_per_hour', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_resource_rates_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_rates')),
    sa.UniqueConstraint('resource_id', 'effective_from', name=op.f('uq_resource_rates_resource_id'))
    )
    op.create_table('resource_role_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('proficiency', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_resource_role_links_resource_id_resources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['resource_roles.id'], name=op.f('fk_resource_role_links_role_id_resource_roles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_role_links')),
    sa.UniqueConstraint('resource_id', 'role_id', name=op.f('uq_resource_role_links_resource_id'))
    )
    with op.batch_alter_table('resource_role_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_role_links_role_id'), ['role_id'], unique=False)

    op.create_table('resource_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=True),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.Column('budgeted_units', sa.Float(), nullable=False),
    sa.Column('actual_units', sa.Float(), nullable=False),
    sa.Column('remaining_units', sa.Float(), nullable=False),
    sa.Column('units_per_hour', sa.Float(), nullable=False),
    sa.Column('budgeted_cost', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('actual_cost', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('remaining_cost', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('rate_source', sa.String(length=20), nullable=False),
    sa.Column('price_per_unit', crmpm.database.Money(precision=18, scale=2), nullable=True),
    sa.Column('start', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('finish', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('actual_start', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('actual_finish', crmpm.database.ProjectLocalDateTime(), nullable=True),
    sa.Column('curve', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=60), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_resource_assignments_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_resource_assignments_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_resource_assignments_resource_id_resources'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['role_id'], ['resource_roles.id'], name=op.f('fk_resource_assignments_role_id_resource_roles'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_assignments'))
    )
    with op.batch_alter_table('resource_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_assignments_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_assignments_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_resource_assignments_resource_id_start', ['resource_id', 'start'], unique=False)
        batch_op.create_index('ix_resource_assignments_role_id_start', ['role_id', 'start'], unique=False)

    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('primary_resource_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duration_type', sa.String(length=40), server_default='fixed_duration_and_units', nullable=False))
        batch_op.add_column(sa.Column('levelled_start', crmpm.database.ProjectLocalDateTime(), nullable=True))
        batch_op.add_column(sa.Column('levelled_finish', crmpm.database.ProjectLocalDateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_activities_primary_resource_id_resources'), 'resources', ['primary_resource_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('calendars', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('calendars', schema=None) as batch_op:
        batch_op.drop_column('kind')

    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_activities_primary_resource_id_resources'), type_='foreignkey')
        batch_op.drop_column('levelled_finish')
        batch_op.drop_column('levelled_start')
        batch_op.drop_column('duration_type')
        batch_op.drop_column('primary_resource_id')

    with op.batch_alter_table('resource_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_assignments_role_id_start')
        batch_op.drop_index('ix_resource_assignments_resource_id_start')
        batch_op.drop_index(batch_op.f('ix_resource_assignments_project_id'))
        batch_op.drop_index(batch_op.f('ix_resource_assignments_activity_id'))

    op.drop_table('resource_assignments')
    with op.batch_alter_table('resource_role_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_role_links_role_id'))

    op.drop_table('resource_role_links')
    op.drop_table('resource_rates')
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resources_parent_id'))
        batch_op.drop_index(batch_op.f('ix_resources_eps_node_id'))

    op.drop_table('resources')
    op.drop_table('resource_role_rates')
    with op.batch_alter_table('resource_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_roles_parent_id'))

    op.drop_table('resource_roles')
