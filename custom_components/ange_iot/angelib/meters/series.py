"""Hourly meter totals for long-term statistics and the alert rules (``HourlySeries``).

A total is stored at whole UTC hours, exact or a lower bound; a value that would make the
total go down is refused and counted, so a reset or a swapped meter is never consumption.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from ..values import (
    is_number as _is_number,
    iso as _iso,
    parse_when as _parse_when,
    utc as _utc,
)
from .model import EPS_M3, HOUR, MeterReading, ceil_hour


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
        start = max(ceil_hour(_utc(at)), self._order[-1])
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
            boundary = ceil_hour(when)
            points.append((boundary, float(value), exact and boundary == when))
        backwards = False
        if newest is not None and _is_number(newest[1]):
            boundary = ceil_hour(newest[0])
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
        if start is not None and ceil_hour(start) == start and isinstance(totals, list):
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
