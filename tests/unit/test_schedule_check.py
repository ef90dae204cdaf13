"""A `--window-end` off the model's schedule is refused with the nearest ticks, never taken as an extra window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tasks.config import ModelConfig, ScheduleConfig, load_model_config
from tasks.errors import ConfigError
from tasks.schedule import check_on_schedule, next_tick


@pytest.fixture()
def weekly() -> ModelConfig:
    return load_model_config("flights-delay")  # Mondays 06:00 UTC


def test_a_tick_is_accepted_and_returned_in_utc(weekly: ModelConfig) -> None:
    assert check_on_schedule(weekly, datetime(2013, 1, 14, 6, tzinfo=UTC)) == datetime(2013, 1, 14, 6, tzinfo=UTC)


@pytest.mark.parametrize(("end", "before", "after"), [
    (datetime(2013, 1, 9, tzinfo=UTC), "2013-01-07T06:00:00Z", "2013-01-14T06:00:00Z"),
    (datetime(2013, 1, 14, 6, 0, 30, tzinfo=UTC), "2013-01-14T06:00:00Z", "2013-01-21T06:00:00Z"),
])
def test_an_end_off_the_schedule_is_refused_naming_the_nearest_ticks(weekly: ModelConfig, end: datetime,
                                                                     before: str, after: str) -> None:
    with pytest.raises(ConfigError, match=rf"flights-delay\.yaml: schedule\.cron.*{before} and {after}"):
        check_on_schedule(weekly, end)


def test_ticks_are_taken_in_the_schedule_zone(weekly: ModelConfig) -> None:
    """Daily at 06:00 in Paris: 05:00 UTC in winter is a tick, 06:00 UTC is not."""
    paris = weekly.model_copy(update={"schedule": ScheduleConfig(cron="0 6 * * *", timezone="Europe/Paris",
                                                                 window="1d")})
    assert check_on_schedule(paris, datetime(2024, 1, 8, 5, tzinfo=UTC)) == datetime(2024, 1, 8, 5, tzinfo=UTC)
    with pytest.raises(ConfigError, match="2024-01-08T05:00:00Z and 2024-01-09T05:00:00Z"):
        check_on_schedule(paris, datetime(2024, 1, 8, 6, tzinfo=UTC))
    assert next_tick(paris, datetime(2024, 1, 8, 5, tzinfo=UTC)) == datetime(2024, 1, 9, 5, tzinfo=UTC)
