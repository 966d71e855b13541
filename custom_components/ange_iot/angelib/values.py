"""Small value helpers the pure engines share: numbers, times, durations, time zones.

Stored state and settings come back from JSON and from UI forms, so every engine parses
the same shapes the same way: aware UTC datetimes (a naive one is taken as UTC), local
wall-clock times without a zone, durations as seconds or a duration-selector mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
import math
from typing import TypeGuard
from zoneinfo import ZoneInfo


def is_number(value: object) -> TypeGuard[int | float]:
    """A finite int or float (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@lru_cache(maxsize=32)
def zone(name: str) -> ZoneInfo:
    """A time zone by name, cached (raises for an unknown name)."""
    return ZoneInfo(name)


def hm(delta: timedelta) -> str:
    """A duration as "4 h 05 min" (for messages)."""
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def parse_time(value: object) -> time:
    """A local wall-clock time from a ``time`` or "HH:MM[:SS]"; ValueError otherwise."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            parsed = time.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                return parsed
    raise ValueError(f"expected a time of day like 06:30, got {value!r}")


def parse_duration(value: object) -> timedelta:
    """A duration from a timedelta, seconds, or a duration selector's mapping."""
    if isinstance(value, timedelta):
        return value
    if is_number(value):
        return timedelta(seconds=float(value))
    if isinstance(value, Mapping):
        parts = {k: value.get(k, 0) for k in ("days", "hours", "minutes", "seconds")}
        if all(is_number(v) for v in parts.values()) and set(value) <= set(parts):
            return timedelta(**parts)
    raise ValueError(f"expected a duration in seconds, got {value!r}")


def utc(value: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is a programming error (ValueError)."""
    if value.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO-8601 text of a time, or None."""
    return value.isoformat() if value is not None else None


def parse_when(value: object) -> datetime | None:
    """An aware UTC datetime from a datetime or ISO-8601 text (``Z`` allowed; naive = UTC).

    Anything else (junk in a stored file) gives None.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
