"""History that does not rewrite itself, calibrated verdicts, onboarded models, guarded retrain requests.

- monitor_runs: severity, quarantined rows, fingerprints of the window's data and labels, the model versions
  that made its predictions, the measurements its verdict was decided from, and a revision count (an audited
  recomputation bumps it);
- column_drift: tail probability against the reference chunks, where the threshold came from, severity;
- validation_results: the expectation's position in its suite (unique per window), its action and bounds;
- performance: confidence interval, the allowance in metric units and where it came from, a label-free estimate;
- model_versions: how the version came to be (trained, logged, file, mlflow, deployment), when it served;
  models without an artifact (logged predictions) or without a known training window (registered) are allowed;
- reference_snapshots: its kind, the window time from which it is the reference, its profile and calibration;
- retrain_requests: delivery attempts (an outbox), the cooldown override, timestamps of each transition;
  `accepted` becomes `requested` (not yet sent) or `delivered` (a run exists);
- verdict_audit: every change of a recorded verdict, with its cause;
- model_events: registrations, promotions, rejections and rollbacks in window time.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("monitor_runs") as batch:
        batch.add_column(sa.Column("severe", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("quarantined_rows", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("data_fingerprint", sa.String(64)))
        batch.add_column(sa.Column("labels_fingerprint", sa.String(64)))
        batch.add_column(sa.Column("model_versions", sa.JSON()))
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("first_recorded_at", sa.DateTime()))
        batch.add_column(sa.Column("measurements", sa.JSON()))
    with op.batch_alter_table("column_drift") as batch:
        batch.add_column(sa.Column("p_value", sa.Float()))
        batch.add_column(sa.Column("threshold_source", sa.Text()))
        batch.add_column(sa.Column("severity", sa.String(10)))
    with op.batch_alter_table("validation_results") as batch:
        batch.add_column(sa.Column("position", sa.Integer()))
        batch.add_column(sa.Column("action", sa.String(12)))
        batch.add_column(sa.Column("expected", sa.Text()))
        batch.create_unique_constraint("uq_validation_results_position", ["model", "window_end", "position"])
    with op.batch_alter_table("performance") as batch:
        batch.add_column(sa.Column("ci_low", sa.Float()))
        batch.add_column(sa.Column("ci_high", sa.Float()))
        batch.add_column(sa.Column("allowance", sa.Float()))
        batch.add_column(sa.Column("allowance_source", sa.Text()))
        batch.add_column(sa.Column("breach", sa.Boolean()))
        batch.add_column(sa.Column("estimated_value", sa.Float()))
        batch.add_column(sa.Column("estimated_method", sa.String(20)))
    with op.batch_alter_table("model_versions") as batch:
        batch.alter_column("artifact_path", existing_type=sa.Text(), nullable=True)
        batch.alter_column("trained_from", existing_type=sa.DateTime(), nullable=True)
        batch.alter_column("trained_to", existing_type=sa.DateTime(), nullable=True)
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="trained"))
        batch.add_column(sa.Column("source_uri", sa.Text()))
        batch.add_column(sa.Column("trainer", sa.Text()))
        batch.add_column(sa.Column("request_key", sa.String(200)))
        batch.add_column(sa.Column("served_from", sa.DateTime()))
        batch.add_column(sa.Column("served_to", sa.DateTime()))
    with op.batch_alter_table("reference_snapshots") as batch:
        batch.add_column(sa.Column("kind", sa.String(30), nullable=False,
                                   server_default="champion_training_window"))
        batch.add_column(sa.Column("active_from", sa.DateTime()))
        batch.add_column(sa.Column("profile_path", sa.Text()))
        batch.add_column(sa.Column("calibration", sa.JSON()))
    with op.batch_alter_table("retrain_requests") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime()))
        batch.add_column(sa.Column("last_error", sa.Text()))
        batch.add_column(sa.Column("override", sa.Text()))
        batch.add_column(sa.Column("severe", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("delivered_at", sa.DateTime()))
        batch.add_column(sa.Column("started_at", sa.DateTime()))
    requests = sa.table("retrain_requests", sa.column("status", sa.String), sa.column("flow_run_id", sa.String))
    op.execute(requests.update().where(requests.c.status == "accepted", requests.c.flow_run_id.is_(None))
               .values(status="requested"))
    op.execute(requests.update().where(requests.c.status == "accepted").values(status="delivered"))
    op.create_table(
        "verdict_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("cause", sa.String(30), nullable=False),
        sa.Column("old_status", sa.String(20)),
        sa.Column("new_status", sa.String(20), nullable=False),
        sa.Column("old_reasons", sa.JSON()),
        sa.Column("new_reasons", sa.JSON(), nullable=False),
        sa.Column("old_reference_version", sa.String(100)),
        sa.Column("new_reference_version", sa.String(100)),
        sa.Column("changes", sa.JSON(), nullable=False),
    )
    op.create_index("ix_verdict_audit_window", "verdict_audit", ["model", "window_end"])
    op.create_table(
        "model_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer()),
        sa.Column("previous_version", sa.Integer()),
        sa.Column("window_end", sa.DateTime()),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_model_events_model", "model_events", ["model", "window_end"])


def downgrade() -> None:
    op.drop_table("model_events")
    op.drop_table("verdict_audit")
    with op.batch_alter_table("retrain_requests") as batch:
        for name in ("attempts", "next_attempt_at", "last_error", "override", "severe", "delivered_at",
                     "started_at"):
            batch.drop_column(name)
    with op.batch_alter_table("reference_snapshots") as batch:
        for name in ("kind", "active_from", "profile_path", "calibration"):
            batch.drop_column(name)
    with op.batch_alter_table("model_versions") as batch:
        for name in ("kind", "source_uri", "trainer", "request_key", "served_from", "served_to"):
            batch.drop_column(name)
    with op.batch_alter_table("performance") as batch:
        for name in ("ci_low", "ci_high", "allowance", "allowance_source", "breach", "estimated_value",
                     "estimated_method"):
            batch.drop_column(name)
    with op.batch_alter_table("validation_results") as batch:
        batch.drop_constraint("uq_validation_results_position", type_="unique")
        for name in ("position", "action", "expected"):
            batch.drop_column(name)
    with op.batch_alter_table("column_drift") as batch:
        for name in ("p_value", "threshold_source", "severity"):
            batch.drop_column(name)
    with op.batch_alter_table("monitor_runs") as batch:
        for name in ("severe", "quarantined_rows", "data_fingerprint", "labels_fingerprint", "model_versions",
                     "revision", "first_recorded_at", "measurements"):
            batch.drop_column(name)
