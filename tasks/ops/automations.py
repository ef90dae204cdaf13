"""Automations that watch the monitors, and creating every driftflow automation idempotently.

Per model, three automations (named `driftflow: <model> …`, tagged `driftflow`):
- **late** (proactive): a monitor run of `monitor/<model>` that went Late (no worker took it) or Pending did
  not reach a final state within `health.grace`. Prefect's late-runs service marks a run Late shortly after its
  scheduled time, so this fires about `grace` after the scheduled time when no worker runs it, or when a run
  hangs.
- **failing** (reactive): `health.failures` runs of `monitor/<model>` failed or crashed within that many
  schedule periods (plus the grace). Prefect counts events and cannot see a success in between; `driftflow
  health` reports the exact streak.
- **stale data** (reactive): a `driftflow.health` event of the model says its newest source row is older than
  `health.max_data_age`; at most once a day.
Their actions notify the channels routed `health` in `deployments/operations.yaml` (none: the firing is still
recorded in the UI's event feed).

For the whole project, one more: **unresponsive runs** (proactive) marks Crashed a monitor or retrain run
that sent no heartbeat for `UNRESPONSIVE_AFTER` (its process was killed, its machine lost, its server
unreachable), so no run stays Running forever; a retrain's open request is then closed by the next sweep.
Runs send heartbeats every `HEARTBEAT_SECONDS` (driftflow's commands and `serve` set
PREFECT_FLOWS_HEARTBEAT_FREQUENCY unless it is set).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import UUID

from cronsim import CronSim

from tasks.config import ModelConfig
from tasks.ops.notifications import PREFIX, send_actions

FINISHED_STATES = ("Completed", "Failed", "Crashed", "Cancelled", "TimedOut")
HEARTBEAT_SECONDS = 30  # Prefect's minimum
UNRESPONSIVE_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)
WATCHED_FLOWS = ["monitor", "retrain"]
FAILED_STATES = ("Failed", "Crashed", "TimedOut")
STALE_REPEAT = timedelta(days=1)

LATE_BODY = """The monitor run {{{{ event.resource.name }}}} of {model} did not finish within {grace} of being due.
Is a worker running for its work pool? Run: {{{{ flow_run|ui_url }}}} ({{{{ event.resource.id }}}})
"""
FAILING_BODY = """{failures} monitor runs of {model} failed or crashed within {within}.
Last: {{{{ event.resource.name }}}}: {{{{ event.resource['prefect.state-message'] }}}}
Run: {{{{ flow_run|ui_url }}}} ({{{{ event.resource.id }}}})
"""
STALE_BODY = """The newest row of {model}'s source is from {{{{ event.payload.data.newest_row }}}}, older than
{{{{ event.payload.data.max_age }}}} allowed. Has the data stopped arriving?
"""


def schedule_period(config: ModelConfig, ticks: int = 8) -> timedelta:
    """The longest gap between consecutive scheduled ticks (cron schedules need not be regular)."""
    it = CronSim(config.schedule.cron, datetime(2024, 1, 1))
    times = [next(it) for _ in range(ticks + 1)]
    return max(b - a for a, b in pairwise(times))


def _deployment(deployment_id: UUID) -> dict[str, str]:
    return {"prefect.resource.id": f"prefect.deployment.{deployment_id}", "prefect.resource.role": "deployment"}


def health_automations(config: ModelConfig, monitor_deployment_id: UUID, finished_states: list[str],
                       channels: list[str], block_ids: dict[str, Any]) -> list[Any]:
    """The late, failing and stale-data automations of one model.

    `finished_states` are the state names a monitor run ends in (Prefect's own and the verdict names the monitor
    gives its Completed state), since state events are named after the state's name.
    """
    from prefect.automations import AutomationCore, EventTrigger
    from prefect.events.actions import DoNothing

    name, health = config.name, config.health
    within_failures = schedule_period(config) * health.failures + health.grace

    def actions(subject: str, body: str) -> list[Any]:
        return send_actions("health", channels, block_ids, subject, body) if channels else [DoNothing()]

    late = EventTrigger(posture="Proactive", after={"prefect.flow-run.Late", "prefect.flow-run.Pending"},
                        expect={f"prefect.flow-run.{s}" for s in finished_states}, for_each={"prefect.resource.id"},
                        match_related=_deployment(monitor_deployment_id), threshold=1,
                        within=max(health.grace, timedelta(seconds=10)))
    failing = EventTrigger(posture="Reactive", expect={f"prefect.flow-run.{s}" for s in FAILED_STATES},
                           match_related=_deployment(monitor_deployment_id), threshold=health.failures,
                           within=within_failures)
    stale = EventTrigger(posture="Reactive", expect={"driftflow.health"}, threshold=1, within=STALE_REPEAT,
                         match={"prefect.resource.id": f"driftflow.model.{name}", "driftflow.data": "stale"})
    return [
        AutomationCore(name=f"{PREFIX}: {name} monitor late", tags=[PREFIX], trigger=late,
                       description=f"A monitor run of {name} did not finish within {health.grace} of being due",
                       actions=actions(f"driftflow: {name} monitor run late",
                                       LATE_BODY.format(model=name, grace=health.grace))),
        AutomationCore(name=f"{PREFIX}: {name} monitor failing", tags=[PREFIX], trigger=failing,
                       description=f"{health.failures} monitor runs of {name} failed or crashed",
                       actions=actions(f"driftflow: {name} monitor failing",
                                       FAILING_BODY.format(model=name, failures=health.failures,
                                                           within=within_failures))),
        AutomationCore(name=f"{PREFIX}: {name} data stale", tags=[PREFIX], trigger=stale,
                       description=f"The newest source row of {name} is older than its health.max_data_age",
                       actions=actions(f"driftflow: {name} data stale", STALE_BODY.format(model=name))),
    ]


def unresponsive_runs_automation(finished_states: list[str]) -> Any:
    """Mark Crashed a monitor or retrain run whose heartbeats stopped before it reached a final state."""
    from prefect.automations import AutomationCore, EventTrigger
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState

    trigger = EventTrigger(posture="Proactive", after={"prefect.flow-run.heartbeat"},
                           expect={"prefect.flow-run.heartbeat", *(f"prefect.flow-run.{s}" for s in finished_states)},
                           match={"prefect.resource.id": "prefect.flow-run.*"},
                           match_related={"prefect.resource.role": "flow", "prefect.resource.name": WATCHED_FLOWS},
                           for_each={"prefect.resource.id"}, threshold=1, within=UNRESPONSIVE_AFTER)
    message = (f"no heartbeat for {int(UNRESPONSIVE_AFTER.total_seconds())} s: the process running it is gone "
               f"({PREFIX}: unresponsive runs)")
    return AutomationCore(name=f"{PREFIX}: unresponsive runs", tags=[PREFIX], trigger=trigger,
                          description="A monitor or retrain run that stopped sending heartbeats is marked Crashed",
                          actions=[ChangeFlowRunState(state=StateType.CRASHED, message=message)])


def _comparable(automation: Any) -> dict[str, Any]:
    return automation.model_dump(include={"name", "description", "enabled", "tags", "trigger",
                                                       "actions", "actions_on_trigger", "actions_on_resolve"})


def apply_automations(desired: list[Any]) -> dict[str, list[str]]:
    """Make the server's driftflow automations exactly `desired`: create, update, keep, or delete by name.

    Owned automations are those tagged `driftflow`; others (the user's own) are never touched.
    """
    from prefect.client.orchestration import get_client

    done: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": [], "deleted": []}
    with get_client(sync_client=True) as client:
        existing = {a.name: a for a in client.read_automations() if PREFIX in (a.tags or [])}
        for automation in desired:
            current = existing.pop(automation.name, None)
            if current is None:
                client.create_automation(automation)
                done["created"].append(automation.name)
            elif _comparable(current) != _comparable(automation):
                client.update_automation(current.id, automation)
                done["updated"].append(automation.name)
            else:
                done["unchanged"].append(automation.name)
        for name, stale in existing.items():
            client.delete_automation(stale.id)
            done["deleted"].append(name)
    return done
