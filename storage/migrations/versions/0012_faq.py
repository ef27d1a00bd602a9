"""answers before a human: counts for the board, and answers staff taught

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 14:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'faq_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('topic', sa.String(length=80), nullable=True),
        sa.Column('outcome', sa.String(length=12), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index(op.f('ix_faq_answers_at'), 'faq_answers', ['at'])
    op.create_table(
        'faq_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('questions', sa.JSON(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('removed_at', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'))


def downgrade() -> None:
    op.drop_table('faq_entries')
    op.drop_index(op.f('ix_faq_answers_at'), table_name='faq_answers')
    op.drop_table('faq_answers')
