"""Per-device state: latest values, last seen, availability, volume guard.

Pure and serialisable, so the HA layer can persist it with ``Store`` and recompute
availability after a restart from the stored last-seen time.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .catalog import Kind, Model, model_by_id
from .generic import GENERIC_CODEC, FieldOverride, GenericState, Role, roles_of
from .uplink import Uplink
from .values import parse_when

DEFAULT_MISSED_REPORTS = 3
DEDUP_MEMORY = 32  # recent (fCnt, payload) pairs remembered per device

# Fields whose change counts as "someone is up and about".
ACTIVITY_DOOR = "door"

# Alarm flags a device reports about itself: each is shown with the time it was first seen.
ALARM_FLAGS = frozenset(
    {
        "leak",
        "burst",
        "dry",
        "reverse_flow",
        "tamper",
        "freeze",
        "permanent_error",
        "low_battery",
        "tilt",
    }
)


@dataclass(slots=True, kw_only=True)
class DeviceConfig:
    """What the facility manager configured for one device."""

    dev_eui: str
    model_id: str
    name: str
    report_interval_s: int | None = None  # None: the model's default
    missed_reports: int = DEFAULT_MISSED_REPORTS
    invert_door: bool = False
    mounting_height_mm: int | None = None
    area: str | None = None  # apartment label, building or lot (no resident names)
    # Generic devices: the facility manager's corrections per field, the suggested model
    # text (the network server's profile name) and the interval learned from the first
    # uplinks (used while no report interval is set).
    field_overrides: dict[str, FieldOverride] = field(default_factory=dict)
    model_text: str | None = None
    learned_interval_s: int | None = None

    @property
    def model(self) -> Model:
        """The catalogue entry or the generic device (KeyError for an unknown model id)."""
        return model_by_id(self.model_id)

    @property
    def is_generic(self) -> bool:
        """Decoded by the network server rather than by one of our codecs."""
        return self.model.codec == GENERIC_CODEC

    @property
    def interval(self) -> timedelta:
        """The expected time between two reports."""
        return timedelta(
            seconds=self.report_interval_s
            or self.learned_interval_s
            or self.model.report_interval_s
        )

    @property
    def silence_limit(self) -> timedelta:
        """How long the device may be silent before it is unavailable."""
        return self.interval * max(1, self.missed_reports)


@dataclass(slots=True)
class ApplyResult:
    """What one decoded uplink changed."""

    fields: dict[str, Any]
    activity: bool
    volume_rejected: float | None = None  # a decreasing reading that was not applied
    late: bool = False  # older than the last applied uplink: history only


@dataclass(slots=True, kw_only=True)
class DeviceState:
    """Latest known state of one device."""

    last_seen: datetime | None = None
    values: dict[str, Any] = field(default_factory=dict)
    rssi: float | None = None
    snr: float | None = None
    fcnt: int | None = None
    last_activity: datetime | None = None
    rejected_frames: int = 0
    volume_decreased: bool = False
    rejected_volume: float | None = None
    # Alarm flags currently on, with the time each was first seen (cleared when reported off).
    alarm_since: dict[str, datetime] = field(default_factory=dict)
    generic: GenericState | None = None  # what a generic device learned about its fields
    recent: deque[tuple[int, bytes]] = field(default_factory=lambda: deque(maxlen=DEDUP_MEMORY))

    def is_duplicate(self, uplink: Uplink) -> bool:
        """True for an uplink already applied (same fCnt and payload seen recently).

        An fCnt reset after a rejoin carries a different payload and is not a duplicate.
        """
        return (uplink.fcnt, uplink.payload) in self.recent

    def available(self, config: DeviceConfig, now: datetime) -> bool:
        """Available while the last report is younger than the silence limit."""
        return self.last_seen is not None and now - self.last_seen < config.silence_limit

    def unavailable_at(self, config: DeviceConfig) -> datetime | None:
        """When the device goes unavailable unless it reports again."""
        return None if self.last_seen is None else self.last_seen + config.silence_limit

    def apply(self, config: DeviceConfig, uplink: Uplink, fields: dict[str, Any]) -> ApplyResult:
        """Merge decoded ``fields`` from ``uplink`` into the state.

        A late uplink (older than the last one applied, e.g. replayed by a backfill after an
        outage) still counts as activity and is returned for history, but never replaces
        newer current values.
        """
        self.recent.append((uplink.fcnt, uplink.payload))
        result = ApplyResult(fields=fields, activity=False)
        late = self.last_seen is not None and uplink.received_at < self.last_seen
        if not late:
            self.last_seen = uplink.received_at
            self.rssi, self.snr, self.fcnt = uplink.rssi, uplink.snr, uplink.fcnt
        result.late = late
        applied = dict(fields)
        if is_activity(self.values, applied) and not (
            late and set(applied) <= {ACTIVITY_DOOR}  # a late door report proves no change
        ):
            result.activity = True
            if self.last_activity is None or uplink.received_at > self.last_activity:
                self.last_activity = uplink.received_at
        if late:
            return result
        volume = applied.get("volume")
        if isinstance(volume, float | int):
            previous = self.values.get("volume")
            if isinstance(previous, float | int) and volume < previous:
                # A meter swap or a bad frame: never feed a decrease into statistics.
                del applied["volume"]
                self.volume_decreased = True
                self.rejected_volume = float(volume)
                result.volume_rejected = float(volume)
            else:
                self.volume_decreased = False
                self.rejected_volume = None
        for name in ALARM_FLAGS.intersection(applied):
            if applied[name] is True:
                self.alarm_since.setdefault(name, uplink.received_at)
            else:
                self.alarm_since.pop(name, None)
        self.values.update(applied)
        return result

    def accept_volume(self) -> None:
        """Accept a lower meter reading as the new baseline (meter replaced)."""
        if self.rejected_volume is not None:
            self.values["volume"] = self.rejected_volume
        self.volume_decreased = False
        self.rejected_volume = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe snapshot for persistence (dedup memory is not kept)."""
        return {
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "last_activity": self.last_activity.isoformat() if self.last_activity else None,
            "values": {k: v for k, v in self.values.items() if k not in NOT_PERSISTED},
            "rssi": self.rssi,
            "snr": self.snr,
            "fcnt": self.fcnt,
            "rejected_frames": self.rejected_frames,
            "volume_decreased": self.volume_decreased,
            "rejected_volume": self.rejected_volume,
            "alarm_since": {k: v.isoformat() for k, v in self.alarm_since.items()},
            **({"generic": self.generic.as_dict()} if self.generic is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceState:
        """Rebuild a snapshot written by ``as_dict``; tolerant of missing keys."""

        def when(key: str) -> datetime | None:
            return parse_when(data.get(key))

        values = data.get("values")
        since = data.get("alarm_since")
        alarm_since: dict[str, datetime] = {}
        if isinstance(since, dict):
            for name, raw in since.items():
                parsed = parse_when(raw)
                if name in ALARM_FLAGS and parsed is not None:
                    alarm_since[name] = parsed
        return cls(
            last_seen=when("last_seen"),
            last_activity=when("last_activity"),
            values=dict(values) if isinstance(values, dict) else {},
            rssi=_num(data.get("rssi")),
            snr=_num(data.get("snr")),
            fcnt=data.get("fcnt") if isinstance(data.get("fcnt"), int) else None,
            rejected_frames=_count(data.get("rejected_frames")),
            volume_decreased=bool(data.get("volume_decreased")),
            rejected_volume=_num(data.get("rejected_volume")),
            alarm_since=alarm_since,
            generic=GenericState.from_dict(data["generic"]) if "generic" in data else None,
        )


# Hourly logs are history, not state: they belong to statistics, not to the snapshot.
NOT_PERSISTED = frozenset({"volume_log_m3", "volume_log_times", "history"})


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def device_kinds(config: DeviceConfig, state: DeviceState | None = None) -> frozenset[Kind]:
    """What a device is for: its model's kind, or the roles of a generic device's fields.

    A generic device's roles are the facility manager's choices (``field_overrides``); with
    its learned fields (``state``) a role its field's meaning cannot serve is left out.
    """
    if not config.is_generic:
        return frozenset({config.model.kind})
    if state is not None and state.generic is not None:
        roles = roles_of(state.generic, config.field_overrides)
    else:
        roles = frozenset(o.role for o in config.field_overrides.values() if not o.hidden)
    return frozenset(_ROLE_KINDS[role] for role in roles if role in _ROLE_KINDS)


_ROLE_KINDS = {
    Role.ACTIVITY: Kind.ACTIVITY,
    Role.WATER_VOLUME: Kind.WATER_METER,
    Role.SNOW_DISTANCE: Kind.DISTANCE,
}


def is_activity(previous: dict[str, Any], fields: dict[str, Any]) -> bool:
    """Does this report show a person moving: motion, presence, or a door change?"""
    count = fields.get("motion_count")
    if isinstance(count, int) and count > 0:
        return True
    if fields.get("presence") is True or fields.get("close_proximity") is True:
        return True
    occupancy = fields.get("occupancy")
    if isinstance(occupancy, int) and occupancy >= 1:
        return True
    return (
        ACTIVITY_DOOR in fields
        and ACTIVITY_DOOR in previous
        and fields[ACTIVITY_DOOR] != previous[ACTIVITY_DOOR]
    )


def snow_depth_cm(distance_mm: float, mounting_height_mm: float) -> float:
    """Snow depth from an ultrasonic distance: mounting height minus distance, >= 0."""
    return round(max(0.0, (mounting_height_mm - distance_mm) / 10), 1)
