"""The Grafana dashboard's SQL runs on a real PostgreSQL store holding recorded windows and answers right."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tasks.settings import PROJECT_DIR
from tasks.store.engine import upgrade_store
from tasks.store.schema import column_drift, model_events, model_versions, monitor_runs, performance, retrain_requests
from tests.integration.conftest import CreateDatabase

pytestmark = pytest.mark.postgres

DASHBOARD = PROJECT_DIR / "deployments" / "grafana" / "driftflow.json"
FIRST = datetime(2013, 2, 4, 6)
VERDICTS = ["ok", "ok", "warn", "drift", "data_invalid", "ok", "insufficient_data", "warn"]


def grafana(sql: str, model: str = "flights-delay") -> str:
    """The SQL as Grafana sends it: the time-range macro expanded for 2013, the model variable substituted."""
    sql = re.sub(r"\$__timeFilter\(([\w.]+)\)", r"\1 BETWEEN '2013-01-01T00:00:00Z' AND '2014-01-01T00:00:00Z'", sql)
    assert "$__" not in sql, f"a Grafana macro the test does not expand: {sql}"
    return sql.replace("$model", model)


def queries() -> dict[str, str]:
    board = json.loads(DASHBOARD.read_text())
    found = {p["title"]: t["rawSql"] for p in board["panels"] for t in p["targets"]}
    found["variable: model"] = board["templating"]["list"][0]["query"]
    found["annotation: promotions"] = board["annotations"]["list"][0]["rawQuery"]
    return found


def record(store: sa.Engine) -> None:
    """Eight weekly windows of flights-delay (every verdict), two of another model, a retrain and a promotion."""
    rows, drift, perf = [], [], []
    for i, status in enumerate(VERDICTS):
        end = FIRST + timedelta(weeks=i)
        rows.append({"model": "flights-delay", "window_end": end, "window_start": end - timedelta(weeks=1),
                     "labelled_start": end - timedelta(weeks=1, days=2), "labelled_end": end - timedelta(days=2),
                     "status": status, "breach": status == "drift", "reasons": [f"{status} reason"],
                     "drifted_columns": ["temp"] if status in ("warn", "drift") else [], "row_count": 1500,
                     "labelled_rows": 1400, "recorded_at": end + timedelta(minutes=3)})
        for column, score in (("temp", 0.5 + 0.4 * (status in ("warn", "drift"))), ("distance", 0.05)):
            drift.append({"model": "flights-delay", "window_end": end, "column_name": column, "kind": "numeric",
                          "method": "wasserstein", "threshold": 0.8, "score": score,
                          "drifted": score > 0.8})
        perf.append({"model": "flights-delay", "window_end": end, "metric": "roc_auc", "value": 0.7 - 0.01 * i,
                     "reference_value": 0.72, "drop_vs_reference": 0.02 + 0.01 * i, "labelled_rows": 1400,
                     "allowance": 0.05, "ci_low": 0.66 - 0.01 * i, "ci_high": 0.74 - 0.01 * i})
    for i in range(2):
        end = FIRST + timedelta(weeks=i)
        rows.append({**rows[i], "model": "other-model", "window_end": end, "status": "drift"})
    drift_end = FIRST + timedelta(weeks=3)
    with store.begin() as conn:
        conn.execute(sa.insert(monitor_runs), rows)
        conn.execute(sa.insert(column_drift), drift)
        conn.execute(sa.insert(performance), perf)
        conn.execute(sa.insert(retrain_requests).values(
            idempotency_key="flights-delay/2013-02-25T06:00", model="flights-delay", window_end=drift_end,
            status="promoted", reason="drift reason", decision="promoted: gain +0.03", challenger_version=2,
            requested_at=datetime(2026, 11, 1), attempts=1))
        for version, status in ((1, "retired"), (2, "champion")):
            conn.execute(sa.insert(model_versions).values(
                model="flights-delay", version=version, status=status, trained_from=FIRST, trained_to=FIRST,
                holdout_from=FIRST, holdout_to=FIRST, metric="roc_auc", holdout_score=0.7 + 0.03 * version,
                reason="test", created_at=datetime(2026, 11, 1)))
        conn.execute(sa.insert(model_events).values(
            model="flights-delay", event="promoted", version=2, previous_version=1, window_end=drift_end,
            at=datetime(2026, 11, 1), reason="promoted: gain +0.03"))


@pytest.fixture(scope="module")
def answers(create_database: CreateDatabase) -> dict[str, list[dict[str, Any]]]:
    """Every dashboard query run once against a freshly migrated store holding the recorded windows."""
    store = upgrade_store(create_database("grafana"))
    record(store)
    with store.connect() as conn:
        return {title: [dict(r._mapping) for r in conn.execute(sa.text(grafana(sql)))]
                for title, sql in queries().items()}


def test_every_query_of_the_dashboard_runs_and_finds_rows(answers: dict[str, list[dict[str, Any]]]) -> None:
    """Each panel, the model variable and the annotation query return rows on a store with recorded windows."""
    assert len(answers) == 9
    assert {title: bool(rows) for title, rows in answers.items()} == dict.fromkeys(answers, True)


def test_verdicts_per_window_and_per_week(answers: dict[str, list[dict[str, Any]]]) -> None:
    timeline = answers["Verdict per window"]
    assert [r["verdict"] for r in timeline] == VERDICTS
    weekly = answers["Verdicts per week, all models"]
    totals = {k: sum(r[k] for r in weekly) for k in ("ok", "warn", "drift", "data_invalid", "insufficient_data")}
    assert totals == {"ok": 3, "warn": 2, "drift": 1 + 2, "data_invalid": 1, "insufficient_data": 1}
    assert answers["variable: model"] == [{"model": "flights-delay"}, {"model": "other-model"}]


def test_drifted_columns_come_first_with_their_counts(answers: dict[str, list[dict[str, Any]]]) -> None:
    table = answers["Drifted columns in range"]
    assert [(r["column"], r["drifted_windows"], r["windows"]) for r in table] == [("temp", 3, 8), ("distance", 0, 8)]
    series = answers["Drift score per column"]
    assert {r["metric"] for r in series} == {"temp", "distance"} and len(series) == 16


def test_performance_is_drawn_against_the_limit_of_its_allowed_drop(
        answers: dict[str, list[dict[str, Any]]]) -> None:
    """For a higher-is-better metric the limit is the reference minus the allowance (0.72 - 0.05)."""
    rows = answers["Performance against its allowed band"]
    assert len(rows) == 8
    assert all(r["allowed limit"] == pytest.approx(0.67) for r in rows)
    assert rows[-1]["performance"] == pytest.approx(0.63) and rows[-1]["ci high"] == pytest.approx(0.67)


def test_retrains_and_promotions(answers: dict[str, list[dict[str, Any]]]) -> None:
    assert [(r["status"], r["challenger_version"]) for r in answers["Retraining requests"]] == [("promoted", 2)]
    events = answers["Promotions, rejections and rollbacks"]
    assert [(r["event"], r["version"], r["previous_version"]) for r in events] == [("promoted", 2, 1)]
    assert events[0]["holdout_score"] == pytest.approx(0.76)
    assert answers["annotation: promotions"][0]["text"] == "promoted v2"
