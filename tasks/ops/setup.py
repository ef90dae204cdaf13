"""Everything `deploy` and `serve` set up beside the deployments: notification blocks and automations."""

from __future__ import annotations

from uuid import UUID

from tasks.config import ModelConfig
from tasks.ops.automations import (
    FINISHED_STATES,
    apply_automations,
    health_automations,
    unresponsive_runs_automation,
)
from tasks.ops.config import load_operations
from tasks.ops.notifications import route_automations, save_channel_blocks


def set_up_operations(configs: list[ModelConfig], monitor_ids: dict[str, UUID],
                      verdict_states: list[str]) -> dict[str, list[str]]:
    """Save the channel blocks, then make driftflow's automations match the operations file and the models.

    `monitor_ids` are the ids of the `monitor/<model>` deployments; `verdict_states` the names the monitor
    gives its Completed state (OK, Drift, …). Idempotent: a second call changes nothing.
    """
    models = [c.name for c in configs]
    operations = load_operations(models=models)
    block_ids = save_channel_blocks(operations)
    desired = route_automations(operations, models, block_ids)
    finished = [*FINISHED_STATES, *verdict_states]
    for config in configs:
        desired += health_automations(config, monitor_ids[config.name], finished,
                                      operations.channels_for("health", config.name), block_ids)
    desired.append(unresponsive_runs_automation(finished))
    return apply_automations(desired)


def deployed_monitors() -> dict[str, UUID]:
    """The ids of the `monitor/<model>` deployments on the server, by model."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    with get_client(sync_client=True) as client:
        found = client.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=["monitor"])))
    return {d.name: d.id for d in found}
