"""volunteers: a sign-up per beneficiary, its answers sealed

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 19:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.crypto
import storage.models

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('volunteers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.Column('answers', storage.crypto.SealedJson('volunteers.answers'), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('signed_up_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiaries.id'], name=op.f('fk_volunteers_beneficiary_id_beneficiaries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteers')),
    sa.UniqueConstraint('beneficiary_id', name=op.f('uq_volunteers_beneficiary_id'))
    )
    op.create_index(op.f('ix_volunteers_signed_up_at'), 'volunteers', ['signed_up_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_volunteers_signed_up_at'), table_name='volunteers')
    op.drop_table('volunteers')
