"""Member-library adapters: adapter configuration per library, reader links,
the delivery outbox, and onboarding import checkpoints and issues.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    name = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}_{name}")


def upgrade() -> None:
    op.create_table(
        "library_adapters",
        sa.Column("library_id", BigId, nullable=False),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("config", Json, nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("offline_reason", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("breaker_open_until", Stamp, nullable=True),
        sa.Column("updated_at", Stamp, nullable=False),
        _fk("library_adapters", "library_id", "libraries.id"),
        sa.PrimaryKeyConstraint("library_id", name="pk_library_adapters"),
    )

    op.create_table(
        "reader_links",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("reader_id", sa.String(26), nullable=False),
        sa.Column("library_id", BigId, nullable=False),
        sa.Column("local_id", sa.String(64), nullable=True),
        sa.Column("local_barcode", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("method", sa.String(16), nullable=True),
        sa.Column("local_version", sa.String(64), nullable=True),
        sa.Column("candidates", Json, nullable=False),
        sa.Column("last_sync_at", Stamp, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.CheckConstraint("state IN ('pending','linked','conflict','unlinked')",
                           name="ck_reader_links_state"),
        sa.CheckConstraint(
            "method IS NULL OR method IN ('created','auto_matched','staff_matched','imported')",
            name="ck_reader_links_method",
        ),
        _fk("reader_links", "reader_id", "readers.id"),
        _fk("reader_links", "library_id", "libraries.id"),
        sa.PrimaryKeyConstraint("id", name="pk_reader_links"),
        sa.UniqueConstraint("reader_id", "library_id", name="uq_reader_links_reader_library"),
        sa.UniqueConstraint("library_id", "local_id", name="uq_reader_links_library_local_id"),
        sa.UniqueConstraint("library_id", "local_barcode",
                            name="uq_reader_links_library_local_barcode"),
    )
    op.create_index("ix_reader_links_library_state", "reader_links",
                    ["library_id", "state", "id"])

    op.create_table(
        "outbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("library_id", BigId, nullable=False),
        sa.Column("reader_id", sa.String(26), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Stamp, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("delivered_at", Stamp, nullable=True),
        sa.CheckConstraint("state IN ('pending','done','dead')", name="ck_outbox_state"),
        _fk("outbox", "library_id", "libraries.id"),
        _fk("outbox", "reader_id", "readers.id"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_library_state", "outbox", ["library_id", "state", "id"])
    op.create_index("ix_outbox_reader", "outbox", ["reader_id", "library_id", "id"])

    op.create_table(
        "import_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("library_id", BigId, nullable=False),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("cursor", sa.String(64), nullable=True),
        sa.Column("counts", Json, nullable=False),
        sa.Column("started_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.Column("finished_at", Stamp, nullable=True),
        _fk("import_runs", "library_id", "libraries.id"),
        sa.PrimaryKeyConstraint("id", name="pk_import_runs"),
        sa.UniqueConstraint("library_id", "source", name="uq_import_runs_library_source"),
    )

    op.create_table(
        "import_issues",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("library_id", BigId, nullable=False),
        sa.Column("source_ref", sa.String(64), nullable=False),
        sa.Column("reader_id", sa.String(26), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("field", sa.String(32), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("candidates", Json, nullable=False),
        sa.Column("row_enc", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        _fk("import_issues", "run_id", "import_runs.id"),
        _fk("import_issues", "library_id", "libraries.id"),
        _fk("import_issues", "reader_id", "readers.id"),
        sa.PrimaryKeyConstraint("id", name="pk_import_issues"),
    )
    op.create_index("ix_import_issues_run", "import_issues", ["run_id", "id"])
    op.create_index("ix_import_issues_library_id", "import_issues", ["library_id"])


def downgrade() -> None:
    op.drop_table("import_issues")
    op.drop_table("import_runs")
    op.drop_table("outbox")
    op.drop_table("reader_links")
    op.drop_table("library_adapters")
