"""Core tables (users, teams, tokens, audit) and the EPS (nodes, projects, grants, budgets).

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 07:55:38.457280
"""

from alembic import op
import sqlalchemy as sa
import crmpm.database


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('eps_nodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=1000), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('protected', sa.Boolean(), nullable=False),
    sa.Column('protect_path', sa.String(length=1000), nullable=False),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('original_budget', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('current_budget', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['eps_nodes.id'], name=op.f('fk_eps_nodes_parent_id_eps_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eps_nodes')),
    sa.UniqueConstraint('code', name=op.f('uq_eps_nodes_code'))
    )
    with op.batch_alter_table('eps_nodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eps_nodes_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_eps_nodes_path', ['path'], unique=False, postgresql_ops={'path': 'varchar_pattern_ops'})

    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    sa.UniqueConstraint('name', name=op.f('uq_teams_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=254), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('entity_type', sa.String(length=60), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_entries_entity', ['entity_type', 'entity_id', 'id'], unique=False)

    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('eps_node_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=1000), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('protected', sa.Boolean(), nullable=False),
    sa.Column('protect_path', sa.String(length=1000), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('planned_cost', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('actual_cost', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('original_budget', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('current_budget', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['eps_node_id'], ['eps_nodes.id'], name=op.f('fk_projects_eps_node_id_eps_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('code', name=op.f('uq_projects_code'))
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_eps_node_id'), ['eps_node_id'], unique=False)
        batch_op.create_index('ix_projects_path', ['path'], unique=False, postgresql_ops={'path': 'varchar_pattern_ops'})

    op.create_table('team_members',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_members_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_team_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_team_members'))
    )
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_members_user_id'), ['user_id'], unique=False)

    op.create_table('budget_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('eps_node_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('amount', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='budget_change_status', native_enum=False, length=20), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.CheckConstraint('(eps_node_id IS NULL) <> (project_id IS NULL)', name=op.f('ck_budget_changes_one_target')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_budget_changes_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['eps_node_id'], ['eps_nodes.id'], name=op.f('fk_budget_changes_eps_node_id_eps_nodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_budget_changes_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_budget_changes_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_changes'))
    )
    with op.batch_alter_table('budget_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_changes_eps_node_id'), ['eps_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_budget_changes_project_id'), ['project_id'], unique=False)

    op.create_table('grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('eps_node_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.Enum('viewer', 'editor', 'manager', 'finance', name='grant_role', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(eps_node_id IS NULL) <> (project_id IS NULL)', name=op.f('ck_grants_one_target')),
    sa.CheckConstraint('(user_id IS NULL) <> (team_id IS NULL)', name=op.f('ck_grants_one_principal')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_grants_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['eps_node_id'], ['eps_nodes.id'], name=op.f('fk_grants_eps_node_id_eps_nodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_grants_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_grants_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grants'))
    )
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grants_eps_node_id'), ['eps_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grants_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grants_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grants_user_id'), ['user_id'], unique=False)

    op.create_table('spending_plan_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('eps_node_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('amount', crmpm.database.Money(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('(eps_node_id IS NULL) <> (project_id IS NULL)', name=op.f('ck_spending_plan_entries_one_target')),
    sa.ForeignKeyConstraint(['eps_node_id'], ['eps_nodes.id'], name=op.f('fk_spending_plan_entries_eps_node_id_eps_nodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_spending_plan_entries_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spending_plan_entries'))
    )
    with op.batch_alter_table('spending_plan_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spending_plan_entries_eps_node_id'), ['eps_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_spending_plan_entries_project_id'), ['project_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('spending_plan_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spending_plan_entries_project_id'))
        batch_op.drop_index(batch_op.f('ix_spending_plan_entries_eps_node_id'))

    op.drop_table('spending_plan_entries')
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grants_user_id'))
        batch_op.drop_index(batch_op.f('ix_grants_team_id'))
        batch_op.drop_index(batch_op.f('ix_grants_project_id'))
        batch_op.drop_index(batch_op.f('ix_grants_eps_node_id'))

    op.drop_table('grants')
    with op.batch_alter_table('budget_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_changes_project_id'))
        batch_op.drop_index(batch_op.f('ix_budget_changes_eps_node_id'))

    op.drop_table('budget_changes')
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_members_user_id'))

    op.drop_table('team_members')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_path', postgresql_ops={'path': 'varchar_pattern_ops'})
        batch_op.drop_index(batch_op.f('ix_projects_eps_node_id'))

    op.drop_table('projects')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_entity')
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor_id'))

    op.drop_table('audit_entries')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('teams')
    with op.batch_alter_table('eps_nodes', schema=None) as batch_op:
        batch_op.drop_index('ix_eps_nodes_path', postgresql_ops={'path': 'varchar_pattern_ops'})
        batch_op.drop_index(batch_op.f('ix_eps_nodes_parent_id'))

    op.drop_table('eps_nodes')
