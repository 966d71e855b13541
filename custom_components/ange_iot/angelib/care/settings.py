"""Care-check settings of one apartment or a building's defaults, checked when made.

Stored with the shared settings codec (times as ``HH:MM[:SS]``, durations as seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import SettingsError
from ..settings_codec import settings_as_dict, settings_from_dict
from ..values import hm as _hm, zone as _zone


@dataclass(frozen=True, slots=True, kw_only=True)
class CareSettings:
    """Care-check settings of one apartment (or the building's defaults).

    Times are local wall-clock times (naive ``datetime.time``) in ``timezone``.
    """

    enabled: bool = True
    timezone: str = "Europe/Stockholm"
    morning_check: bool = True
    morning_start: time = time(6, 0)
    morning_deadline: time = time(9, 0)
    inactivity_check: bool = True
    inactivity_limit: timedelta = timedelta(hours=4)
    active_start: time = time(7, 0)
    active_end: time = time(22, 0)
    night_door: bool = False
    night_start: time = time(23, 0)
    night_end: time = time(5, 0)
    grace: timedelta = timedelta(minutes=15)
    # An unacknowledged alert repeats this often until acknowledged or cleared (0: never).
    reminder_interval: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        """Refuse settings that cannot work, with a message a user understands."""
        for name in ("morning_start", "morning_deadline", "active_start", "active_end"):
            _check_time(name, getattr(self, name))
        _check_time("night_start", self.night_start)
        _check_time("night_end", self.night_end)
        try:
            _zone(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as err:
            raise ValueError(f"unknown time zone {self.timezone!r}") from err
        if self.morning_deadline <= self.morning_start:
            raise SettingsError(
                "morning_deadline_order",
                f"morning deadline {self.morning_deadline:%H:%M} must be after the morning "
                f"window start {self.morning_start:%H:%M} (same day)",
                deadline=f"{self.morning_deadline:%H:%M}",
                start=f"{self.morning_start:%H:%M}",
            )
        if self.active_end <= self.active_start:
            raise SettingsError(
                "active_hours_order",
                f"active hours must start before they end "
                f"({self.active_start:%H:%M}-{self.active_end:%H:%M})",
                start=f"{self.active_start:%H:%M}",
                end=f"{self.active_end:%H:%M}",
            )
        if self.night_start == self.night_end:
            raise SettingsError(
                "night_window_empty", "the night window must not be empty (start equals end)"
            )
        if not isinstance(self.grace, timedelta) or not (
            timedelta(0) <= self.grace <= timedelta(hours=6)
        ):
            raise SettingsError("grace_range", "the re-check grace must be between 0 and 6 hours")
        if not isinstance(self.reminder_interval, timedelta) or not (
            self.reminder_interval == timedelta(0)
            or timedelta(minutes=1) <= self.reminder_interval <= timedelta(hours=24)
        ):
            raise SettingsError(
                "reminder_range",
                "the reminder interval must be off or between 1 minute and 24 hours",
            )
        if not isinstance(self.inactivity_limit, timedelta) or (
            self.inactivity_limit < timedelta(minutes=1)
        ):
            raise SettingsError(
                "inactivity_too_short", "the inactivity limit must be at least one minute"
            )
        active = datetime.combine(date.min, self.active_end) - datetime.combine(
            date.min, self.active_start
        )
        if self.inactivity_check and self.inactivity_limit >= active:
            raise SettingsError(
                "inactivity_too_long",
                f"the inactivity limit ({_hm(self.inactivity_limit)}) must be shorter than the "
                f"active hours ({self.active_start:%H:%M}-{self.active_end:%H:%M})",
                limit=_hm(self.inactivity_limit),
                start=f"{self.active_start:%H:%M}",
                end=f"{self.active_end:%H:%M}",
            )

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the wall-clock times are in."""
        return _zone(self.timezone)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: times as ``HH:MM[:SS]``, durations as whole seconds."""
        return settings_as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: CareSettings | None = None) -> CareSettings:
        """Settings from ``data`` on top of ``base`` (building defaults; missing keys kept).

        Times may be ``time`` objects or ``"HH:MM[:SS]"``; durations ``timedelta``, seconds,
        or a ``{"hours", "minutes", "seconds"}`` mapping (Home Assistant's duration selector).
        Raises ``ValueError`` naming the bad key.
        """
        return settings_from_dict(cls, data, base)


def _check_time(name: str, value: object) -> None:
    if not isinstance(value, time):
        raise ValueError(f"{name} must be a time of day")
    if value.tzinfo is not None:
        raise ValueError(f"{name} must be a local wall-clock time without a time zone")


DEFAULT_SETTINGS = CareSettings()
