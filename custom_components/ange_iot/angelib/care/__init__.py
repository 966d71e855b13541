"""Care checks ("tillsyn") for an LSS group home: a pure, clock-driven rule engine.

The modules: ``settings`` (``CareSettings``), ``model`` (statuses, reasons, events, the
sensor inputs and the ``Evaluation``), ``state`` (``ApartmentState`` and the inputs that
change it), ``clock`` (when the deadlines fall) and ``engine`` (``evaluate``). Import
from the package: the names below are its interface.

One apartment at a time, from activity times, the health of the sensors the check depends
on, pause and acknowledgement, and the clock, ``evaluate`` says whether all is well, a check
is needed, someone is on it, the checks are paused, or we cannot tell (a sensor or the gateway
is silent; ``gateway_quiet`` says when a gateway, not its sensors, is why). The Home
Assistant layer calls ``evaluate`` whenever an input changes and at the returned
``next_wakeup``, persists ``ApartmentState`` (``as_dict``/``from_dict``) and turns the
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

from .engine import evaluate
from .model import (
    LATE_AFTER,
    MAX_CATCH_UP,
    ActivityKind,
    CareEvent,
    Evaluation,
    EventType,
    OpenAlert,
    Reason,
    Resolution,
    SensorHealth,
    Status,
    activity_kind,
    gateway_quiet,
    sensor_health,
)
from .settings import DEFAULT_SETTINGS, CareSettings
from .state import Alert, ApartmentState, acknowledge, pause, record_activity, resume

__all__ = [
    "DEFAULT_SETTINGS",
    "LATE_AFTER",
    "MAX_CATCH_UP",
    "ActivityKind",
    "Alert",
    "ApartmentState",
    "CareEvent",
    "CareSettings",
    "Evaluation",
    "EventType",
    "OpenAlert",
    "Reason",
    "Resolution",
    "SensorHealth",
    "Status",
    "acknowledge",
    "activity_kind",
    "evaluate",
    "gateway_quiet",
    "pause",
    "record_activity",
    "resume",
    "sensor_health",
]
