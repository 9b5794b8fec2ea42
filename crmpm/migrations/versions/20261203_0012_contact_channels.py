"""Contact channels: every phone and e-mail of a contact, typed by kind (work, mobile, home, other), in order;
the existing ``contacts.email`` and ``contacts.phone`` become each contact's first channels (kept as the
primary ones).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 19:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contact_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('phone', 'email', name='channel_type', native_enum=False, length=20), nullable=False),
    sa.Column('kind', sa.Enum('work', 'mobile', 'home', 'other', name='channel_kind', native_enum=False, length=20), nullable=False),
    sa.Column('value', sa.String(length=254), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_channels_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_channels')),
    sa.UniqueConstraint('contact_id', 'type', 'value', name='uq_contact_channels_contact_type_value')
    )
    with op.batch_alter_table('contact_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_channels_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_contact_channels_type_value', ['type', 'value'], unique=False)
    # The one e-mail and phone each contact had become its first (work) ones; both are stored normalized already.
    op.execute("INSERT INTO contact_channels (contact_id, type, kind, value, position) "
               "SELECT id, 'email', 'work', email, 0 FROM contacts WHERE email IS NOT NULL AND email <> ''")
    op.execute("INSERT INTO contact_channels (contact_id, type, kind, value, position) "
               "SELECT id, 'phone', 'work', phone, 0 FROM contacts WHERE phone IS NOT NULL AND phone <> ''")


def downgrade() -> None:
    # contacts.email and contacts.phone still hold the first of each; the others are dropped with the table.
    with op.batch_alter_table('contact_channels', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_channels_type_value')
        batch_op.drop_index(batch_op.f('ix_contact_channels_contact_id'))
    op.drop_table('contact_channels')
