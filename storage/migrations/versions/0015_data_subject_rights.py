"""the data subject's rights: a tombstone for destroyed data, requests on the PDPL clock

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 10:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.crypto
import storage.models

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('beneficiaries', sa.Column('destroyed_at', storage.models.UTCDateTime(timezone=True),
                                             nullable=True))
    op.create_table('privacy_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('detail', storage.crypto.SealedText('privacy_requests.detail'), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('extended_on', sa.Date(), nullable=True),
    sa.Column('closed_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiaries.id'], name=op.f('fk_privacy_requests_beneficiary_id_beneficiaries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_requests'))
    )
    op.create_index(op.f('ix_privacy_requests_beneficiary_id'), 'privacy_requests', ['beneficiary_id'], unique=False)
    op.create_index(op.f('ix_privacy_requests_status'), 'privacy_requests', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_privacy_requests_status'), table_name='privacy_requests')
    op.drop_index(op.f('ix_privacy_requests_beneficiary_id'), table_name='privacy_requests')
    op.drop_table('privacy_requests')
    op.drop_column('beneficiaries', 'destroyed_at')
