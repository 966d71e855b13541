"""The water meters' alerts: ``MeterState`` (persisted) and ``evaluate`` with its rules.

The rules are described in the ``meters`` package docstring.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from statistics import median
from typing import Any, NamedTuple

from ..values import (
    is_number as _is_number,
    iso as _iso,
    parse_when as _parse_when,
    utc as _utc,
    zone as _zone,
)
from .model import (
    CLEAN_NIGHTS,
    CONTINUOUS_HOURS,
    DEVICE_ALARMS,
    HOUR,
    KEEP,
    MEDIAN_DAYS,
    MIN_MEDIAN_DAYS,
    ZERO_L,
    AlertType,
    MeterReading,
    floor_hour,
)
from .series import AddResult, HourlySeries
from .settings import MeterSettings


@lru_cache(maxsize=8192)
def _wall_utc(zone: str, day: date, wall: time) -> datetime:
    """A local wall-clock time as UTC (a time in the spring gap moves forward by the gap)."""
    return datetime.combine(day, wall, tzinfo=_zone(zone)).astimezone(UTC)


@lru_cache(maxsize=4096)
def _midnight(zone: str, day: date) -> datetime:
    """The hour boundary starting the local day (midnight, rounded down to a UTC hour)."""
    return floor_hour(_wall_utc(zone, day, time(0)))


@lru_cache(maxsize=4096)
def _night_window(
    zone: str, start: time, end: time, check: time, day: date
) -> tuple[datetime, datetime, datetime]:
    """The night ending on local ``day``: its start and end hours (UTC) and its check time."""
    crosses = start > end
    end_wall = _wall_utc(zone, day, end)
    check_at = _wall_utc(zone, day, check)
    if check_at < end_wall:
        check_at = _wall_utc(zone, day + timedelta(days=1), check)
    first = floor_hour(_wall_utc(zone, day - timedelta(days=crosses), start))
    return first, floor_hour(end_wall), check_at


@dataclass(slots=True)
class MeterAlert:
    """One active alert of one meter.

    ``since`` is when the condition began (hours before it could be judged, for the derived
    rules); ``raised_at`` is when the alert was raised, which reminders and escalation count
    from. ``reminders`` and ``escalated`` are stored with the alert, so a restart neither
    repeats nor loses one. The three do not take part in equality (an alert is its id).
    """

    dev_eui: str
    type: AlertType
    since: datetime
    leak_rate_lph: float | None = None
    raised_at: datetime | None = field(default=None, compare=False)
    reminders: int = field(default=0, compare=False)  # reminders sent for it
    escalated: bool = field(default=False, compare=False)  # its escalation was sent

    @property
    def alert_id(self) -> str:
        """Stable while the alert holds."""
        return f"{self.dev_eui}|{self.type}|{self.since.isoformat()}"

    @property
    def source(self) -> str:
        """``meter`` for the meter's own alarms, ``derived`` for the rules here."""
        return "meter" if self.type in DEVICE_ALARMS else "derived"

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe, as an event's data."""
        return {
            "dev_eui": self.dev_eui,
            "alert": str(self.type),
            "since": self.since.isoformat(),
            "leak_rate_lph": self.leak_rate_lph,
            "alert_id": self.alert_id,
            "source": self.source,
        }

    def as_stored(self) -> dict[str, Any]:
        """JSON-safe, as stored: ``as_dict`` and the reminder bookkeeping."""
        return {
            **self.as_dict(),
            "raised_at": _iso(self.raised_at),
            "reminders": self.reminders,
            "escalated": self.escalated,
        }

    @classmethod
    def from_dict(cls, data: object) -> MeterAlert | None:
        """Rebuild an alert written by ``as_stored`` (or ``as_dict``); ``None`` for junk.

        An alert stored before reminders existed has no ``raised_at``: ``follow_up`` starts
        counting its reminders when it first sees it.
        """
        if not isinstance(data, Mapping):
            return None
        dev_eui, kind, since = (
            data.get("dev_eui"),
            data.get("alert"),
            _parse_when(data.get("since")),
        )
        if not isinstance(dev_eui, str) or kind not in set(AlertType) or since is None:
            return None
        rate = data.get("leak_rate_lph")
        reminders = data.get("reminders")
        return cls(
            dev_eui,
            AlertType(kind),
            since,
            float(rate) if _is_number(rate) else None,
            raised_at=_parse_when(data.get("raised_at")),
            reminders=reminders if type(reminders) is int and reminders > 0 else 0,
            escalated=data.get("escalated") is True,
        )


