"""Activity codes and user-defined fields, as Primavera P6 keeps them.

Code types (global, an EPS node's or a project's) with their values in a tree, and each activity's value of a
type (one per type); user-defined fields of activities, WBS elements and projects, typed (text, number,
integer, cost, date, indicator), with their values.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 12:45:00
"""

import sqlalchemy as sa
from alembic import op

import crmpm.database

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'activity_code_types',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=10), nullable=False),
        sa.Column('eps_node_id', sa.Integer(), nullable=True),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('max_length', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['eps_node_id'], ['eps_nodes.id'],
                                name=op.f('fk_activity_code_types_eps_node_id_eps_nodes'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_activity_code_types_project_id_projects'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_code_types')),
    )
    op.create_index(op.f('ix_activity_code_types_eps_node_id'), 'activity_code_types', ['eps_node_id'])
    op.create_index(op.f('ix_activity_code_types_project_id'), 'activity_code_types', ['project_id'])
    op.create_table(
        'activity_code_values',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('type_id', sa.Integer(), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('value', sa.String(length=60), nullable=False),
        sa.Column('description', sa.String(length=300), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('color', sa.String(length=6), nullable=False),
        sa.ForeignKeyConstraint(['parent_id'], ['activity_code_values.id'],
                                name=op.f('fk_activity_code_values_parent_id_activity_code_values'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['type_id'], ['activity_code_types.id'],
                                name=op.f('fk_activity_code_values_type_id_activity_code_types'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_code_values')),
    )
    op.create_index(op.f('ix_activity_code_values_parent_id'), 'activity_code_values', ['parent_id'])
    op.create_index(op.f('ix_activity_code_values_type_id'), 'activity_code_values', ['type_id'])
    op.create_table(
        'activity_code_assignments',
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('type_id', sa.Integer(), nullable=False),
        sa.Column('value_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'],
                                name=op.f('fk_activity_code_assignments_activity_id_activities'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['type_id'], ['activity_code_types.id'],
                                name=op.f('fk_activity_code_assignments_type_id_activity_code_types'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['value_id'], ['activity_code_values.id'],
                                name=op.f('fk_activity_code_assignments_value_id_activity_code_values'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('activity_id', 'type_id', name=op.f('pk_activity_code_assignments')),
    )
    op.create_index(op.f('ix_activity_code_assignments_value_id'), 'activity_code_assignments', ['value_id'])
    op.create_table(
        'udf_types',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=10), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('data_type', sa.String(length=10), nullable=False),
        sa.Column('file_type', sa.String(length=30), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_udf_types')),
    )
    op.create_table(
        'udf_values',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('type_id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=True),
        sa.Column('wbs_element_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('number', sa.Float(), nullable=True),
        sa.Column('cost', crmpm.database.Money(precision=18, scale=2), nullable=True),
        sa.Column('date', crmpm.database.ProjectLocalDateTime(), nullable=True),
        sa.Column('indicator', sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_udf_values_activity_id_activities'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_udf_values_project_id_projects'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['type_id'], ['udf_types.id'], name=op.f('fk_udf_values_type_id_udf_types'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['wbs_element_id'], ['wbs_elements.id'],
                                name=op.f('fk_udf_values_wbs_element_id_wbs_elements'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_udf_values')),
    )
    op.create_index(op.f('ix_udf_values_activity_id'), 'udf_values', ['activity_id'])
    op.create_index(op.f('ix_udf_values_project_id'), 'udf_values', ['project_id'])
    op.create_index(op.f('ix_udf_values_wbs_element_id'), 'udf_values', ['wbs_element_id'])
    op.create_index('ix_udf_values_subject', 'udf_values', ['type_id', 'project_id', 'activity_id', 'wbs_element_id'])


def downgrade() -> None:
    op.drop_table('udf_values')
    op.drop_table('udf_types')
    op.drop_table('activity_code_assignments')
    op.drop_table('activity_code_values')
    op.drop_table('activity_code_types')
