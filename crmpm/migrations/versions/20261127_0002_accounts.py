"""The CRM: accounts, contacts, leads, pipelines, deals, interactions, tasks, routing, absences, surveys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 09:04:11.031081
"""

from alembic import op
import sqlalchemy as sa
import crmpm.database


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pipelines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipelines')),
    sa.UniqueConstraint('name', name=op.f('uq_pipelines_name'))
    )
    op.create_table('absences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('handed_over_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('returned_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_absences_ends_after_start')),
    sa.ForeignKeyConstraint(['deputy_id'], ['users.id'], name=op.f('fk_absences_deputy_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_absences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_absences'))
    )
    with op.batch_alter_table('absences', schema=None) as batch_op:
        batch_op.create_index('ix_absences_user_period', ['user_id', 'starts_at', 'ends_at'], unique=False)

    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('tax_id', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.Enum('prospect', 'client', 'partner', 'former', name='account_kind', native_enum=False, length=20), nullable=False),
    sa.Column('sector', sa.String(length=200), nullable=False),
    sa.Column('segment', sa.String(length=200), nullable=False),
    sa.Column('region_node_id', sa.Integer(), nullable=False),
    sa.Column('eps_node_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('annual_revenue', crmpm.database.Money(precision=18, scale=2), nullable=True),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['eps_node_id'], ['eps_nodes.id'], name=op.f('fk_accounts_eps_node_id_eps_nodes')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['accounts.id'], name=op.f('fk_accounts_merged_into_id_accounts')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_accounts_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['accounts.id'], name=op.f('fk_accounts_parent_id_accounts')),
    sa.ForeignKeyConstraint(['region_node_id'], ['eps_nodes.id'], name=op.f('fk_accounts_region_node_id_eps_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('eps_node_id', name=op.f('uq_accounts_eps_node_id')),
    sa.UniqueConstraint('external_id', name=op.f('uq_accounts_external_id'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index('ix_accounts_owner_id', ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_region_node_id'), ['region_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_tax_id'), ['tax_id'], unique=False)

    op.create_table('pipeline_stages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pipeline_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('probability', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('open', 'won', 'lost', name='stage_kind', native_enum=False, length=20), nullable=False),
    sa.CheckConstraint('probability >= 0 AND probability <= 100', name=op.f('ck_pipeline_stages_probability_percent')),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_pipeline_stages_pipeline_id_pipelines'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_stages')),
    sa.UniqueConstraint('pipeline_id', 'name', name='uq_pipeline_stages_pipeline_name')
    )
    with op.batch_alter_table('pipeline_stages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pipeline_stages_pipeline_id'), ['pipeline_id'], unique=False)

    op.create_table('routing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('prefer_account_owner', sa.Boolean(), nullable=False),
    sa.Column('fairness', sa.Enum('round_robin', 'least_load', name='routing_fairness', native_enum=False, length=20), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('capacity_period', sa.Enum('day', 'week', 'month', name='capacity_period', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_routing_rules_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules')),
    sa.UniqueConstraint('name', name=op.f('uq_routing_rules_name'))
    )
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_rules_team_id'), ['team_id'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=200), nullable=False),
    sa.Column('last_name', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('tax_id', sa.String(length=32), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('merged_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_contacts_account_id_accounts')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['contacts.id'], name=op.f('fk_contacts_merged_into_id_contacts')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_contacts_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('external_id', name=op.f('uq_contacts_external_id'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_tax_id'), ['tax_id'], unique=False)

    op.create_table('routing_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('territories', sa.JSON(), nullable=False),
    sa.Column('products', sa.JSON(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('work_start_hour', sa.Integer(), nullable=False),
    sa.Column('work_end_hour', sa.Integer(), nullable=False),
    sa.Column('work_days', sa.JSON(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['routing_rules.id'], name=op.f('fk_routing_members_rule_id_routing_rules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_routing_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_members')),
    sa.UniqueConstraint('rule_id', 'user_id', name='uq_routing_members_rule_user')
    )
    with op.batch_alter_table('routing_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_members_user_id'), ['user_id'], unique=False)

    op.create_table('deals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('pipeline_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('reached_stage_id', sa.Integer(), nullable=True),
    sa.Column('amount', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('probability', sa.Integer(), nullable=True),
    sa.Column('expected_close', sa.Date(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('product', sa.String(length=100), nullable=False),
    sa.Column('next_step', sa.String(length=500), nullable=False),
    sa.Column('lost_reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stage_entered_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('budget_set_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_deals_amount_not_negative')),
    sa.CheckConstraint('probability IS NULL OR (probability >= 0 AND probability <= 100)', name=op.f('ck_deals_probability_percent')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_deals_account_id_accounts')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_deals_contact_id_contacts')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_deals_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_deals_pipeline_id_pipelines')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_deals_project_id_projects')),
    sa.ForeignKeyConstraint(['reached_stage_id'], ['pipeline_stages.id'], name=op.f('fk_deals_reached_stage_id_pipeline_stages')),
    sa.ForeignKeyConstraint(['stage_id'], ['pipeline_stages.id'], name=op.f('fk_deals_stage_id_pipeline_stages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deals')),
    sa.UniqueConstraint('external_id', name=op.f('uq_deals_external_id')),
    sa.UniqueConstraint('project_id', name=op.f('uq_deals_project_id'))
    )
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.create_index('ix_deals_account_id', ['account_id'], unique=False)
        batch_op.create_index('ix_deals_board', ['pipeline_id', 'stage_id', 'expected_close', 'id'], unique=False)
        batch_op.create_index('ix_deals_closed', ['pipeline_id', 'closed_at'], unique=False)
        batch_op.create_index('ix_deals_funnel', ['pipeline_id', 'stage_id', 'reached_stage_id'], unique=False, postgresql_include=['amount', 'project_id'])
        batch_op.create_index('ix_deals_owner_id', ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deals_stage_id'), ['stage_id'], unique=False)

    op.create_table('deal_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=False),
    sa.Column('product', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('unit_price', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_deal_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_deal_lines_deal_id_deals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deal_lines'))
    )
    with op.batch_alter_table('deal_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deal_lines_deal_id'), ['deal_id'], unique=False)

    op.create_table('deal_stage_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=False),
    sa.Column('from_stage_id', sa.Integer(), nullable=True),
    sa.Column('to_stage_id', sa.Integer(), nullable=False),
    sa.Column('at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_deal_stage_changes_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_deal_stage_changes_deal_id_deals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_stage_id'], ['pipeline_stages.id'], name=op.f('fk_deal_stage_changes_from_stage_id_pipeline_stages')),
    sa.ForeignKeyConstraint(['to_stage_id'], ['pipeline_stages.id'], name=op.f('fk_deal_stage_changes_to_stage_id_pipeline_stages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deal_stage_changes'))
    )
    with op.batch_alter_table('deal_stage_changes', schema=None) as batch_op:
        batch_op.create_index('ix_deal_stage_changes_deal_at', ['deal_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deal_stage_changes_to_stage_id'), ['to_stage_id'], unique=False)

    op.create_table('leads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('region_node_id', sa.Integer(), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('tax_id', sa.String(length=32), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=100), nullable=False),
    sa.Column('product', sa.String(length=100), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('new', 'assigned', 'qualified', 'disqualified', name='lead_status', native_enum=False, length=20), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('deal_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('qualified_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_leads_account_id_accounts')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_leads_contact_id_contacts')),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_leads_deal_id_deals')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_leads_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['region_node_id'], ['eps_nodes.id'], name=op.f('fk_leads_region_node_id_eps_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads')),
    sa.UniqueConstraint('external_id', name=op.f('uq_leads_external_id'))
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index('ix_leads_owner_status', ['owner_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_region_node_id'), ['region_node_id'], unique=False)

    op.create_table('survey_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('csat', 'nps', name='survey_kind', native_enum=False, length=20), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('answered_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_survey_answers_account_id_accounts')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_survey_answers_contact_id_contacts')),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_survey_answers_deal_id_deals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers'))
    )
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index('ix_survey_answers_account_at', ['account_id', 'answered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_answers_deal_id'), ['deal_id'], unique=False)

    op.create_table('interactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('deal_id', sa.Integer(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('call', 'email', 'meeting', 'messenger', 'web_form', 'chat', 'letter', name='interaction_kind', native_enum=False, length=20), nullable=False),
    sa.Column('direction', sa.Enum('inbound', 'outbound', name='interaction_direction', native_enum=False, length=20), nullable=False),
    sa.Column('occurred_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('account_id IS NOT NULL OR lead_id IS NOT NULL', name=op.f('ck_interactions_account_or_lead')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_interactions_account_id_accounts')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_interactions_contact_id_contacts')),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_interactions_deal_id_deals')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_interactions_lead_id_leads')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_interactions_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interactions')),
    sa.UniqueConstraint('external_id', name=op.f('uq_interactions_external_id'))
    )
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.create_index('ix_interactions_account_occurred', ['account_id', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_interactions_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interactions_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interactions_lead_id'), ['lead_id'], unique=False)

    op.create_table('lead_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_lead_assignments_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_assignments_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['routing_rules.id'], name=op.f('fk_lead_assignments_rule_id_routing_rules'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lead_assignments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_assignments'))
    )
    with op.batch_alter_table('lead_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_assignments_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index('ix_lead_assignments_user_at', ['user_id', 'at'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('deal_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('due_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('remind_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Enum('open', 'done', 'cancelled', name='task_status', native_enum=False, length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('account_id IS NOT NULL OR lead_id IS NOT NULL', name=op.f('ck_tasks_account_or_lead')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_tasks_account_id_accounts')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tasks_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_tasks_contact_id_contacts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tasks_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_tasks_deal_id_deals')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_tasks_lead_id_leads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('external_id', name=op.f('uq_tasks_external_id'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_account_id', ['account_id'], unique=False)
        batch_op.create_index('ix_tasks_assignee_status_due', ['assignee_id', 'status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_deal_id'), ['deal_id'], unique=False)

    op.create_table('handover_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('absence_id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('returned', sa.Boolean(), nullable=False),
    sa.CheckConstraint('(deal_id IS NULL) <> (task_id IS NULL)', name=op.f('ck_handover_items_one_item')),
    sa.ForeignKeyConstraint(['absence_id'], ['absences.id'], name=op.f('fk_handover_items_absence_id_absences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_handover_items_deal_id_deals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_handover_items_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_items'))
    )
    with op.batch_alter_table('handover_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_items_absence_id'), ['absence_id'], unique=False)

    with op.batch_alter_table('eps_nodes', schema=None) as batch_op:
        batch_op.create_index('ix_eps_nodes_protected', ['protected'], unique=False,
                              postgresql_where=sa.text('protected'), sqlite_where=sa.text('protected'))

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index('ix_projects_protected', ['protected'], unique=False,
                              postgresql_where=sa.text('protected'), sqlite_where=sa.text('protected'))


def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_protected')

    with op.batch_alter_table('eps_nodes', schema=None) as batch_op:
        batch_op.drop_index('ix_eps_nodes_protected')

    with op.batch_alter_table('handover_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_items_absence_id'))

    op.drop_table('handover_items')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_deal_id'))
        batch_op.drop_index('ix_tasks_assignee_status_due')
        batch_op.drop_index('ix_tasks_account_id')

    op.drop_table('tasks')
    with op.batch_alter_table('lead_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_assignments_user_at')
        batch_op.drop_index(batch_op.f('ix_lead_assignments_lead_id'))

    op.drop_table('lead_assignments')
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interactions_lead_id'))
        batch_op.drop_index(batch_op.f('ix_interactions_deal_id'))
        batch_op.drop_index(batch_op.f('ix_interactions_contact_id'))
        batch_op.drop_index('ix_interactions_account_occurred')

    op.drop_table('interactions')
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_answers_deal_id'))
        batch_op.drop_index('ix_survey_answers_account_at')

    op.drop_table('survey_answers')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leads_region_node_id'))
        batch_op.drop_index('ix_leads_owner_status')

    op.drop_table('leads')
    with op.batch_alter_table('deal_stage_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deal_stage_changes_to_stage_id'))
        batch_op.drop_index('ix_deal_stage_changes_deal_at')

    op.drop_table('deal_stage_changes')
    with op.batch_alter_table('deal_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deal_lines_deal_id'))

    op.drop_table('deal_lines')
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deals_stage_id'))
        batch_op.drop_index('ix_deals_owner_id')
        batch_op.drop_index('ix_deals_funnel', postgresql_include=['amount', 'project_id'])
        batch_op.drop_index('ix_deals_closed')
        batch_op.drop_index('ix_deals_board')
        batch_op.drop_index('ix_deals_account_id')

    op.drop_table('deals')
    with op.batch_alter_table('routing_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_members_user_id'))

    op.drop_table('routing_members')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_tax_id'))
        batch_op.drop_index(batch_op.f('ix_contacts_phone'))
        batch_op.drop_index(batch_op.f('ix_contacts_email'))
        batch_op.drop_index(batch_op.f('ix_contacts_account_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_rules_team_id'))

    op.drop_table('routing_rules')
    with op.batch_alter_table('pipeline_stages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pipeline_stages_pipeline_id'))

    op.drop_table('pipeline_stages')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_tax_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_region_node_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_parent_id'))
        batch_op.drop_index('ix_accounts_owner_id')

    op.drop_table('accounts')
    with op.batch_alter_table('absences', schema=None) as batch_op:
        batch_op.drop_index('ix_absences_user_period')

    op.drop_table('absences')
    op.drop_table('pipelines')
