"""The promotion gate's paired bootstrap: vectorised weights vs the plain loop (resample, score both with sklearn).

    uv run python benchmarks/gate_bootstrap.py [rows] [resamples]

Prints the time of each and the probability each finds (they draw the same resamples, so they must agree).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from tasks.metrics import score
from tasks.retrain.gate import SEED, probability_better


def plain(y: np.ndarray, a: np.ndarray, b: np.ndarray, resamples: int) -> float:
    """The obvious way: draw row indices, score both models on the draw with tasks.metrics.score."""
    rng = np.random.default_rng(SEED)
    wins = 0
    for _ in range(resamples):
        i = rng.integers(0, len(y), size=len(y))
        wins += (score("roc_auc", y[i], a[i]) or 0.0) > (score("roc_auc", y[i], b[i]) or 0.0)
    return wins / resamples


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
    resamples = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rng = np.random.default_rng(0)
    signal = rng.normal(size=rows)
    y = (signal + rng.normal(size=rows) > 0).astype(float)
    a = 1 / (1 + np.exp(-(signal + 0.9 * rng.normal(size=rows))))
    b = 1 / (1 + np.exp(-(signal + 1.0 * rng.normal(size=rows))))
    began = time.perf_counter()
    fast = probability_better("roc_auc", y, a, b, min_gain=0.0, resamples=resamples)
    vectorised = time.perf_counter() - began
    began = time.perf_counter()
    slow = plain(y, a, b, resamples)
    looped = time.perf_counter() - began
    print(f"roc_auc, {rows} holdout rows, {resamples} paired resamples")
    print(f"  vectorised (tasks.retrain.gate): {vectorised:6.2f} s   P(challenger better) = {fast:.3f}")
    print(f"  plain loop (sklearn per draw):   {looped:6.2f} s   P(challenger better) = {slow:.3f}")
    print(f"  speed-up: {looped / vectorised:.1f}x")


if __name__ == "__main__":
    main()
