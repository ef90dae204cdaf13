"""The automations driftflow asks Prefect for: what each one watches, and whom it tells."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from tasks.config import ModelConfig, load_model_config
from tasks.ops.automations import FINISHED_STATES, health_automations, schedule_period
from tasks.ops.config import OperationsConfig
from tasks.ops.notifications import route_automations

MONITOR = UUID("00000000-0000-0000-0000-0000000000aa")
BLOCKS = {"team": uuid4(), "oncall": uuid4()}
OPERATIONS = OperationsConfig.model_validate({
    "channels": {"team": {"kind": "webhook", "url": {"env": "X"}}, "oncall": {"kind": "slack", "url": {"env": "Y"}}},
    "notify": [{"events": ["drift", "promotion", "health"], "channels": ["team"]},
               {"events": ["data_invalid"], "channels": ["oncall", "team"], "models": ["flights-delay"]}]})


@pytest.fixture()
def config() -> ModelConfig:
    return load_model_config("flights-delay")


def by_name(automations: list[object]) -> dict[str, object]:
    return {a.name: a for a in automations}  # type: ignore[attr-defined]


def test_a_weekly_schedule_has_a_period_of_a_week(config: ModelConfig) -> None:
    assert schedule_period(config) == timedelta(days=7)


def test_a_monitor_run_not_finished_within_the_grace_is_late(config: ModelConfig) -> None:
    """Proactive, per flow run of monitor/<model>: started by Late or Pending, satisfied by any final state,
    including the verdict names the monitor gives its Completed state."""
    late = by_name(health_automations(config, MONITOR, [*FINISHED_STATES, "Drift"], ["team"], BLOCKS))[
        "driftflow: flights-delay monitor late"]
    trigger = late.trigger  # type: ignore[attr-defined]
    assert trigger.posture == "Proactive"
    assert trigger.after == {"prefect.flow-run.Late", "prefect.flow-run.Pending"}
    assert {"prefect.flow-run.Completed", "prefect.flow-run.Crashed", "prefect.flow-run.Drift"} <= trigger.expect
    assert trigger.for_each == {"prefect.resource.id"}
    assert trigger.within == config.health.grace
    assert trigger.match_related.model_dump()["prefect.resource.id"] == f"prefect.deployment.{MONITOR}"
    assert [a.block_document_id for a in late.actions] == [BLOCKS["team"]]  # type: ignore[attr-defined]


def test_failures_count_within_as_many_periods_as_allowed_failures(config: ModelConfig) -> None:
    failing = by_name(health_automations(config, MONITOR, list(FINISHED_STATES), [], BLOCKS))[
        "driftflow: flights-delay monitor failing"]
    trigger = failing.trigger  # type: ignore[attr-defined]
    assert trigger.posture == "Reactive" and trigger.threshold == 3
    assert trigger.expect == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut"}
    assert trigger.within == timedelta(days=21, hours=1)
    assert [a.type for a in failing.actions] == ["do-nothing"]  # type: ignore[attr-defined]


def test_stale_data_reacts_to_health_events_of_the_model(config: ModelConfig) -> None:
    stale = by_name(health_automations(config, MONITOR, list(FINISHED_STATES), ["team"], BLOCKS))[
        "driftflow: flights-delay data stale"]
    trigger = stale.trigger  # type: ignore[attr-defined]
    assert trigger.expect == {"driftflow.health"}
    assert trigger.match.model_dump() == {"prefect.resource.id": "driftflow.model.flights-delay",
                                          "driftflow.data": "stale"}
    assert trigger.within == timedelta(days=1)


def test_each_route_and_event_is_one_automation_on_the_right_event(config: ModelConfig) -> None:
    """Drift and data_invalid watch driftflow.window.recorded by verdict label; promotion its own event;
    health rides on the health automations; a route without models covers every model."""
    routes = by_name(route_automations(OPERATIONS, ["flights-delay", "other"], BLOCKS))
    assert set(routes) == {"driftflow: notify drift of all models to team",
                           "driftflow: notify promotion of all models to team",
                           "driftflow: notify data_invalid of flights-delay to oncall,team"}
    drift = routes["driftflow: notify drift of all models to team"].trigger  # type: ignore[attr-defined]
    assert drift.expect == {"driftflow.window.recorded"}
    assert drift.match.model_dump() == {"prefect.resource.id": ["driftflow.model.flights-delay",
                                                                "driftflow.model.other"],
                                        "driftflow.verdict": "drift"}
    invalid = routes["driftflow: notify data_invalid of flights-delay to oncall,team"]
    assert [a.block_document_id for a in invalid.actions] == [BLOCKS["oncall"], BLOCKS["team"]]  # type: ignore[attr-defined]
    promotion = routes["driftflow: notify promotion of all models to team"].trigger  # type: ignore[attr-defined]
    assert promotion.expect == {"driftflow.model.promoted"}
    assert all("driftflow" in a.tags for a in routes.values())  # type: ignore[attr-defined]
