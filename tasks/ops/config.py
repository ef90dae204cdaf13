"""The project's operations file, `deployments/operations.yaml`: channels, who hears about what, schedules.

```yaml
channels:
  ml-team:   {kind: slack, url: {secret: ml-slack-webhook}}          # a Prefect Secret block
  ops-hook:  {kind: webhook, url: {env: DRIFTFLOW_OPS_WEBHOOK_URL}}   # an environment variable
  oncall:    {kind: email, to: [oncall@example.com], from: driftflow@example.com,
              smtp: {host: smtp.example.com, port: 587, username: driftflow, password: {secret: smtp-password}}}
notify:
  - {events: [drift, data_invalid], channels: [ml-team]}
  - {events: [promotion, rejection, rollback, health], channels: [oncall, ops-hook], models: [flights-delay]}
health: {cron: "*/15 * * * *"}
retention: {older_than: 90d, cron: "0 3 * * *"}
```
Secrets (webhook URLs, SMTP passwords) are never written here: `{env: NAME}` or `{secret: block-name}` only.
A missing file means: no notifications, default schedules.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from tasks.config.load import _describe, yaml_problem
from tasks.config.sections import valid_cron
from tasks.config.types import Duration, Strict
from tasks.errors import ConfigError
from tasks.settings import project_dir

EVENTS = ("drift", "data_invalid", "promotion", "rejection", "rollback", "health")
Event = Literal["drift", "data_invalid", "promotion", "rejection", "rollback", "health"]
CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class SecretRef(Strict):
    """Where a secret value lives: an environment variable or a Prefect Secret block, never the file."""

    env: str | None = None
    secret: str | None = None

    @model_validator(mode="before")
    @classmethod
    def not_inline(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError("secrets are never written in this file: use {env: VARIABLE} or "
                             "{secret: prefect-secret-block}")
        return value

    @model_validator(mode="after")
    def exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.secret is None):
            raise ValueError("give exactly one of 'env' (a variable) or 'secret' (a Prefect Secret block)")
        return self

    def resolve(self, where: str) -> str:
        """The secret's value; a missing variable or block is a ConfigError naming `where`."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise ConfigError(f"{where}: environment variable {self.env} is not set")
            return value
        from prefect.blocks.system import Secret

        try:
            stored: object = Secret.load(str(self.secret)).get()  # type: ignore[union-attr]
        except ValueError:
            raise ConfigError(f"{where}: no Prefect Secret block named {self.secret!r}") from None
        return str(stored)




class WebhookChannel(Strict):
    """A JSON POST {subject, body, source} to a URL (any HTTP receiver: an incident tool, a chat bridge)."""

    kind: Literal["webhook"]
    url: SecretRef


class SlackChannel(Strict):
    kind: Literal["slack"]
    url: SecretRef  # the incoming-webhook URL


class SmtpServer(Strict):
    host: str
    port: int = Field(587, ge=1, le=65535)
    username: str | None = None
    password: SecretRef | None = None
    security: Literal["starttls", "ssl", "none"] = "starttls"


class EmailChannel(Strict):
    kind: Literal["email"]
    smtp: SmtpServer
    from_: str = Field(alias="from")
    to: list[str] = Field(min_length=1)

    @field_validator("to")
    @classmethod
    def addresses(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if not re.fullmatch(r"[^@\s]+@[^@\s]+", a)]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(bad)}")
        return value


Channel = Annotated[WebhookChannel | SlackChannel | EmailChannel, Field(discriminator="kind")]


class Route(Strict):
    """Who hears about what: these events, of these models (all when omitted), on these channels."""

    events: list[Event] = Field(min_length=1)
    channels: list[str] = Field(min_length=1)
    models: list[str] | None = None


class HealthSchedule(Strict):
    cron: str = "*/15 * * * *"  # how often `health` checks every model and emits driftflow.health

    @field_validator("cron")
    @classmethod
    def valid(cls, value: str) -> str:
        return valid_cron(value)


class RetentionConfig(Strict):
    older_than: Duration = timedelta(days=90)
    cron: str = "0 3 * * *"  # the scheduled prune
    flow_runs: bool = True  # also delete driftflow's finished Prefect flow runs older than `older_than`

    @field_validator("cron")
    @classmethod
    def valid(cls, value: str) -> str:
        return valid_cron(value)


class OperationsConfig(Strict):
    channels: dict[str, Channel] = Field(default_factory=dict)
    notify: list[Route] = Field(default_factory=list)
    health: HealthSchedule = HealthSchedule()
    retention: RetentionConfig = RetentionConfig()

    @model_validator(mode="after")
    def routes_name_channels(self) -> OperationsConfig:
        bad = [n for n in self.channels if not CHANNEL_NAME.match(n)]
        if bad:
            raise ValueError(f"channel names must be lowercase letters, digits and dashes: {', '.join(bad)}")
        for i, route in enumerate(self.notify):
            unknown = [c for c in route.channels if c not in self.channels]
            if unknown:
                raise ValueError(f"notify.{i}.channels: unknown channel(s) {', '.join(unknown)}; "
                                 f"defined: {', '.join(self.channels) or 'none'}")
        return self

    def channels_for(self, event: str, model: str) -> list[str]:
        """The channels that hear about `event` of `model`, in the order first named."""
        names: list[str] = []
        for route in self.notify:
            if event in route.events and (route.models is None or model in route.models):
                names += [c for c in route.channels if c not in names]
        return names


def operations_path() -> Path:
    return project_dir() / "deployments" / "operations.yaml"


def load_operations(path: Path | None = None, models: list[str] | None = None) -> OperationsConfig:
    """Read the operations file (defaults when there is none); errors name the file and the field.

    With `models`, a route naming a model that has no configuration is an error too.
    """
    path = path or operations_path()
    if not path.is_file():
        return OperationsConfig()
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {yaml_problem(exc)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        config = OperationsConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid operations configuration: {_describe(exc)}") from None
    if models is not None:
        for i, route in enumerate(config.notify):
            unknown = sorted(set(route.models or []) - set(models))
            if unknown:
                raise ConfigError(f"{path}: notify.{i}.models: no model configuration for {', '.join(unknown)}")
    return config
