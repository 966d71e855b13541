"""Phone check at shift start: does the alert chain reach each on-shift phone?

Real care-alarm failures were delivery failures nobody saw (alarms that reached the night
patrol hours late). So at each configured shift start every on-shift phone gets a test
notification that must be tapped; a phone that does not confirm within the grace is
reported: the alert chain to that phone is broken.

The Home Assistant layer sends the notifications, hears the taps and keeps a timer at
``next_wakeup``; this module holds the rules and the stored state, and never reads the
clock. Phones are opaque ids (the layer uses device ids).

* ``next_shift(settings, after)``: the first shift start strictly after ``after``. Local
  wall-clock times become instants with ``zoneinfo`` and ``fold=0``, as in ``care``: a time
  in the spring-forward gap moves forward by the gap (02:30 becomes 03:30 summer time), a time
  that exists twice in autumn means its first occurrence. Each shift time happens once a day.
* ``advance(state, settings, now, online_since=...)``: everything due by ``now``. Open checks
  whose due time passed are closed; every phone that neither confirmed nor was already
  reported is a ``Miss`` (``late`` when the due time passed before Home Assistant was running,
  whatever the delay; a reload is not downtime). Then the shift start that came due is
  started. A shift start missed while Home Assistant was down is started at once (with the
  full grace) only while its own grace has not run out; an older one is skipped: a check that
  nobody was asked to answer cannot fail.
* ``confirm``: a tap; ``unreachable``: the notification could not be sent, which is a miss
  at once (nobody can tap what never arrived).
* A restart before the due time keeps the open check (stored); one after it expires the check
  at the first ``advance``, late, once: a closed check is gone from the state.
* ``failing``: phones whose last check failed, until they confirm a later check (the layer
  keeps a repair issue open for each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from .values import is_number, iso, parse_time, parse_when, zone

DEFAULT_GRACE = timedelta(minutes=10)
MAX_SHIFTS = 4
MAX_GRACE = timedelta(hours=2)


class MissReason(StrEnum):
    """Why a phone counts as missed."""

    NOT_CONFIRMED = "not_confirmed"  # nobody tapped within the grace
    NOT_REACHABLE = "not_reachable"  # the notification could not be sent at all
    REMOVED = "removed"  # taken off the phone check while a check was open: not reported


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneCheckSettings:
    """A building's phone check: shift start times (local), the phones, the grace."""

    shift_times: tuple[time, ...]
    phones: tuple[str, ...]
    grace: timedelta = DEFAULT_GRACE
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        """Refuse settings that cannot work (the form prevents them)."""
        if not self.shift_times or len(self.shift_times) > MAX_SHIFTS:
            raise ValueError(f"expected 1 to {MAX_SHIFTS} shift times, got {self.shift_times!r}")
        if not timedelta(minutes=1) <= self.grace <= MAX_GRACE:
            raise ValueError(f"grace must be 1 min to 2 h, got {self.grace}")
        zone(self.timezone)  # raises for an unknown zone

    @classmethod
    def from_form(
        cls, data: Mapping[str, Any], *, timezone: str, shift_keys: Sequence[str]
    ) -> PhoneCheckSettings:
        """Settings from stored form data: the filled shift fields, phones, grace minutes."""
        times: set[time] = set()
        for key in shift_keys:
            if data.get(key):
                times.add(parse_time(data[key]).replace(second=0, microsecond=0))
        phones = data.get("phones") or ()
        if isinstance(phones, str):
            phones = (phones,)
        grace = data.get("grace", DEFAULT_GRACE.total_seconds() / 60)
        if not is_number(grace):
            raise ValueError(f"grace: expected minutes, got {grace!r}")
        return cls(
            shift_times=tuple(sorted(times)),
            phones=tuple(dict.fromkeys(str(p) for p in phones)),
            grace=timedelta(minutes=float(grace)),
            timezone=timezone,
        )


def local_instant(day: Any, wall: time, timezone: str) -> datetime:
    """A local wall-clock time on ``day`` as a UTC instant (fold=0)."""
    return datetime.combine(day, wall, tzinfo=zone(timezone)).astimezone(UTC)