@dataclass(slots=True)
class MeterState:
    """Everything known about one meter; persisted with ``as_dict``."""

    series: HourlySeries = field(default_factory=HourlySeries)
    added_at: datetime | None = None  # first evaluation (a meter never heard goes silent)
    last_seen: datetime | None = None
    alarms_since: dict[AlertType, datetime] = field(default_factory=dict)
    backwards_since: datetime | None = None
    active: dict[AlertType, MeterAlert] = field(default_factory=dict)
    # The register of the first backwards reading and when it was read (for accept_swap).
    rejected_m3: float | None = None
    rejected_at: datetime | None = None

    def ingest(self, reading: MeterReading) -> AddResult:
        """Add one uplink: history always; flags, last seen and backwards only when current.

        An uplink older than the last one ingested (a replay, a late delivery) only fills in
        history.
        """
        result = self.series.add_reading(reading)
        received = _utc(reading.received_at)
        if self.last_seen is not None and received < self.last_seen:
            return result
        self.last_seen = received
        for key, on in reading.alarms.items():
            if key not in DEVICE_ALARMS:
                continue
            alarm = AlertType(key)
            if on:
                self.alarms_since.setdefault(alarm, received)
            else:
                self.alarms_since.pop(alarm, None)
        if result.backwards:
            if self.backwards_since is None:
                # The first lower register: a swap accepted from it counts every litre the
                # new meter has measured since.
                self.backwards_since = received
                if reading.volume_m3 is not None:
                    self.rejected_m3 = reading.volume_m3
                    self.rejected_at = _utc(reading.volume_at or received)
                elif reading.log:
                    self.rejected_at = _utc(reading.log[-1][0])
                    self.rejected_m3 = reading.log[-1][1]
        elif reading.volume_m3 is not None or reading.log:
            self.backwards_since = None
            self.rejected_m3 = self.rejected_at = None
        return result

    def accept_swap(self, at: datetime, register_m3: float) -> None:
        """The meter was replaced: continue the total from the new meter's register."""
        self.series.rebase(at, register_m3)
        self.backwards_since = None
        self.rejected_m3 = self.rejected_at = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe snapshot."""
        return {
            "series": self.series.as_dict(),
            "added_at": _iso(self.added_at),
            "last_seen": _iso(self.last_seen),
            "alarms_since": {str(k): v.isoformat() for k, v in self.alarms_since.items()},
            "backwards_since": _iso(self.backwards_since),
            "rejected_m3": self.rejected_m3,
            "rejected_at": _iso(self.rejected_at),
            "active": [alert.as_stored() for alert in self.active.values()],
        }

    @classmethod
    def from_dict(cls, data: object) -> MeterState:
        """Rebuild a snapshot written by ``as_dict``; tolerant of missing and bad values."""
        if not isinstance(data, Mapping):
            return cls()
        alarms: dict[AlertType, datetime] = {}
        raw_alarms = data.get("alarms_since")
        if isinstance(raw_alarms, Mapping):
            for key, value in raw_alarms.items():
                when = _parse_when(value)
                if key in set(DEVICE_ALARMS) and when is not None:
                    alarms[AlertType(key)] = when
        active: dict[AlertType, MeterAlert] = {}
        raw_active = data.get("active")
        if isinstance(raw_active, list):
            for item in raw_active:
                alert = MeterAlert.from_dict(item)
                if alert is not None:
                    active[alert.type] = alert
        rejected = data.get("rejected_m3")
        return cls(
            series=HourlySeries.from_dict(data.get("series")),
            added_at=_parse_when(data.get("added_at")),
            last_seen=_parse_when(data.get("last_seen")),
            alarms_since=alarms,
            backwards_since=_parse_when(data.get("backwards_since")),
            active=active,
            rejected_m3=float(rejected) if _is_number(rejected) else None,
            rejected_at=_parse_when(data.get("rejected_at")),
        )


@dataclass(slots=True)
class MeterEvaluation:
    """The alert transitions of one evaluation, and when to evaluate again."""

    started: list[MeterAlert]
    cleared: list[MeterAlert]
    next_wakeup: datetime | None


class _Holds(NamedTuple):
    """An alert that holds now."""

    since: datetime
    leak_rate_lph: float | None = None
    # A break (zero hour, clean nights, ordinary day, a reading) was seen before ``since``:
    # a later ``since`` than the active alert's is then a new episode, not pruned history.
    bounded: bool = True


def evaluate(
    dev_eui: str, state: MeterState, settings: MeterSettings, now: datetime
) -> MeterEvaluation:
    """Work out which alerts hold at ``now``, update ``state.active``, return the changes.

    Evaluating again without new data returns no transitions. An alert that keeps holding
    keeps its ``since`` (and id); its leak rate may change silently.
    """
    now = _utc(now)
    if state.added_at is None:
        state.added_at = now
    state.series.prune(now - KEEP)
    rules = _Rules(state.series, settings, now)
    holds: dict[AlertType, _Holds] = {}
    for alarm in DEVICE_ALARMS:
        if alarm in state.alarms_since:
            holds[alarm] = _Holds(state.alarms_since[alarm])
    if not settings.continuous_by_design:
        continuous = rules.continuous(AlertType.CONTINUOUS_FLOW in state.active)
        if continuous is not None:
            holds[AlertType.CONTINUOUS_FLOW] = continuous
    night = rules.night_flow()
    if night is not None:
        holds[AlertType.NIGHT_FLOW] = night
    high = rules.high_use()
    if high is not None:
        holds[AlertType.HIGH_USE] = high
    heard = state.last_seen or state.added_at
    if now - heard >= settings.silent_after:
        holds[AlertType.SILENT] = _Holds(heard)
    if state.backwards_since is not None:
        holds[AlertType.BACKWARDS] = _Holds(state.backwards_since)

    started: list[MeterAlert] = []
    cleared: list[MeterAlert] = []
    for kind in AlertType:
        want, have = holds.get(kind), state.active.get(kind)
        if want is None:
            if have is not None:
                cleared.append(state.active.pop(kind))
            continue
        if have is not None and not (want.bounded and want.since > have.since):
            have.leak_rate_lph = want.leak_rate_lph
            continue
        if have is not None:
            cleared.append(have)
        alert = MeterAlert(dev_eui, kind, want.since, want.leak_rate_lph, raised_at=now)
        state.active[kind] = alert
        started.append(alert)

    wakeups = [rules.next_night_check()]
    if AlertType.SILENT not in holds:
        wakeups.append(heard + settings.silent_after)
    return MeterEvaluation(started, cleared, min(wakeups))


class FollowUpType(StrEnum):
    """What an open, unacknowledged alert sends later."""

    REMINDER = "reminder"  # again, every ``reminder_interval``
    ESCALATED = "escalated"  # once, ``escalation_delay`` after it was raised


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A reminder or escalation of one alert, due at ``due`` (before now when late)."""

    type: FollowUpType
    alert: MeterAlert
    due: datetime
    late: bool = False  # due while the caller was not running (before ``online_since``)
    count: int | None = None  # a reminder: the how-manieth


