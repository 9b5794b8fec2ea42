"""Project paths written with a bare id (``/…/p2/``) get the fixed-width segment (``/…/p0000000002/``).

Until this revision the bulk deal creation of CSV imports built its projects'
paths by hand, without the zero padding every other path has had since 0004, so
those projects sorted out of tree order. A project's path is also copied into
its ``protect_path`` once it is protected; both are rewritten. Node paths, the
prefixes of project paths, were always written padded; rows already padded are
not touched.

Downgrading leaves the paths padded: the padded form is the correct one at 0008 too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:30:00
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WIDTH = 10
BATCH = 1000
# A path whose last segment is a padded project segment ends like this (each "_" one character).
PADDED_END = "%/p" + "_" * WIDTH + "/"
_SEGMENT = re.compile(r"/(p?)(\d+)(?=/)")


def pad(path: str) -> str:
    """``path`` with every segment zero-padded to the fixed width (``/1/p2/`` -> ``/0000000001/p0000000002/``)."""
    return _SEGMENT.sub(lambda match: f"/{match.group(1)}{int(match.group(2)):0{WIDTH}d}", path or "")


def upgrade() -> None:
    connection = op.get_bind()
    suspect = sa.text(
        "SELECT id, path, protect_path FROM projects "
        "WHERE path NOT LIKE :padded OR (protect_path LIKE '%/p%' AND protect_path NOT LIKE :padded)")
    rows = connection.execute(suspect, {"padded": PADDED_END}).all()
    changes = [{"id": row_id, "path": pad(path), "protect_path": pad(protect_path)}
               for row_id, path, protect_path in rows
               if (pad(path), pad(protect_path)) != (path, protect_path)]
    update = sa.text("UPDATE projects SET path = :path, protect_path = :protect_path WHERE id = :id")
    for start in range(0, len(changes), BATCH):
        connection.execute(update, changes[start:start + BATCH])


def downgrade() -> None:
    pass