def next_shift(settings: PhoneCheckSettings, after: datetime) -> datetime:
    """The first shift start strictly after ``after`` (UTC)."""
    local_day = after.astimezone(zone(settings.timezone)).date()
    for offset in range(-1, 3):
        day = local_day + timedelta(days=offset)
        starts = sorted(local_instant(day, t, settings.timezone) for t in settings.shift_times)
        for start in starts:
            if start > after:
                return start
    raise AssertionError("a shift time exists within two days")  # pragma: no cover


def last_shift(settings: PhoneCheckSettings, at: datetime) -> datetime:
    """The latest shift start at or before ``at`` (UTC)."""
    local_day = at.astimezone(zone(settings.timezone)).date()
    for offset in range(0, -3, -1):
        day = local_day + timedelta(days=offset)
        starts = sorted(
            (local_instant(day, t, settings.timezone) for t in settings.shift_times),
            reverse=True,
        )
        for start in starts:
            if start <= at:
                return start
    raise AssertionError("a shift time exists within two days")  # pragma: no cover


def shift_of(check_id: str) -> datetime | None:
    """The shift start a check id names (its last 14 characters), None for junk."""
    try:
        return datetime.strptime(check_id[-14:], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def shift_label(shift: datetime, timezone: str) -> str:
    """A shift start as its local wall-clock time, "07:00"."""
    return shift.astimezone(zone(timezone)).strftime("%H:%M")


@dataclass(slots=True)
class PhoneStatus:
    """One phone in one check."""

    phone: str
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None
    missed: MissReason | None = None

    @property
    def open(self) -> bool:
        """Neither confirmed nor reported."""
        return self.confirmed_at is None and self.missed is None


@dataclass(slots=True)
class OpenCheck:
    """A check in progress: started at a shift start, due after the grace."""

    check_id: str
    shift: datetime
    started: datetime
    due: datetime
    phones: list[PhoneStatus]

    def index(self, phone: str) -> int | None:
        """The phone's position (its action button's number), if it is in this check."""
        for n, status in enumerate(self.phones):
            if status.phone == phone:
                return n
        return None


@dataclass(frozen=True, slots=True)
class Miss:
    """A phone that did not confirm a check (or could not be reached): report it once."""

    check_id: str
    phone: str
    shift: datetime
    due: datetime
    reason: MissReason
    late: bool = False


@dataclass(slots=True)
class PhoneCheckState:
    """What is stored: open checks, the last shift started, phones whose chain is broken."""

    watching_since: datetime | None = None
    last_shift: datetime | None = None
    checks: dict[str, OpenCheck] = field(default_factory=dict)
    failing: dict[str, str] = field(default_factory=dict)  # phone -> check id it failed

    # -- rules ---------------------------------------------------------------------------

    def start(
        self, settings: PhoneCheckSettings, shift: datetime, now: datetime, *, key: str
    ) -> OpenCheck:
        """Open the check of one shift start; due one grace after it is sent (``now``)."""
        check_id = f"{key}{shift.astimezone(UTC):%Y%m%dT%H%MZ}"
        check = OpenCheck(
            check_id=check_id,
            shift=shift,
            started=now,
            due=max(shift, now) + settings.grace,
            phones=[PhoneStatus(phone) for phone in settings.phones],
        )
        self.checks[check_id] = check
        self.last_shift = shift if self.last_shift is None else max(self.last_shift, shift)
        return check

    def confirm(self, check_id: str, n: int, at: datetime, by: str | None = None) -> str | None:
        """Phone number ``n`` of a check tapped: its id when this confirms it, else None.

        A phone already reported as not reachable that taps after all is confirmed too (the
        chain works now); a tap on a closed check changes nothing.
        """
        check = self.checks.get(check_id)
        if check is None or not 0 <= n < len(check.phones):
            return None
        status = check.phones[n]
        if status.confirmed_at is not None:
            return None
        status.confirmed_at, status.confirmed_by = at, by
        self.failing.pop(status.phone, None)
        return status.phone

    def unreachable(self, check_id: str, phone: str) -> Miss | None:
        """The check's notification could not be sent to ``phone``: missed at once."""
        check = self.checks.get(check_id)
        n = check.index(phone) if check is not None else None
        if check is None or n is None or not check.phones[n].open:
            return None
        check.phones[n].missed = MissReason.NOT_REACHABLE
        self.failing[phone] = check_id
        return Miss(check_id, phone, check.shift, check.due, MissReason.NOT_REACHABLE)

    def advance(
        self,
        settings: PhoneCheckSettings | None,
        now: datetime,
        *,
        key: str,
        online_since: datetime | None = None,
    ) -> tuple[list[Miss], list[OpenCheck]]:
        """Expire the checks due by ``now`` (misses) and start a shift check that is due."""
        if self.watching_since is None:
            self.watching_since = now
        misses: list[Miss] = []
        for check_id, check in sorted(self.checks.items(), key=lambda item: item[1].due):
            if check.due > now:
                continue
            del self.checks[check_id]
            late = online_since is not None and check.due < online_since
            for status in check.phones:
                if status.open:
                    status.missed = MissReason.NOT_CONFIRMED
                    self.failing[status.phone] = check_id
                    misses.append(
                        Miss(
                            check_id,
                            status.phone,
                            check.shift,
                            check.due,
                            MissReason.NOT_CONFIRMED,
                            late,
                        )
                    )
        started: list[OpenCheck] = []
        if settings is not None:
            shift = last_shift(settings, now)
            since = max(filter(None, (self.watching_since, self.last_shift)))
            if shift > since or (self.last_shift is None and shift == since):
                if now - shift < settings.grace:
                    started.append(self.start(settings, shift, now, key=key))
                else:  # missed while down, its grace over: skipped, nobody was asked
                    self.last_shift = shift
        return misses, started

    def next_wakeup(self, settings: PhoneCheckSettings | None, now: datetime) -> datetime | None:
        """When ``advance`` has something to do next: a due time or the next shift."""
        times = [check.due for check in self.checks.values()]
        if settings is not None:
            times.append(next_shift(settings, now))
        return min(times) if times else None

    def forget_phones(self, keep: Sequence[str]) -> None:
        """Phones taken off: not failing any more (their issue goes), not reported."""
        for phone in [p for p in self.failing if p not in keep]:
            del self.failing[phone]
        for check in self.checks.values():
            for status in check.phones:
                if status.open and status.phone not in keep:
                    status.missed = MissReason.REMOVED

    # -- storage -------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "watching_since": iso(self.watching_since),
            "last_shift": iso(self.last_shift),
            "checks": {
                check_id: {
                    "shift": iso(check.shift),
                    "started": iso(check.started),
                    "due": iso(check.due),
                    "phones": [
                        {
                            "phone": s.phone,
                            "confirmed_at": iso(s.confirmed_at),
                            "confirmed_by": s.confirmed_by,
                            "missed": str(s.missed) if s.missed else None,
                        }
                        for s in check.phones
                    ],
                }
                for check_id, check in self.checks.items()
            },
            "failing": dict(self.failing),
        }

    @classmethod
    def from_dict(cls, data: object) -> PhoneCheckState:
        """State from stored data; anything unreadable is dropped, never raised."""
        state = cls()
        if not isinstance(data, Mapping):
            return state
        state.watching_since = parse_when(data.get("watching_since"))
        state.last_shift = parse_when(data.get("last_shift"))
        checks = data.get("checks")
        if isinstance(checks, Mapping):
            for check_id, raw in checks.items():
                check = _parse_check(check_id, raw)
                if check is not None:
                    state.checks[check.check_id] = check
        failing = data.get("failing")
        if isinstance(failing, Mapping):
            state.failing = {str(k): v for k, v in failing.items() if isinstance(v, str)}
        return state


def _parse_check(check_id: object, raw: object) -> OpenCheck | None:
    if not isinstance(check_id, str) or not isinstance(raw, Mapping):
        return None
    shift, started, due = (parse_when(raw.get(k)) for k in ("shift", "started", "due"))
    phones = raw.get("phones")
    if shift is None or started is None or due is None or not isinstance(phones, list):
        return None
    statuses: list[PhoneStatus] = []
    for item in phones:
        if not isinstance(item, Mapping) or not isinstance(item.get("phone"), str):
            return None
        missed = item.get("missed")
        by = item.get("confirmed_by")
        statuses.append(
            PhoneStatus(
                phone=item["phone"],
                confirmed_at=parse_when(item.get("confirmed_at")),
                confirmed_by=by if isinstance(by, str) else None,
                missed=MissReason(missed) if missed in tuple(MissReason) else None,
            )
        )
    return OpenCheck(check_id, shift, started, due, statuses)
