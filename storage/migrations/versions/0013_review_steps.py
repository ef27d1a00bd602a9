"""the policy's review steps: the match, the registration, the decision, the delivery

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 18:17:45.871344
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('meeting', sa.String(length=20), nullable=False),
    sa.Column('meeting_date', sa.Date(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_decisions_request_id_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_decisions_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions')),
    sa.UniqueConstraint('request_id', name=op.f('uq_decisions_request_id'))
    )
    op.create_table('registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('file_number', sa.String(length=40), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_registrations_request_id_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_registrations_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registrations')),
    sa.UniqueConstraint('request_id', name=op.f('uq_registrations_request_id'))
    )
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registrations_file_number'), ['file_number'], unique=False)

    op.create_table('review_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=60), nullable=False),
    sa.Column('matched', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_review_items_request_id_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_review_items_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_items'))
    )
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_items_request_id'), ['request_id'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.String(length=20), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=True),
    sa.Column('receipt_document_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['receipt_document_id'], ['documents.id'], name=op.f('fk_deliveries_receipt_document_id_documents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_deliveries_request_id_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_deliveries_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('request_id', name=op.f('uq_deliveries_request_id'))
    )
    # Columns are added in place (ALTER TABLE ADD COLUMN) and the file number's uniqueness
    # is an index: on SQLite a constraint would rebuild the table, and dropping the old copy
    # would cascade into every table that refers to it.
    op.add_column('beneficiaries', sa.Column('file_number', sa.String(length=40), nullable=True))
    op.create_index(op.f('ix_beneficiaries_file_number'), 'beneficiaries', ['file_number'],
                    unique=True)
    op.add_column('requests', sa.Column('reviewer_id', sa.Integer(), nullable=True))
    op.add_column('staff', sa.Column('awaiting', sa.String(length=120), nullable=True))


def downgrade() -> None:
    # dropped in place too (SQLite 3.35+), for the same reason as above
    op.drop_column('staff', 'awaiting')
    op.drop_column('requests', 'reviewer_id')
    op.drop_index(op.f('ix_beneficiaries_file_number'), table_name='beneficiaries')
    op.drop_column('beneficiaries', 'file_number')
    op.drop_table('deliveries')
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_items_request_id'))

    op.drop_table('review_items')
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registrations_file_number'))

    op.drop_table('registrations')
    op.drop_table('decisions')
