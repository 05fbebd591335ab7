"""The ledger of import rows already dealt with, so re-running an import changes nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    name = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}_{name}")


def upgrade() -> None:
    op.create_table(
        "import_rows",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("library_id", BigId, nullable=False),
        sa.Column("row_key", sa.String(64), nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("reader_id", sa.String(26), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        _fk("import_rows", "library_id", "libraries.id"),
        _fk("import_rows", "run_id", "import_runs.id"),
        _fk("import_rows", "reader_id", "readers.id"),
        sa.PrimaryKeyConstraint("id", name="pk_import_rows"),
        sa.UniqueConstraint("library_id", "row_key", name="uq_import_rows_library_key"),
    )


def downgrade() -> None:
    op.drop_table("import_rows")
