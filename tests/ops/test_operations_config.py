"""The operations file: channels, routes and schedules, with errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tasks.errors import ConfigError
from tasks.ops.config import OperationsConfig, load_operations
from tasks.ops.notifications import email_url

GOOD = {
    "channels": {
        "ml-team": {"kind": "slack", "url": {"secret": "ml-slack"}},
        "ops-hook": {"kind": "webhook", "url": {"env": "OPS_HOOK"}},
        "oncall": {"kind": "email", "from": "driftflow@example.com", "to": ["a@example.com", "b@example.com"],
                   "smtp": {"host": "smtp.example.com", "username": "drift flow", "password": {"env": "SMTP_PW"}}},
    },
    "notify": [{"events": ["drift", "data_invalid"], "channels": ["ml-team"]},
               {"events": ["health", "drift"], "channels": ["oncall", "ml-team"], "models": ["flights-delay"]}],
    "retention": {"older_than": "30d"},
}


def write(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "operations.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def test_a_missing_file_means_no_notifications_and_default_schedules(tmp_path: Path) -> None:
    """Without deployments/operations.yaml nobody is notified, health runs every 15 minutes, retention is 90d."""
    config = load_operations(tmp_path / "operations.yaml")
    assert config.channels == {} and config.notify == []
    assert config.health.cron == "*/15 * * * *"
    assert config.retention.older_than.days == 90


def test_routes_say_who_hears_about_what(tmp_path: Path) -> None:
    """A model's event reaches every channel of every route naming it, each channel once, in route order."""
    config = load_operations(write(tmp_path, GOOD), models=["flights-delay", "other"])
    assert config.channels_for("drift", "flights-delay") == ["ml-team", "oncall"]
    assert config.channels_for("drift", "other") == ["ml-team"]
    assert config.channels_for("health", "other") == []
    assert config.channels_for("promotion", "flights-delay") == []


@pytest.mark.parametrize(("change", "message"), [
    ({"channels": {"x": {"kind": "slack", "url": "https://hooks.slack.com/services/T/B/C"}}},
     "channels.x.slack.url: secrets are never written in this file"),
    ({"channels": {"x": {"kind": "webhook", "url": {"env": "A", "secret": "b"}}}},
     "give exactly one of 'env'"),
    ({"channels": {"x": {"kind": "pager"}}}, "channels.x: Input tag 'pager' found using 'kind' does not match"),
    ({"notify": [{"events": ["drift"], "channels": ["nobody"]}]}, "notify.0.channels: unknown channel(s) nobody"),
    ({"notify": [{"events": ["promoted"], "channels": ["ml-team"]}]}, "notify.0.events.0"),
    ({"health": {"cron": "every day"}}, "health.cron: 'every day' is not a valid cron expression"),
    ({"retention": {"older_than": "3 months"}}, "retention.older_than"),
    ({"channels": {"Bad_Name": {"kind": "webhook", "url": {"env": "A"}}}}, "lowercase letters, digits and dashes"),
    ({"channels": {"m": {"kind": "email", "from": "d@example.com", "to": ["nobody"], "smtp": {"host": "h"}}}},
     "not e-mail addresses: nobody"),
])
def test_errors_name_the_file_and_the_field(tmp_path: Path, change: dict[str, object], message: str) -> None:
    """Every invalid setting ends in one ConfigError naming the file and the field."""
    raw = {**GOOD, **change} if "notify" in change else {**GOOD, **change, "notify": []}
    path = write(tmp_path, raw)
    with pytest.raises(ConfigError) as error:
        load_operations(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_a_route_naming_an_unknown_model_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"notify\.1\.models: no model configuration for flights-delay"):
        load_operations(write(tmp_path, GOOD), models=["other"])


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "channels: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_operations(path)


def test_secrets_resolve_from_the_environment_and_say_which_variable_is_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = OperationsConfig.model_validate(GOOD)
    hook = config.channels["ops-hook"]
    monkeypatch.delenv("OPS_HOOK", raising=False)
    with pytest.raises(ConfigError, match="here: environment variable OPS_HOOK is not set"):
        hook.url.resolve("here")  # type: ignore[union-attr]
    monkeypatch.setenv("OPS_HOOK", "http://127.0.0.1:9/hook")
    assert hook.url.resolve("here") == "http://127.0.0.1:9/hook"  # type: ignore[union-attr]


def test_an_email_channel_becomes_an_apprise_smtp_url() -> None:
    """The SMTP server, credentials (quoted), sender and recipients travel in one Apprise mailto URL."""
    config = OperationsConfig.model_validate(GOOD)
    url = urlsplit(email_url(config.channels["oncall"], "p@ss/word"))  # type: ignore[arg-type]
    assert url.scheme == "mailtos"
    assert (url.hostname, url.port) == ("smtp.example.com", 587)
    assert url.username == "drift%20flow" and url.password == "p%40ss%2Fword"
    query = parse_qs(url.query)
    assert query == {"from": ["driftflow@example.com"], "to": ["a@example.com,b@example.com"], "mode": ["starttls"]}
