"""EPS paths with fixed-width segments, so that text order is tree order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WIDTH = 10


def _pad(path: str) -> str:
    parts = path.strip("/").split("/") if path else []
    out = [f"p{int(p[1:]):0{WIDTH}d}" if p.startswith("p") else f"{int(p):0{WIDTH}d}" for p in parts if p]
    return "/" + "".join(f"{p}/" for p in out) if out else ""


def _unpad(path: str) -> str:
    parts = path.strip("/").split("/") if path else []
    out = [f"p{int(p[1:])}" if p.startswith("p") else str(int(p)) for p in parts if p]
    return "/" + "".join(f"{p}/" for p in out) if out else ""


def _rewrite(convert) -> None:
    connection = op.get_bind()
    for table in ("eps_nodes", "projects"):
        rows = connection.execute(sa.text(f"SELECT id, path, protect_path FROM {table}")).all()
        for row_id, path, protect_path in rows:
            connection.execute(sa.text(f"UPDATE {table} SET path = :path, protect_path = :protect WHERE id = :id"),
                               {"path": convert(path), "protect": convert(protect_path), "id": row_id})


def upgrade() -> None:
    _rewrite(_pad)


def downgrade() -> None:
    _rewrite(_unpad)
