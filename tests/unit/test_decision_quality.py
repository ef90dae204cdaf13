"""The decision-quality harness without Prefect: its scoring rules, its datasets and the files it writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from benchmarks.quality.backfill import WindowOutcome
from benchmarks.quality.datasets import DATASETS, ID, TIMESTAMP
from benchmarks.quality.evaluation import (
    change_window,
    count_requests,
    delay,
    harm_onset,
    stable,
    summarise,
    timeline,
)
from benchmarks.quality.replay import Promotion, ReplayResult, in_progress_refusals, replay_tables
from benchmarks.quality.report import END, START, markdown_table, write_markdown
from benchmarks.quality.scenario import PREDICTION, minimal_suite, model_yaml

YEARS = [datetime(y, 1, 1, tzinfo=UTC) for y in range(2000, 2008)]  # window ends, one a year
CHANGE = datetime(2003, 6, 1, tzinfo=UTC)  # inside the window ending 2004-01-01 (index 4)


def outcome(end: datetime, verdict: str, *, share: float = 0.0, metric: float | None = 1.0) -> WindowOutcome:
    return WindowOutcome(start=end - timedelta(days=365), end=end, verdict=verdict, rows=100, reason="",
                         evidently_share=share, served_metric=metric)


# --- the rules ---------------------------------------------------------------------------------------------

def test_windows_that_end_on_or_before_the_change_are_stable() -> None:
    assert stable(YEARS, CHANGE) == [True] * 4 + [False] * 4
    assert stable(YEARS, datetime(2003, 1, 1, tzinfo=UTC)) == [True] * 4 + [False] * 4  # ends exactly on it
    assert stable(YEARS, None) == [True] * 8  # a negative control is stable throughout


def test_the_change_window_is_the_first_that_ends_after_the_change() -> None:
    assert change_window(YEARS, CHANGE) == 4
    assert change_window(YEARS, datetime(2010, 1, 1, tzinfo=UTC)) is None


def test_delay_counts_windows_from_the_change_window_to_the_first_flag_at_or_after_it() -> None:
    flags = [True, False, False, False, False, False, True, True]  # a flag before the change does not count
    assert delay(flags, YEARS, CHANGE) == 2
    assert delay([False] * 4 + [True] * 4, YEARS, CHANGE) == 0  # flagged in the change's own window
    assert delay([True] * 4 + [False] * 4, YEARS, CHANGE) is None  # never flagged after the change


def test_harm_onset_is_the_first_window_worse_than_every_stable_one() -> None:
    errors = [1.0, 1.3, 0.9, 1.1, 1.2, 1.31, 2.0, 2.5]  # stable worst: 1.3 (lower is better)
    assert harm_onset(errors, stable(YEARS, CHANGE), YEARS, CHANGE, lower_is_better=True) == 1
    scores = [0.8, 0.7, 0.75, 0.72, 0.71, 0.69, 0.6, 0.6]  # stable worst: 0.7 (higher is better)
    assert harm_onset(scores, stable(YEARS, CHANGE), YEARS, CHANGE, lower_is_better=False) == 1
    assert harm_onset([1.0] * 8, stable(YEARS, CHANGE), YEARS, CHANGE, lower_is_better=True) is None


def test_a_cooldown_in_window_time_lets_one_request_through_per_period() -> None:
    months = [datetime(2020, m, 1, tzinfo=UTC) for m in range(1, 13)]
    every = [True] * 12
    assert count_requests(every, months, timedelta(days=14)) == 12  # shorter than a window: every drift asks
    assert count_requests(every, months, timedelta(days=60)) == 6  # Jan, Mar, May, …: each one restarts it
    assert count_requests([False] * 12, months, timedelta(days=14)) == 0
    january_to_march = [datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 3, 1, tzinfo=UTC)]
    assert count_requests([True, True], january_to_march, timedelta(days=60)) == 2  # exactly the cooldown: allowed


def test_timeline_marks_the_window_of_the_change() -> None:
    assert timeline(list("..wwDDDD"), YEARS, CHANGE) == "..ww|DDDD"
    assert timeline(list("...."), YEARS[:4], None) == "...."


def test_summary_counts_false_alarms_in_stable_windows_only() -> None:
    dataset = replace(DATASETS["measles"], changes=[replace(DATASETS["measles"].changes[0], date=CHANGE)],
                      metric="mae")
    verdicts = ["ok", "drift", "warn", "ok", "warn", "drift", "drift", "insufficient_data"]
    shares = [0.0, 0.6, 0.0, 0.5, 0.6, 0.0, 1.0, 1.0]
    metrics = [1.0, 1.1, 0.9, 1.0, 1.0, 2.0, 3.0, None]
    result = summarise(dataset, [outcome(e, v, share=s, metric=m)
                                 for e, v, s, m in zip(YEARS, verdicts, shares, metrics, strict=True)],
                       cooldown=timedelta(days=14))
    assert (result.windows, result.stable_windows, result.false_drift) == (8, 4, 1)
    assert (result.delay, result.harm, result.requests) == (1, 1, 3)
    assert (result.evidently_false, result.evidently_delay, result.evidently_flagged) == (2, 0, 5)
    assert result.verdicts == {"ok": 2, "drift": 3, "warn": 2, "insufficient_data": 1}
    assert result.stable_metric == pytest.approx(1.0) and result.changed_metric == pytest.approx(2.0)
    assert result.driftflow_timeline == ".Dw.|wDD_"


def test_a_negative_control_counts_every_window_as_stable_and_has_no_delay() -> None:
    result = summarise(DATASETS["rain"], [outcome(e, "drift") for e in YEARS], cooldown=timedelta(days=14))
    assert result.negative_control and result.stable_windows == 8 and result.false_drift == 8
    assert result.delay is None and result.harm is None
    assert "n/a (control)" in markdown_table([result], "python benchmarks/decision_quality.py")


# --- what a new user would write ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(DATASETS))
def test_each_model_yaml_is_valid_and_leaves_the_drift_policy_at_its_defaults(name: str) -> None:
    """The generated YAML passes today's schema; drift, severity and persistence are the shipped defaults."""
    from tasks.config import DriftConfig, PersistenceConfig, parse_model_config

    text = model_yaml(DATASETS[name])
    config = parse_model_config(text, f"{name}.yaml")
    assert "drift:" not in text and config.drift == DriftConfig()
    assert config.policy.persistence == PersistenceConfig()
    assert config.columns.prediction == PREDICTION and config.reference.from_ == "fixed_window"


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_with_a_registered_champion_the_reference_is_the_default_and_a_window_is_enough_holdout(name: str) -> None:
    """For the closed loop: the champion's reference (re-baselined by each promotion), and a holdout of one
    window may gate a challenger (the windows hold fewer rows than the default 200)."""
    from tasks.config import parse_model_config

    config = parse_model_config(model_yaml(DATASETS[name], registered=True), f"{name}.yaml")
    assert config.reference.from_ == "champion_training_window"
    assert config.retraining_or_fail.promote_if.min_holdout_rows == DATASETS[name].min_rows


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_each_minimal_suite_is_usable_by_great_expectations(name: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from tasks.monitor.suites import check_suite

    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations" / f"{name}.json").write_text(json.dumps(minimal_suite(DATASETS[name])))
    monkeypatch.setenv("DRIFTFLOW_PROJECT_DIR", str(tmp_path))
    assert check_suite(name) == []


# --- the datasets ship in their packages -------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(DATASETS))
def test_each_dataset_loads_from_its_package_with_enough_windows(name: str) -> None:
    """Every column the scenario needs is there without nulls; train, reference and ≥ 30 windows have rows."""
    from tasks.config import parse_model_config
    from tasks.schedule import window_ends

    dataset = DATASETS[name]
    frame = dataset.load()
    columns = [ID, TIMESTAMP, *dataset.features, dataset.target]
    assert set(columns) <= set(frame.columns)
    assert not frame[columns].isna().any().any()
    assert frame[ID].is_unique
    times = frame[TIMESTAMP]
    for start, end in (dataset.train, dataset.reference):
        assert ((times >= start.replace(tzinfo=None)) & (times < end.replace(tzinfo=None))).sum() >= dataset.min_rows
    config = parse_model_config(model_yaml(dataset), f"{name}.yaml")
    assert len(window_ends(config, *dataset.monitor)) >= 30
    assert all(change.date > dataset.reference[1] for change in dataset.changes)


# --- the table in docs/ ------------------------------------------------------------------------------------

def test_the_markdown_block_is_replaced_between_its_markers_and_the_rest_kept(tmp_path: Path) -> None:
    doc = tmp_path / "decision-quality.md"
    doc.write_text(f"# Title\n\nBefore.\n\n{START}\nold table\n{END}\n\nAfter.\n")
    write_markdown(doc, "new table")
    assert doc.read_text() == f"# Title\n\nBefore.\n\n{START}\nnew table\n{END}\n\nAfter.\n"
    fresh = tmp_path / "fresh.md"
    write_markdown(fresh, "a table")
    assert fresh.read_text() == f"{START}\na table\n{END}\n"


# --- the closed-loop replay ----------------------------------------------------------------------------------

def promotion(new: float | None, old: float | None, lower_is_better: bool = True) -> Promotion:
    return Promotion(version=2, replaced=1, promoted_at=YEARS[3], windows=2, rows=100, new=new, old=old,
                     lower_is_better=lower_is_better)


def test_a_promotion_paid_when_the_promoted_model_served_better_than_the_one_it_replaced() -> None:
    assert promotion(0.8, 1.0).paid is True  # mae: lower is better
    assert promotion(1.2, 1.0).paid is False
    assert promotion(0.7, 0.6, lower_is_better=False).paid is True  # roc_auc: higher is better
    assert promotion(None, 0.6).paid is None  # never served a labelled window: not measured


def test_the_replay_tables_count_the_promotions_that_paid_and_show_the_late_label() -> None:
    """A promotion that served no labelled window (the last window's) is counted apart, not as unpaid."""
    result = ReplayResult(name="measles", windows=32, metric="mae", seconds=60.0,
                          requests={"promoted": 3, "refused": 3},
                          promotions=[promotion(0.8, 1.0), promotion(1.2, 1.0), promotion(None, None)],
                          late_label={"window_end": YEARS[2], "cause": "relabel", "old_status": "ok",
                                      "new_status": "warn", "changes": ["labels", "performance"]})
    text = replay_tables([result])
    assert "| measles | 32 | 60 s | promoted 3, refused 3 | 0 | 3 | 0 | 1 of 2 (1 more served no labelled window) |" \
        in text
    assert "Promotions that paid: 1 of 2 (1 more served no labelled window)." in text
    assert "window ending 2002-01-01 audited as `relabel`: ok → warn, changed: labels, performance" in text


def test_a_refusal_names_an_in_progress_retrain_of_an_earlier_window_only_when_it_is_earlier(tmp_path: Path) -> None:
    from tasks.store.engine import upgrade_store
    from tasks.store.schema import retrain_requests

    store = upgrade_store(f"sqlite:///{tmp_path / 'store.db'}")

    def refused(key: str, end: datetime, blocking: datetime) -> dict[str, object]:
        return {"idempotency_key": key, "model": "m", "window_end": end.replace(tzinfo=None), "status": "refused",
                "decision": "", "requested_at": end.replace(tzinfo=None), "reason": (
                    f"refused: a retraining is already in progress (requested for the window ending "
                    f"{blocking:%Y-%m-%d %H:%M})")}

    with store.begin() as conn:
        conn.execute(retrain_requests.insert(), [refused("a", YEARS[4], YEARS[3]), refused("b", YEARS[5], YEARS[6])])
    found = in_progress_refusals(store, "m")
    assert len(found) == 1 and found[0].startswith("2004-01-01: refused: a retraining is already in progress")
