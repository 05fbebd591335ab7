"""Readers' guardian and merged-into indexes cover only the readers that have one.

Nearly every reader has neither, so the full indexes held an entry per reader that
no look-up reads (look-ups always name a reader).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = ("guardian_id", "merged_into")


def upgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_readers_{column}", table_name="readers")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(f"ix_readers_{column}", "readers", [column],
                        postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_readers_{column}", table_name="readers")
        op.create_index(f"ix_readers_{column}", "readers", [column])
