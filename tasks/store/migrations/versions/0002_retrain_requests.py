"""Retrain requests: one row per triggering window, accepted or refused, with its outcome.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "retrain_requests",
        sa.Column("idempotency_key", sa.String(200), primary_key=True),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("flow_run_id", sa.String(64)),
        sa.Column("challenger_version", sa.Integer()),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
    )
    op.create_index("ix_retrain_requests_model", "retrain_requests", ["model", "window_end"])


def downgrade() -> None:
    op.drop_table("retrain_requests")
