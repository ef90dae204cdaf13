"""The relabel flow: labels that matured after a window was recorded are measured, on a schedule.

For each recorded window ending within `performance.relabel.lookback` of the latest window end, it reads the
matured window's labels only (id, time and target) and compares their fingerprint with the recorded one. A
window whose labels changed is run again through the monitor flow, oldest first: its performance is
recomputed, a changed verdict is a new revision audited as `relabel`, and a degradation the late labels
confirm can still request the retrain (cooldown and persistence count window time, as on schedule). Windows
whose labels did not change are not touched.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.monitor import monitor
from tasks.config import ModelConfig, load_model_config, parse_duration
from tasks.monitor.fingerprint import labels_fingerprint
from tasks.retries import STORE_OUTAGE, WAREHOUSE_OUTAGE
from tasks.schedule import latest_window_end, resolve_window
from tasks.source.query import read_range
from tasks.store.engine import open_store
from tasks.store.windows import window_runs


@task(name="recorded-labels", cache_policy=NO_CACHE, **STORE_OUTAGE)
def recorded_labels(config: ModelConfig, since: datetime, until: datetime) -> dict[datetime, str | None]:
    """The recorded windows ending in (since, until] and the fingerprint of the labels each was measured on."""
    runs = window_runs(open_store(), config.name, since, until)
    return {run["window_end"].replace(tzinfo=UTC): run["labels_fingerprint"] for run in runs}


@task(name="labels-changed", cache_policy=NO_CACHE, **WAREHOUSE_OUTAGE)
def labels_changed(config: ModelConfig, window_end: datetime, recorded: str | None) -> bool:
    """Whether the matured labels of the window ending at `window_end` differ from those it was measured on."""
    window = resolve_window(config, window_end)
    columns = [config.source.id, config.source.timestamp, config.columns.target.column]
    labelled = read_range(config, columns, window.labelled_start, window.labelled_end, labelled_only=True)
    return labels_fingerprint(config, labelled) != recorded


@flow(name="relabel", log_prints=True)
def relabel(model: str, lookback: str | None = None, actions: bool = True,
            now: datetime | None = None) -> dict[str, Any]:
    """Run again the recorded windows of `model` whose matured labels changed since they were recorded."""
    config = load_model_config(model)
    span = parse_duration(lookback) if lookback else (
        config.performance.relabel.lookback if config.performance.relabel else timedelta(days=28))
    latest = latest_window_end(config, now or datetime.now(UTC))
    recorded = recorded_labels(config, latest - span, latest)
    changed = sorted(end for end, fingerprint in recorded.items() if labels_changed(config, end, fingerprint))
    verdicts = [dict(monitor(model=model, window_end=end, actions=actions)) for end in changed]  # type: ignore[call-overload]
    get_run_logger().info("%s: %s recorded windows looked at, %s with new labels run again", model, len(recorded),
                          len(changed))
    return {"looked_at": len(recorded), "rerun": [v["window_end"] for v in verdicts],
            "verdicts": {v["window_end"]: v["verdict"] for v in verdicts}}
