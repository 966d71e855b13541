"""Water meters: hourly statistics that never count a reset, and the alerts a manager expects.

The modules: ``settings`` (``MeterSettings``), ``model`` (alert types, limits and the
``MeterReading`` of one uplink), ``series`` (``HourlySeries``) and ``alerts`` (``MeterState``,
``evaluate`` and its rules). Import from the package: the names below are its interface.

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

An open alert nobody acknowledged is not forgotten: ``follow_up`` gives it a ``reminder``
every ``reminder_interval`` (default 15 min; 0 = never) counted from when it was raised, and
one ``escalated`` after ``escalation_delay`` (default 0 = never), until it is acknowledged
or clears. The counts are stored in the alert (``MeterState.as_dict``), so a restart neither
loses nor repeats one; after downtime an alert gets one late reminder, not one per interval
missed.
"""

from __future__ import annotations

from .alerts import (
    FollowUp,
    FollowUps,
    FollowUpType,
    MeterAlert,
    MeterEvaluation,
    MeterState,
    evaluate,
    follow_up,
)
from .model import DERIVED, DEVICE_ALARMS, AlertType, MeterReading, reading_from_fields
from .series import AddResult, HourlySeries, StatRow
from .settings import MeterSettings

__all__ = [
    "DERIVED",
    "DEVICE_ALARMS",
    "AddResult",
    "AlertType",
    "FollowUp",
    "FollowUpType",
    "FollowUps",
    "HourlySeries",
    "MeterAlert",
    "MeterEvaluation",
    "MeterReading",
    "MeterSettings",
    "MeterState",
    "StatRow",
    "evaluate",
    "follow_up",
    "reading_from_fields",
]
