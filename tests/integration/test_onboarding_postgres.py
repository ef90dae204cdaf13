"""`init` and the connected `check` on a real PostgreSQL warehouse: declared types (timestamptz, numeric,
bigint, text) read through the inspector, a SELECT source, and problems named by file and field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from tasks.config import load_model_config
from tasks.db import get_engine
from tasks.errors import ConfigError
from tasks.onboarding.check import check_project
from tasks.onboarding.init import init_model
from tasks.onboarding.introspect import introspect_source
from tasks.onboarding.roles import Overrides
from tasks.settings import models_dir
from tests.integration.conftest import CreateDatabase

pytestmark = pytest.mark.postgres

START, END = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 29, tzinfo=UTC)


@pytest.fixture()
def warehouse(create_database: CreateDatabase, driftflow_home: Path, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> str:
    """A PostgreSQL warehouse with `rides`, a daily-scored log: timestamptz times, numeric(8,2) fares."""
    url = create_database("wh")
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL", url)
    monkeypatch.setenv("DRIFTFLOW_PROJECT_DIR", str(tmp_path / "project"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    rng = np.random.default_rng(4)
    n = 24 * 7 * 6
    with get_engine(url).begin() as conn:
        conn.execute(sa.text("CREATE TABLE rides (ride_id bigint PRIMARY KEY, started_at timestamptz NOT NULL, "
                             "distance_km double precision, fare numeric(8,2), zone text, weekday integer, "
                             "tip_proba double precision, tipped boolean)"))
        frame = pd.DataFrame({
            "ride_id": np.arange(n), "started_at": pd.date_range("2024-03-01", periods=n, freq="h", tz="UTC"),
            "distance_km": rng.gamma(2, 3, n).round(2), "fare": rng.gamma(3, 5, n).round(2),
            "zone": rng.choice(["center", "airport", "suburb"], n), "weekday": 0, "tip_proba": rng.random(n),
            "tipped": rng.random(n) < 0.4})
        frame["weekday"] = frame["started_at"].dt.dayofweek
        frame.to_sql("rides", conn, index=False, if_exists="append")
    return url


def test_declared_postgres_types_give_the_roles(warehouse: str) -> None:
    """timestamptz is a time, numeric(8,2) with cents a number, boolean a boolean, text text."""
    kinds = {c.name: c.kind for c in introspect_source(warehouse, "rides").columns}
    assert kinds == {"ride_id": "integer", "started_at": "time", "distance_km": "numeric", "fare": "numeric",
                     "zone": "text", "weekday": "integer", "tip_proba": "numeric", "tipped": "boolean"}


def test_init_then_check_passes_and_a_missing_column_is_named(warehouse: str) -> None:
    """init proposes a binary classifier (tipped, tip_proba) with weekday as context; check connects and
    passes; a renamed column is one line naming the file and the field."""
    init_model("tips", table="rides", sql=None, reference_start=START, reference_end=END,
               overrides=Overrides(prediction="tip_proba", target="tipped"))
    config = load_model_config("tips")
    assert config.task == "classification" and config.columns.context == ["weekday"]
    assert config.source.timestamp == "started_at" and config.source.id == "ride_id"
    assert check_project(offline=False) == ([], 1)
    yaml_path = models_dir() / "tips.yaml"
    raw = yaml.safe_load(yaml_path.read_text())
    raw["columns"]["numeric"] = ["distance_km", "fares", "weekday"]
    yaml_path.write_text(yaml.safe_dump(raw))
    assert check_project(offline=False)[0] == [f"{yaml_path}: columns.numeric[1] 'fares': no such column in "
                                               "table rides"]


def test_a_select_source_is_checked_like_a_table(warehouse: str) -> None:
    """Without a name hint for the target, init asks for it; with --target, a SELECT onboards like a table."""
    sql = "SELECT * FROM rides WHERE zone <> 'airport'"
    with pytest.raises(ConfigError, match="looks like the target; name it with --target"):
        init_model("tips", table=None, sql=sql, reference_start=START, reference_end=END, window="1d")
    init_model("tips", table=None, sql=sql, reference_start=START, reference_end=END, window="1d",
               overrides=Overrides(target="tipped"))
    assert load_model_config("tips").columns.prediction == "tip_proba"
    assert load_model_config("tips").source.sql == "SELECT * FROM rides WHERE zone <> 'airport'"
    assert check_project(offline=False) == ([], 1)
