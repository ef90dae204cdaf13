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
    sa.Column("severe", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("quarantined_rows", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("data_fingerprint", sa.String(64)),  # what the window's rows were when measured
    sa.Column("labels_fingerprint", sa.String(64)),  # what the matured window's labels were
    sa.Column("model_versions", sa.JSON()),  # the versions that made the window's predictions, with row counts
    sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),  # bumped by an audited change
    sa.Column("first_recorded_at", sa.DateTime()),
    sa.Column("measurements", sa.JSON()),  # what the verdict was decided from: re-deciding needs no re-measuring
    sa.Column("scored_by", sa.Integer()),  # the version that scored a replayed window; NULL: the log's predictions
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
    sa.Column("p_value", sa.Float()),  # tail probability of the score among the reference's chunk scores
    sa.Column("threshold_source", sa.Text()),  # "p99 of 24 reference chunks", "fixed"
    sa.Column("severity", sa.String(10)),  # warn | breach
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
    sa.Column("position", sa.Integer()),  # the expectation's index in its suite
    sa.Column("action", sa.String(12)),  # block | quarantine | warn
    sa.Column("expected", sa.Text()),  # the bounds or set the expectation held the window to
    sa.Index("ix_validation_results_window", "model", "window_end"),
    sa.UniqueConstraint("model", "window_end", "position", name="uq_validation_results_position"),
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
    sa.Column("ci_low", sa.Float()),
    sa.Column("ci_high", sa.Float()),
    sa.Column("allowance", sa.Float()),  # the allowed drop in metric units
    sa.Column("allowance_source", sa.Text()),  # "2sd: twice the spread of 24 reference chunks"
    sa.Column("breach", sa.Boolean()),
    sa.Column("estimated_value", sa.Float()),  # label-free estimate (CBPE) on the current window
    sa.Column("estimated_method", sa.String(20)),
)

model_versions = sa.Table(
    "model_versions", metadata,
    sa.Column("model", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),  # champion / rejected / retired / rolled_back
    sa.Column("trained_from", sa.DateTime()),  # None: a registered model whose training window is unknown
    sa.Column("trained_to", sa.DateTime()),
    sa.Column("holdout_from", sa.DateTime(), nullable=False),
    sa.Column("holdout_to", sa.DateTime(), nullable=False),
    sa.Column("metric", sa.String(50), nullable=False),
    sa.Column("holdout_score", sa.Float()),
    sa.Column("artifact_path", sa.Text()),  # None for a monitor-only model known by its logged predictions
    sa.Column("reason", sa.Text(), nullable=False),  # why it exists: its registration, or the verdict behind it
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False, server_default="trained"),  # trained/logged/file/mlflow/deployment
    sa.Column("source_uri", sa.Text()),  # the file or registry URI it was registered from
    sa.Column("trainer", sa.Text()),  # the entry point or deployment that made it
    sa.Column("request_key", sa.String(200)),  # the retrain request that made it
    sa.Column("served_from", sa.DateTime()),  # window time from which it was champion
    sa.Column("served_to", sa.DateTime()),
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
    sa.Column("kind", sa.String(30), nullable=False, server_default="champion_training_window"),
    sa.Column("active_from", sa.DateTime()),  # window time from which it is the reference (None: never was)
    sa.Column("profile_path", sa.Text()),  # what every pinned drift method needs, computed once
    sa.Column("calibration", sa.JSON()),  # each statistic's normal band from the reference's chunks
)

WINDOW_TABLES = (column_drift, validation_results, performance)

# status: requested → delivered → running → promoted / rejected / failed, or refused (cooldown, in progress),
# each transition only from its predecessor (tasks/retrain/requests.py). `decision` says why, in words.
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
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),  # delivery attempts
    sa.Column("next_attempt_at", sa.DateTime()),  # an undelivered request is retried from then (outbox)
    sa.Column("last_error", sa.Text()),
    sa.Column("override", sa.Text()),  # why a cooldown was overridden
    sa.Column("severe", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("delivered_at", sa.DateTime()),
    sa.Column("started_at", sa.DateTime()),
    sa.Index("ix_retrain_requests_model", "model", "window_end"),
)

# Every change of a recorded verdict (a rerun on changed data, late labels, a filled hole), never silent.
verdict_audit = sa.Table(
    "verdict_audit", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("window_end", sa.DateTime(), nullable=False),
    sa.Column("changed_at", sa.DateTime(), nullable=False),
    sa.Column("cause", sa.String(30), nullable=False),  # rerun | relabel | refill
    sa.Column("old_status", sa.String(20)),
    sa.Column("new_status", sa.String(20), nullable=False),
    sa.Column("old_reasons", sa.JSON()),
    sa.Column("new_reasons", sa.JSON(), nullable=False),
    sa.Column("old_reference_version", sa.String(100)),
    sa.Column("new_reference_version", sa.String(100)),
    sa.Column("changes", sa.JSON(), nullable=False),  # what changed: {"labelled_rows": [old, new], ...}
    sa.Index("ix_verdict_audit_window", "model", "window_end"),
)

# Registrations, promotions, rejections and rollbacks, in window time: the model's life for the audit.
model_events = sa.Table(
    "model_events", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("event", sa.String(20), nullable=False),  # registered | promoted | rejected | rolled_back | kept
    sa.Column("version", sa.Integer()),
    sa.Column("previous_version", sa.Integer()),
    sa.Column("window_end", sa.DateTime()),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Index("ix_model_events_model", "model", "window_end"),
)

# Every activation of a reference in window time, never overwritten: which reference a past window was measured
# against (a rollback activates an older reference again without erasing when the newer one served).
reference_activations = sa.Table(
    "reference_activations", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("version", sa.String(100), nullable=False),  # reference_snapshots.version
    sa.Column("active_from", sa.DateTime(), nullable=False),
    sa.Column("activated_at", sa.DateTime(), nullable=False),
    sa.Index("ix_reference_activations_model", "model", "active_from"),
)
