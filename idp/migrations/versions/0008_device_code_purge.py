"""Indexes for purging finished device codes by expiry or use.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_oidc_device_codes_expires_at", "oidc_device_codes", ["expires_at"])
    op.create_index("ix_oidc_device_codes_consumed_at", "oidc_device_codes", ["consumed_at"])


def downgrade() -> None:
    op.drop_index("ix_oidc_device_codes_consumed_at", table_name="oidc_device_codes")
    op.drop_index("ix_oidc_device_codes_expires_at", table_name="oidc_device_codes")