@dataclass(slots=True)
class FollowUps:
    """The follow-ups due by now, and when the next one is due."""

    events: list[FollowUp]
    next_due: datetime | None


def follow_up(
    state: MeterState,
    settings: MeterSettings,
    now: datetime,
    acknowledged: Container[str] = (),
    *,
    online_since: datetime | None = None,
) -> FollowUps:
    """Reminders and escalations of the meter's open alerts that nobody acknowledged.

    Reminder ``n`` of an alert is due ``n × reminder_interval`` after it was raised; each
    call sends at most one per alert (the highest due, so after downtime: one late
    reminder, not a burst) and counts it in the alert, so the next call does not repeat it.
    The escalation is due ``escalation_delay`` after the alert was raised, sent once; a
    reminder due in the same call is counted but not sent (the escalation stands for it).
    Acknowledged alerts (ids in ``acknowledged``) and cleared ones (gone from
    ``state.active``) send nothing. Updates the alerts in ``state.active``.
    """
    now = _utc(now)
    events: list[FollowUp] = []
    wake: list[datetime] = []
    interval, delay = settings.reminder_interval, settings.escalation_delay

    def late(due: datetime) -> bool:
        return online_since is not None and due < online_since

    for alert in state.active.values():
        if alert.raised_at is None:
            alert.raised_at = now  # stored before reminders existed: count from now
        if alert.alert_id in acknowledged:
            continue
        escalating = False
        if delay and not alert.escalated:
            due = alert.raised_at + delay
            if due <= now:
                alert.escalated = escalating = True
                events.append(FollowUp(FollowUpType.ESCALATED, alert, due, late(due)))
            else:
                wake.append(due)
        if interval:
            count = (now - alert.raised_at) // interval
            if count > alert.reminders:
                alert.reminders = count
                due = alert.raised_at + count * interval
                if not escalating:
                    events.append(
                        FollowUp(FollowUpType.REMINDER, alert, due, late(due), count=count)
                    )
            wake.append(alert.raised_at + (alert.reminders + 1) * interval)
    return FollowUps(events, min(wake, default=None))


