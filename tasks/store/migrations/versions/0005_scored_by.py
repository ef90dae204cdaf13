"""Which model version scored a replayed window: `monitor_runs.scored_by`.

A replay (`backfill --actions`) scores each window with the champion of its time instead of reading the logged
predictions; the record keeps that version so a rerun of the window scores with it again. NULL: the window's
predictions were read from the log.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("monitor_runs") as batch:
        batch.add_column(sa.Column("scored_by", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("monitor_runs") as batch:
        batch.drop_column("scored_by")
