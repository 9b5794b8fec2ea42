"""Jobs and domain events: the ``jobs`` table and the files jobs produce, the ``events`` outbox with its
counter (ids given in commit order), consumers' cursors and given-up deliveries; ``tasks.due_event_at``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 16:33:30.499879
"""

from alembic import op
import sqlalchemy as sa
import crmpm.database


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    counter = op.create_table('event_counter',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('last_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_event_counter'))
    )
    # The one counter row each committing transaction locks while it numbers its events.
    op.bulk_insert(counter, [{'name': 'events', 'last_id': 0}])
    op.create_table('event_cursors',
    sa.Column('consumer', sa.String(length=100), nullable=False),
    sa.Column('last_id', sa.BigInteger(), nullable=False),
    sa.Column('failing_event_id', sa.BigInteger(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('consumer', name=op.f('pk_event_cursors'))
    )
    op.create_table('event_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consumer', sa.String(length=100), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('failed_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_failures'))
    )
    with op.batch_alter_table('event_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_failures_consumer'), ['consumer'], unique=False)

    op.create_table('events',
    sa.Column('row_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=True),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=60), nullable=False),
    sa.Column('subject_id', sa.BigInteger(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_events_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('row_id', name=op.f('pk_events')),
    sa.UniqueConstraint('id', name=op.f('uq_events_id'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_events_subject', ['subject_type', 'subject_id', 'id'], unique=False)
        batch_op.create_index('ix_events_type', ['type', 'id'], unique=False)
        batch_op.create_index('ix_events_unordered', ['row_id'], unique=False, postgresql_where=sa.text('id IS NULL'), sqlite_where=sa.text('id IS NULL'))

    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=80), nullable=False),
    sa.Column('queue', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('run_after', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('lease_until', crmpm.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_jobs_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('key', name=op.f('uq_jobs_key'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_jobs_status_run_after', ['status', 'run_after'], unique=False)

    op.create_table('job_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', crmpm.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_files_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_files'))
    )
    with op.batch_alter_table('job_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_files_job_id'), ['job_id'], unique=False)

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_event_at', crmpm.database.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('due_event_at')

    with op.batch_alter_table('job_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_files_job_id'))

    op.drop_table('job_files')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_status_run_after')
        batch_op.drop_index(batch_op.f('ix_jobs_created_by_id'))

    op.drop_table('jobs')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_unordered', postgresql_where=sa.text('id IS NULL'), sqlite_where=sa.text('id IS NULL'))
        batch_op.drop_index('ix_events_type')
        batch_op.drop_index('ix_events_subject')
        batch_op.drop_index(batch_op.f('ix_events_actor_id'))

    op.drop_table('events')
    with op.batch_alter_table('event_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_failures_consumer'))

    op.drop_table('event_failures')
    op.drop_table('event_cursors')
    op.drop_table('event_counter')
