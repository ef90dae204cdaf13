"""Window fingerprints stay the ones already recorded, whatever the columns' types."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.monitor.fingerprint import fingerprint, row_hashes


@pytest.fixture()
def window() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = 500
    return pd.DataFrame({
        "amount": np.where(rng.random(rows) < 0.1, np.nan, rng.normal(size=rows)),
        "id": np.arange(rows),
        "carrier": np.where(rng.random(rows) < 0.1, None, rng.choice(["AA", "UA", "DL"], rows)).astype(object),
        "origin": pd.Categorical(rng.choice(["EWR", "JFK"], rows)),
        "ts": pd.date_range("2013-01-07", periods=rows, freq="min", tz="UTC"),
        "late": rng.random(rows) < 0.3,
        "seats": pd.array(np.where(rng.random(rows) < 0.1, None, 150), dtype="Int64"),
    }, index=np.arange(rows) * 3)


def test_rows_are_hashed_as_hash_pandas_object_hashes_the_selected_columns(window: pd.DataFrame) -> None:
    """Hashing column by column (no copy of the window) gives the very values a recorded fingerprint was made
    of, so a rerun of an unchanged window is still recognised as unchanged."""
    for columns in (list(window.columns), ["amount"], ["carrier", "origin"], ["ts", "seats", "late"]):
        expected = pd.util.hash_pandas_object(window[columns], index=False).to_numpy()
        assert np.array_equal(row_hashes(window, columns), expected)


def test_a_fingerprint_ignores_row_order_and_absent_columns(window: pd.DataFrame) -> None:
    """The same rows in another order, asked for with a column the window lacks, give the same fingerprint."""
    shuffled = window.sample(frac=1, random_state=1)
    assert fingerprint(shuffled, ["amount", "carrier", "absent"]) == fingerprint(window, ["amount", "carrier"])
