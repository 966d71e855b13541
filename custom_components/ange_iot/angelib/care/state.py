"""What the care engine remembers about one apartment, and the inputs that change it.

``ApartmentState`` (open alerts, pause, activity not yet evaluated, the events already
sent) is persisted with ``as_dict``/``from_dict``; ``record_activity``, ``acknowledge``,
``pause`` and ``resume`` change it between evaluations.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..values import iso as _iso, parse_when as _when, utc as _utc
from .model import (
    FIRED_MEMORY,
    MAX_OPEN_ALERTS,
    PENDING_MEMORY,
    ActivityKind,
    EventType,
    Reason,
)


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
    # A "cannot tell" of a down gateway: when the gateway was seen delivering again. A
    # sensor still silent its own limit after that is its own alert (``gateway_back``).
    gateway_back: datetime | None = None

    def resolved_by(self, at: datetime) -> bool:
        """Does activity at ``at`` resolve this check alert?"""
        if self.kind is not EventType.CHECK_NEEDED:
            return False
        if self.reason == Reason.NIGHT_DOOR:
            return self.acknowledged_at is not None and at > self.acknowledged_at
        return meets(self.reason, self.watch_from, at)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe snapshot (``gateway_back`` only when set: older stores read the same)."""
        data = {
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
        if self.gateway_back is not None:
            data["gateway_back"] = _iso(self.gateway_back)
        return data

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
            gateway_back=_when(data.get("gateway_back")),
            sensors=tuple(s for s in sensors if isinstance(s, str))
            if isinstance(sensors, list)
            else (),
        )


@dataclass(frozen=True, slots=True)
class Obligation:
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
    deferred: list[Obligation] = field(default_factory=list)  # one per reason at most
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
        deferred: list[Obligation] = []
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
                deferred.append(Obligation(str(reason), watch))
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
        state.reset_at = latest(state.reset_at, at)
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


# -- helpers -------------------------------------------------------------------------


def meets(reason: str, watch_from: datetime | None, activity: datetime | None) -> bool:
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


def latest(*values: datetime | None) -> datetime | None:
    """The latest of the times given (``None`` when none is)."""
    return max((v for v in values if v is not None), default=None)
