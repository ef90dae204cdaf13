"""The rollback watch: a promoted model that serves worse than the one it replaced is rolled back.

The decision is pure (first part); the action runs on a real SQLite warehouse and store (second part).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tasks.config import ModelConfig, parse_model_config
from tasks.registry.events import events_of
from tasks.registry.references import load_reference
from tasks.registry.versions import champion, fit_candidate, promote, rebaseline, register_candidate, versions
from tasks.retrain.trainers import gradient_boosting
from tasks.retrain.watch import decide_rollback, watch_champion
from tasks.settings import PROJECT_DIR
from tasks.store.engine import open_store
from tests.factories import flights_batch
from tests.support import write_predictions


def rows(n: int, *, seed: int = 0, noise_new: float = 1.0, noise_old: float = 1.0
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    y = (signal + rng.normal(size=n) > 0).astype(float)
    new = 1 / (1 + np.exp(-(signal + noise_new * rng.normal(size=n))))
    old = 1 / (1 + np.exp(-(signal + noise_old * rng.normal(size=n))))
    return y, new, old


def decide(y: np.ndarray, new: np.ndarray, old: np.ndarray | None, **changes: Any) -> Any:
    settings: dict[str, Any] = {"metric": "roc_auc", "version": 3, "previous_version": 2, "windows_matured": 2,
                                "windows": 2, "confidence": 0.9, "resamples": 300, "min_rows": 200}
    settings.update(changes)
    return decide_rollback(target=y, new=new, previous=old, **settings)


def test_a_new_champion_clearly_worse_in_service_is_rolled_back() -> None:
    y, new, old = rows(3000, noise_new=1.6, noise_old=0.5)
    decision = decide(y, new, old)
    assert decision.action == "rollback"
    assert decision.reason.startswith("rolled back v3: v2 is better by +")
    assert "3000 labelled rows of its first 2 windows in service" in decision.reason
    assert decision.probability is not None and decision.probability >= 0.9


def test_a_new_champion_as_good_or_better_is_kept() -> None:
    y, new, old = rows(3000, noise_new=0.5, noise_old=1.6)
    assert decide(y, new, old).action == "keep"
    y, same, _ = rows(3000)
    kept = decide(y, same, same.copy())
    assert kept.action == "keep" and "< 0.9" in kept.reason


def test_a_slightly_worse_new_champion_on_few_rows_is_kept() -> None:
    """Noise is not a reason to roll back: the previous champion must be better with the gate's confidence."""
    for seed in range(6):
        y, new, old = rows(300, seed=seed)
        decision = decide(y, new, old)
        if decision.new_score is not None and decision.new_score < decision.previous_score:
            assert decision.action == "keep"
            return
    pytest.fail("no seed made the new champion slightly worse")


def test_the_watch_waits_for_its_windows_to_mature() -> None:
    y, new, old = rows(3000, noise_new=1.6, noise_old=0.5)
    decision = decide(y, new, old, windows_matured=1)
    assert decision.action == "wait" and "1 of its first 2 windows" in decision.reason


def test_without_rollback_the_decision_is_only_reported() -> None:
    y, new, old = rows(3000, noise_new=1.6, noise_old=0.5)
    decision = decide(y, new, old, rollback_enabled=False)
    assert decision.action == "keep" and "would roll back (watch.rollback is off)" in decision.reason


def test_a_previous_champion_that_cannot_score_or_too_few_rows_keep_the_new_one() -> None:
    y, new, old = rows(3000)
    assert "cannot score" in decide(y, new, None).reason
    small = decide(y[:50], new[:50], old[:50])
    assert small.action == "keep" and "only 50 labelled rows" in small.reason


# The action, on a real warehouse and store.

START = datetime(2013, 1, 7, 6, tzinfo=UTC)
PROMOTED_AT = START + timedelta(days=28)


@pytest.fixture()
def config(driftflow_home: Path) -> ModelConfig:
    text = (PROJECT_DIR / "deployments/models/flights-delay.yaml").read_text()
    return parse_model_config(text.replace("min_labelled_rows: 500", "min_labelled_rows: 100"), "test")


def serve_weeks(first: int, weeks: int) -> pd.DataFrame:
    return pd.concat([flights_batch(1500, seed=200 + i, start=START + timedelta(days=7 * i))
                      for i in range(first, first + weeks)], ignore_index=True)


def promoted_worse_model(config: ModelConfig) -> None:
    """v1 trained on four weeks is champion; v2, trained on a few rows with the labels shuffled, is promoted."""
    history = serve_weeks(0, 4)
    store = open_store()
    good = fit_candidate(config, history, START, PROMOTED_AT, gradient_boosting)
    register_candidate(store, config, good, status="champion", reason="first", window_end=START + timedelta(days=21))
    noise = history.sample(400, random_state=1).copy()
    noise["arrived_late"] = noise["arrived_late"].sample(frac=1.0, random_state=2).to_numpy()
    bad = fit_candidate(config, noise, START, PROMOTED_AT, gradient_boosting)
    version = register_candidate(store, config, bad, status="challenger", reason="noise", window_end=PROMOTED_AT)
    promote(store, config.name, version, PROMOTED_AT, "promoted for the test")
    rebaseline(store, config.name, PROMOTED_AT)
    write_predictions(pd.concat([history, serve_weeks(4, 3)], ignore_index=True), replace=True)


def test_a_worse_promotion_is_rolled_back_once_its_windows_have_matured(config: ModelConfig) -> None:
    """After two weeks in service (plus the label delay) v1 is champion again with its reference, v2 is
    `rolled_back`, and the audit has the rollback; a rerun of the same window changes nothing."""
    promoted_worse_model(config)
    store = open_store()
    early = watch_champion(store, config, PROMOTED_AT + timedelta(days=7))
    assert early is not None and early.decision.action == "wait"
    decided_at = PROMOTED_AT + timedelta(days=21)  # two windows served and their labels (2 days) matured
    outcome = watch_champion(store, config, decided_at)
    assert outcome is not None and outcome.decision.action == "rollback", outcome
    assert [(v["version"], v["status"]) for v in versions(store, config.name)] == [(1, "champion"), (2, "rolled_back")]
    row = champion(store, config.name)
    assert row is not None and row["served_from"] == decided_at
    assert load_reference.fn(store, config).version == "v1"
    assert [(e["event"], e["version"], e["previous_version"]) for e in events_of(store, config.name)][-1] == (
        "rolled_back", 2, 1)
    assert watch_champion(store, config, decided_at) is None
    assert sum(e["event"] == "rolled_back" for e in events_of(store, config.name)) == 1
    # History keeps what each window was measured against: v1 before the promotion and again after the
    # rollback, v2 in between (the rollback activates v1 again without erasing when v2 served)
    served = {end: load_reference.fn(store, config, at=end).version for end in (
        PROMOTED_AT, PROMOTED_AT + timedelta(days=7), decided_at, decided_at + timedelta(days=7))}
    assert list(served.values()) == ["v1", "v2", "v2", "v1"], served


def test_a_model_without_a_watch_is_never_judged(config: ModelConfig) -> None:
    promoted_worse_model(config)
    quiet = config.model_copy(update={"retraining": config.retraining.model_copy(  # type: ignore[union-attr]
        update={"watch": config.retraining.watch.model_copy(update={"windows": 0})})})  # type: ignore[union-attr]
    assert watch_champion(open_store(), quiet, PROMOTED_AT + timedelta(days=21)) is None
