"""Care checks ("tillsyn") for an LSS group home: a pure, clock-driven rule engine.

One apartment at a time, from activity times, the health of the sensors the check depends
on, pause and acknowledgement, and the clock, ``evaluate`` says whether all is well, a check
is needed, someone is on it, the checks are paused, or we cannot tell (a sensor or the gateway
is silent). The Home Assistant layer calls ``evaluate`` whenever an input changes and at the
returned ``next_wakeup``, persists ``ApartmentState`` (``as_dict``/``from_dict``) and turns the
returned ``CareEvent`` objects into events. Nothing in here reads the clock.

The rules (times are local wall-clock times in ``CareSettings.timezone``):

* **Morning check**: if no activity is seen in ``[morning_start, morning_deadline + grace]``
  (both ends inclusive), a check is needed at ``morning_deadline + grace``, reason
  ``no_morning_activity``. Activity in the grace period (the Swedish re-check after 15-20
  minutes) cancels it; activity before ``morning_start`` (a resident up all night, asleep in
  the morning) does not satisfy it.
* **Daytime inactivity**: a day's anchor is the latest of the last activity, the last
  acknowledgement, the end of the last pause, the start of watching and that day's
  ``active_start``. If ``anchor + inactivity_limit`` (elapsed time, not wall-clock) falls
  within that day's active hours ``[active_start, active_end)``, a check is needed at
  ``anchor + limit + grace``, reason ``inactive``, unless activity is seen before (the
  re-check may fall after ``active_end``). A deadline at or after ``active_end`` does not
  count; inactive time does not carry over into the next day.
* **Night door** (optional): a door change in ``[night_start, night_end)`` (may cross
  midnight) needs a check at once (no grace), reason ``night_door``, even while a sensor is
  silent. Only an acknowledgement followed by activity resolves it (the door and motion
  inside are no proof that the resident is back).
* **Cannot tell**: a sensor whose last report is ``silence_limit`` old or older (the same rule
  as ``DeviceState.available``), a sensor never heard from for ``silence_limit`` after watching
  started, a down gateway, or no sensor at all, make the status ``sensor_offline`` with its own
  alert. It overrides ``ok``, ``check_needed`` and ``acknowledged``: it is never shown as well.
  A deadline that passes while we cannot tell is judged when the sensors are back (with the
  activity known by then) and fires then if still unmet.
* **Pause** (resident away, visited) suppresses checks and alerts and closes open alerts
  (``resolved`` with ``resolution="paused"``); deadlines that pass while paused are dropped.
  ``enabled=False`` does the same (status ``paused``, reason ``disabled``).
* **One alert per condition and occasion; an open alert never hides a later one.** Each
  deadline (a day's morning check, an inactivity period, a night's door opening) is its own
  occasion with its own alert, event and notification, whatever else is open: an
  unacknowledged night-door alert from Tuesday does not hide Friday's door opening or the
  next morning's missed check. Only the same occasion is not repeated: more door changes in
  the same night, while that night's alert is open and unacknowledged, add nothing. Each
  check alert has its own clearing rule: morning and inactivity alerts are resolved by
  activity after their window began (acknowledged or not); a night-door alert by an
  acknowledgement followed by activity.

Resolution: sensors report activity per uplink (an Elsys ERS counts PIR triggers over its
10-minute interval), so an activity time is the uplink's time and "last activity" is only as
exact as one report interval.

DST: local times are turned into instants with ``zoneinfo`` and ``fold=0``. A local time that
does not exist (the spring-forward gap, 02:00-03:00 in Sweden) is moved forward by the gap
(02:30 becomes 03:30 summer time); a local time that exists twice (autumn) means its first
occurrence (summer time). Window membership (active hours, night window) compares the local
wall-clock time of the instant, so a night window is an hour shorter or longer on those nights.

Restart: ``evaluate`` walks from the last evaluation time to ``now`` through every deadline,
activity, pause boundary and sensor silence in between, in time order. A deadline that passed
while Home Assistant was down fires once, with ``late=True`` (evaluated more than
``LATE_AFTER`` after the event's own time: the due time, the resolving activity, the
acknowledgement), or, when the caller says since when Home Assistant has been running
(``online_since``), exactly those that came due before it: a reload of the integration is not
downtime. Of several deadlines of one kind that passed while Home Assistant was down with no
activity between them the first fires and covers the rest (one summary, not a storm of late
alerts of the same kind). Nothing fires twice: every event has a
deterministic id and the state remembers the ones already sent. Sensors whose silence limit
ran out while Home Assistant was down give one late ``sensor_offline`` alert, resolved by
their next report. Activity recorded after an evaluation but timestamped before it (a late
uplink, a replay from the network server) is walked too, and resolves an alert it proves
wrong. The walk looks back at most ``MAX_CATCH_UP``.

Event times (``CareEvent.since``): ``check_needed``, when it fired (deadline + grace);
``sensor_offline``, when the first sensor went silent; ``acknowledged``, the acknowledgement;
``resolved``, the resolving activity (not before the alert) or the change that closed it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .device import DeviceConfig, DeviceState
from .errors import SettingsError
from .pipeline import Outcome, Result, TrackedDevice
from .settings_codec import settings_as_dict, settings_from_dict
from .uplink import Uplink
from .values import (
    hm as _hm,
    iso as _iso,
    parse_when as _when,
    utc as _utc,
    zone as _zone,
)

LATE_AFTER = timedelta(seconds=60)  # an event this much after its due time is "late"
MAX_CATCH_UP = timedelta(days=7)  # after a longer outage, older deadlines are not judged
FIRED_MEMORY = 256  # event ids remembered per apartment
PENDING_MEMORY = 1024  # activity times recorded but not yet evaluated
MAX_OPEN_ALERTS = 64  # a guard on open check alerts per apartment (weeks of them)
_MAX_STEPS = 20_000  # a guard; a week's walk takes a few hundred steps


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
    PAUSED = "paused"
    DISABLED = "disabled"


class ActivityKind(StrEnum):
    """What an activity was: movement (motion, presence) or a door change."""

    MOTION = "motion"
    DOOR = "door"


# -- settings ------------------------------------------------------------------------


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


# -- inputs --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SensorHealth:
    """One sensor a care check depends on, as known now."""

    key: str  # DevEUI
    last_seen: datetime | None
    silence_limit: timedelta  # report interval × missed reports
    gateway_down: bool = False

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
    )


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


# -- state ---------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Alert:
    """An open alert of one apartment: a check alert or a sensor-offline alert."""

    id: str
    kind: EventType  # CHECK_NEEDED or SENSOR_OFFLINE
    reason: str
    since: datetime  # check alerts: when it fired; offline: when the first sensor went silent
    due: datetime  # when it fired (the event time)
    watch_from: datetime | None = None  # check alerts: activity from here on resolves it
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    ack_announced: bool = False
    reminders: int = 0  # reminders sent for it
    sensors: tuple[str, ...] = ()

    def resolved_by(self, at: datetime) -> bool:
        """Does activity at ``at`` resolve this check alert?"""
        if self.kind is not EventType.CHECK_NEEDED:
            return False
        if self.reason == Reason.NIGHT_DOOR:
            return self.acknowledged_at is not None and at > self.acknowledged_at
        return _meets(self.reason, self.watch_from, at)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe snapshot."""
        return {
            "id": self.id,
            "kind": str(self.kind),
            "reason": self.reason,
            "since": _iso(self.since),
            "due": _iso(self.due),
            "watch_from": _iso(self.watch_from),
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": _iso(self.acknowledged_at),
            "ack_announced": self.ack_announced,
            "reminders": self.reminders,
            "sensors": list(self.sensors),
        }

    @classmethod
    def from_dict(cls, data: object) -> Alert | None:
        """Rebuild a snapshot; ``None`` for anything unusable."""
        if not isinstance(data, Mapping):
            return None
        since, due = _when(data.get("since")), _when(data.get("due"))
        alert_id, reason = data.get("id"), data.get("reason")
        try:
            kind = EventType(str(data.get("kind")))
        except ValueError:
            return None
        if (
            since is None
            or due is None
            or not isinstance(alert_id, str)
            or not isinstance(reason, str)
            or kind not in (EventType.CHECK_NEEDED, EventType.SENSOR_OFFLINE)
        ):
            return None
        watch_from = _when(data.get("watch_from"))
        if kind is EventType.CHECK_NEEDED and watch_from is None:
            watch_from = since
        by = data.get("acknowledged_by")
        sensors = data.get("sensors")
        return cls(
            id=alert_id,
            kind=kind,
            reason=reason,
            since=since,
            due=due,
            watch_from=watch_from,
            acknowledged_by=by if isinstance(by, str) else None,
            acknowledged_at=_when(data.get("acknowledged_at")),
            ack_announced=data.get("ack_announced") is True,
            reminders=_count(data.get("reminders")),
            sensors=tuple(s for s in sensors if isinstance(s, str))
            if isinstance(sensors, list)
            else (),
        )


