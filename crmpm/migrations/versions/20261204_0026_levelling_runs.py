"""Levelling runs and the projects each levelled.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 22:10:00
"""

import sqlalchemy as sa
from alembic import op

import crmpm.database

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('levelling_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('eps_node_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('activities', sa.Integer(), nullable=False),
    sa.Column('moved', sa.Integer(), nullable=False),
    sa.Column('unresolved', sa.Integer(), nullable=False),
    sa.Column('overallocations', sa.Integer(), nullable=False),
    sa.Column('milliseconds', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_levelling_runs_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['eps_node_id'], ['eps_nodes.id'], name=op.f('fk_levelling_runs_eps_node_id_eps_nodes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_levelling_runs_project_id_projects'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_levelling_runs'))
    )
    op.create_table('levelling_run_projects',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_levelling_run_projects_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['levelling_runs.id'], name=op.f('fk_levelling_run_projects_run_id_levelling_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'project_id', name=op.f('pk_levelling_run_projects'))
    )
    with op.batch_alter_table('levelling_run_projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_levelling_run_projects_project_id'), ['project_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('levelling_run_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_levelling_run_projects_project_id'))
    op.drop_table('levelling_run_projects')
    op.drop_table('levelling_runs')
