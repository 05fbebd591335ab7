"""OpenID Connect provider: signing keys, clients, sessions, consents, codes,
refresh-token families, device codes, revoked access tokens, logout deliveries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _fk(table: str, column: str, target: str, target_column: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{target_column}"], name=f"fk_{table}_{column}_{target}"
    )


def upgrade() -> None:
    op.create_table(
        "oidc_signing_keys",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("alg", sa.String(10), nullable=False),
        sa.Column("public_jwk", Json, nullable=False),
        sa.Column("private_enc", sa.Text(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("activated_at", Stamp, nullable=True),
        sa.Column("retire_after", Stamp, nullable=True),
        sa.Column("retired_at", Stamp, nullable=True),
        sa.CheckConstraint(
            "state IN ('next','active','retiring','retired')", name="ck_oidc_signing_keys_state"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_signing_keys"),
        sa.UniqueConstraint("kid", name="uq_oidc_signing_keys_kid"),
    )
    op.create_index("ix_oidc_signing_keys_state", "oidc_signing_keys", ["state"])

    op.create_table(
        "oidc_clients",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("library_id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=True),
        sa.Column("redirect_uris", Json, nullable=False),
        sa.Column("post_logout_redirect_uris", Json, nullable=False),
        sa.Column("grant_types", Json, nullable=False),
        sa.Column("scopes", Json, nullable=False),
        sa.Column("backchannel_logout_uri", sa.Text(), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("secret_rotated_at", Stamp, nullable=True),
        sa.Column("removed_at", Stamp, nullable=True),
        sa.CheckConstraint("kind IN ('confidential','public')", name="ck_oidc_clients_kind"),
        _fk("oidc_clients", "library_id", "libraries"),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_clients"),
        sa.UniqueConstraint("client_id", name="uq_oidc_clients_client_id"),
    )
    op.create_index("ix_oidc_clients_library_id", "oidc_clients", ["library_id"])

    op.create_table(
        "oidc_sessions",
        sa.Column("id", sa.String(43), nullable=False),
        sa.Column("reader_id", sa.String(26), nullable=False),
        sa.Column("auth_time", Stamp, nullable=False),
        sa.Column("amr", sa.String(16), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.Column("ended_at", Stamp, nullable=True),
        _fk("oidc_sessions", "reader_id", "readers"),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_sessions"),
    )
    op.create_index("ix_oidc_sessions_reader_id", "oidc_sessions", ["reader_id"])

    op.create_table(
        "oidc_session_clients",
        sa.Column("sid", sa.String(43), nullable=False),
        sa.Column("session_id", sa.String(43), nullable=False),
        sa.Column("client_pk", BigId, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("revoked_at", Stamp, nullable=True),
        _fk("oidc_session_clients", "session_id", "oidc_sessions"),
        _fk("oidc_session_clients", "client_pk", "oidc_clients"),
        sa.PrimaryKeyConstraint("sid", name="pk_oidc_session_clients"),
    )
    op.create_index("ix_oidc_session_clients_session_id", "oidc_session_clients", ["session_id"])
    op.create_index("ix_oidc_session_clients_client_pk", "oidc_session_clients", ["client_pk"])

    op.create_table(
        "oidc_consents",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("reader_id", sa.String(26), nullable=False),
        sa.Column("client_pk", BigId, nullable=False),
        sa.Column("scopes", Json, nullable=False),
        sa.Column("granted_at", Stamp, nullable=False),
        sa.Column("revoked_at", Stamp, nullable=True),
        _fk("oidc_consents", "reader_id", "readers"),
        _fk("oidc_consents", "client_pk", "oidc_clients"),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_consents"),
    )
    op.create_index("ix_oidc_consents_client_pk", "oidc_consents", ["client_pk"])
    op.create_index("ix_oidc_consents_reader_client", "oidc_consents", ["reader_id", "client_pk"])

    op.create_table(
        "oidc_codes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_pk", BigId, nullable=False),
        sa.Column("session_id", sa.String(43), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("nonce", sa.String(255), nullable=True),
        sa.Column("code_challenge", sa.String(128), nullable=True),
        sa.Column("code_challenge_method", sa.String(8), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.Column("used_at", Stamp, nullable=True),
        sa.Column("family_id", sa.String(43), nullable=True),
        _fk("oidc_codes", "client_pk", "oidc_clients"),
        _fk("oidc_codes", "session_id", "oidc_sessions"),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_codes"),
        sa.UniqueConstraint("code_hash", name="uq_oidc_codes_code_hash"),
    )
    op.create_index("ix_oidc_codes_client_pk", "oidc_codes", ["client_pk"])
    op.create_index("ix_oidc_codes_session_id", "oidc_codes", ["session_id"])

    op.create_table(
        "oidc_refresh_tokens",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("family_id", sa.String(43), nullable=False),
        sa.Column("client_pk", BigId, nullable=False),
        sa.Column("sid", sa.String(43), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.Column("used_at", Stamp, nullable=True),
        sa.Column("revoked_at", Stamp, nullable=True),
        _fk("oidc_refresh_tokens", "client_pk", "oidc_clients"),
        _fk("oidc_refresh_tokens", "sid", "oidc_session_clients", "sid"),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_refresh_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_oidc_refresh_tokens_token_hash"),
    )
    op.create_index("ix_oidc_refresh_tokens_family_id", "oidc_refresh_tokens", ["family_id"])
    op.create_index("ix_oidc_refresh_tokens_client_pk", "oidc_refresh_tokens", ["client_pk"])
    op.create_index("ix_oidc_refresh_tokens_sid", "oidc_refresh_tokens", ["sid"])

    op.create_table(
        "oidc_revoked_access_tokens",
        sa.Column("jti", sa.String(43), nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.Column("revoked_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("jti", name="pk_oidc_revoked_access_tokens"),
    )
    op.create_index(
        "ix_oidc_revoked_access_tokens_expires_at", "oidc_revoked_access_tokens", ["expires_at"]
    )

    op.create_table(
        "oidc_device_codes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("device_code_hash", sa.String(64), nullable=False),
        sa.Column("user_code", sa.String(16), nullable=False),
        sa.Column("client_pk", BigId, nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.Column("last_poll_at", Stamp, nullable=True),
        sa.Column("session_id", sa.String(43), nullable=True),
        sa.Column("decision", sa.String(10), nullable=True),
        sa.Column("consumed_at", Stamp, nullable=True),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('approved','denied')",
            name="ck_oidc_device_codes_decision",
        ),
        _fk("oidc_device_codes", "client_pk", "oidc_clients"),
        _fk("oidc_device_codes", "session_id", "oidc_sessions"),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_device_codes"),
        sa.UniqueConstraint("device_code_hash", name="uq_oidc_device_codes_device_code_hash"),
        sa.UniqueConstraint("user_code", name="uq_oidc_device_codes_user_code"),
    )
    op.create_index("ix_oidc_device_codes_client_pk", "oidc_device_codes", ["client_pk"])

    op.create_table(
        "oidc_logout_deliveries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("client_pk", BigId, nullable=False),
        sa.Column("sid", sa.String(43), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Stamp, nullable=False),
        sa.Column("delivered_at", Stamp, nullable=True),
        sa.Column("gave_up_at", Stamp, nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        _fk("oidc_logout_deliveries", "client_pk", "oidc_clients"),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_logout_deliveries"),
    )
    op.create_index(
        "ix_oidc_logout_deliveries_client_pk", "oidc_logout_deliveries", ["client_pk"]
    )
    op.create_index(
        "ix_oidc_logout_deliveries_due",
        "oidc_logout_deliveries",
        ["delivered_at", "next_attempt_at"],
    )


def downgrade() -> None:
    for table in (
        "oidc_logout_deliveries",
        "oidc_device_codes",
        "oidc_revoked_access_tokens",
        "oidc_refresh_tokens",
        "oidc_codes",
        "oidc_consents",
        "oidc_session_clients",
        "oidc_sessions",
        "oidc_clients",
        "oidc_signing_keys",
    ):
        op.drop_table(table)