@dataclass(frozen=True, slots=True)
class _Obligation:
    """A deadline that came due while we could not tell; judged when the sensors are back."""

    reason: str
    watch_from: datetime


@dataclass(slots=True, kw_only=True)
class ApartmentState:
    """What the engine remembers about one apartment (persist with ``as_dict``)."""

    started: datetime | None = None  # first evaluation: watching began
    evaluated: datetime | None = None  # last evaluation: the walk continues from here
    last_activity: datetime | None = None  # latest activity the engine has evaluated
    pending: list[tuple[datetime, ActivityKind]] = field(default_factory=list)
    pause_from: datetime | None = None
    pause_until: datetime | None = None  # None while paused: until resumed
    pause_applied: bool = False
    reset_at: datetime | None = None  # latest acknowledgement, pause end or (re)start
    disabled_since: datetime | None = None
    ok_since: datetime | None = None
    alerts: list[Alert] = field(default_factory=list)  # open check alerts, oldest first
    offline: Alert | None = None
    deferred: list[_Obligation] = field(default_factory=list)  # one per reason at most
    fired: deque[str] = field(default_factory=lambda: deque(maxlen=FIRED_MEMORY))

    @property
    def latest_activity(self) -> datetime | None:
        """The latest activity recorded, evaluated or not."""
        times = [t for t, _ in self.pending]
        if self.last_activity is not None:
            times.append(self.last_activity)
        return max(times, default=None)

    @property
    def paused(self) -> bool:
        """A pause is set (it may start in the future or have ended since evaluation)."""
        return self.pause_from is not None

    def paused_at(self, at: datetime) -> bool:
        """Is ``at`` inside the pause?"""
        return (
            self.pause_from is not None
            and self.pause_from <= at
            and (self.pause_until is None or at < self.pause_until)
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe snapshot for ``Store``."""
        return {
            "started": _iso(self.started),
            "evaluated": _iso(self.evaluated),
            "last_activity": _iso(self.last_activity),
            "pending": [[_iso(t), str(kind)] for t, kind in self.pending],
            "pause_from": _iso(self.pause_from),
            "pause_until": _iso(self.pause_until),
            "pause_applied": self.pause_applied,
            "reset_at": _iso(self.reset_at),
            "disabled_since": _iso(self.disabled_since),
            "ok_since": _iso(self.ok_since),
            "alerts": [alert.as_dict() for alert in self.alerts],
            "offline": self.offline.as_dict() if self.offline else None,
            "deferred": [
                {"reason": item.reason, "watch_from": _iso(item.watch_from)}
                for item in self.deferred
            ],
            "fired": list(self.fired),
        }

    @classmethod
    def from_dict(cls, data: object) -> ApartmentState:
        """Rebuild a snapshot written by ``as_dict``; anything unusable falls back to empty."""
        if not isinstance(data, Mapping):
            return cls()
        pending: list[tuple[datetime, ActivityKind]] = []
        raw_pending = data.get("pending")
        if isinstance(raw_pending, list):
            for item in raw_pending[-PENDING_MEMORY:]:
                if isinstance(item, list | tuple) and len(item) == 2:
                    at = _when(item[0])
                    try:
                        kind = ActivityKind(item[1])
                    except ValueError:
                        continue
                    if at is not None:
                        pending.append((at, kind))
        pending.sort()
        deferred: list[_Obligation] = []
        raw_deferred = data.get("deferred")
        if isinstance(raw_deferred, Mapping):  # stored before several could wait
            raw_deferred = [raw_deferred]
        for item in raw_deferred if isinstance(raw_deferred, list) else ():
            if not isinstance(item, Mapping):
                continue
            watch = _when(item.get("watch_from"))
            reason = item.get("reason")
            if (
                watch is not None
                and reason in (Reason.NO_MORNING_ACTIVITY, Reason.INACTIVE)
                and all(d.reason != reason for d in deferred)
            ):
                deferred.append(_Obligation(str(reason), watch))
        raw_fired = data.get("fired")
        fired: deque[str] = deque(
            (f for f in raw_fired if isinstance(f, str)) if isinstance(raw_fired, list) else (),
            maxlen=FIRED_MEMORY,
        )
        raw_alerts = data.get("alerts")
        if not isinstance(raw_alerts, list):  # stored when one check alert could be open
            raw_alerts = [data.get("care")]
        alerts = [
            alert
            for alert in (Alert.from_dict(raw) for raw in raw_alerts[:MAX_OPEN_ALERTS])
            if alert is not None and alert.kind is EventType.CHECK_NEEDED
        ]
        alerts.sort(key=lambda alert: alert.due)
        offline = Alert.from_dict(data.get("offline"))
        return cls(
            started=_when(data.get("started")),
            evaluated=_when(data.get("evaluated")),
            last_activity=_when(data.get("last_activity")),
            pending=pending,
            pause_from=_when(data.get("pause_from")),
            pause_until=_when(data.get("pause_until")),
            pause_applied=data.get("pause_applied") is True,
            reset_at=_when(data.get("reset_at")),
            disabled_since=_when(data.get("disabled_since")),
            ok_since=_when(data.get("ok_since")),
            alerts=alerts,
            offline=offline if offline and offline.kind is EventType.SENSOR_OFFLINE else None,
            deferred=deferred,
            fired=fired,
        )


def record_activity(
    state: ApartmentState, at: datetime, kind: ActivityKind = ActivityKind.MOTION
) -> None:
    """Note activity (motion count > 0, presence, a door change) at ``at``.

    Kept until the next ``evaluate``, which walks it in time order. An older time never
    rewinds the last activity; it can still resolve an alert it proves wrong (a late uplink).
    """
    at = _utc(at)
    entry = (at, ActivityKind(kind))
    if entry in state.pending:
        return
    state.pending.append(entry)
    state.pending.sort()
    del state.pending[:-PENDING_MEMORY]


def acknowledge(
    state: ApartmentState, user: str, at: datetime, *, alert_id: str | None = None
) -> bool:
    """Someone (a Home Assistant user id) is on it: acknowledge the open alerts.

    With ``alert_id`` (from a notification's action), only that alert, so a press on an old
    notification never acknowledges a newer alert. Returns whether anything was
    acknowledged. The ``acknowledged`` event comes from the next ``evaluate``. The daytime
    inactivity timer restarts at ``at``.
    """
    at = _utc(at)
    done = False
    for alert in (*state.alerts, state.offline):
        if (
            alert is not None
            and alert.acknowledged_at is None
            and (alert_id is None or alert.id == alert_id)
        ):
            alert.acknowledged_by = user
            alert.acknowledged_at = at
            done = True
    if done:
        state.reset_at = _latest(state.reset_at, at)
    return done


def pause(state: ApartmentState, until: datetime | None, at: datetime) -> None:
    """Pause the checks from ``at`` until ``until`` (``None``: until ``resume``).

    Pausing while paused changes the end. ``at`` may lie in the future (a planned absence).
    """
    at = _utc(at)
    if until is not None:
        until = _utc(until)
        if until <= at:
            raise ValueError("a pause must end after it starts")
    if state.pause_from is None or (state.pause_until is not None and state.pause_until <= at):
        state.pause_from = at
        state.pause_applied = False
    state.pause_until = until


def resume(state: ApartmentState, at: datetime) -> bool:
    """End the pause at ``at`` (cancel it if it has not begun). False if not paused."""
    at = _utc(at)
    if state.pause_from is None:
        return False
    if at <= state.pause_from:
        state.pause_from = state.pause_until = None
        state.pause_applied = False
    elif state.pause_until is None or at < state.pause_until:
        state.pause_until = at
    return True


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


# -- the engine ----------------------------------------------------------------------


def evaluate(
    apartment: str,
    settings: CareSettings,
    state: ApartmentState,
    sensors: Iterable[SensorHealth],
    now: datetime,
    *,
    online_since: datetime | None = None,
) -> Evaluation:
    """Bring ``state`` up to ``now`` and say how the apartment is.

    Deterministic: the same settings, state, sensors and ``now`` give the same result. Call
    it after every input (activity, acknowledgement, pause, a sensor report, a settings
    change) and at ``next_wakeup``. A ``now`` before the last evaluation counts as the last
    evaluation (the clock never runs backwards here). ``online_since``: since when Home
    Assistant has been running; events due before it are ``late`` (without it, events
    evaluated more than ``LATE_AFTER`` after their time are).
    """
    online = _utc(online_since) if online_since is not None else None
    return _Walk(apartment, settings, state, tuple(sensors), _utc(now), online_since=online).run()


class _Walk:
    """One evaluation: walk the apartment's timeline from the last evaluation to now."""

    def __init__(
        self,
        apartment: str,
        settings: CareSettings,
        state: ApartmentState,
        sensors: tuple[SensorHealth, ...],
        now: datetime,
        *,
        online_since: datetime | None = None,
    ) -> None:
        self.apartment = apartment
        self.settings = settings
        self.state = state
        self.sensors = sensors
        self.online_since = online_since
        self.now = max(now, state.evaluated) if state.evaluated else now
        self.zone = settings.zone
        self.events: list[CareEvent] = []
        self.back_at: datetime | None = None
        self.continuing = False

    # -- driving ---------------------------------------------------------------------

    def run(self) -> Evaluation:
        st, now = self.state, self.now
        if st.started is None:
            st.started = now
            st.reset_at = _latest(st.reset_at, now)
        self._announce_acks()
        if not self.settings.enabled:
            return self._disabled()
        if st.disabled_since is not None:
            # Switched back on: watch afresh from now, judge nothing from the off period.
            st.disabled_since = None
            st.evaluated = now
            st.reset_at = _latest(st.reset_at, now)
            st.ok_since = None
        cursor = st.evaluated if st.evaluated is not None else now
        cursor = max(cursor, now - MAX_CATCH_UP)
        silent_now = self._offline_at(now) is not None
        # An open offline alert continues through the walk while we still cannot tell, or
        # until the latest report if the sensors are back.
        self.continuing = st.offline is not None and silent_now
        if st.offline is not None and not silent_now:
            latest_seen = max((_utc(s.last_seen) for s in self.sensors if s.last_seen), default=now)
            self.back_at = min(max(latest_seen, cursor), now)
        self._step(cursor, prev=cursor, judge=False)
        for _ in range(_MAX_STEPS):
            at = self._next_time(cursor)
            if at is None or at > now:
                break
            self._step(at, prev=cursor, judge=True)
            cursor = at
        self._step(now, prev=now, judge=False)
        self._remind()
        st.evaluated = now
        return self._result()

    def _next_time(self, after: datetime) -> datetime | None:
        st = self.state
        candidates: list[datetime | None] = [
            next((t for t, _ in st.pending if t > after), None),
            st.pause_from,
            st.pause_until,
            self.back_at,
        ]
        started = st.started or self.now
        candidates += [s.unavailable_at(started, self.now) for s in self.sensors]
        morning = self._next_morning(after)
        candidates.append(morning[2] if morning else None)
        inactive = self._next_inactive(after)
        candidates.append(inactive[2] if inactive else None)
        return min((c for c in candidates if c is not None and c > after), default=None)

    def _step(self, at: datetime, *, prev: datetime, judge: bool) -> None:
        st = self.state
        # 1. Activity first: activity exactly at a deadline counts.
        while st.pending and st.pending[0][0] <= at:
            when, kind = st.pending.pop(0)
            self._activity(when, kind, at)
        # 2. Pause boundaries.
        if st.paused_at(at) and not st.pause_applied:
            self._close_all(Resolution.PAUSED, at)
            st.pause_applied = True
        if st.pause_until is not None and st.pause_until <= at:
            st.reset_at = _latest(st.reset_at, st.pause_until)
            st.pause_from = st.pause_until = None
            st.pause_applied = False
        watching = not st.paused_at(at)
        # 3. Sensors.
        if watching:
            offline = self._offline_at(at)
            if offline is not None and st.offline is None:
                self._open_offline(at, *offline)
            elif offline is None and st.offline is not None:
                self._resolve(st.offline, Resolution.SENSORS_BACK, at)
                st.offline = None
                deferred, st.deferred = st.deferred, []
                for item in deferred:
                    if not _meets(item.reason, item.watch_from, st.last_activity):
                        self._open_care(item.reason, item.watch_from, at)
        # 4. Deadlines.
        if watching and judge:
            morning = self._next_morning(prev)
            if morning is not None and morning[2] == at:
                self._obligation(Reason.NO_MORNING_ACTIVITY, morning[0], at)
            inactive = self._next_inactive(prev)
            if inactive is not None and inactive[2] == at:
                self._obligation(Reason.INACTIVE, inactive[0], at)
        # 5. When the status last became ok (None while it is not).
        if self._status_at(at)[0] is Status.OK:
            st.ok_since = st.ok_since or at
        else:
            st.ok_since = None

    # -- happenings ------------------------------------------------------------------

    def _activity(self, when: datetime, kind: ActivityKind, at: datetime) -> None:
        st = self.state
        st.last_activity = _latest(st.last_activity, when)
        for alert in [a for a in st.alerts if a.resolved_by(when)]:
            self._resolve(alert, Resolution.ACTIVITY, max(when, alert.due))
            st.alerts.remove(alert)
        if (
            kind is ActivityKind.DOOR
            and self.settings.night_door
            and not st.paused_at(when)
            and self._in_night(when)
        ):
            self._open_care(Reason.NIGHT_DOOR, when, when)

    def _obligation(self, reason: str, watch_from: datetime, at: datetime) -> None:
        st = self.state
        if st.offline is not None:
            if all(item.reason != reason for item in st.deferred):
                st.deferred.append(_Obligation(reason, watch_from))
            return
        self._open_care(reason, watch_from, at)

    def _open_care(self, reason: str, watch_from: datetime, at: datetime) -> None:
        st = self.state
        if any(self._covers(open_alert, reason, at) for open_alert in st.alerts):
            return
        alert = Alert(
            id=f"{self.apartment}|{reason}|{at.isoformat()}",
            kind=EventType.CHECK_NEEDED,
            reason=reason,
            since=at,
            due=at,
            watch_from=watch_from,
        )
        if self._emit(EventType.CHECK_NEEDED, alert, at):
            st.alerts.append(alert)
            del st.alerts[:-MAX_OPEN_ALERTS]

    def _covers(self, alert: Alert, reason: str, at: datetime) -> bool:
        """Does the open ``alert`` already stand for a ``reason`` deadline due at ``at``?

        Only when nothing new happened: the same night's door while that night's alert is
        open, or a "not seen" deadline (morning, inactivity) on the same day as an open
        "not seen" alert with no activity since it opened (the open alert already says the
        resident has not been seen since). Across days only for deadlines that passed while
        Home Assistant was down: one late alert then says "not seen since", not one per day.
        An alert acknowledged before ``at`` covers nothing: someone looked, and then the
        resident was again not seen.
        """
        if alert.acknowledged_at is not None and alert.acknowledged_at < at:
            return False
        if Reason.NIGHT_DOOR in (reason, alert.reason):
            return alert.reason == reason and self._night_of(alert.due) == self._night_of(at)
        last = self.state.last_activity
        if last is not None and last >= alert.due:
            return False
        return self._day(alert.due) == self._day(at) or self._is_late(at)

    def _night_of(self, at: datetime) -> date:
        """The local date on which the night around ``at`` began."""
        local = at.astimezone(self.zone)
        wall = local.time().replace(tzinfo=None)
        s = self.settings
        if s.night_start > s.night_end and wall < s.night_end:  # after midnight
            return local.date() - timedelta(days=1)
        return local.date()

    def _is_late(self, at: datetime) -> bool:
        """Did ``at`` pass while Home Assistant was not running (as far as we know)?"""
        if self.online_since is not None:
            return at < self.online_since
        return self.now - at > LATE_AFTER

    def _open_offline(
        self, at: datetime, since: datetime, reason: str, keys: tuple[str, ...]
    ) -> None:
        alert = Alert(
            id=f"{self.apartment}|sensor_offline|{at.isoformat()}",
            kind=EventType.SENSOR_OFFLINE,
            reason=reason,
            since=since,
            due=at,
            sensors=keys,
        )
        if self._emit(EventType.SENSOR_OFFLINE, alert, since, when=at):
            self.state.offline = alert

    def _resolve(self, alert: Alert, resolution: Resolution, at: datetime) -> None:
        self._emit(EventType.RESOLVED, alert, at, resolution=resolution)

    def _close_all(self, resolution: Resolution, at: datetime) -> None:
        st = self.state
        for alert in (*st.alerts, st.offline):
            if alert is not None:
                self._resolve(alert, resolution, at)
        st.alerts = []
        st.offline = None
        st.deferred = []

    def _reminding(self) -> list[Alert]:
        """Open alerts that repeat until someone acknowledges them (or they clear).

        A "cannot tell" caused by a silent gateway does not: the building's incident stands
        for all its apartments at once.
        """
        if not self.settings.reminder_interval:
            return []
        st = self.state
        return [
            alert
            for alert in (*st.alerts, st.offline)
            if alert is not None
            and alert.acknowledged_at is None
            and not (alert.kind is EventType.SENSOR_OFFLINE and alert.reason == Reason.GATEWAY_DOWN)
        ]

    def _remind(self) -> None:
        """One reminder per interval passed since the alert; after a restart, one (late)."""
        interval = self.settings.reminder_interval
        for alert in self._reminding():
            count = (self.now - alert.due) // interval
            if count > alert.reminders:
                alert.reminders = count
                self._emit(
                    EventType.REMINDER,
                    alert,
                    alert.since,
                    when=alert.due + count * interval,
                    count=count,
                )

    def _announce_acks(self) -> None:
        for alert in (*self.state.alerts, self.state.offline):
            if alert is not None and alert.acknowledged_at and not alert.ack_announced:
                alert.ack_announced = True
                self._emit(
                    EventType.ACKNOWLEDGED,
                    alert,
                    alert.acknowledged_at,
                    user=alert.acknowledged_by,
                )

    def _emit(
        self,
        kind: EventType,
        alert: Alert,
        since: datetime,
        *,
        when: datetime | None = None,
        user: str | None = None,
        resolution: Resolution | None = None,
        count: int | None = None,
    ) -> bool:
        if count is None:
            event_id = f"{alert.id}|{kind}"
            if event_id in self.state.fired:
                return False
            self.state.fired.append(event_id)
        else:  # a reminder: the alert's own count keeps it once (not the fired memory)
            event_id = f"{alert.id}|{kind}|{count}"
        self.events.append(
            CareEvent(
                type=kind,
                apartment=self.apartment,
                reason=alert.reason,
                since=since,
                late=self._is_late(when or since),
                id=event_id,
                alert_id=alert.id,
                user=user,
                resolution=resolution,
                count=count,
            )
        )
        return True

    def _disabled(self) -> Evaluation:
        st, now = self.state, self.now
        if st.disabled_since is None:
            st.disabled_since = now
        while st.pending and st.pending[0][0] <= now:
            st.last_activity = _latest(st.last_activity, st.pending.pop(0)[0])
        self._close_all(Resolution.DISABLED, now)
        st.evaluated = now
        return Evaluation(
            status=Status.PAUSED,
            reason=Reason.DISABLED,
            since=st.disabled_since,
            next_check=None,
            next_wakeup=None,
            events=tuple(self.events),
            last_activity=st.last_activity,
        )

    # -- the rules' clocks -------------------------------------------------------------

    def _local(self, day: date, wall: time) -> datetime:
        """A local wall-clock time as a UTC instant (fold=0: see the module docstring)."""
        return datetime.combine(day, wall, tzinfo=self.zone).astimezone(UTC)

    def _day(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def _in_night(self, at: datetime) -> bool:
        wall = at.astimezone(self.zone).time().replace(tzinfo=None)
        start, end = self.settings.night_start, self.settings.night_end
        if start < end:
            return start <= wall < end
        return wall >= start or wall < end

    def _next_morning(
        self, after: datetime, *, unmet_only: bool = True
    ) -> tuple[datetime, datetime, datetime] | None:
        """(window start, deadline, due) of the first morning due after ``after``.

        With ``unmet_only``, mornings already met by the last activity are skipped.
        """
        s = self.settings
        if not s.morning_check:
            return None
        first = self._day(after) - timedelta(days=1)
        last_activity = self.state.last_activity
        for offset in range(4):
            day = first + timedelta(days=offset)
            start = self._local(day, s.morning_start)
            deadline = self._local(day, s.morning_deadline)
            due = deadline + s.grace
            if due <= after:
                continue
            if unmet_only and _meets(Reason.NO_MORNING_ACTIVITY, start, last_activity):
                continue
            return start, deadline, due
        return None

    def _next_inactive(self, after: datetime) -> tuple[datetime, datetime, datetime] | None:
        """(anchor, deadline, due) of the first inactivity due after ``after``."""
        s, st = self.settings, self.state
        if not s.inactivity_check:
            return None
        base = _latest(st.last_activity, st.reset_at) or st.started or self.now
        first = max(self._day(base), self._day(after) - timedelta(days=1))
        for offset in range(4):
            day = first + timedelta(days=offset)
            start = self._local(day, s.active_start)
            end = self._local(day, s.active_end)
            anchor = max(base, start)
            deadline = anchor + s.inactivity_limit
            due = deadline + s.grace
            if deadline < end and due > after:
                return base, deadline, due
        return None

    def _offline_at(self, at: datetime) -> tuple[datetime, str, tuple[str, ...]] | None:
        """(since, reason, sensor keys) if we cannot tell at ``at``."""
        st = self.state
        started = st.started or self.now
        if not self.sensors:
            return started, Reason.NO_SENSORS, ()
        silent = [
            (s.unavailable_at(started, self.now), s)
            for s in self.sensors
            if s.unavailable_at(started, self.now) <= at
        ]
        if silent:
            reason = (
                Reason.GATEWAY_DOWN
                if any(s.gateway_down for _, s in silent)
                else Reason.SENSOR_SILENT
            )
            return min(t for t, _ in silent), reason, tuple(sorted(s.key for _, s in silent))
        if st.offline is not None and (
            self.continuing or (self.back_at is not None and at < self.back_at)
        ):
            return st.offline.since, st.offline.reason, st.offline.sensors
        return None

    # -- the answer --------------------------------------------------------------------

    def _status_at(self, at: datetime) -> tuple[Status, str | None]:
        st = self.state
        if st.paused_at(at):
            return Status.PAUSED, Reason.PAUSED
        if st.offline is not None:
            return Status.SENSOR_OFFLINE, st.offline.reason
        offline = self._offline_at(at)
        if offline is not None:  # cannot tell, even without an open alert
            return Status.SENSOR_OFFLINE, offline[1]
        primary = _primary(st.alerts)
        if primary is not None:
            status = Status.ACKNOWLEDGED if primary.acknowledged_at else Status.CHECK_NEEDED
            return status, primary.reason
        return Status.OK, None

    def _result(self) -> Evaluation:
        st, now = self.state, self.now
        status, reason = self._status_at(now)
        alert: Alert | None = None
        since = st.ok_since or now
        if status is Status.PAUSED:
            since = st.pause_from or now
        elif status is Status.SENSOR_OFFLINE:
            alert = st.offline
        elif status in (Status.CHECK_NEEDED, Status.ACKNOWLEDGED):
            alert = _primary(st.alerts)
        if alert is not None:
            since = alert.since
            if status is Status.ACKNOWLEDGED and alert.acknowledged_at is not None:
                since = alert.acknowledged_at
        morning = self._next_morning(now)
        inactive = self._next_inactive(now)
        next_check: datetime | None = None
        rechecking: str | None = None
        if status in (Status.OK, Status.ACKNOWLEDGED):
            dues = [x[2] for x in (morning, inactive) if x is not None]
            next_check = min(dues, default=None)
            if morning is not None and morning[1] <= now:
                rechecking = Reason.NO_MORNING_ACTIVITY
            elif inactive is not None and inactive[1] <= now:
                rechecking = Reason.INACTIVE
        started = st.started or now
        wake: list[datetime | None] = [
            st.pending[0][0] if st.pending else None,
            st.pause_from,
            st.pause_until,
        ]
        for rule in (morning, inactive):
            if rule is not None:
                wake += [rule[1], rule[2]]
        wake += [x.unavailable_at(started, now) for x in self.sensors]
        wake += [
            a.due + (a.reminders + 1) * self.settings.reminder_interval for a in self._reminding()
        ]
        offline = self._offline_at(now)
        return Evaluation(
            status=status,
            reason=reason,
            since=since,
            next_check=next_check,
            next_wakeup=min((w for w in wake if w is not None and w > now), default=None),
            events=tuple(self.events),
            rechecking=rechecking,
            alert_id=alert.id if alert else None,
            acknowledged_by=alert.acknowledged_by if alert else None,
            last_activity=st.last_activity,
            offline_sensors=offline[2] if offline and status is Status.SENSOR_OFFLINE else (),
            pause_until=st.pause_until if st.paused_at(now) else None,
            open_alerts=tuple(
                OpenAlert(
                    id=a.id,
                    kind=a.kind,
                    reason=a.reason,
                    since=a.since,
                    acknowledged_by=a.acknowledged_by,
                    acknowledged_at=a.acknowledged_at,
                )
                for a in (*st.alerts, st.offline)
                if a is not None
            ),
        )


def _primary(alerts: list[Alert]) -> Alert | None:
    """The check alert a status is about: the newest unacknowledged, else the newest."""
    waiting = [a for a in alerts if a.acknowledged_at is None]
    return (waiting or alerts)[-1] if alerts else None


# -- a driver the Home Assistant layer (and the scenario tests) can reuse ----------------


@dataclass(slots=True, kw_only=True)
class CareApartment:
    """One apartment under care checks: its settings, sensors (DevEUIs) and state."""

    name: str
    settings: CareSettings = DEFAULT_SETTINGS
    sensors: tuple[str, ...] = ()
    state: ApartmentState = field(default_factory=ApartmentState)
    last: Evaluation | None = None


class CareMonitor:
    """Care checks for the apartments of a site, fed from ``Pipeline`` results."""

    def __init__(self, apartments: Iterable[CareApartment]) -> None:
        """Index the apartments by name and by sensor."""
        self.apartments: dict[str, CareApartment] = {a.name: a for a in apartments}
        self._by_sensor: dict[str, list[str]] = {}
        for apartment in self.apartments.values():
            for key in apartment.sensors:
                self._by_sensor.setdefault(key, []).append(apartment.name)

    def on_uplink(self, uplink: Uplink, result: Result) -> list[str]:
        """Record the activity an applied uplink showed; the apartments to evaluate now."""
        if result.outcome is not Outcome.APPLIED or result.applied is None:
            return []
        names = self._by_sensor.get(uplink.dev_eui, [])
        if result.applied.activity:
            kind = activity_kind(result.applied.fields)
            for name in names:
                record_activity(self.apartments[name].state, uplink.received_at, kind)
        return list(names)

    def health(
        self,
        name: str,
        devices: Mapping[str, TrackedDevice],
        *,
        gateway_down: bool = False,
    ) -> list[SensorHealth]:
        """Sensor inputs of one apartment (a sensor not tracked at all is never seen)."""
        out = []
        for key in self.apartments[name].sensors:
            tracked = devices.get(key)
            if tracked is None:
                out.append(SensorHealth(key=key, last_seen=None, silence_limit=timedelta(0)))
            else:
                out.append(sensor_health(tracked.config, tracked.state, gateway_down=gateway_down))
        return out

    def evaluate(
        self,
        name: str,
        devices: Mapping[str, TrackedDevice],
        now: datetime,
        *,
        gateway_down: bool = False,
    ) -> Evaluation:
        """Evaluate one apartment and remember the result."""
        apartment = self.apartments[name]
        apartment.last = evaluate(
            name,
            apartment.settings,
            apartment.state,
            self.health(name, devices, gateway_down=gateway_down),
            now,
        )
        return apartment.last

    def evaluate_due(
        self,
        devices: Mapping[str, TrackedDevice],
        now: datetime,
        *,
        gateway_down: bool = False,
    ) -> list[Evaluation]:
        """Evaluate every apartment never evaluated or whose wake-up time has come."""
        out = []
        for name, apartment in self.apartments.items():
            last = apartment.last
            if last is None or (last.next_wakeup is not None and last.next_wakeup <= now):
                out.append(self.evaluate(name, devices, now, gateway_down=gateway_down))
        return out

    @property
    def next_wakeup(self) -> datetime | None:
        """The earliest wake-up over all apartments."""
        return min(
            (
                a.last.next_wakeup
                for a in self.apartments.values()
                if a.last is not None and a.last.next_wakeup is not None
            ),
            default=None,
        )


# -- helpers -------------------------------------------------------------------------


def _meets(reason: str, watch_from: datetime | None, activity: datetime | None) -> bool:
    """Does activity at ``activity`` meet an obligation watching from ``watch_from``?

    The morning window includes its start; the inactivity anchor is the last activity
    itself, so only later activity counts.
    """
    if activity is None or watch_from is None:
        return False
    if reason == Reason.INACTIVE:
        return activity > watch_from
    return activity >= watch_from


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _latest(*values: datetime | None) -> datetime | None:
    return max((v for v in values if v is not None), default=None)
