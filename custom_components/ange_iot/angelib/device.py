"""Per-device state: latest values, last seen, availability, volume guard.

Pure and serialisable, so the HA layer can persist it with ``Store`` and recompute
availability after a restart from the stored last-seen time.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .catalog import Kind, Model, model_by_id
from .generic import GENERIC_CODEC, FieldOverride, GenericState, Role, roles_of
from .uplink import Uplink
from .values import parse_when

DEFAULT_MISSED_REPORTS = 3
DEDUP_MEMORY = 32  # recent (fCnt, payload) pairs remembered per device (not persisted)
FRAME_WINDOW = 512  # frame counters remembered below the highest one applied (persisted)

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


class Frame(StrEnum):
    """How an uplink relates to the frames a device has already applied."""

    NEW = "new"  # newer than anything applied
    LATE = "late"  # older than the last applied frame, but never applied itself
    DUPLICATE = "duplicate"  # applied already (a second transport, a re-delivery, a replay)
    STALE = "stale"  # older than the frames remembered: it may have been applied; refused


@dataclass(slots=True, kw_only=True)
class AppliedFrames:
    """Which frames of one device were applied, across restarts.

    A sliding window over the frame counter, like the anti-replay window of IPsec (RFC 4303
    section 3.4.3): ``top`` is the highest fCnt applied in the current counter epoch and bit
    ``i`` of ``bits`` says whether fCnt ``top - i`` was applied. A counter that starts over
    (a rejoin, a reset ABP device) starts a new epoch at ``since``; anything received
    before it, or below the window, cannot be told apart from an applied frame and is
    refused. An uplink received after the last applied one is new, whatever its counter.
    """

    since: datetime | None = None  # when the counter last started over (None: never seen)
    top: int | None = None
    bits: int = 0

    def classify(self, fcnt: int, received_at: datetime, last_seen: datetime | None) -> Frame:
        """Where an uplink with ``fcnt`` received at ``received_at`` stands."""
        if last_seen is None or received_at > last_seen:
            return Frame.NEW
        if self.since is not None and received_at < self.since:
            return Frame.STALE
        if self.top is None:
            return Frame.LATE  # a state stored before frames were kept, with no fCnt
        offset = self.top - fcnt
        if offset < 0:
            return Frame.LATE  # beyond every frame applied in this epoch: never applied
        if offset >= FRAME_WINDOW:
            return Frame.STALE
        return Frame.DUPLICATE if self.bits >> offset & 1 else Frame.LATE

    def remember(self, fcnt: int, received_at: datetime) -> None:
        """Mark ``fcnt`` applied (a new one moves the window; one seen before restarts it)."""
        if self.top is None or fcnt > self.top:
            shift = fcnt - self.top if self.top is not None else FRAME_WINDOW
            self.bits = ((self.bits << shift) | 1) & _WINDOW_MASK if shift < FRAME_WINDOW else 1
            self.top = fcnt
            return
        offset = self.top - fcnt
        if offset < FRAME_WINDOW and not self.bits >> offset & 1:
            self.bits |= 1 << offset
            return
        # The counter went back to a frame already applied (or far below): it started over.
        self.since, self.top, self.bits = received_at, fcnt, 1

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: the window as a hex string."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "top": self.top,
            "bits": format(self.bits, "x"),
        }

    @classmethod
    def from_dict(cls, data: object, fcnt: int | None) -> AppliedFrames:
        """Rebuild a snapshot; a state stored before frames were kept knows its last fCnt."""
        if isinstance(data, dict):
            top, bits = data.get("top"), data.get("bits")
            if isinstance(top, int) and not isinstance(top, bool) and isinstance(bits, str):
                try:
                    mask = int(bits, 16) & _WINDOW_MASK
                except ValueError:
                    mask = 1
                return cls(since=parse_when(data.get("since")), top=top, bits=mask)
        return cls(top=fcnt, bits=1) if fcnt is not None else cls()


_WINDOW_MASK = (1 << FRAME_WINDOW) - 1
_NUMBER = (int, float)  # a tuple: ``int | float`` builds a union at every call


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
    frames: AppliedFrames = field(default_factory=AppliedFrames)
    generic: GenericState | None = None  # what a generic device learned about its fields
    recent: deque[tuple[int, bytes]] = field(default_factory=lambda: deque(maxlen=DEDUP_MEMORY))

    def classify(self, uplink: Uplink) -> Frame:
        """Is ``uplink`` new, late, already applied, or too old to tell?

        "Applied once" holds across restarts and replays: the frame window is stored with
        the state. The in-memory (fCnt, payload) memory also catches a copy whose time was
        replaced (stamped in the future); an fCnt reset after a rejoin carries a different
        payload and is not a duplicate there.
        """
        if (uplink.fcnt, uplink.payload) in self.recent:
            return Frame.DUPLICATE
        return self.frames.classify(uplink.fcnt, uplink.received_at, self.last_seen)

    def is_duplicate(self, uplink: Uplink) -> bool:
        """True for an uplink that must not be applied (applied already, or too old to tell)."""
        return self.classify(uplink) in (Frame.DUPLICATE, Frame.STALE)

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
        self.frames.remember(uplink.fcnt, uplink.received_at)
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
        if isinstance(volume, _NUMBER):
            previous = self.values.get("volume")
            if isinstance(previous, _NUMBER) and volume < previous:
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
        """A JSON-safe snapshot for persistence (with the applied-frames window)."""
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
            "frames": self.frames.as_dict(),
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
        fcnt = data.get("fcnt") if isinstance(data.get("fcnt"), int) else None
        return cls(
            last_seen=when("last_seen"),
            last_activity=when("last_activity"),
            values=dict(values) if isinstance(values, dict) else {},
            rssi=_num(data.get("rssi")),
            snr=_num(data.get("snr")),
            fcnt=fcnt,
            rejected_frames=_count(data.get("rejected_frames")),
            volume_decreased=bool(data.get("volume_decreased")),
            rejected_volume=_num(data.get("rejected_volume")),
            alarm_since=alarm_since,
            frames=AppliedFrames.from_dict(data.get("frames"), fcnt),
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
