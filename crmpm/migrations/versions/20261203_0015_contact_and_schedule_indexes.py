"""Indexes for a contact's card and for a plan's activities in schedule order.

A contact's card reads its timeline by ``contact_id`` (``accounts.activities.timeline(contact=)``):
the deals naming the contact (and through them their stage moves), the tasks and the satisfaction
answers linked to them. Those three columns had no index, so each part read the whole table
(twice: for the rows and for the count). The interactions' ``contact_id`` was indexed already.

``wbs.services.list_activities`` orders a plan's activities by early start (unscheduled last),
then code; the index on (project_id, early_start, code) holds them in that order, so the first
page of a plan of 100,000 activities (the activity picker's suggestions, the project page) is
read from the index instead of sorting every activity of the plan.

Building them takes a lock that stops writes on each table while it is built (under a second
per 100,000 rows).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 22:30:00
"""

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# (table, index name, columns), named as the models name them.
INDEXES = (
    ("deals", "ix_deals_contact_id", ["contact_id"]),
    ("tasks", "ix_tasks_contact_id", ["contact_id"]),
    ("survey_answers", "ix_survey_answers_contact_id", ["contact_id"]),
    ("activities", "ix_activities_project_early_start", ["project_id", "early_start", "code"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
