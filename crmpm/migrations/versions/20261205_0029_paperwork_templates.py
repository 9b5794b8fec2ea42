"""Paperwork templates administrators uploaded in place of the defaults.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05 01:50:00
"""

from alembic import op
import sqlalchemy as sa
import crmpm.database


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('paperwork_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('blob_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['blob_id'], ['file_blobs.id'], name=op.f('fk_paperwork_templates_blob_id_file_blobs')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_paperwork_templates_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paperwork_templates')),
    sa.UniqueConstraint('kind', 'language', name=op.f('uq_paperwork_templates_kind'))
    )
    op.create_index(op.f('ix_paperwork_templates_blob_id'), 'paperwork_templates', ['blob_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_paperwork_templates_blob_id'), table_name='paperwork_templates')
    op.drop_table('paperwork_templates')
