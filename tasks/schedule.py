"""Windows derived from scheduled times: the same scheduled time always gives the same window.

A window ends at a tick of the model's cron (in its time zone) and is either a fixed length before it (`7d`),
a calendar length (`1mo`, `1y`), or `tick`: everything since the previous tick, so a monthly cron gives
calendar months and a yearly one calendar years. All bounds are returned in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cronsim import CronSim

from tasks.config import ModelConfig
from tasks.config.load import config_path
from tasks.errors import ConfigError
from tasks.results import Window


def window_start(config: ModelConfig, end: datetime) -> datetime:
    """The start of the window that ends at `end`."""
    schedule = config.schedule
    zone = ZoneInfo(schedule.timezone)
    local_end = _aware(end).astimezone(zone)
    if schedule.by_tick:
        return previous_tick(config, local_end)
    if schedule.window.calendar:  # calendar steps are taken in the schedule's zone (a month is a local month)
        return schedule.window.before(local_end).astimezone(UTC)
    return (_aware(end) - schedule.window.delta).astimezone(UTC)


def resolve_window(config: ModelConfig, window_end: datetime) -> Window:
    """The window ending at `window_end` and its matured counterpart, shifted back by the label delay."""
    end = _aware(window_end).astimezone(UTC)
    start = window_start(config, end)
    delay = config.columns.target.label_delay
    return Window(start=start, end=end, labelled_start=start - delay, labelled_end=end - delay)


def previous_tick(config: ModelConfig, moment: datetime) -> datetime:
    """The last tick strictly before `moment`, in UTC."""
    zone = ZoneInfo(config.schedule.timezone)
    local = _aware(moment).astimezone(zone)
    return next(iter(CronSim(config.schedule.cron, local, reverse=True))).astimezone(UTC)


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
    if is_tick(config, start):
        ticks.insert(0, _aware(start).astimezone(UTC))
    return ticks


def is_tick(config: ModelConfig, moment: datetime) -> bool:
    """Whether `moment` is exactly one of the schedule's ticks."""
    local = _aware(moment).astimezone(ZoneInfo(config.schedule.timezone))
    return local == local.replace(second=0, microsecond=0) and _matches(config, local)


def check_on_schedule(config: ModelConfig, end: datetime) -> datetime:
    """`end` in UTC if it is one of the schedule's ticks; otherwise a ConfigError naming the nearest ticks.

    A window end off the schedule would be recorded as an extra window overlapping two scheduled ones (and
    count twice towards the policy's persistence): it is refused, never snapped silently.
    """
    if is_tick(config, end):
        return _aware(end).astimezone(UTC)
    before = previous_tick(config, end)
    after = next_tick(config, end)
    schedule = config.schedule
    raise ConfigError(f"--window-end {_iso(end)} is not on the schedule of {config.name} "
                      f"({config_path(config.name)}: schedule.cron {schedule.cron!r}, {schedule.timezone}); "
                      f"the nearest ticks are {_iso(before)} and {_iso(after)}")


def next_tick(config: ModelConfig, moment: datetime) -> datetime:
    """The first tick strictly after `moment`, in UTC."""
    local = _aware(moment).astimezone(ZoneInfo(config.schedule.timezone))
    for tick in CronSim(config.schedule.cron, local.replace(second=0, microsecond=0)):
        if tick > local:
            return tick.astimezone(UTC)
    raise AssertionError("a cron schedule always has a next tick")  # pragma: no cover - CronSim is unbounded


def _iso(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")


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


def previous_ticks(config: ModelConfig, end: datetime, count: int) -> list[datetime]:
    """The `count` scheduled times before `end` (not including it), oldest first, in UTC."""
    ticks: list[datetime] = []
    moment = _aware(end)
    while len(ticks) < count:
        moment = previous_tick(config, moment)
        ticks.append(moment)
    return ticks[::-1]
