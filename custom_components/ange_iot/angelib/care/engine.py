"""The care engine: ``evaluate`` walks one apartment's timeline to now and answers.

The rules, and how a restart, a silent sensor or a pause are judged, are described in the
``care`` package docstring.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..values import utc as _utc
from .clock import RuleClock
from .model import (
    LATE_AFTER,
    MAX_CATCH_UP,
    MAX_OPEN_ALERTS,
    ActivityKind,
    CareEvent,
    Evaluation,
    EventType,
    OpenAlert,
    Reason,
    Resolution,
    SensorHealth,
    Status,
)
from .settings import CareSettings
from .state import Alert, ApartmentState, Obligation, latest, meets

_MAX_STEPS = 20_000  # a guard; a week's walk takes a few hundred steps


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


class _Walk(RuleClock):
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
        self._silent_from: tuple[tuple[datetime, SensorHealth], ...] | None = None
        self._days = {}

    @property
    def silent_from(self) -> tuple[tuple[datetime, SensorHealth], ...]:
        """When each sensor went (or goes) silent: fixed for the walk (asked at every step)."""
        if self._silent_from is None:
            started = self.state.started or self.now
            self._silent_from = tuple(
                (s.unavailable_at(started, self.now), s) for s in self.sensors
            )
        return self._silent_from

    # -- driving ---------------------------------------------------------------------

    def run(self) -> Evaluation:
        st, now = self.state, self.now
        if st.started is None:
            st.started = now
            st.reset_at = latest(st.reset_at, now)
        self._announce_acks()
        if not self.settings.enabled:
            return self._disabled()
        if st.disabled_since is not None:
            # Switched back on: watch afresh from now, judge nothing from the off period.
            st.disabled_since = None
            st.evaluated = now
            st.reset_at = latest(st.reset_at, now)
            st.ok_since = None
        cursor = st.evaluated if st.evaluated is not None else now
        cursor = max(cursor, now - MAX_CATCH_UP)
        silent_now = self._offline_at(now) is not None
        self._note_gateway_back()
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
            self._own_silence_due(),
        ]
        candidates += [at for at, _ in self.silent_from]
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
            st.reset_at = latest(st.reset_at, st.pause_until)
            st.pause_from = st.pause_until = None
            st.pause_applied = False
        watching = not st.paused_at(at)
        # 3. Sensors.
        if watching:
            offline = self._offline_at(at)
            if offline is not None and st.offline is None:
                self._open_offline(at, *offline)
            elif (
                offline is not None
                and st.offline is not None
                and (own := self._own_silence_due()) is not None
                and own <= at
            ):
                # The gateway is back, a sensor is still silent: its own alert now (with
                # reminders, which a gateway's "cannot tell" does not have).
                self._resolve(st.offline, Resolution.GATEWAY_BACK, at)
                st.offline = None
                self._open_offline(at, *offline)
            elif offline is None and st.offline is not None:
                self._resolve(st.offline, Resolution.SENSORS_BACK, at)
                st.offline = None
                deferred, st.deferred = st.deferred, []
                for item in deferred:
                    if not meets(item.reason, item.watch_from, st.last_activity):
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
        st.last_activity = latest(st.last_activity, when)
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
                st.deferred.append(Obligation(reason, watch_from))
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

    def _note_gateway_back(self) -> None:
        """A gateway's "cannot tell" notes when no sensor's gateway is down any more."""
        alert = self.state.offline
        if alert is None or alert.reason != Reason.GATEWAY_DOWN:
            return
        if any(s.gateway_down for s in self.sensors):
            alert.gateway_back = None
        elif alert.gateway_back is None:
            alert.gateway_back = self.now

    def _own_silence_due(self) -> datetime | None:
        """When a sensor still silent after its gateway came back is silent on its own.

        Its whole silence limit after the gateway's return, as after a restart: the
        sensors get their chance to report before anyone is told one of them is dead.
        """
        alert = self.state.offline
        if alert is None or alert.gateway_back is None or not self.sensors:
            return None
        return alert.gateway_back + max(s.silence_limit for s in self.sensors)

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
            st.last_activity = latest(st.last_activity, st.pending.pop(0)[0])
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

    def _offline_at(self, at: datetime) -> tuple[datetime, str, tuple[str, ...]] | None:
        """(since, reason, sensor keys) if we cannot tell at ``at``."""
        st = self.state
        started = st.started or self.now
        if not self.sensors:
            return started, Reason.NO_SENSORS, ()
        silent = [(since, s) for since, s in self.silent_from if since <= at]
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
        wake: list[datetime | None] = [
            st.pending[0][0] if st.pending else None,
            st.pause_from,
            st.pause_until,
        ]
        for rule in (morning, inactive):
            if rule is not None:
                wake += [rule[1], rule[2]]
        wake += [at for at, _ in self.silent_from]
        wake.append(self._own_silence_due())
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
