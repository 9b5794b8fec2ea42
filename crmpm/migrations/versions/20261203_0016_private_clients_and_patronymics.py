"""Private clients, patronymics and where a deal opened.

* ``accounts.is_person``: the account of one private client (B2C); existing accounts are companies.
* ``contacts.patronymic``: the third part of a Russian name (Фамилия Имя Отчество); empty for existing contacts.
* ``deals.opened_stage_id``: the stage a deal opened in, so the funnel counts a deal only from there
  (an imported deal is not counted at stages nobody saw it in); existing deals get the stage of their
  first history row. The funnel's index carries it, so the funnel still reads the index alone.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 23:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_person', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patronymic', sa.String(length=200), server_default='', nullable=False))
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_stage_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_deals_opened_stage_id_pipeline_stages'), 'pipeline_stages',
                                    ['opened_stage_id'], ['id'])
        batch_op.drop_index('ix_deals_funnel', postgresql_include=['amount', 'project_id'])
        batch_op.create_index('ix_deals_funnel', ['pipeline_id', 'stage_id', 'reached_stage_id'], unique=False,
                              postgresql_include=['amount', 'project_id', 'opened_stage_id'])
    op.execute("UPDATE deals SET opened_stage_id = (SELECT c.to_stage_id FROM deal_stage_changes c "
               "WHERE c.deal_id = deals.id ORDER BY c.at, c.id LIMIT 1)")


def downgrade() -> None:
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_index('ix_deals_funnel', postgresql_include=['amount', 'project_id', 'opened_stage_id'])
        batch_op.create_index('ix_deals_funnel', ['pipeline_id', 'stage_id', 'reached_stage_id'], unique=False,
                              postgresql_include=['amount', 'project_id'])
        batch_op.drop_constraint(batch_op.f('fk_deals_opened_stage_id_pipeline_stages'), type_='foreignkey')
        batch_op.drop_column('opened_stage_id')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('patronymic')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('is_person')
