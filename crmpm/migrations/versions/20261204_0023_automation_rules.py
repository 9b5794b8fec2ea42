"""Automation rules per pipeline and the record of their runs.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 18:40:00
"""

import sqlalchemy as sa
from alembic import op

import crmpm.database

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'automation_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pipeline_id', sa.Integer(), nullable=False),
        sa.Column('stage_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('trigger', sa.String(length=30), nullable=False),
        sa.Column('idle_days', sa.Integer(), nullable=True),
        sa.Column('conditions', sa.JSON(), nullable=False),
        sa.Column('actions', sa.JSON(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'],
                                name=op.f('fk_automation_rules_pipeline_id_pipelines'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['stage_id'], ['pipeline_stages.id'],
                                name=op.f('fk_automation_rules_stage_id_pipeline_stages'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_automation_rules_created_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_automation_rules')),
    )
    op.create_index(op.f('ix_automation_rules_pipeline_id'), 'automation_rules', ['pipeline_id'])
    op.create_index(op.f('ix_automation_rules_stage_id'), 'automation_rules', ['stage_id'])
    op.create_table(
        'automation_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=False),
        sa.Column('run_key', sa.String(length=80), nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=True),
        sa.Column('deal_id', sa.Integer(), nullable=True),
        sa.Column('lead_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('results', sa.JSON(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['rule_id'], ['automation_rules.id'],
                                name=op.f('fk_automation_runs_rule_id_automation_rules'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['deal_id'], ['deals.id'],
                                name=op.f('fk_automation_runs_deal_id_deals'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'],
                                name=op.f('fk_automation_runs_lead_id_leads'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_automation_runs')),
        sa.UniqueConstraint('rule_id', 'run_key', name='uq_automation_runs_rule_id_run_key'),
    )
    op.create_index(op.f('ix_automation_runs_rule_id'), 'automation_runs', ['rule_id'])
    op.create_index(op.f('ix_automation_runs_lead_id'), 'automation_runs', ['lead_id'])
    op.create_index('ix_automation_runs_deal_id', 'automation_runs', ['deal_id', 'id'])


def downgrade() -> None:
    op.drop_table('automation_runs')
    op.drop_table('automation_rules')
