"""the choice ids of an outbox message, kept after it is sent

A sent message's payload is emptied (it may hold personal data), but a typed number must
still press the button it stands for: the ids of the choices (never personal) stay.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('choice_ids', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('choice_ids')
