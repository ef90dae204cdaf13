"""Initial monitoring store: monitored windows, per-column drift, validation, performance, models.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "monitor_runs",
        sa.Column("model", sa.String(100), primary_key=True),
        sa.Column("window_end", sa.DateTime(), primary_key=True),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("labelled_start", sa.DateTime(), nullable=False),
        sa.Column("labelled_end", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("breach", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("drifted_columns", sa.JSON(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("labelled_rows", sa.Integer(), nullable=False),
        sa.Column("drift_share", sa.Float()),
        sa.Column("reference_version", sa.String(100)),
        sa.Column("champion_version", sa.Integer()),
        sa.Column("report_path", sa.Text()),
        sa.Column("flow_run_id", sa.String(64)),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "column_drift",
        sa.Column("model", sa.String(100), primary_key=True),
        sa.Column("window_end", sa.DateTime(), primary_key=True),
        sa.Column("column_name", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("method", sa.String(50), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("score", sa.Float()),
        sa.Column("drifted", sa.Boolean(), nullable=False),
        sa.Column("issue", sa.Text()),
    )
    op.create_table(
        "validation_results",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=False),
        sa.Column("expectation", sa.String(200), nullable=False),
        sa.Column("column_name", sa.String(200)),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("observed", sa.Text()),
        sa.Column("unexpected_count", sa.Integer()),
    )
    op.create_index("ix_validation_results_window", "validation_results", ["model", "window_end"])
    op.create_table(
        "performance",
        sa.Column("model", sa.String(100), primary_key=True),
        sa.Column("window_end", sa.DateTime(), primary_key=True),
        sa.Column("metric", sa.String(50), primary_key=True),
        sa.Column("value", sa.Float()),
        sa.Column("reference_value", sa.Float()),
        sa.Column("drop_vs_reference", sa.Float()),
        sa.Column("labelled_rows", sa.Integer(), nullable=False),
    )
    op.create_table(
        "model_versions",
        sa.Column("model", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("trained_from", sa.DateTime(), nullable=False),
        sa.Column("trained_to", sa.DateTime(), nullable=False),
        sa.Column("holdout_from", sa.DateTime(), nullable=False),
        sa.Column("holdout_to", sa.DateTime(), nullable=False),
        sa.Column("metric", sa.String(50), nullable=False),
        sa.Column("holdout_score", sa.Float()),
        sa.Column("artifact_path", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "reference_snapshots",
        sa.Column("model", sa.String(100), primary_key=True),
        sa.Column("version", sa.String(100), primary_key=True),
        sa.Column("model_version", sa.Integer()),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("performance", sa.Float()),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("reference_snapshots", "model_versions", "performance", "validation_results",
                  "column_drift", "monitor_runs"):
        op.drop_table(table)
