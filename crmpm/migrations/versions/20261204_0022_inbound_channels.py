"""Inbound channels: integrations with their own tokens, and the events they delivered (one per external id).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 18:45:00
"""

import sqlalchemy as sa
from alembic import op

import crmpm.database

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'integrations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('telephony', 'messenger', 'email', name='integration_kind', native_enum=False,
                                  length=20), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('region_node_id', sa.Integer(), nullable=False),
        sa.Column('acting_user_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('created_at', crmpm.database.UTCDateTime(), nullable=False),
        sa.Column('last_used_at', crmpm.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['acting_user_id'], ['users.id'], name=op.f('fk_integrations_acting_user_id_users')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_integrations_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['region_node_id'], ['eps_nodes.id'],
                                name=op.f('fk_integrations_region_node_id_eps_nodes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_integrations')),
        sa.UniqueConstraint('name', name=op.f('uq_integrations_name')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_integrations_token_hash')),
    )
    op.create_index(op.f('ix_integrations_acting_user_id'), 'integrations', ['acting_user_id'])
    op.create_index(op.f('ix_integrations_region_node_id'), 'integrations', ['region_node_id'])
    op.create_table(
        'inbound_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('external_id', sa.String(length=500), nullable=False),
        sa.Column('interaction_id', sa.Integer(), nullable=True),
        sa.Column('duration_seconds', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('recording_url', sa.String(length=2000), nullable=True),
        sa.Column('received_at', crmpm.database.UTCDateTime(), nullable=False),
        sa.Column('updated_at', crmpm.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'],
                                name=op.f('fk_inbound_events_integration_id_integrations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'],
                                name=op.f('fk_inbound_events_interaction_id_interactions'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_events')),
        sa.UniqueConstraint('integration_id', 'external_id', name='uq_inbound_events_integration_external'),
    )
    op.create_index('ix_inbound_events_external_id', 'inbound_events', ['external_id'])
    op.create_index(op.f('ix_inbound_events_interaction_id'), 'inbound_events', ['interaction_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_inbound_events_interaction_id'), table_name='inbound_events')
    op.drop_index('ix_inbound_events_external_id', table_name='inbound_events')
    op.drop_table('inbound_events')
    op.drop_index(op.f('ix_integrations_region_node_id'), table_name='integrations')
    op.drop_index(op.f('ix_integrations_acting_user_id'), table_name='integrations')
    op.drop_table('integrations')
