"""Initial schema: libraries, readers, identity documents, verification codes,
staff tokens and the append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

APPEND_ONLY_MESSAGE = "audit_events is append-only"


def _append_only_triggers() -> None:
    """Make the audit log append-only in the database itself, not only in code."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_target", "audit_events", ["target_type", "target_id", "id"])
    _append_only_triggers()

    op.create_table(
        "libraries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.CheckConstraint(
            "kind IN ('public','academic','school','special')", name="ck_libraries_kind"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_libraries"),
        sa.UniqueConstraint("code", name="uq_libraries_code"),
    )

    op.create_table(
        "staff_tokens",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("revoked_at", Stamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_tokens"),
        sa.UniqueConstraint("name", name="uq_staff_tokens_name"),
        sa.UniqueConstraint("token_hash", name="uq_staff_tokens_token_hash"),
    )

    op.create_table(
        "readers",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("card_number", sa.String(16), nullable=False),
        sa.Column("family_name", sa.String(64), nullable=False),
        sa.Column("given_name", sa.String(64), nullable=False),
        sa.Column("search_name", sa.String(130), nullable=False),
        sa.Column("sex", sa.String(1), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("mobile_enc", sa.Text(), nullable=True),
        sa.Column("mobile_hash", sa.String(64), nullable=True),
        sa.Column("mobile_verified_at", Stamp, nullable=True),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("assurance", sa.String(20), nullable=False),
        sa.Column("guardian_id", sa.String(26), nullable=True),
        sa.Column("home_library_id", BigId, nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "assurance IN ('self_asserted','phone_verified','document_verified')",
            name="ck_readers_assurance",
        ),
        sa.CheckConstraint(
            "category IN ('adult','teen','child','family','temporary','e_resource_only')",
            name="ck_readers_category",
        ),
        sa.CheckConstraint("sex IS NULL OR sex IN ('F','M')", name="ck_readers_sex"),
        sa.CheckConstraint(
            "status IN ('active','lost_reported','suspended','expired','cancelled','merged')",
            name="ck_readers_status",
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"], ["readers.id"], name="fk_readers_guardian_id_readers"
        ),
        sa.ForeignKeyConstraint(
            ["home_library_id"], ["libraries.id"], name="fk_readers_home_library_id_libraries"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_readers"),
        sa.UniqueConstraint("card_number", name="uq_readers_card_number"),
    )
    op.create_index("ix_readers_created_at", "readers", ["created_at"])
    op.create_index("ix_readers_guardian_id", "readers", ["guardian_id"])
    op.create_index("ix_readers_home_library_id", "readers", ["home_library_id"])
    op.create_index("ix_readers_mobile_hash", "readers", ["mobile_hash"])
    op.create_index(
        "ix_readers_search_name",
        "readers",
        ["search_name"],
        postgresql_ops={"search_name": "varchar_pattern_ops"},
    )

    op.create_table(
        "identity_documents",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("reader_id", sa.String(26), nullable=False),
        sa.Column("doc_type", sa.String(24), nullable=False),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("number_enc", sa.Text(), nullable=False),
        sa.Column("match_hash", sa.String(64), nullable=False),
        sa.Column("converted_from_15", sa.Boolean(), nullable=False),
        sa.Column("verified_at", Stamp, nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["reader_id"], ["readers.id"], name="fk_identity_documents_reader_id_readers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_identity_documents"),
        sa.UniqueConstraint("match_hash", name="uq_identity_documents_match_hash"),
    )
    op.create_index("ix_identity_documents_reader_id", "identity_documents", ["reader_id"])

    op.create_table(
        "mobile_verifications",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("reader_id", sa.String(26), nullable=False),
        sa.Column("mobile_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.Column("consumed_at", Stamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["reader_id"], ["readers.id"], name="fk_mobile_verifications_reader_id_readers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_mobile_verifications"),
    )
    op.create_index("ix_mobile_verifications_reader_id", "mobile_verifications", ["reader_id"])


def downgrade() -> None:
    op.drop_table("mobile_verifications")
    op.drop_table("identity_documents")
    op.drop_table("readers")
    op.drop_table("staff_tokens")
    op.drop_table("libraries")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.drop_table("audit_events")
