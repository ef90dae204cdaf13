"""Tables of the monitoring store. All timestamps are UTC, stored without a time zone.

The schema is created and upgraded by the Alembic migrations in `tasks/migrations/`; this module is the
SQLAlchemy Core description the code reads and writes through. `docs/postgresql.md` documents the tables.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

monitor_runs = sa.Table(
    "monitor_runs", metadata,
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

column_drift = sa.Table(
    "column_drift", metadata,
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

validation_results = sa.Table(
    "validation_results", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("window_end", sa.DateTime(), nullable=False),
    sa.Column("expectation", sa.String(200), nullable=False),
    sa.Column("column_name", sa.String(200)),
    sa.Column("severity", sa.String(20), nullable=False),
    sa.Column("success", sa.Boolean(), nullable=False),
    sa.Column("observed", sa.Text()),
    sa.Column("unexpected_count", sa.Integer()),
    sa.Index("ix_validation_results_window", "model", "window_end"),
)

performance = sa.Table(
    "performance", metadata,
    sa.Column("model", sa.String(100), primary_key=True),
    sa.Column("window_end", sa.DateTime(), primary_key=True),
    sa.Column("metric", sa.String(50), primary_key=True),
    sa.Column("value", sa.Float()),
    sa.Column("reference_value", sa.Float()),
    sa.Column("drop_vs_reference", sa.Float()),
    sa.Column("labelled_rows", sa.Integer(), nullable=False),
)

model_versions = sa.Table(
    "model_versions", metadata,
    sa.Column("model", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),  # champion / challenger / retired
    sa.Column("trained_from", sa.DateTime(), nullable=False),
    sa.Column("trained_to", sa.DateTime(), nullable=False),
    sa.Column("holdout_from", sa.DateTime(), nullable=False),
    sa.Column("holdout_to", sa.DateTime(), nullable=False),
    sa.Column("metric", sa.String(50), nullable=False),
    sa.Column("holdout_score", sa.Float()),
    sa.Column("artifact_path", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),  # why it was trained: the seed, or the verdict behind it
    sa.Column("created_at", sa.DateTime(), nullable=False),
)

reference_snapshots = sa.Table(
    "reference_snapshots", metadata,
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

WINDOW_TABLES = (column_drift, validation_results, performance)

# status: accepted → running → promoted / rejected / failed; or refused (cooldown, in progress), or
# undeliverable (no retrain deployment to run it). `decision` says why, in words.
retrain_requests = sa.Table(
    "retrain_requests", metadata,
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
    sa.Index("ix_retrain_requests_model", "model", "window_end"),
)
