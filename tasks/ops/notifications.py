"""Notification channels as Prefect blocks, and the automations that send driftflow's events to them.

Each channel of `deployments/operations.yaml` becomes one notification block named `driftflow-<channel>`
(saved over on every run, so a rotated secret is picked up); each (route, event) becomes one automation.
Only block types shipped with Prefect itself are used, so the server needs nothing of driftflow installed:
- webhook: `CustomWebhookNotificationBlock`, POSTing JSON `{subject, body, source}`; the URL is kept in the
  block's secret values, so the UI shows a placeholder;
- slack: `SlackWebhook`;
- email: Prefect has no SMTP block of its own, so the SMTP server becomes an Apprise `mailto://` URL inside a
  `SlackWebhook` block (a URL that is not a Slack webhook is handed to Apprise as it is).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from tasks.ops.config import Channel, EmailChannel, OperationsConfig, SlackChannel, WebhookChannel

PREFIX = "driftflow"
WINDOW = "driftflow.window.recorded"
MODEL_EVENTS = {"promotion": "driftflow.model.promoted", "rejection": "driftflow.model.rejected",
                "rollback": "driftflow.model.rolled_back"}
VERDICT_EVENTS = {"drift": "drift", "data_invalid": "data_invalid"}

_WINDOW_BODY = """Model: {{ event.resource.name }}
Verdict: {{ event.payload.verdict }}
Window: {{ event.payload.window_start }} to {{ event.payload.window_end }}
Reasons:
{% for reason in event.payload.reasons %}- {{ reason }}
{% endfor %}{% if event.payload.drifted_columns %}Drifted columns: {{ event.payload.drifted_columns|join(', ') }}
{% endif %}Run: {{ event.payload.run_url }}
{% if event.payload.report %}Report: {{ event.payload.report }}
{% endif %}"""

_MODEL_BODY = """Model: {{ event.resource.name }}
Version: {{ event.payload.version }} (champion before: {{ event.payload.champion_version }})
{{ event.payload.reason }}
Run: {{ event.payload.run_url }}
"""

TEMPLATES: dict[str, tuple[str, str]] = {
    "drift": ("driftflow: {{ event.resource.name }} drifted (window ending {{ event.payload.window_end }})",
              _WINDOW_BODY),
    "data_invalid": ("driftflow: {{ event.resource.name }} data invalid (window ending "
                     "{{ event.payload.window_end }})", _WINDOW_BODY),
    "promotion": ("driftflow: {{ event.resource.name }} v{{ event.payload.version }} promoted", _MODEL_BODY),
    "rejection": ("driftflow: {{ event.resource.name }} challenger v{{ event.payload.version }} rejected",
                  _MODEL_BODY),
    "rollback": ("driftflow: {{ event.resource.name }} rolled back to v{{ event.payload.version }}", _MODEL_BODY),
}


def block_name(channel: str) -> str:
    return f"{PREFIX}-{channel}"


def email_url(channel: EmailChannel, password: str | None) -> str:
    """The Apprise URL that sends through the channel's SMTP server."""
    smtp = channel.smtp
    scheme = "mailto" if smtp.security == "none" else "mailtos"
    auth = ""
    if smtp.username:
        auth = quote(smtp.username, safe="") + (f":{quote(password, safe='')}" if password else "") + "@"
    query: dict[str, str] = {"from": channel.from_, "to": ",".join(channel.to)}
    if smtp.security != "none":
        query["mode"] = smtp.security
    return f"{scheme}://{auth}{smtp.host}:{smtp.port}?{urlencode(query)}"


def channel_block(name: str, channel: Channel) -> Any:
    """The Prefect notification block for one channel, its secrets resolved (env or Secret block)."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock, SlackWebhook

    where = f"operations.yaml channels.{name}"
    if isinstance(channel, WebhookChannel):
        return CustomWebhookNotificationBlock(
            name=block_name(name), url="{{webhook_url}}",
            json_data={"subject": "{{subject}}", "body": "{{body}}", "source": "driftflow"},
            secrets={"webhook_url": channel.url.resolve(f"{where}.url")})
    if isinstance(channel, SlackChannel):
        return SlackWebhook(url=channel.url.resolve(f"{where}.url"))
    password = channel.smtp.password.resolve(f"{where}.smtp.password") if channel.smtp.password else None
    return SlackWebhook(url=email_url(channel, password))


def save_channel_blocks(config: OperationsConfig) -> dict[str, Any]:
    """Create or overwrite the block of every channel; returns each channel's block document id."""
    ids = {}
    for name, channel in config.channels.items():
        ids[name] = channel_block(name, channel).save(block_name(name), overwrite=True)
    return ids


def send_actions(event: str, channels: list[str], block_ids: dict[str, Any],
                 subject: str | None = None, body: str | None = None) -> list[Any]:
    """One SendNotification per channel, with the event's subject and body templates."""
    from prefect.events.actions import SendNotification

    default_subject, default_body = TEMPLATES.get(event, ("", ""))
    return [SendNotification(block_document_id=block_ids[c], subject=subject or default_subject,
                             body=body or default_body) for c in channels]


def route_automations(config: OperationsConfig, models: list[str], block_ids: dict[str, Any]) -> list[Any]:
    """An automation per model event and route (health routes ride on the health automations instead)."""
    from prefect.automations import AutomationCore, EventTrigger

    automations = []
    for route in config.notify:
        targets = route.models or models
        resources = [f"driftflow.model.{m}" for m in targets]
        for event in route.events:
            if event == "health":
                continue
            match: dict[str, Any] = {"prefect.resource.id": resources}
            if event in VERDICT_EVENTS:
                expect, match["driftflow.verdict"] = WINDOW, VERDICT_EVENTS[event]
            else:
                expect = MODEL_EVENTS[event]
            scope = ",".join(route.models) if route.models else "all models"
            automations.append(AutomationCore(
                name=f"{PREFIX}: notify {event} of {scope} to {','.join(route.channels)}",
                description=f"Sends driftflow's {event} events ({expect}) to {', '.join(route.channels)}",
                tags=[PREFIX], trigger=EventTrigger(expect={expect}, match=match, posture="Reactive",
                                                    threshold=1, within=0),
                actions=send_actions(event, route.channels, block_ids)))
    return automations
