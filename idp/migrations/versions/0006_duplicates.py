"""Duplicate readers: tombstones, blocking keys, candidate pairs and merges.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-19
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
READER = sa.String(26)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    with op.batch_alter_table("readers") as batch:
        batch.add_column(sa.Column("merged_into", READER, nullable=True))
        batch.create_foreign_key("fk_readers_merged_into_readers", "readers",
                                 ["merged_into"], ["id"])
        batch.create_index("ix_readers_merged_into", ["merged_into"])
    op.create_table(
        "reader_match_keys",
        sa.Column("reader_id", READER, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("reader_id", "kind", "digest", name="pk_reader_match_keys"),
        _fk("reader_match_keys", "reader_id", "readers"),
        sa.CheckConstraint("kind IN ('doc','doc_claim','mobile','py_birth','sn_birth')",
                           name="ck_reader_match_keys_kind"),
    )
    op.create_index("ix_reader_match_keys_digest", "reader_match_keys", ["digest"])
    op.create_table(
        "duplicate_pairs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("reader_a", READER, nullable=False),
        sa.Column("reader_b", READER, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("auto_merge", sa.Boolean(), nullable=False),
        sa.Column("explanation", Json, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("proposed_by", sa.String(80), nullable=True),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.Column("decided_at", Stamp, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_duplicate_pairs"),
        _fk("duplicate_pairs", "reader_a", "readers"),
        _fk("duplicate_pairs", "reader_b", "readers"),
        sa.UniqueConstraint("reader_a", "reader_b", name="uq_duplicate_pairs_reader_a"),
        sa.CheckConstraint("state IN ('open','dismissed','merged','unmerged')",
                           name="ck_duplicate_pairs_state"),
        sa.CheckConstraint("reader_a < reader_b", name="ck_duplicate_pairs_ordered"),
    )
    op.create_index("ix_duplicate_pairs_state_score", "duplicate_pairs", ["state", "score"])
    op.create_index("ix_duplicate_pairs_reader_b", "duplicate_pairs", ["reader_b"])
    op.create_table(
        "duplicate_scans",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("parameters", Json, nullable=False),
        sa.Column("counts", Json, nullable=False),
        sa.Column("started_at", Stamp, nullable=False),
        sa.Column("finished_at", Stamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_duplicate_scans"),
    )
    op.create_table(
        "reader_merges",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("survivor_id", READER, nullable=False),
        sa.Column("other_id", READER, nullable=False),
        sa.Column("pair_id", BigId, nullable=True),
        sa.Column("plan", Json, nullable=False),
        sa.Column("snapshot", Json, nullable=False),
        sa.Column("evidence", Json, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("applied_by", sa.String(80), nullable=False),
        sa.Column("applied_at", Stamp, nullable=False),
        sa.Column("undone_by", sa.String(80), nullable=True),
        sa.Column("undone_at", Stamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reader_merges"),
        _fk("reader_merges", "survivor_id", "readers"),
        _fk("reader_merges", "other_id", "readers"),
        _fk("reader_merges", "pair_id", "duplicate_pairs"),
        sa.CheckConstraint("state IN ('applied','undone')", name="ck_reader_merges_state"),
    )
    op.create_index("ix_reader_merges_survivor", "reader_merges", ["survivor_id"])
    op.create_index("ix_reader_merges_other", "reader_merges", ["other_id"])


def downgrade() -> None:
    op.drop_table("reader_merges")
    op.drop_table("duplicate_scans")
    op.drop_table("duplicate_pairs")
    op.drop_table("reader_match_keys")
    with op.batch_alter_table("readers") as batch:
        batch.drop_index("ix_readers_merged_into")
        batch.drop_constraint("fk_readers_merged_into_readers", type_="foreignkey")
        batch.drop_column("merged_into")
