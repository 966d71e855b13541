"""The care engine's words: its limits, statuses, reasons, events, inputs and answers.

What it is given (sensor health, the kind of an activity) and what it answers (events,
evaluations).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ..device import DeviceConfig, DeviceState
from ..values import utc as _utc

LATE_AFTER = timedelta(seconds=60)  # an event this much after its due time is "late"
MAX_CATCH_UP = timedelta(days=7)  # after a longer outage, older deadlines are not judged
FIRED_MEMORY = 256  # event ids remembered per apartment
PENDING_MEMORY = 1024  # activity times recorded but not yet evaluated
MAX_OPEN_ALERTS = 64  # a guard on open check alerts per apartment (weeks of them)
GATEWAY_QUIET_EVIDENCE = 3  # reports missed together that make a gateway, not a sensor, silent


class Status(StrEnum):
    """The outcome of a care check for one apartment."""

    OK = "ok"
    CHECK_NEEDED = "check_needed"
    ACKNOWLEDGED = "acknowledged"
    PAUSED = "paused"
    SENSOR_OFFLINE = "sensor_offline"  # cannot tell


class Reason(StrEnum):
    """Why an apartment is not ``ok``."""

    NO_MORNING_ACTIVITY = "no_morning_activity"
    INACTIVE = "inactive"
    NIGHT_DOOR = "night_door"
    SENSOR_SILENT = "sensor_silent"
    GATEWAY_DOWN = "gateway_down"
    NO_SENSORS = "no_sensors"
    PAUSED = "paused"
    DISABLED = "disabled"


class EventType(StrEnum):
    """The building's care alert events."""

    CHECK_NEEDED = "check_needed"
    SENSOR_OFFLINE = "sensor_offline"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REMINDER = "reminder"  # an open alert nobody has acknowledged, again


class Resolution(StrEnum):
    """What closed an alert (``CareEvent.resolution`` of a ``resolved`` event)."""

    ACTIVITY = "activity"
    SENSORS_BACK = "sensors_back"
    GATEWAY_BACK = "gateway_back"  # its gateway delivers again, a sensor is still silent
    PAUSED = "paused"
    DISABLED = "disabled"


class ActivityKind(StrEnum):
    """What an activity was: movement (motion, presence) or a door change."""

    MOTION = "motion"
    DOOR = "door"


# -- inputs --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SensorHealth:
    """One sensor a care check depends on, as known now."""

    key: str  # DevEUI
    last_seen: datetime | None
    silence_limit: timedelta  # report interval × missed reports
    gateway_down: bool = False
    report_interval: timedelta | None = None  # None: not known (its gateway is not loaded)

    def unavailable_at(self, started: datetime, now: datetime) -> datetime:
        """When the sensor went (or goes) silent; ``now`` for a down gateway."""
        if self.last_seen is None:
            at = started + self.silence_limit
        else:
            at = _utc(self.last_seen) + self.silence_limit
        return min(at, now) if self.gateway_down else at


def sensor_health(
    config: DeviceConfig, state: DeviceState, *, gateway_down: bool = False
) -> SensorHealth:
    """The health input of a tracked device (silence limit = interval × missed reports)."""
    return SensorHealth(
        key=config.dev_eui,
        last_seen=state.last_seen,
        silence_limit=config.silence_limit,
        gateway_down=gateway_down,
        report_interval=config.interval,
    )


def gateway_quiet(
    sensors: Iterable[SensorHealth], last_message: datetime | None, now: datetime
) -> bool:
    """Whether a gateway's silence, not its sensors', is why they cannot tell.

    ``sensors`` are the care sensors one building hears through one gateway;
    ``last_message`` is the gateway's last message from any device while Home Assistant
    was listening. The gateway is judged down when at least two such sensors exist, one of
    them is past its own silence limit, and nothing at all came through the gateway for so
    long that its sensors together missed at least ``GATEWAY_QUIET_EVIDENCE`` reports
    (every sensor's last report is no newer than the gateway's last message). One dead
    sensor on a healthy gateway is no such evidence: the others keep reporting (two lost
    reports in a row of one other sensor are needed to mistake it). A gateway that goes
    down is found when its first sensor falls silent, so its apartments cannot tell
    together — one incident — long before its own silence limit (default 60 min) ends.
    """
    if last_message is None:
        return False
    quiet = now - _utc(last_message)
    if quiet <= timedelta(0):
        return False
    heard = 0
    missed = 0
    past_limit = False
    for sensor in sensors:
        if sensor.last_seen is None or sensor.report_interval is None:
            continue
        heard += 1
        if sensor.report_interval > timedelta(0):
            missed += quiet // sensor.report_interval
        past_limit = past_limit or _utc(sensor.last_seen) + sensor.silence_limit <= now
    return heard >= 2 and past_limit and missed >= GATEWAY_QUIET_EVIDENCE


def activity_kind(fields: Mapping[str, Any]) -> ActivityKind:
    """Classify the decoded fields of an uplink that ``DeviceState.apply`` saw as activity."""
    count = fields.get("motion_count")
    occupancy = fields.get("occupancy")
    if (
        (isinstance(count, int) and count > 0)
        or fields.get("presence") is True
        or fields.get("close_proximity") is True
        or (isinstance(occupancy, int) and occupancy >= 1)
    ):
        return ActivityKind.MOTION
    return ActivityKind.DOOR if "door" in fields else ActivityKind.MOTION


# -- outputs -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CareEvent:
    """One building "care alert" event; fired once per ``id``."""

    type: EventType
    apartment: str
    reason: str
    since: datetime  # check_needed: when it fired; sensor_offline: when the sensor went silent
    late: bool  # Home Assistant was not running when it came due
    id: str  # unique per alert and type
    alert_id: str
    user: str | None = None  # acknowledged: who
    resolution: Resolution | None = None  # resolved: why
    count: int | None = None  # reminder: the how-manieth

    def as_dict(self) -> dict[str, Any]:
        """Event data for the bus (no resident data: an apartment label, reasons, times)."""
        out: dict[str, Any] = {
            "type": str(self.type),
            "apartment": self.apartment,
            "reason": self.reason,
            "since": self.since.isoformat(),
            "late": self.late,
            "id": self.id,
            "alert_id": self.alert_id,
        }
        if self.user is not None:
            out["user"] = self.user
        if self.resolution is not None:
            out["resolution"] = str(self.resolution)
        if self.count is not None:
            out["count"] = self.count
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """The care check of one apartment at one moment."""

    status: Status
    reason: str | None
    since: datetime  # when the status began
    next_check: datetime | None  # when a check is needed unless activity is seen first
    next_wakeup: datetime | None  # call evaluate again then if nothing else happens
    events: tuple[CareEvent, ...] = ()
    rechecking: str | None = None  # a deadline passed: the reason, until the re-check
    alert_id: str | None = None  # the open alert the status is about
    acknowledged_by: str | None = None
    last_activity: datetime | None = None  # resolution: one report interval
    offline_sensors: tuple[str, ...] = ()
    pause_until: datetime | None = None
    open_alerts: tuple[OpenAlert, ...] = ()  # every open alert, check alerts oldest first


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAlert:
    """One open alert as the status shows it (no resident data)."""

    id: str
    kind: EventType
    reason: str
    since: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    @property
    def waiting(self) -> bool:
        """Not yet acknowledged: someone must act."""
        return self.acknowledged_at is None
