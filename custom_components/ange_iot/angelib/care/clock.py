"""When the care rules' deadlines fall, from the settings and what the state remembers.

Local wall-clock times become instants with ``fold=0`` (see the ``care`` package docstring
for what that means on daylight-saving nights).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .model import Reason
from .settings import CareSettings
from .state import ApartmentState, latest, meets


class RuleClock:
    """The deadlines of one apartment's rules (the base of an evaluation's walk)."""

    settings: CareSettings
    state: ApartmentState
    zone: ZoneInfo
    now: datetime

    def _local(self, day: date, wall: time) -> datetime:
        """A local wall-clock time as a UTC instant (fold=0)."""
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
            if unmet_only and meets(Reason.NO_MORNING_ACTIVITY, start, last_activity):
                continue
            return start, deadline, due
        return None

    def _next_inactive(self, after: datetime) -> tuple[datetime, datetime, datetime] | None:
        """(anchor, deadline, due) of the first inactivity due after ``after``."""
        s, st = self.settings, self.state
        if not s.inactivity_check:
            return None
        base = latest(st.last_activity, st.reset_at) or st.started or self.now
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

    def _night_of(self, at: datetime) -> date:
        """The local date on which the night around ``at`` began."""
        local = at.astimezone(self.zone)
        wall = local.time().replace(tzinfo=None)
        s = self.settings
        if s.night_start > s.night_end and wall < s.night_end:  # after midnight
            return local.date() - timedelta(days=1)
        return local.date()
