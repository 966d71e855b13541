"""When the care rules' deadlines fall, from the settings and what the state remembers.

Local wall-clock times become instants with ``fold=0`` (see the ``care`` package docstring
for what that means on daylight-saving nights).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
import functools
from typing import NamedTuple
from zoneinfo import ZoneInfo

from .model import Reason
from .settings import CareSettings
from .state import ApartmentState, latest, meets

_DAYS = tuple(timedelta(days=offset) for offset in range(4))  # a rule looks 4 days ahead
_ONE_DAY = timedelta(days=1)


class DayRules(NamedTuple):
    """One local day's rule times as UTC instants (fold=0)."""

    morning_start: datetime
    morning_deadline: datetime
    morning_due: datetime  # the deadline and the re-check grace
    active_start: datetime
    active_end: datetime


# Every evaluation turns the same few local times (the settings, a few days around now)
# into instants, and the same few instants (now, the last evaluation) into local dates: at
# a start all apartments of a building ask the same questions, so the answers are kept.
# Pure functions of immutable, hashable arguments (frozen settings, cached ZoneInfo).
@functools.lru_cache(maxsize=1024)
def day_rules(settings: CareSettings, day: date) -> DayRules:
    """The rule times of ``settings`` on the local date ``day``."""
    zone = settings.zone

    def instant(wall: time) -> datetime:
        return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)

    deadline = instant(settings.morning_deadline)
    return DayRules(
        morning_start=instant(settings.morning_start),
        morning_deadline=deadline,
        morning_due=deadline + settings.grace,
        active_start=instant(settings.active_start),
        active_end=instant(settings.active_end),
    )


@functools.lru_cache(maxsize=4096)
def local_date(zone: ZoneInfo, at: datetime) -> date:
    """The local date of an instant."""
    return at.astimezone(zone).date()


class RuleClock:
    """The deadlines of one apartment's rules (the base of an evaluation's walk)."""

    settings: CareSettings
    state: ApartmentState
    zone: ZoneInfo
    now: datetime
    _days: dict[date, tuple[DayRules, ...]]  # kept for the walk (hashing settings costs)

    def _days_from(self, first: date) -> tuple[DayRules, ...]:
        """The rule times of the days a rule looks at, from the local date ``first`` on."""
        if (days := self._days.get(first)) is None:
            days = self._days[first] = tuple(
                day_rules(self.settings, first + offset) for offset in _DAYS
            )
        return days

    def _day(self, at: datetime) -> date:
        return local_date(self.zone, at)

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
        last_activity = self.state.last_activity
        for rules in self._days_from(self._day(after) - _ONE_DAY):
            start, due = rules.morning_start, rules.morning_due
            if due <= after:
                continue
            if unmet_only and meets(Reason.NO_MORNING_ACTIVITY, start, last_activity):
                continue
            return start, rules.morning_deadline, due
        return None

    def _next_inactive(self, after: datetime) -> tuple[datetime, datetime, datetime] | None:
        """(anchor, deadline, due) of the first inactivity due after ``after``."""
        s, st = self.settings, self.state
        if not s.inactivity_check:
            return None
        base = latest(st.last_activity, st.reset_at) or st.started or self.now
        first = max(self._day(base), self._day(after) - _ONE_DAY)
        for rules in self._days_from(first):
            anchor = max(base, rules.active_start)
            deadline = anchor + s.inactivity_limit
            due = deadline + s.grace
            if deadline < rules.active_end and due > after:
                return base, deadline, due
        return None

    def _night_of(self, at: datetime) -> date:
        """The local date on which the night around ``at`` began."""
        local = at.astimezone(self.zone)
        wall = local.time().replace(tzinfo=None)
        s = self.settings
        if s.night_start > s.night_end and wall < s.night_end:  # after midnight
            return local.date() - timedelta(days=1)
        return local.date()
