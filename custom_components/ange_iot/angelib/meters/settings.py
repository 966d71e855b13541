"""Alert settings of one water meter or a building's defaults, checked when made.

Stored with the shared settings codec (times as ``HH:MM[:SS]``, durations as seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import SettingsError
from ..settings_codec import settings_as_dict, settings_from_dict
from ..values import (
    hm as _duration,
    is_number as _is_number,
    zone as _zone,
)
from .model import MIN_SILENT_AFTER

DEFAULT_REMINDER_INTERVAL = timedelta(minutes=15)
MAX_REMINDER_INTERVAL = timedelta(hours=24)
MAX_ESCALATION_DELAY = timedelta(days=7)
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterSettings:
    """Alert settings of one meter (or a building's defaults)."""

    timezone: str = "Europe/Stockholm"
    continuous_by_design: bool = False  # cooling, irrigation: never CONTINUOUS_FLOW
    night_start: time = time(0, 0)
    night_end: time = time(6, 0)
    night_check: time = time(7, 0)  # a night is judged at this local time (or later)
    night_flow_lph: float = 5.0  # average L/h over the night window
    high_use_factor: float = 3.0  # a day above factor × median of the previous 30 days
    daily_limit_l: float | None = None  # or a day above this many litres (None: off)
    silent_after: timedelta = timedelta(hours=48)
    # An open alert nobody acknowledged repeats (a reminder) this often (0: never) ...
    reminder_interval: timedelta = DEFAULT_REMINDER_INTERVAL
    # ... and escalates once this long after it was raised (0: never).
    escalation_delay: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        """Refuse settings that cannot work, with a message a user understands."""
        if not isinstance(self.continuous_by_design, bool):
            raise ValueError("continuous_by_design must be true or false")
        for name in ("night_start", "night_end", "night_check"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"{name} must be a local time of day (like 06:00)")
        for name in ("night_flow_lph", "high_use_factor"):
            if not _is_number(getattr(self, name)):
                raise ValueError(f"{name} must be a number")
        if self.daily_limit_l is not None and not _is_number(self.daily_limit_l):
            raise ValueError("daily_limit_l must be a number of litres or empty")
        if not isinstance(self.silent_after, timedelta):
            raise ValueError("silent_after must be a duration")
        if not isinstance(self.timezone, str):
            raise ValueError("timezone must be a time zone name like Europe/Stockholm")
        try:
            _zone(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as err:
            raise ValueError(f"unknown time zone {self.timezone!r}") from err
        if self.high_use_factor < 1:
            raise SettingsError(
                "high_use_factor_low",
                f"high_use_factor must be at least 1 (a day above {self.high_use_factor:g} × "
                "the median would flag ordinary days)",
                factor=f"{self.high_use_factor:g}",
            )
        if self.night_flow_lph < 0:
            raise SettingsError(
                "night_flow_negative",
                f"night_flow_lph must not be negative (got {self.night_flow_lph:g})",
            )
        if self.daily_limit_l is not None and self.daily_limit_l < 0:
            raise SettingsError(
                "daily_limit_negative",
                f"daily_limit_l must not be negative (got {self.daily_limit_l:g})",
            )
        if self.silent_after < MIN_SILENT_AFTER:
            raise SettingsError(
                "silent_after_short",
                f"silent_after must be at least 1 hour (got {_duration(self.silent_after)})",
            )
        if not isinstance(self.reminder_interval, timedelta) or not (
            not self.reminder_interval or _MINUTE <= self.reminder_interval <= MAX_REMINDER_INTERVAL
        ):
            raise SettingsError(
                "reminder_range",
                "the reminder interval must be off or between 1 minute and 24 hours",
            )
        if not isinstance(self.escalation_delay, timedelta) or not (
            not self.escalation_delay or _MINUTE <= self.escalation_delay <= MAX_ESCALATION_DELAY
        ):
            raise SettingsError(
                "escalation_range",
                "the escalation delay must be off or between 1 minute and 7 days",
            )
        if self.night_start == self.night_end:
            raise SettingsError(
                "water_night_empty",
                "the night window must not be empty (night_start equals night_end, "
                f"{self.night_start:%H:%M})",
            )
        if self.in_night(self.night_check):
            raise SettingsError(
                "night_check_in_night",
                f"night_check {self.night_check:%H:%M} must not fall inside the night window "
                f"{self.night_start:%H:%M}-{self.night_end:%H:%M} "
                "(a night is judged after it ends)",
                check=f"{self.night_check:%H:%M}",
                start=f"{self.night_start:%H:%M}",
                end=f"{self.night_end:%H:%M}",
            )

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the wall-clock times are in."""
        return _zone(self.timezone)

    def in_night(self, wall: time) -> bool:
        """Is the local wall-clock time inside ``[night_start, night_end)``?"""
        if self.night_start < self.night_end:
            return self.night_start <= wall < self.night_end
        return wall >= self.night_start or wall < self.night_end

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: times as ``HH:MM[:SS]``, ``silent_after`` as whole seconds."""
        return settings_as_dict(self)

    @classmethod
    def from_dict(
        cls, values: Mapping[str, Any], base: MeterSettings | None = None
    ) -> MeterSettings:
        """Settings from ``values`` on top of ``base`` (missing or ``None`` keys are kept).

        Times may be ``time`` objects or ``"HH:MM[:SS]"``; ``silent_after`` a ``timedelta``,
        seconds, or a ``{"days", "hours", "minutes", "seconds"}`` mapping (Home Assistant's
        duration selector). Raises ``ValueError`` naming the bad key.
        """
        return settings_from_dict(cls, values, base)
