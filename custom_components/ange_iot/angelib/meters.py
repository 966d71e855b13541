"""Water meters: hourly statistics that never count a reset, and the alerts a manager expects.

A pure engine in the style of ``care``: the Home Assistant layer turns every decoded uplink of
a water meter into a ``MeterReading`` (``reading_from_fields``), feeds it to
``MeterState.ingest``, calls ``evaluate`` after each uplink and at the returned
``next_wakeup``, persists ``MeterState`` (``as_dict``/``from_dict``) and imports
``HourlySeries.rows`` as long-term statistics. Nothing in here reads the clock.

Statistics (``HourlySeries``): the meter total (register in m³, continued over accepted meter
swaps) at whole UTC hours. A point from an hourly log, or a reading taken exactly on the hour,
is *exact*; a reading taken within an hour (10:37) is stored at the next full hour (11:00) as
a lower bound, *approximate*, until the exact value arrives. A value that would make the total
go down against its neighbours is refused and counted, never stored, so a reset, a swapped
meter or a garbled frame is never counted as consumption. Sums count from the first hour Home
Assistant heard the meter; older history in a log is not imported. Late and repeated logs
fill in hours without counting anything twice.

The alerts. Times are local wall-clock times in ``MeterSettings.timezone``; "known" hours
are hours whose register is known at both ends (an approximate value counts once a later hour
is known: until then it may still be replaced).

* **Meter alarms** (``leak``, ``burst``, ``reverse_flow``, ``dry``, ``tamper``, ``freeze``):
  the meter's own flags. Active from the first uplink that reports the flag (``since``) until
  an uplink reports it cleared. No leak rate.
* **Continuous flow** (a running toilet, a dripping tap): every one of the 24 hours up to the
  newest known hour used water (all 24 must be known). ``since`` is the start of that run of
  hours with use; the leak rate is the lowest hourly use of the last 24 known hours (L/h).
  Clears when one of the newest 24 known hours used nothing. Never raised for a meter marked
  ``continuous_by_design`` (cooling, irrigation).
* **Night flow**: each night window (``night_start``-``night_end``, 00:00-06:00 by default;
  it may cross midnight) is judged at ``night_check`` (07:00), or later when its data arrives
  later, once the register is known at both ends of the window. The window's average use
  (litres / hours; a daylight-saving night has 5 or 7 hours) above ``night_flow_lph`` makes a
  dirty night. The alert starts with a dirty night and clears after two judged clean nights in
  a row; nights without data are skipped (neither clean nor dirty). ``since`` is the start of
  the first dirty night of the run; the leak rate is the lowest hourly use of the latest dirty
  night (its average when not every hour is known). Window edges that are not whole hours are
  rounded down to the hour.
* **High use**: a local calendar day (23 or 25 hours on daylight-saving days) is complete when
  the register is known at both its midnights. A day is high when it used more than
  ``high_use_factor`` × the median of the complete days among the 30 days before it (at least 7
  such days and a median above zero), or more than ``daily_limit_l``. Active while the latest
  complete day is high; ``since`` is the midnight starting the first high day of the run (days
  without data are skipped); leak rate = (day total - median) / hours of the day.
* **Silent meter**: no uplink for ``silent_after`` (48 h) or longer, or never heard within
  ``silent_after`` of being added. ``since`` is the last uplink (or when it was added). Clears
  with the next uplink.
* **Backwards**: an uplink whose register (or newest log value) is below the total already
  known. The value is not stored. Clears with a later uplink that does not go down, or when the
  manager accepts a meter swap (``MeterState.accept_swap``): later registers are then counted
  on top of the old meter's total.

An alert keeps the ``since`` it started with while it holds (its ``alert_id`` is stable); when
it ends and a new episode begins, that is a new alert. ``evaluate`` returns the alerts that
started and cleared since the previous evaluation; evaluating again without new data returns
none. About 35 days of hourly points are kept.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from statistics import median
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import SettingsError
from .settings_codec import settings_as_dict, settings_from_dict
from .values import (
    hm as _duration,
    is_number as _is_number,
    iso as _iso,
    parse_when as _parse_when,
    utc as _utc,
    zone as _zone,
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


# -- settings ------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _wall_utc(zone: str, day: date, wall: time) -> datetime:
    """A local wall-clock time as UTC (a time in the spring gap moves forward by the gap)."""
    return datetime.combine(day, wall, tzinfo=_zone(zone)).astimezone(UTC)


@lru_cache(maxsize=4096)
def _midnight(zone: str, day: date) -> datetime:
    """The hour boundary starting the local day (midnight, rounded down to a UTC hour)."""
    return _floor_hour(_wall_utc(zone, day, time(0)))


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
    first = _floor_hour(_wall_utc(zone, day - timedelta(days=crosses), start))
    return first, _floor_hour(end_wall), check_at


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterSettings:
    """Alert settings of one meter (or a building's defaults)."""

    timezone: str = "Europe/Stockholm"
    continuous_by_design: bool = False  # cooling, irrigation: never CONTINUOUS_FLOW
    night_start: time = time(0, 0)
    night_end: time = time(6, 0)
    night_check: time = time(7, 0)  # a night is judged at this local time (or later)
    night_flow_lph: float = 5.0  # average L/h over the night window
    high_use_factor: float = 3.0  # a day above factor × median of the previous 30 days
    daily_limit_l: float | None = None  # or a day above this many litres (None: off)
    silent_after: timedelta = timedelta(hours=48)

    def __post_init__(self) -> None:
        """Refuse settings that cannot work, with a message a user understands."""
        if not isinstance(self.continuous_by_design, bool):
            raise ValueError("continuous_by_design must be true or false")
        for name in ("night_start", "night_end", "night_check"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"{name} must be a local time of day (like 06:00)")
        for name in ("night_flow_lph", "high_use_factor"):
            if not _is_number(getattr(self, name)):
                raise ValueError(f"{name} must be a number")
        if self.daily_limit_l is not None and not _is_number(self.daily_limit_l):
            raise ValueError("daily_limit_l must be a number of litres or empty")
        if not isinstance(self.silent_after, timedelta):
            raise ValueError("silent_after must be a duration")
        if not isinstance(self.timezone, str):
            raise ValueError("timezone must be a time zone name like Europe/Stockholm")
        try:
            _zone(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as err:
            raise ValueError(f"unknown time zone {self.timezone!r}") from err
        if self.high_use_factor < 1:
            raise SettingsError(
                "high_use_factor_low",
                f"high_use_factor must be at least 1 (a day above {self.high_use_factor:g} × "
                "the median would flag ordinary days)",
                factor=f"{self.high_use_factor:g}",
            )
        if self.night_flow_lph < 0:
            raise SettingsError(
                "night_flow_negative",
                f"night_flow_lph must not be negative (got {self.night_flow_lph:g})",
            )
        if self.daily_limit_l is not None and self.daily_limit_l < 0:
            raise SettingsError(
                "daily_limit_negative",
                f"daily_limit_l must not be negative (got {self.daily_limit_l:g})",
            )
        if self.silent_after < MIN_SILENT_AFTER:
            raise SettingsError(
                "silent_after_short",
                f"silent_after must be at least 1 hour (got {_duration(self.silent_after)})",
            )
        if self.night_start == self.night_end:
            raise SettingsError(
                "water_night_empty",
                "the night window must not be empty (night_start equals night_end, "
                f"{self.night_start:%H:%M})",
            )
        if self.in_night(self.night_check):
            raise SettingsError(
                "night_check_in_night",
                f"night_check {self.night_check:%H:%M} must not fall inside the night window "
                f"{self.night_start:%H:%M}-{self.night_end:%H:%M} "
                "(a night is judged after it ends)",
                check=f"{self.night_check:%H:%M}",
                start=f"{self.night_start:%H:%M}",
                end=f"{self.night_end:%H:%M}",
            )

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the wall-clock times are in."""
        return _zone(self.timezone)

    def in_night(self, wall: time) -> bool:
        """Is the local wall-clock time inside ``[night_start, night_end)``?"""
        if self.night_start < self.night_end:
            return self.night_start <= wall < self.night_end
        return wall >= self.night_start or wall < self.night_end

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: times as ``HH:MM[:SS]``, ``silent_after`` as whole seconds."""
        return settings_as_dict(self)

    @classmethod
    def from_dict(
        cls, values: Mapping[str, Any], base: MeterSettings | None = None
    ) -> MeterSettings:
        """Settings from ``values`` on top of ``base`` (missing or ``None`` keys are kept).

        Times may be ``time`` objects or ``"HH:MM[:SS]"``; ``silent_after`` a ``timedelta``,
        seconds, or a ``{"days", "hours", "minutes", "seconds"}`` mapping (Home Assistant's
        duration selector). Raises ``ValueError`` naming the bad key.
        """
        return settings_from_dict(cls, values, base)


# -- readings ------------------------------------------------------------------------


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


# -- the hourly series -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatRow:
    """One hourly long-term-statistics row."""

    start: datetime  # hour start, UTC
    state: float  # meter total at the END of that hour, m³ (continued over accepted swaps)
    sum: float  # consumption since the series began, m³ (rounded to 1e-6)


@dataclass(frozen=True, slots=True)
class AddResult:
    """What adding points to a series changed."""

    changed_from: datetime | None  # earliest hour START whose row changed (None: nothing new)
    rejected: int  # points refused (went backwards against their neighbours)
    backwards: bool  # the current reading or the newest log point is below the known total


class _Point(NamedTuple):
    total: float
    exact: bool


class HourlySeries:
    """Meter totals at whole UTC hours (m³), for statistics and the alert rules.

    The first boundary ever stored is the *base*: points older than it are ignored (history
    from before Home Assistant heard the meter is not imported) and a row's ``sum`` is
    ``total(boundary) - total(base)``. ``prune`` moves a floor forward the same way.
    """

    __slots__ = ("_base", "_base_total", "_floor", "_offsets", "_order", "_points")

    def __init__(self) -> None:
        """An empty series."""
        self._points: dict[datetime, _Point] = {}
        self._order: list[datetime] = []  # the keys of _points, sorted
        self._base: datetime | None = None
        self._base_total: float | None = None
        self._floor: datetime | None = None  # points older than this are ignored
        self._offsets: list[tuple[datetime, float]] = []  # (from boundary, offset), sorted

    # -- reading ---------------------------------------------------------------------

    @property
    def base(self) -> datetime | None:
        """The first boundary of the series (sums count from it)."""
        return self._base

    @property
    def last_total(self) -> float | None:
        """The newest stored total (m³)."""
        return self._points[self._order[-1]].total if self._order else None

    @property
    def last_boundary(self) -> datetime | None:
        """The newest stored boundary."""
        return self._order[-1] if self._order else None

    @property
    def first_boundary(self) -> datetime | None:
        """The oldest stored boundary (the base until pruned)."""
        return self._order[0] if self._order else None

    def __len__(self) -> int:
        """The number of stored points."""
        return len(self._order)

    def point(self, boundary: datetime) -> tuple[float, bool] | None:
        """``(total, exact)`` stored at ``boundary``, if any."""
        found = self._points.get(_utc(boundary))
        return None if found is None else (found.total, found.exact)

    def boundaries(self) -> list[datetime]:
        """Every stored boundary, oldest first."""
        return list(self._order)

    def newest_first(self) -> Iterator[datetime]:
        """The stored boundaries, newest first (do not add points while iterating)."""
        return reversed(self._order)

    def settled(self, boundary: datetime) -> float | None:
        """The total at ``boundary`` as the alert rules see it.

        An exact point, or an approximate one once a later hour is known (the newest
        approximate point may still be replaced by its exact value).
        """
        found = self._points.get(boundary)
        if found is None:
            return None
        if found.exact or boundary < self._order[-1]:
            return found.total
        return None

    def use_l(self, hour_start: datetime, *, settled: bool = False) -> float | None:
        """Litres used in ``[hour_start, hour_start + 1 h)`` when both ends are known.

        With ``settled=True`` only the values the alert rules use count.
        """
        start = _utc(hour_start)
        if settled:
            t0, t1 = self.settled(start), self.settled(start + HOUR)
        else:
            p0, p1 = self._points.get(start), self._points.get(start + HOUR)
            t0 = None if p0 is None else p0.total
            t1 = None if p1 is None else p1.total
        if t0 is None or t1 is None:
            return None
        return (t1 - t0) * 1000

    def rows(self, since: datetime | None = None) -> list[StatRow]:
        """Statistics rows, one per stored boundary, whose start is at or after ``since``.

        The row of a boundary is the hour that ends there; the base's row has sum 0.
        """
        if self._base_total is None:
            return []
        lo = 0 if since is None else bisect_left(self._order, _utc(since) + HOUR)
        base = self._base_total
        out: list[StatRow] = []
        for boundary in self._order[lo:]:
            total = self._points[boundary].total
            out.append(StatRow(boundary - HOUR, round(total, 6), round(total - base, 6)))
        return out

    # -- writing ---------------------------------------------------------------------

    def add(self, points: Iterable[tuple[datetime, float]], *, exact: bool) -> AddResult:
        """Add register values (m³) at times.

        ``exact`` points must be on the hour (one that is not is stored as approximate);
        approximate points are stored at the next full hour. The newest point of the batch
        decides ``backwards``. On an empty series the newest point's hour becomes the base.
        """
        items = [(_utc(when), value, exact) for when, value in points]
        newest = max(items, key=lambda item: item[0], default=None)
        return self._add(items, newest)

    def add_reading(self, reading: MeterReading) -> AddResult:
        """Add one uplink's log (exact, or approximate off the hour) and current register.

        ``backwards`` is decided by the current register, or by the newest log point when
        the uplink carries no register.
        """
        items: list[tuple[datetime, float, bool]] = [
            (_utc(when), value, True) for when, value in reading.log
        ]
        newest: tuple[datetime, float, bool] | None = None
        if reading.volume_m3 is not None:
            at = _utc(reading.volume_at or reading.received_at)
            newest = (at, reading.volume_m3, True)
            items.append(newest)
        elif items:
            newest = max(items, key=lambda item: item[0])
        return self._add(items, newest)

    def rebase(self, at: datetime, register_m3: float) -> None:
        """Accept a meter swap: the new meter's ``register_m3`` at ``at`` continues the total.

        Registers at boundaries from the later of ``at`` (rounded up to the hour) and the
        newest stored boundary get an offset, so the first one equals the last known total.
        """
        if not self._order or not _is_number(register_m3):
            return
        start = max(_ceil_hour(_utc(at)), self._order[-1])
        offset = self._points[self._order[-1]].total - float(register_m3)
        self._offsets = [o for o in self._offsets if o[0] < start]
        self._offsets.append((start, offset))

    def prune(self, before: datetime) -> None:
        """Drop points older than ``before`` (never the newest one); they cannot come back."""
        cutoff = _utc(before)
        if not self._order:
            return
        cutoff = min(cutoff, self._order[-1])
        if self._floor is not None and cutoff <= self._floor:
            return
        self._floor = cutoff
        cut = bisect_left(self._order, cutoff)
        for boundary in self._order[:cut]:
            del self._points[boundary]
        del self._order[:cut]
        # Keep the offset in force at the floor and every later one.
        keep = [o for o in self._offsets if o[0] > cutoff]
        earlier = [o for o in self._offsets if o[0] <= cutoff]
        self._offsets = earlier[-1:] + keep

    # -- internals -------------------------------------------------------------------

    def _offset(self, boundary: datetime) -> float:
        offset = 0.0
        for start, value in self._offsets:
            if start > boundary:
                break
            offset = value
        return offset

    def _neighbours(self, boundary: datetime) -> tuple[float | None, float | None]:
        """Totals at the nearest stored boundaries before and after ``boundary``."""
        i = bisect_left(self._order, boundary)
        prev = self._points[self._order[i - 1]].total if i > 0 else None
        j = i + 1 if i < len(self._order) and self._order[i] == boundary else i
        nxt = self._points[self._order[j]].total if j < len(self._order) else None
        return prev, nxt

    def _add(
        self,
        items: list[tuple[datetime, float, bool]],
        newest: tuple[datetime, float, bool] | None,
    ) -> AddResult:
        rejected = 0
        points: list[tuple[datetime, float, bool]] = []
        for when, value, exact in items:
            if not _is_number(value) or value < 0:
                rejected += 1
                continue
            boundary = _ceil_hour(when)
            points.append((boundary, float(value), exact and boundary == when))
        backwards = False
        if newest is not None and _is_number(newest[1]):
            boundary = _ceil_hour(newest[0])
            total = newest[1] + self._offset(boundary)
            backwards = self._below(boundary, total, exact=newest[0] == boundary)
        if self._base is None and points:
            self._base = self._floor = max(p[0] for p in points)
        changed: datetime | None = None
        # Newest first (the current register is the most trustworthy), exact before approximate.
        for boundary, value, exact in sorted(points, key=lambda p: (p[0], p[2]), reverse=True):
            outcome = self._store(boundary, value + self._offset(boundary), exact)
            if outcome is None:
                rejected += 1
            elif outcome and (changed is None or boundary < changed):
                changed = boundary
        if self._base is not None and self._base in self._points:
            base_total = self._points[self._base].total
            if self._base_total is None or base_total != self._base_total:
                self._base_total = base_total
                changed = self._base  # every sum moves
        return AddResult(
            changed_from=None if changed is None else changed - HOUR,
            rejected=rejected,
            backwards=backwards,
        )

    def _below(self, boundary: datetime, total: float, *, exact: bool) -> bool:
        """Is ``total`` at ``boundary`` below what is already known up to then?"""
        i = bisect_left(self._order, boundary)
        known: list[float] = []
        if i > 0:
            known.append(self._points[self._order[i - 1]].total)
        if exact and i < len(self._order) and self._order[i] == boundary:
            known.append(self._points[boundary].total)
        return bool(known) and total < max(known) - EPS_M3

    def _store(self, boundary: datetime, total: float, exact: bool) -> bool | None:
        """Store one total: True changed a row, False nothing changed, None rejected."""
        if self._floor is not None and boundary < self._floor:
            return False
        current = self._points.get(boundary)
        if current is not None:
            if current.exact:
                if exact:
                    return False if abs(total - current.total) <= EPS_M3 else None
                return False if total <= current.total + EPS_M3 else None
            if not exact and total <= current.total + EPS_M3:
                return False  # a lower (or equal) lower bound adds nothing
        prev, nxt = self._neighbours(boundary)
        if (prev is not None and total < prev - EPS_M3) or (
            nxt is not None and total > nxt + EPS_M3
        ):
            return None
        if current is None:
            insort(self._order, boundary)
        self._points[boundary] = _Point(total, exact)
        return current is None or abs(current.total - total) > EPS_M3

    # -- persistence -----------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe and compact: one total per hour from ``start`` (null for a gap)."""
        start = self._order[0] if self._order else None
        totals: list[float | None] = []
        approx: list[int] = []
        if start is not None:
            span = int((self._order[-1] - start) / HOUR) + 1
            totals = [None] * span
            for boundary in self._order:
                index = int((boundary - start) / HOUR)
                point = self._points[boundary]
                totals[index] = point.total
                if not point.exact:
                    approx.append(index)
        return {
            "base": _iso(self._base),
            "base_total": self._base_total,
            "floor": _iso(self._floor),
            "offsets": [[_iso(s), o] for s, o in self._offsets],
            "start": _iso(start),
            "totals": totals,
            "approx": approx,
        }

    @classmethod
    def from_dict(cls, data: object) -> HourlySeries:
        """Rebuild a series written by ``as_dict``; junk gives an empty (or partial) series.

        Points that are not numbers, or would make the total go down, are dropped.
        """
        series = cls()
        if not isinstance(data, Mapping):
            return series
        start = _parse_when(data.get("start"))
        totals = data.get("totals")
        approx_raw = data.get("approx")
        approx = (
            {i for i in approx_raw if isinstance(i, int)} if isinstance(approx_raw, list) else set()
        )
        if start is not None and _ceil_hour(start) == start and isinstance(totals, list):
            last: float | None = None
            for index, total in enumerate(totals):
                if not _is_number(total) or total < 0 or (last is not None and total < last):
                    continue
                boundary = start + index * HOUR
                series._points[boundary] = _Point(float(total), index not in approx)
                series._order.append(boundary)
                last = float(total)
        base = _parse_when(data.get("base"))
        base_total = data.get("base_total")
        if series._order:
            if base is None or base > series._order[0]:
                base = series._order[0]
            if base in series._points:
                base_total = series._points[base].total
            elif not _is_number(base_total):
                base_total = series._points[base := series._order[0]].total
            series._base, series._base_total = base, float(base_total)
            floor = _parse_when(data.get("floor"))
            series._floor = base if floor is None else min(max(floor, base), series._order[0])
        offsets = data.get("offsets")
        if isinstance(offsets, list):
            for item in offsets:
                if isinstance(item, list | tuple) and len(item) == 2 and _is_number(item[1]):
                    when = _parse_when(item[0])
                    if when is not None:
                        series._offsets.append((when, float(item[1])))
            series._offsets.sort(key=lambda o: o[0])
        return series


# -- alerts and state ------------------------------------------------------------------


@dataclass(slots=True)
class MeterAlert:
    """One active alert of one meter."""

    dev_eui: str
    type: AlertType
    since: datetime
    leak_rate_lph: float | None = None

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

    @classmethod
    def from_dict(cls, data: object) -> MeterAlert | None:
        """Rebuild an alert written by ``as_dict``; ``None`` for junk."""
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
        return cls(dev_eui, AlertType(kind), since, float(rate) if _is_number(rate) else None)


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
            "active": [alert.as_dict() for alert in self.active.values()],
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
        alert = MeterAlert(dev_eui, kind, want.since, want.leak_rate_lph)
        state.active[kind] = alert
        started.append(alert)

    wakeups = [rules.next_night_check()]
    if AlertType.SILENT not in holds:
        wakeups.append(heard + settings.silent_after)
    return MeterEvaluation(started, cleared, min(wakeups))


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


# -- helpers -----------------------------------------------------------------------------


def _floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(value: datetime) -> datetime:
    floor = _floor_hour(value)
    return floor if floor == value else floor + HOUR