class _Night(NamedTuple):
    start: datetime
    end: datetime
    dirty: bool
    rate_lph: float


class _Rules:
    """The derived rules over one series at one time."""

    def __init__(self, series: HourlySeries, settings: MeterSettings, now: datetime) -> None:
        self.series = series
        self.settings = settings
        self.zone = settings.zone
        self.now = now

    def _use(self, hour: datetime) -> float | None:
        t0 = self.series.settled(hour)
        if t0 is None:
            return None
        t1 = self.series.settled(hour + HOUR)
        return None if t1 is None else (t1 - t0) * 1000

    def _newest_hour(self) -> datetime | None:
        """The newest hour known at both ends."""
        for boundary in self.series.newest_first():
            if self.series.settled(boundary) is not None and self._use(boundary - HOUR) is not None:
                return boundary - HOUR
        return None

    def continuous(self, active: bool) -> _Holds | None:
        newest = self._newest_hour()
        if newest is None:
            return None
        first = self.series.first_boundary
        assert first is not None
        if active:
            # Held until one of the newest 24 known hours used nothing.
            known: list[float] = []
            hour = newest
            while len(known) < CONTINUOUS_HOURS and hour >= first:
                use = self._use(hour)
                if use is not None:
                    known.append(use)
                hour -= HOUR
        else:
            # Raised when the 24 hours up to the newest known one are all known, all with use.
            known = []
            for k in range(CONTINUOUS_HOURS):
                use = self._use(newest - k * HOUR)
                if use is None or use <= ZERO_L:
                    return None
                known.append(use)
        if not known or min(known) <= ZERO_L:
            return None
        start, bounded = newest, False
        while True:
            use = self._use(start - HOUR)
            if use is None:
                break
            if use <= ZERO_L:
                bounded = True
                break
            start -= HOUR
        return _Holds(start, round(min(known), 1), bounded)

    def _local(self, day: date, wall: time) -> datetime:
        return _wall_utc(self.settings.timezone, day, wall)

    def _first_date(self) -> date | None:
        first = self.series.first_boundary
        return None if first is None else first.astimezone(self.zone).date()

    def nights(self) -> Iterator[_Night]:
        """Every night judged by now, oldest first (nights without data are skipped)."""
        first = self._first_date()
        if first is None:
            return
        s = self.settings
        day = first
        last = self.now.astimezone(self.zone).date() + timedelta(days=1)
        while day <= last:
            start, end, check = _night_window(
                s.timezone, s.night_start, s.night_end, s.night_check, day
            )
            day += timedelta(days=1)
            if check > self.now:
                break
            t0, t1 = self.series.settled(start), self.series.settled(end)
            if t0 is None or t1 is None or end <= start:
                continue
            rate = (t1 - t0) * 1000 / ((end - start) / HOUR)
            yield _Night(start, end, rate > s.night_flow_lph + ZERO_L, rate)

    def _lowest_hour(self, night: _Night) -> float:
        """The lowest hourly use of a night (its average when an hour is unknown)."""
        uses = [
            self._use(night.start + k * HOUR) for k in range(int((night.end - night.start) / HOUR))
        ]
        known = [u for u in uses if u is not None]
        return min(known) if len(known) == len(uses) and known else night.rate_lph

    def night_flow(self) -> _Holds | None:
        active, clean, quiet = False, 0, 0
        since: datetime | None = None
        bounded = False
        latest: _Night | None = None
        for night in self.nights():
            if night.dirty:
                if not active:
                    active, since, bounded = True, night.start, quiet >= CLEAN_NIGHTS
                clean, latest = 0, night
            elif active:
                clean += 1
                if clean >= CLEAN_NIGHTS:
                    active, quiet = False, CLEAN_NIGHTS
            else:
                quiet += 1
        if not active or since is None or latest is None:
            return None
        return _Holds(since, round(max(0.0, self._lowest_hour(latest)), 1), bounded)

    def next_night_check(self) -> datetime:
        today = self.now.astimezone(self.zone).date()
        for offset in range(-1, 3):
            check = self._local(today + timedelta(days=offset), self.settings.night_check)
            if check > self.now:
                return check
        raise AssertionError("unreachable: a night check every day")  # pragma: no cover

    def days(self) -> dict[date, tuple[datetime, float, float]]:
        """Complete local days: midnight (UTC), litres used, hours in the day."""
        first = self._first_date()
        out: dict[date, tuple[datetime, float, float]] = {}
        if first is None:
            return out
        last = self.now.astimezone(self.zone).date()
        day = first
        midnight = _midnight(self.settings.timezone, day)
        while day <= last:
            nxt = _midnight(self.settings.timezone, day + timedelta(days=1))
            t0, t1 = self.series.settled(midnight), self.series.settled(nxt)
            if t0 is not None and t1 is not None:
                out[day] = (midnight, (t1 - t0) * 1000, (nxt - midnight) / HOUR)
            day, midnight = day + timedelta(days=1), nxt
        return out

    def high_use(self) -> _Holds | None:
        days = self.days()
        if not days:
            return None
        s = self.settings

        def judge(day: date) -> tuple[bool, float | None]:
            _, total, _ = days[day]
            before = [
                days[d][1]
                for k in range(1, MEDIAN_DAYS + 1)
                if (d := day - timedelta(days=k)) in days
            ]
            med = median(before) if len(before) >= MIN_MEDIAN_DAYS else None
            high = (
                med is not None and med > ZERO_L and total > s.high_use_factor * med + ZERO_L
            ) or (s.daily_limit_l is not None and total > s.daily_limit_l + ZERO_L)
            return high, med

        ordered = sorted(days)
        latest = ordered[-1]
        high, med = judge(latest)
        if not high:
            return None
        midnight, total, hours = days[latest]
        rate = None if med is None or total <= med else round((total - med) / hours, 1)
        since, bounded = midnight, False
        for day in reversed(ordered[:-1]):
            if not judge(day)[0]:
                bounded = True
                break
            since = days[day][0]
        return _Holds(since, rate, bounded)
