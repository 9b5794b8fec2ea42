"""Marketing (tags, consents, segments, campaigns, web-to-lead forms) and the client portal.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 05:02:35.017914
"""

from alembic import op
import sqlalchemy as sa
import crmpm.database


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filter', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_segments_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments'))
    )
    op.create_table('account_tags',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_tags_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'tag', name=op.f('pk_account_tags'))
    )
    with op.batch_alter_table('account_tags', schema=None) as batch_op:
        batch_op.create_index('ix_account_tags_tag', ['tag'], unique=False)

    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('scheduled_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cost', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('rate_per_minute', sa.Integer(), nullable=False),
    sa.Column('consent_required', sa.Boolean(), nullable=False),
    sa.Column('region_node_id', sa.Integer(), nullable=True),
    sa.Column('from_name', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_campaigns_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['region_node_id'], ['eps_nodes.id'], name=op.f('fk_campaigns_region_node_id_eps_nodes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_campaigns_segment_id_segments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_campaigns_webhook_id_webhooks'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('code', name=op.f('uq_campaigns_code'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_segment_id'), ['segment_id'], unique=False)

    op.create_table('portal_projects',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('shared_by_id', sa.Integer(), nullable=True),
    sa.Column('shared_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_portal_projects_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shared_by_id'], ['users.id'], name=op.f('fk_portal_projects_shared_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_portal_projects'))
    )
    op.create_table('campaign_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_links_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_links'))
    )
    with op.batch_alter_table('campaign_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_links_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('campaign_variants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_variants_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_variants')),
    sa.UniqueConstraint('campaign_id', 'label', name='uq_campaign_variants_campaign_label')
    )
    with op.batch_alter_table('campaign_variants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_variants_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('contact_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('consented_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('consent_source', sa.String(length=200), nullable=False),
    sa.Column('opted_out_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opt_out_source', sa.String(length=200), nullable=False),
    sa.Column('updated_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_consents_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_consents')),
    sa.UniqueConstraint('contact_id', 'channel', name='uq_contact_consents_contact_channel')
    )
    with op.batch_alter_table('contact_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_consents_contact_id'), ['contact_id'], unique=False)

    op.create_table('contact_tags',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_tags_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', 'tag', name=op.f('pk_contact_tags'))
    )
    with op.batch_alter_table('contact_tags', schema=None) as batch_op:
        batch_op.create_index('ix_contact_tags_tag', ['tag'], unique=False)

    op.create_table('portal_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_portal_approvals_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_portal_approvals_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_portal_approvals_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_approvals'))
    )
    with op.batch_alter_table('portal_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_approvals_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_portal_approvals_subject', ['subject', 'subject_id'], unique=False)

    op.create_table('portal_users',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('invited_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activated_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_portal_users_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_portal_users_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_portal_users_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_portal_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_portal_users')),
    sa.UniqueConstraint('contact_id', name=op.f('uq_portal_users_contact_id'))
    )
    with op.batch_alter_table('portal_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_users_account_id'), ['account_id'], unique=False)

    op.create_table('segment_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('added_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(contact_id IS NULL) <> (account_id IS NULL)', name=op.f('ck_segment_members_one_member')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_segment_members_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_segment_members_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_segment_members_segment_id_segments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment_members')),
    sa.UniqueConstraint('segment_id', 'account_id', name='uq_segment_members_segment_account'),
    sa.UniqueConstraint('segment_id', 'contact_id', name='uq_segment_members_segment_contact')
    )
    with op.batch_alter_table('segment_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_segment_members_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_segment_members_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_segment_members_segment_id'), ['segment_id'], unique=False)

    op.create_table('web_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('region_node_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('product', sa.String(length=100), nullable=False),
    sa.Column('thank_you', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('submissions', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_web_forms_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_web_forms_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['region_node_id'], ['eps_nodes.id'], name=op.f('fk_web_forms_region_node_id_eps_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_forms')),
    sa.UniqueConstraint('key', name=op.f('uq_web_forms_key'))
    )
    with op.batch_alter_table('web_forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_forms_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('campaign_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=False),
    sa.Column('queued_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_messages_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_campaign_messages_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['campaign_variants.id'], name=op.f('fk_campaign_messages_variant_id_campaign_variants'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_messages')),
    sa.UniqueConstraint('campaign_id', 'contact_id', name='uq_campaign_messages_campaign_contact'),
    sa.UniqueConstraint('token', name=op.f('uq_campaign_messages_token'))
    )
    with op.batch_alter_table('campaign_messages', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_messages_campaign_status', ['campaign_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_messages_contact_id'), ['contact_id'], unique=False)

    op.create_table('campaign_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_responses_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_campaign_responses_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_campaign_responses_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['link_id'], ['campaign_links.id'], name=op.f('fk_campaign_responses_link_id_campaign_links'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['campaign_messages.id'], name=op.f('fk_campaign_responses_message_id_campaign_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_responses'))
    )
    with op.batch_alter_table('campaign_responses', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_responses_campaign_kind', ['campaign_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_responses_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_responses_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_responses_message_id'), ['message_id'], unique=False)

    op.create_table('survey_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('deal_id', sa.Integer(), nullable=True),
    sa.Column('milestone_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('question', sa.String(length=500), nullable=False),
    sa.Column('asked_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answer_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_survey_requests_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['answer_id'], ['survey_answers.id'], name=op.f('fk_survey_requests_answer_id_survey_answers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_survey_requests_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_survey_requests_deal_id_deals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['milestone_id'], ['billing_milestones.id'], name=op.f('fk_survey_requests_milestone_id_billing_milestones'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_survey_requests_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_requests'))
    )
    with op.batch_alter_table('survey_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_requests_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_requests_contact_id'), ['contact_id'], unique=False)

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_visible', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('web_form_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_leads_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_leads_campaign_id_campaigns'), 'campaigns', ['campaign_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_leads_web_form_id_web_forms'), 'web_forms', ['web_form_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_client', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_client')

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_leads_web_form_id_web_forms'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_leads_campaign_id_campaigns'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_leads_campaign_id'))
        batch_op.drop_column('web_form_id')
        batch_op.drop_column('campaign_id')

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('client_visible')

    with op.batch_alter_table('survey_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_requests_contact_id'))
        batch_op.drop_index(batch_op.f('ix_survey_requests_account_id'))

    op.drop_table('survey_requests')
    with op.batch_alter_table('campaign_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_responses_message_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_responses_lead_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_responses_contact_id'))
        batch_op.drop_index('ix_campaign_responses_campaign_kind')

    op.drop_table('campaign_responses')
    with op.batch_alter_table('campaign_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_messages_contact_id'))
        batch_op.drop_index('ix_campaign_messages_campaign_status')

    op.drop_table('campaign_messages')
    with op.batch_alter_table('web_forms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_forms_campaign_id'))

    op.drop_table('web_forms')
    with op.batch_alter_table('segment_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_segment_members_segment_id'))
        batch_op.drop_index(batch_op.f('ix_segment_members_contact_id'))
        batch_op.drop_index(batch_op.f('ix_segment_members_account_id'))

    op.drop_table('segment_members')
    with op.batch_alter_table('portal_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_users_account_id'))

    op.drop_table('portal_users')
    with op.batch_alter_table('portal_approvals', schema=None) as batch_op:
        batch_op.drop_index('ix_portal_approvals_subject')
        batch_op.drop_index(batch_op.f('ix_portal_approvals_project_id'))

    op.drop_table('portal_approvals')
    with op.batch_alter_table('contact_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_tags_tag')

    op.drop_table('contact_tags')
    with op.batch_alter_table('contact_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_consents_contact_id'))

    op.drop_table('contact_consents')
    with op.batch_alter_table('campaign_variants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_variants_campaign_id'))

    op.drop_table('campaign_variants')
    with op.batch_alter_table('campaign_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_links_campaign_id'))

    op.drop_table('campaign_links')
    op.drop_table('portal_projects')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_segment_id'))

    op.drop_table('campaigns')
    with op.batch_alter_table('account_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_account_tags_tag')

    op.drop_table('account_tags')
    op.drop_table('segments')
