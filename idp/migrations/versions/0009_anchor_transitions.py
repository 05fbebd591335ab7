"""Card trust anchors rotate: each later anchor keeps the transition its predecessor
signed (cards/FORMAT.md §11).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("card_keys") as batch:
        batch.add_column(sa.Column("transition_jws", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("card_keys") as batch:
        batch.drop_column("transition_jws")
