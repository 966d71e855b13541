"""The water meters' words: limits, alert types, and the reading one uplink gives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ..values import (
    is_number as _is_number,
    parse_when as _parse_when,
    utc as _utc,
)

HOUR = timedelta(hours=1)
KEEP = timedelta(days=35)  # hourly points kept for the rules (30-day median + margin)
MEDIAN_DAYS = 30
MIN_MEDIAN_DAYS = 7
CONTINUOUS_HOURS = 24
CLEAN_NIGHTS = 2
EPS_M3 = 1e-9  # float noise in m³; registers count litres or tenths of litres
ZERO_L = 1e-6  # litres: no use at or below this; thresholds must be passed by more
CLOCK_AHEAD = timedelta(minutes=15)  # a meter clock this far ahead of reception is trusted
CLOCK_BEHIND = timedelta(days=7)  # ... and this far behind
MIN_SILENT_AFTER = HOUR


class AlertType(StrEnum):
    """What is wrong with a water meter."""

    # The meter's own alarms (canonical codec flags of the same name).
    LEAK = "leak"
    BURST = "burst"
    REVERSE_FLOW = "reverse_flow"
    DRY = "dry"
    TAMPER = "tamper"
    FREEZE = "freeze"
    # Derived from the readings.
    CONTINUOUS_FLOW = "continuous_flow"
    NIGHT_FLOW = "night_flow"
    HIGH_USE = "high_use"
    SILENT = "silent"
    BACKWARDS = "backwards"


DEVICE_ALARMS: tuple[AlertType, ...] = (
    AlertType.LEAK,
    AlertType.BURST,
    AlertType.REVERSE_FLOW,
    AlertType.DRY,
    AlertType.TAMPER,
    AlertType.FREEZE,
)
DERIVED: tuple[AlertType, ...] = (
    AlertType.CONTINUOUS_FLOW,
    AlertType.NIGHT_FLOW,
    AlertType.HIGH_USE,
    AlertType.SILENT,
    AlertType.BACKWARDS,
)


@dataclass(frozen=True, slots=True)
class MeterReading:
    """What one uplink tells about one meter."""

    received_at: datetime  # aware UTC
    volume_m3: float | None  # current register
    volume_at: datetime | None  # when the register was read (meter clock, else reception)
    log: tuple[tuple[datetime, float], ...]  # hourly register log (UTC, m³), oldest first
    alarms: Mapping[AlertType, bool]  # device flags in this uplink (absent: not reported)


def reading_from_fields(fields: Mapping[str, Any], received_at: datetime) -> MeterReading:
    """The reading in one uplink's canonical decoded fields.

    ``volume`` is the register at ``meter_time`` (the meter's clock) when the frame carries a
    plausible one (at most 15 minutes ahead of reception, at most 7 days behind), else at
    reception. ``volume_log_m3`` and ``volume_log_times`` become the log when they have the
    same length, every value is a register and every stamp a time not ahead of reception;
    otherwise the log is ignored.
    """
    received = _utc(received_at)
    volume = fields.get("volume")
    volume_m3 = float(volume) if _is_number(volume) and volume >= 0 else None
    volume_at: datetime | None = None
    if volume_m3 is not None:
        meter_time = _parse_when(fields.get("meter_time"))
        plausible = meter_time is not None and (
            received - CLOCK_BEHIND <= meter_time <= received + CLOCK_AHEAD
        )
        volume_at = meter_time if plausible and meter_time is not None else received
    alarms: dict[AlertType, bool] = {}
    for alarm in DEVICE_ALARMS:
        flag = fields.get(str(alarm))
        if isinstance(flag, bool):
            alarms[alarm] = flag
    return MeterReading(
        received_at=received,
        volume_m3=volume_m3,
        volume_at=volume_at,
        log=_log(fields.get("volume_log_m3"), fields.get("volume_log_times"), received),
        alarms=alarms,
    )


def _log(values: object, stamps: object, received: datetime) -> tuple[tuple[datetime, float], ...]:
    if not isinstance(values, list | tuple) or not isinstance(stamps, list | tuple):
        return ()
    if len(values) != len(stamps):
        return ()
    out: list[tuple[datetime, float]] = []
    for value, stamp in zip(values, stamps, strict=True):
        when = _parse_when(stamp) if isinstance(stamp, str) else None
        if when is None or when > received + CLOCK_AHEAD or not _is_number(value) or value < 0:
            return ()
        out.append((when, float(value)))
    out.sort(key=lambda item: item[0])
    return tuple(out)


def floor_hour(value: datetime) -> datetime:
    """The start of the UTC hour ``value`` falls in."""
    return value.replace(minute=0, second=0, microsecond=0)


def ceil_hour(value: datetime) -> datetime:
    """The next whole UTC hour (``value`` itself when it is one)."""
    floor = floor_hour(value)
    return floor if floor == value else floor + HOUR
