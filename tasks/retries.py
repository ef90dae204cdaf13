"""When a task is worth running again: an outage of the warehouse or the store, with a growing back-off.

A task retried on an outage repeats work that wrote nothing (reads, or one transaction that rolled back), so a
retry never doubles a record. After the last attempt the outage's own error (one line naming the setting) ends
the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect.tasks import exponential_backoff

from tasks.errors import StoreUnavailable, WarehouseUnavailable

OUTAGE_RETRIES = 3
OUTAGE_BACKOFF = exponential_backoff(backoff_factor=2)  # 2 s, 4 s, 8 s


def retry_on(*errors: type[Exception]) -> Callable[[Any, Any, Any], bool]:
    """A Prefect `retry_condition_fn`: retry only when the task failed with one of `errors`."""
    def condition(_task: Any, _task_run: Any, state: Any) -> bool:
        try:
            state.result()
        except errors:
            return True
        except Exception:
            return False
        return False
    return condition


# keyword arguments of @task for a task that reads or writes the store (or the warehouse)
STORE_OUTAGE: dict[str, Any] = {"retries": OUTAGE_RETRIES, "retry_delay_seconds": OUTAGE_BACKOFF,
                                "retry_condition_fn": retry_on(StoreUnavailable)}
WAREHOUSE_OUTAGE: dict[str, Any] = {"retries": OUTAGE_RETRIES, "retry_delay_seconds": OUTAGE_BACKOFF,
                                    "retry_condition_fn": retry_on(WarehouseUnavailable)}
