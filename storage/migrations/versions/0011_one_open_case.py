"""one open case per beneficiary

The desk keeps one conversation per beneficiary at a time: a new question goes into
their open case. That was checked before each insert or reopen, which two transactions
on PostgreSQL can both pass (a researcher reopening an old case while the beneficiary
asks for a new one); a partial unique index makes it hold.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 06:00:00
"""
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status != 'closed'")


def upgrade() -> None:
    _close_older_duplicates()
    op.create_index('uq_cases_one_open', 'cases', ['beneficiary_id'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)


def _close_older_duplicates() -> None:
    """A database from before this revision may hold two open cases of one beneficiary
    (the race above): the newest stays open, the older ones are closed now (readable, and
    their conversation kept); their numbers are printed for the team to look at."""
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('beneficiary_id', sa.Integer),
                     sa.column('status', sa.String), sa.column('closed_at', sa.DateTime(timezone=True)))
    bind = op.get_bind()
    newest: dict[int, int] = {}
    older: list[int] = []
    for case_id, beneficiary_id in bind.execute(
            sa.select(cases.c.id, cases.c.beneficiary_id).where(cases.c.status != 'closed')
            .order_by(cases.c.id.desc())):
        if beneficiary_id in newest:
            older.append(case_id)
        else:
            newest[beneficiary_id] = case_id
    if older:
        bind.execute(sa.update(cases).where(cases.c.id.in_(older))
                     .values(status='closed', closed_at=datetime.now(UTC)))
        logging.getLogger(__name__).warning(
            "closed cases %s: each one's beneficiary has a newer open case", sorted(older))


def downgrade() -> None:
    op.drop_index('uq_cases_one_open', table_name='cases')
