"""Every activation of a reference kept, in window time: a rollback no longer overwrites when a reference served.

Filled from `reference_snapshots.active_from`, the one activation each snapshot kept until now.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "reference_activations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("active_from", sa.DateTime(), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_reference_activations_model", "reference_activations", ["model", "active_from"])
    op.execute("INSERT INTO reference_activations (model, version, active_from, activated_at) "
               "SELECT model, version, active_from, created_at FROM reference_snapshots "
               "WHERE active_from IS NOT NULL ORDER BY active_from, created_at")


def downgrade() -> None:
    op.drop_index("ix_reference_activations_model", table_name="reference_activations")
    op.drop_table("reference_activations")
