"""Fitting a candidate: an empty training part or an empty holdout each end in an error that names it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tasks.config import parse_model_config
from tasks.errors import TrainerError
from tasks.registry.versions import fit_candidate
from tasks.retrain.trainers import gradient_boosting
from tasks.settings import PROJECT_DIR
from tests.factories import flights_batch

START = datetime(2013, 1, 7, 6, tzinfo=UTC)


def test_a_holdout_without_rows_is_named_as_the_holdout_not_as_nothing_to_train_on() -> None:
    """Rows in the first of four weeks and none in the last (the 7-day holdout): the error says the holdout
    [end - 7d, end) is empty, while there are rows to train on."""
    config = parse_model_config((PROJECT_DIR / "deployments/models/flights-delay.yaml").read_text(), "test")
    rows = flights_batch(300, seed=1, start=START)
    with pytest.raises(TrainerError, match=r"no labelled rows in the holdout \[2013-01-28 06:00, 2013-02-04 06:00\) "
                                           r"\(retraining.holdout\) \(train 300, holdout 0 rows\)"):
        fit_candidate(config, rows, START, START + timedelta(days=28), gradient_boosting)
    with pytest.raises(TrainerError, match=r"no labelled rows to train on in \[2013-01-07, 2013-01-07\)"):
        fit_candidate(config, rows, START, START + timedelta(days=7), gradient_boosting)
