"""personal data sealed at rest: a blind index for national IDs, room for a sealed signature

The values themselves are sealed by the bot (storage/sealing.py) after this runs: rows
written before are sealed in the background on the next start, or at once by
`wasl keys rotate`.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 10:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('requests', sa.Column('id_index', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_requests_id_index'), 'requests', ['id_index'], unique=False)
    # a sealed signature is longer than the 200 characters of the typed name (nothing
    # refers to acknowledgments, so SQLite's copy of the table cascades to nothing)
    with op.batch_alter_table('acknowledgments') as batch:
        batch.alter_column('signature', existing_type=sa.String(length=200), type_=sa.Text(),
                           existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('acknowledgments') as batch:
        batch.alter_column('signature', existing_type=sa.Text(), type_=sa.String(length=200),
                           existing_nullable=True)
    op.drop_index(op.f('ix_requests_id_index'), table_name='requests')
    op.drop_column('requests', 'id_index')
