"""Shared pieces of every payload codec: the decode error and the codec record."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
import math
from typing import Any

type Fields = dict[str, Any]

# Canonical field names (../shared/specs/payloads.md). A codec returns only these
# plus the extra names its module declares in ``EXTRA_FIELDS``.
CANONICAL_FIELDS: frozenset[str] = frozenset(
    {
        "temperature",
        "humidity",
        "illuminance",
        "motion_count",
        "occupancy",
        "presence",
        "close_proximity",
        "door",
        "door_alarm",
        "water_leak",
        "wetness",
        "co2",
        "tvoc",
        "pressure",
        "sound_peak",
        "sound_avg",
        "external_temperature",
        "battery_voltage",
        "battery",
        "distance",
        "valid_samples",
        "tilt",
        "volume",
        "water_temperature",
        "meter_time",
        "volume_log_m3",
        "volume_log_times",  # sibling of volume_log_m3: ISO-8601 UTC hour stamps
        "leak",
        "burst",
        "dry",
        "reverse_flow",
        "tamper",
        "freeze",
        "low_battery",
        "permanent_error",
    }
)


class DecodeError(ValueError):
    """A frame that cannot be decoded. The message says what and where.

    ``offset`` is the byte index the problem was found at, when there is one.
    """

    codec: str = "unknown"

    def __init__(self, message: str, *, offset: int | None = None) -> None:
        """Keep the byte offset next to the human message."""
        self.offset = offset
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{self.codec}: {message}{where}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Codec:
    """One payload codec family."""

    id: str
    name: str
    models: tuple[str, ...]
    default_fport: int
    decode: Callable[[int, bytes], Fields]
    error: type[DecodeError]
    extra_fields: frozenset[str] = frozenset()
    doc: str = ""


def require(payload: bytes, offset: int, length: int, what: str, error: type[DecodeError]) -> None:
    """Raise ``error`` unless ``length`` bytes starting at ``offset`` exist."""
    if offset + length > len(payload):
        raise error(
            f"truncated {what}: need {length} byte(s), {max(0, len(payload) - offset)} left",
            offset=offset,
        )


def only_known(fields: Mapping[str, Any], extra: frozenset[str]) -> bool:
    """True when every key is canonical or a declared extra (used by tests)."""
    return all(k in CANONICAL_FIELDS or k in extra for k in fields)


def scaled_int(fields: Mapping[str, Any], key: str, scale: float, low: int, high: int) -> int:
    """``fields[key] × scale`` rounded, for an encoder; TypeError / ValueError if unfit."""
    value = fields[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key} must be a number, got {value!r}")
    try:
        scaled = float(value) * scale
    except OverflowError:
        scaled = math.inf
    raw = round(scaled) if low - 1 <= scaled <= high + 1 else None  # no round(inf/nan)
    if raw is None or not low <= raw <= high:
        raise ValueError(f"{key}={value!r} out of range ({low / scale:g} to {high / scale:g})")
    return raw
