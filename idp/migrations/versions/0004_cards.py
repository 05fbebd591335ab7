"""Reader cards: card and anchor keys, cards, status-list head and versions, scan events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
#: The status list starts with this many bits; it grows as indices are allocated.
INITIAL_SIZE = 1024


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "card_keys",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kid", sa.String(8), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("public_jwk", Json, nullable=False),
        sa.Column("private_enc", sa.Text(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("activated_at", Stamp, nullable=True),
        sa.Column("not_after", Stamp, nullable=True),
        sa.Column("retire_after", Stamp, nullable=True),
        sa.Column("retired_at", Stamp, nullable=True),
        sa.CheckConstraint("role IN ('card','anchor')", name="ck_card_keys_role"),
        sa.CheckConstraint(
            "state IN ('next','active','retiring','retired')", name="ck_card_keys_state"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_card_keys"),
        sa.UniqueConstraint("kid", name="uq_card_keys_kid"),
    )
    op.create_index("ix_card_keys_state", "card_keys", ["state"])

    op.create_table(
        "cards",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("reader_id", sa.String(26), nullable=False),
        sa.Column("serial", sa.String(16), nullable=False),
        sa.Column("status_index", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.CheckConstraint(
            "state IN ('active','lost','suspended','expired','cancelled','replaced')",
            name="ck_cards_state",
        ),
        _fk("cards", "reader_id", "readers"),
        sa.PrimaryKeyConstraint("id", name="pk_cards"),
        sa.UniqueConstraint("serial", name="uq_cards_serial"),
        sa.UniqueConstraint("status_index", name="uq_cards_status_index"),
    )
    op.create_index("ix_cards_reader_id", "cards", ["reader_id"])

    head = op.create_table(
        "card_status_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("next_index", sa.BigInteger(), nullable=False),
        sa.Column("trust_version", sa.BigInteger(), nullable=False),
        sa.Column("trust_issued_at", Stamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_card_status_head"),
    )
    # Version 0 means "nothing published yet": the first publication (at the
    # service's clock, not the migration's) creates version 1.
    op.bulk_insert(head, [{"id": 1, "version": 0, "size": INITIAL_SIZE, "next_index": 0,
                           "trust_version": 0, "trust_issued_at": None}])

    op.create_table(
        "card_status_versions",
        sa.Column("version", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("issued_at", Stamp, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("revoked", Json, nullable=False),
        sa.Column("restored", Json, nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_card_status_versions"),
    )
    op.create_index("ix_card_status_versions_issued_at", "card_status_versions", ["issued_at"])

    op.create_table(
        "card_scans",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("serial", sa.String(16), nullable=False),
        sa.Column("library_id", BigId, nullable=False),
        sa.Column("scanned_at", Stamp, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("received_at", Stamp, nullable=False),
        _fk("card_scans", "library_id", "libraries"),
        sa.PrimaryKeyConstraint("id", name="pk_card_scans"),
        sa.UniqueConstraint("library_id", "serial", "scanned_at", name="uq_card_scans_event"),
    )
    op.create_index("ix_card_scans_serial_time", "card_scans", ["serial", "scanned_at"])
    op.create_index("ix_card_scans_scanned_at", "card_scans", ["scanned_at"])


def downgrade() -> None:
    for table in ("card_scans", "card_status_versions", "card_status_head", "cards",
                  "card_keys"):
        op.drop_table(table)
