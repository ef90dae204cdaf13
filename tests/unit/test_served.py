"""Which versions made a window's rows, and what the reasons say about the baseline that judged them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tasks.config import ModelConfig
from tasks.monitor.served import Served, missing_column, served_by, superseded, version_notes
from tests.support import copy_project


@pytest.fixture()
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelConfig:
    return copy_project(tmp_path, monkeypatch, source__model_version="served_by")


def test_versions_are_counted_most_rows_first_and_blank_labels_ignored(config: ModelConfig) -> None:
    rows = pd.DataFrame({"served_by": ["v2", "1", "v2", None, " ", "v2", "1", "7.0"]})
    served = served_by(config, rows)
    assert served.counts == {"v2": 3, "1": 2, "7.0": 1}
    assert (served.label, served.number, served.rows) == ("v2", 2, 6)
    assert served.describe() == "v2 (3 rows), v1 (2 rows) and v7 (1 row)"
    assert served_by(config, rows.drop(columns="served_by")) == Served()
    assert missing_column(config, rows) == []
    assert missing_column(config, rows.drop(columns="served_by")) == [
        "source.model_version 'served_by' is not a column of the window: predictions compared with the active "
        "reference"]


def test_notes_say_which_baseline_judged_the_rows() -> None:
    one = Served({"1": 1500})
    assert version_notes(one, "1", 1, "predictions") == []  # the champion's own predictions: nothing to say
    assert version_notes(one, "1", 2, "predictions") == [
        "predictions made by v1 (1,500 rows), compared with v1's own baseline (the champion is v2)"]
    assert version_notes(one, "2", 2, "predictions") == [
        "predictions made by v1 (1,500 rows): v1 has no reference in the registry; compared with the active reference"]
    mixed = Served({"2": 900, "1": 100})
    assert version_notes(mixed, "2", 2, "predictions") == [
        "predictions made by v2 (900 rows) and v1 (100 rows); compared with v2's baseline, the version that made most"]
    assert "'spring' is no registry version number" in version_notes(Served({"spring": 5}), None, 2, "predictions")[0]
    assert version_notes(Served(), None, 2, "predictions") == []


def test_only_a_replaced_version_refuses_the_retrain() -> None:
    assert superseded(Served({"1": 10}), 2) is not None
    assert superseded(Served({"2": 10}), 2) is None
    assert superseded(Served({"spring": 10}), 2) is None
    assert superseded(Served(), 2) is None
    assert superseded(Served({"1": 10}), None) is None
