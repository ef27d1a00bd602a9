"""the one reminder of an unfinished request: when it is due, per conversation

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 15:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('conversations', sa.Column('remind_at', storage.models.UTCDateTime(timezone=True),
                                             nullable=True))
    op.create_index(op.f('ix_conversations_remind_at'), 'conversations', ['remind_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_conversations_remind_at'), table_name='conversations')
    op.drop_column('conversations', 'remind_at')
