"""Staff tokens may belong to a member library (library staff act for their readers).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("staff_tokens") as batch:
        batch.add_column(sa.Column("library_id", BigId, nullable=True))
        batch.create_foreign_key("fk_staff_tokens_library_id_libraries", "libraries",
                                 ["library_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("staff_tokens") as batch:
        batch.drop_constraint("fk_staff_tokens_library_id_libraries", type_="foreignkey")
        batch.drop_column("library_id")
