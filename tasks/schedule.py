"""Windows derived from scheduled times: the same scheduled time always gives the same window."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cronsim import CronSim

from tasks.config import ModelConfig
from tasks.results import Window


def resolve_window(config: ModelConfig, window_end: datetime) -> Window:
    """The window ending at `window_end` and its matured counterpart, shifted back by the label delay."""
    end = window_end if window_end.tzinfo else window_end.replace(tzinfo=UTC)
    end = end.astimezone(UTC)
    delay = config.columns.target.label_delay
    size = config.schedule.window
    return Window(start=end - size, end=end, labelled_start=end - delay - size, labelled_end=end - delay)


def window_ends(config: ModelConfig, start: datetime, end: datetime) -> list[datetime]:
    """The model's scheduled times in [start, end], in UTC: one window per cron tick."""
    zone = ZoneInfo(config.schedule.timezone)
    local_start = _aware(start).astimezone(zone)
    ticks = []
    for tick in CronSim(config.schedule.cron, local_start.replace(second=0, microsecond=0)):
        tick_utc = tick.astimezone(UTC)
        if tick_utc > _aware(end):
            break
        if tick_utc >= _aware(start):
            ticks.append(tick_utc)
    if local_start == local_start.replace(second=0, microsecond=0) and _matches(config, local_start):
        ticks.insert(0, _aware(start).astimezone(UTC))
    return ticks


def latest_window_end(config: ModelConfig, moment: datetime) -> datetime:
    """The last scheduled time at or before `moment` (a manual run measures the last complete window)."""
    zone = ZoneInfo(config.schedule.timezone)
    local = _aware(moment).astimezone(zone).replace(second=0, microsecond=0)
    if _matches(config, local):
        return local.astimezone(UTC)
    return next(iter(CronSim(config.schedule.cron, local, reverse=True))).astimezone(UTC)


def _matches(config: ModelConfig, local: datetime) -> bool:
    previous = next(iter(CronSim(config.schedule.cron, local, reverse=True)))
    following = next(iter(CronSim(config.schedule.cron, previous)))
    return following == local


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
