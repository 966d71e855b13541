"""Water meters: the hourly series, readings, settings and every alert rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
import itertools
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings as hyp_settings, strategies as st
import pytest

from custom_components.ange_iot.angelib.meters import (
    DERIVED,
    DEVICE_ALARMS,
    AddResult,
    AlertType,
    HourlySeries,
    MeterAlert,
    MeterEvaluation,
    MeterReading,
    MeterSettings,
    MeterState,
    evaluate,
    reading_from_fields,
)

Z = ZoneInfo("Europe/Stockholm")
H = timedelta(hours=1)
EUI = "0001a8f000002101"
DEFAULTS = MeterSettings()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def loc(*args: int) -> datetime:
    """A local Stockholm wall-clock time as UTC."""
    return datetime(*args, tzinfo=Z).astimezone(UTC)  # type: ignore[misc]


def reading(
    received: datetime,
    volume: float | None = None,
    *,
    at: datetime | None = None,
    log: Sequence[tuple[datetime, float]] = (),
    **alarms: bool,
) -> MeterReading:
    return MeterReading(
        received_at=received,
        volume_m3=volume,
        volume_at=(at or received) if volume is not None else None,
        log=tuple(log),
        alarms={AlertType(k): v for k, v in alarms.items()},
    )


class Meter:
    """A synthetic meter: hourly uses in litres become exact hourly registers."""

    def __init__(self, start: datetime, register_l: float = 100_000.0) -> None:
        self.state = MeterState()
        self.start = start
        self.hours: list[float | None] = []  # None: an hour whose end is not reported
        self.register_l = register_l
        self.sent = 0  # boundaries already sent

    def boundary(self, index: int) -> datetime:
        return self.start + index * H

    def registers(self) -> list[tuple[datetime, float]]:
        """Every known boundary so far (an unknown hour hides its end boundary)."""
        out = [(self.start, self.register_l / 1000)]
        total = self.register_l
        for k, use in enumerate(self.hours, start=1):
            total += 0.0 if use is None else use
            if use is not None:
                out.append((self.boundary(k), total / 1000))
        return out

    def use(self, *litres: float | None) -> None:
        self.hours.extend(litres)

    def send(self, delay: timedelta = timedelta(seconds=30)) -> AddResult:
        """One uplink with the register at the newest boundary and the log since last time."""
        points = [p for p in self.registers() if p[0] >= self.boundary(max(0, self.sent - 1))]
        self.sent = len(self.hours) + 1
        newest = points[-1]
        return self.state.ingest(
            reading(newest[0] + delay, newest[1], at=newest[0], log=points[:-1])
        )

    @property
    def now(self) -> datetime:
        return self.boundary(len(self.hours)) + timedelta(seconds=30)

    def evaluate(
        self, now: datetime | None = None, settings: MeterSettings = DEFAULTS
    ) -> MeterEvaluation:
        return evaluate(EUI, self.state, settings, now or self.now)


def kinds(alerts: Sequence[MeterAlert]) -> list[tuple[AlertType, datetime]]:
    return [(a.type, a.since) for a in alerts]


def check(
    meter: Meter,
    now: datetime,
    *,
    started: Sequence[tuple[AlertType, datetime]] = (),
    cleared: Sequence[AlertType] = (),
    settings: MeterSettings = DEFAULTS,
) -> MeterEvaluation:
    """Evaluate at ``now`` and expect these transitions; a second evaluation has none."""
    result = meter.evaluate(now, settings)
    assert kinds(result.started) == list(started)
    assert [a.type for a in result.cleared] == list(cleared)
    again = meter.evaluate(now, settings)
    assert (again.started, again.cleared) == ([], [])
    return result


# -- settings ------------------------------------------------------------------------


def test_alert_type_groups() -> None:
    assert set(DEVICE_ALARMS) | set(DERIVED) == set(AlertType)
    assert not set(DEVICE_ALARMS) & set(DERIVED)
    assert [str(a) for a in DEVICE_ALARMS] == [
        "leak",
        "burst",
        "reverse_flow",
        "dry",
        "tamper",
        "freeze",
    ]


def test_settings_round_trip_and_parsing() -> None:
    assert DEFAULTS.as_dict() == {
        "timezone": "Europe/Stockholm",
        "continuous_by_design": False,
        "night_start": "00:00",
        "night_end": "06:00",
        "night_check": "07:00",
        "night_flow_lph": 5.0,
        "high_use_factor": 3.0,
        "daily_limit_l": None,
        "silent_after": 172800,
        "reminder_interval": 900,
        "escalation_delay": 0,
    }
    custom = MeterSettings(
        night_start=time(22, 30),
        night_end=time(5, 0),
        night_check=time(6, 15, 30),
        daily_limit_l=800.0,
        continuous_by_design=True,
        silent_after=timedelta(hours=72),
        reminder_interval=timedelta(hours=1),
        escalation_delay=timedelta(minutes=45),
    )
    stored = json.loads(json.dumps(custom.as_dict()))
    assert MeterSettings.from_dict(stored) == custom
    assert stored["night_check"] == "06:15:30"
    # Strings, numbers, duration mappings; None and missing keys keep the base.
    parsed = MeterSettings.from_dict(
        {
            "night_end": "05:00",
            "silent_after": {"hours": 72},
            "night_flow_lph": 3,
            "high_use_factor": None,
        },
        base=custom,
    )
    assert parsed == replace(custom, night_flow_lph=3.0)
    assert MeterSettings.from_dict({"silent_after": 7200}).silent_after == 2 * H
    assert MeterSettings.from_dict({"silent_after": timedelta(hours=5)}).silent_after == 5 * H
    assert MeterSettings.from_dict({}) == DEFAULTS


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"high_use_factor": 0.5}, "high_use_factor must be at least 1"),
        ({"night_flow_lph": -1}, "night_flow_lph must not be negative"),
        ({"daily_limit_l": -10}, "daily_limit_l must not be negative"),
        ({"silent_after": 1800}, "silent_after must be at least 1 hour (got 0 h 30 min)"),
        ({"night_start": "06:00"}, "the night window must not be empty"),
        ({"night_check": "03:00"}, "night_check 03:00 must not fall inside the night window"),
        (
            {"night_start": "22:00", "night_end": "05:00", "night_check": "23:30"},
            "night_check 23:30 must not fall inside the night window 22:00-05:00",
        ),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"night_end": "25:00"}, "night_end: expected a time of day like 06:30"),
        ({"night_flow_lph": "lots"}, "night_flow_lph: expected a number"),
        ({"night_flow_lph": True}, "night_flow_lph: expected a number"),
        ({"continuous_by_design": "yes"}, "continuous_by_design: expected true or false"),
        ({"silent_after": "2 days"}, "silent_after: expected a duration"),
        ({"silent_after": {"fortnights": 1}}, "silent_after: expected a duration"),
        ({"reminder_interval": 30}, "the reminder interval must be off or between 1 minute"),
        ({"reminder_interval": 86401}, "the reminder interval must be off or between 1 minute"),
        ({"escalation_delay": 59}, "the escalation delay must be off or between 1 minute"),
        ({"escalation_delay": {"days": 8}}, "the escalation delay must be off or between"),
    ],
)
def test_settings_validation_messages(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        MeterSettings.from_dict(values)


def test_settings_edges_that_are_fine() -> None:
    # Checking right at the end of the night, a zero threshold, a factor of exactly 1.
    fine = MeterSettings.from_dict(
        {"night_check": "06:00", "night_flow_lph": 0, "high_use_factor": 1, "daily_limit_l": 0}
    )
    assert fine.night_check == time(6)
    # Reminders and escalation: off, or at the edges of their ranges.
    for reminder, escalation in ((0, 0), (60, 60), (86400, 7 * 86400)):
        edges = MeterSettings.from_dict(
            {"reminder_interval": reminder, "escalation_delay": escalation}
        )
        assert edges.reminder_interval == timedelta(seconds=reminder)
        assert edges.escalation_delay == timedelta(seconds=escalation)
    # A window across midnight may be checked in the afternoon.
    crossing = MeterSettings.from_dict(
        {"night_start": "23:00", "night_end": "05:00", "night_check": "14:00"}
    )
    assert crossing.in_night(time(23, 30))
    assert crossing.in_night(time(4, 59))
    assert not crossing.in_night(time(5))
    assert not crossing.in_night(time(22, 59))


# -- readings ------------------------------------------------------------------------


def test_reading_from_kamstrup_like_fields() -> None:
    received = utc(2026, 3, 1, 10, 0, 3)
    fields = {
        "volume": 53.217,
        "meter_time": "2026-03-01T10:00:00Z",
        "volume_log_m3": [53.2, 53.21, 53.217],
        "volume_log_times": [
            "2026-03-01T08:00:00Z",
            "2026-03-01T09:00:00Z",
            "2026-03-01T10:00:00Z",
        ],
        "leak": True,
        "burst": False,
        "dry": "no",  # not a flag
        "low_battery": True,  # not an alert of this module
    }
    r = reading_from_fields(fields, received)
    assert r.received_at == received
    assert r.volume_m3 == 53.217
    assert r.volume_at == utc(2026, 3, 1, 10)
    assert r.log == (
        (utc(2026, 3, 1, 8), 53.2),
        (utc(2026, 3, 1, 9), 53.21),
        (utc(2026, 3, 1, 10), 53.217),
    )
    assert dict(r.alarms) == {AlertType.LEAK: True, AlertType.BURST: False}


@pytest.mark.parametrize(
    ("changes", "volume_at_received", "log_kept"),
    [
        ({}, False, True),
        ({"meter_time": None}, True, True),
        ({"meter_time": "yesterday"}, True, True),
        ({"meter_time": "2026-03-01T12:00:00Z"}, True, True),  # 2 h ahead: a wrong clock
        ({"meter_time": "2026-02-01T10:00:00Z"}, True, True),  # a month behind
        ({"volume_log_times": ["2026-03-01T09:00:00Z"]}, False, False),  # length mismatch
        ({"volume_log_times": ["2026-03-01T09:00:00Z", "nine"]}, False, False),
        ({"volume_log_times": ["2026-03-01T09:00:00Z", "2026-03-01T13:00:00Z"]}, False, False),
        ({"volume_log_m3": [53.2, None]}, False, False),
        ({"volume_log_m3": "53.2,53.21"}, False, False),
    ],
)
def test_reading_tolerates_bad_fields(
    changes: dict[str, Any], volume_at_received: bool, log_kept: bool
) -> None:
    received = utc(2026, 3, 1, 10, 0, 3)
    fields: dict[str, Any] = {
        "volume": 53.217,
        "meter_time": "2026-03-01T10:00:00Z",
        "volume_log_m3": [53.2, 53.21],
        "volume_log_times": ["2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z"],
    }
    fields.update(changes)
    r = reading_from_fields(fields, received)
    assert r.volume_at == (received if volume_at_received else utc(2026, 3, 1, 10))
    assert bool(r.log) is log_kept


def test_reading_without_volume() -> None:
    r = reading_from_fields({"volume": True, "tamper": True}, utc(2026, 3, 1))
    assert (r.volume_m3, r.volume_at, r.log) == (None, None, ())
    assert dict(r.alarms) == {AlertType.TAMPER: True}
    assert reading_from_fields({"volume": -1.0}, utc(2026, 3, 1)).volume_m3 is None


# -- the hourly series ---------------------------------------------------------------


def rows(series: HourlySeries) -> list[tuple[str, float, float]]:
    return [(f"{r.start:%d %H:%M}", r.state, r.sum) for r in series.rows()]


def test_first_reading_sets_the_base_and_older_history_is_ignored() -> None:
    series = HourlySeries()
    log = [(utc(2026, 3, 1, h), 10 + h / 1000) for h in range(6, 10)]
    result = series.add_reading(
        reading(utc(2026, 3, 1, 10, 0, 5), 10.010, at=utc(2026, 3, 1, 10), log=log)
    )
    assert result == AddResult(changed_from=utc(2026, 3, 1, 9), rejected=0, backwards=False)
    assert series.base == utc(2026, 3, 1, 10)
    assert rows(series) == [("01 09:00", 10.01, 0.0)]
    # A later log with hours before the base: only the new hour is taken.
    log = [(utc(2026, 3, 1, h), 10 + h / 1000) for h in range(7, 12)]
    result = series.add_reading(reading(utc(2026, 3, 1, 11, 0, 5), log=log))
    assert result.changed_from == utc(2026, 3, 1, 10)
    assert rows(series) == [("01 09:00", 10.01, 0.0), ("01 10:00", 10.011, 0.001)]
    assert series.use_l(utc(2026, 3, 1, 10)) == pytest.approx(1.0)
    assert series.use_l(utc(2026, 3, 1, 9)) is None  # before the base


def test_approximate_and_exact_points() -> None:
    series = HourlySeries()
    # 10:37 -> a lower bound for 11:00.
    r = series.add([(utc(2026, 3, 1, 10, 37), 5.000)], exact=False)
    assert r.changed_from == utc(2026, 3, 1, 10)
    assert series.point(utc(2026, 3, 1, 11)) == (5.0, False)
    # A lower approximate for the same hour adds nothing; a higher one replaces it.
    assert series.add([(utc(2026, 3, 1, 10, 20), 4.990)], exact=False).changed_from is None
    assert series.add([(utc(2026, 3, 1, 10, 50), 5.004)], exact=False).changed_from == utc(
        2026, 3, 1, 10
    )
    assert series.point(utc(2026, 3, 1, 11)) == (5.004, False)
    # The exact value beats it; an approximate after that changes nothing.
    assert series.add([(utc(2026, 3, 1, 11), 5.006)], exact=True).changed_from == utc(
        2026, 3, 1, 10
    )
    assert series.point(utc(2026, 3, 1, 11)) == (5.006, True)
    again = series.add([(utc(2026, 3, 1, 10, 55), 5.005)], exact=False)
    assert again == AddResult(changed_from=None, rejected=0, backwards=False)
    # An approximate above the exact total of its hour is impossible: refused.
    assert series.add([(utc(2026, 3, 1, 10, 58), 5.100)], exact=False).rejected == 1
    # An "exact" point that is not on the hour is stored as approximate.
    series.add([(utc(2026, 3, 1, 11, 30), 5.010)], exact=True)
    assert series.point(utc(2026, 3, 1, 12)) == (5.01, False)
    assert rows(series) == [("01 10:00", 5.006, 0.0), ("01 11:00", 5.01, 0.004)]


def test_settled_values_for_the_rules() -> None:
    series = HourlySeries()
    series.add([(utc(2026, 3, 1, 10), 1.0)], exact=True)
    series.add([(utc(2026, 3, 1, 10, 0, 1), 1.0)], exact=False)  # stored at 11:00
    # The newest approximate value is not settled yet: it may still be replaced.
    assert series.use_l(utc(2026, 3, 1, 10)) == 0.0
    assert series.use_l(utc(2026, 3, 1, 10), settled=True) is None
    series.add([(utc(2026, 3, 1, 11, 30), 1.004)], exact=False)  # a later hour is known
    assert series.use_l(utc(2026, 3, 1, 10), settled=True) == 0.0
    assert series.settled(utc(2026, 3, 1, 12)) is None


def test_duplicated_logs_change_nothing() -> None:
    series = HourlySeries()
    log = [(utc(2026, 3, 1, h), 2 + h / 100) for h in range(0, 13)]
    series.add(log[:1], exact=True)
    first = series.add(log, exact=True)
    assert first.changed_from == utc(2026, 3, 1, 0)
    snapshot = series.as_dict()
    for _ in range(3):
        assert series.add(log, exact=True) == AddResult(None, 0, False)
        assert series.add(reversed(log[3:8]), exact=True) == AddResult(None, 0, False)
    assert series.as_dict() == snapshot


def test_late_logs_fill_earlier_hours_without_double_counting() -> None:
    series = HourlySeries()
    series.add([(utc(2026, 3, 1, 12), 7.000)], exact=True)
    series.add([(utc(2026, 3, 1, 15), 7.030)], exact=True)
    assert rows(series) == [("01 11:00", 7.0, 0.0), ("01 14:00", 7.03, 0.03)]
    late = series.add(
        [(utc(2026, 3, 1, h), 7 + (h - 12) / 100) for h in (11, 12, 13, 14, 15)], exact=True
    )
    assert late.changed_from == utc(2026, 3, 1, 12)  # the hour ending 13:00
    assert rows(series) == [
        ("01 11:00", 7.0, 0.0),
        ("01 12:00", 7.01, 0.01),
        ("01 13:00", 7.02, 0.02),
        ("01 14:00", 7.03, 0.03),
    ]
    assert [r.start for r in series.rows(since=utc(2026, 3, 1, 13))] == [
        utc(2026, 3, 1, 13),
        utc(2026, 3, 1, 14),
    ]


def test_a_point_that_breaks_monotonicity_is_refused() -> None:
    series = HourlySeries()
    series.add([(utc(2026, 3, 1, 10), 7.0)], exact=True)
    series.add([(utc(2026, 3, 1, 10), 7.0), (utc(2026, 3, 1, 12), 7.2)], exact=True)
    bad = series.add([(utc(2026, 3, 1, 11), 7.5), (utc(2026, 3, 1, 9), 1.0)], exact=True)
    assert bad.rejected == 1  # 11:00 above 12:00; 09:00 before the base is ignored, not refused
    assert series.point(utc(2026, 3, 1, 11)) is None
    # A different exact value for a known hour is a conflict: refused, the first one kept.
    assert series.add([(utc(2026, 3, 1, 12), 7.21)], exact=True).rejected == 1
    assert series.point(utc(2026, 3, 1, 12)) == (7.2, True)
    # Junk values are counted too.
    assert (
        series.add(
            [(utc(2026, 3, 1, 13), float("nan")), (utc(2026, 3, 1, 14), -1.0)], exact=True
        ).rejected
        == 2
    )


def test_backwards_is_decided_by_the_newest_point() -> None:
    series = HourlySeries()
    series.add([(utc(2026, 3, 1, 10), 7.0)], exact=True)
    down = series.add_reading(reading(utc(2026, 3, 1, 10, 37), 0.5))
    assert down == AddResult(changed_from=None, rejected=1, backwards=True)
    assert series.last_total == 7.0
    # A late, consistent reading is not "backwards": only the newest point counts.
    late = series.add_reading(
        reading(
            utc(2026, 3, 1, 11, 5), 7.01, at=utc(2026, 3, 1, 11), log=[(utc(2026, 3, 1, 10), 7.0)]
        )
    )
    assert not late.backwards
    ok = series.add_reading(reading(utc(2026, 3, 1, 12, 5), log=[(utc(2026, 3, 1, 12), 6.0)]))
    assert ok.backwards
    assert ok.rejected == 1


def test_meter_swap_continues_the_sums() -> None:
    series = HourlySeries()
    series.add([(utc(2026, 3, 1, 0), 500.0)], exact=True)
    series.add([(utc(2026, 3, 1, h), 500 + h / 100) for h in range(0, 5)], exact=True)
    assert series.last_total == 500.04
    # The old meter is replaced; the new one reads 0.002 m³ at 05:20.
    assert series.add_reading(reading(utc(2026, 3, 1, 5, 20), 0.002)).backwards
    series.rebase(utc(2026, 3, 1, 5, 20), 0.002)
    new = series.add_reading(
        reading(
            utc(2026, 3, 1, 7, 0, 10),
            0.030,
            at=utc(2026, 3, 1, 7),
            log=[(utc(2026, 3, 1, 6), 0.012)],
        )
    )
    assert not new.backwards
    assert new.rejected == 0
    assert rows(series)[-3:] == [
        ("01 03:00", 500.04, 0.04),
        ("01 05:00", 500.05, 0.05),  # 0.010 m³ after the swap reading
        ("01 06:00", 500.068, 0.068),
    ]
    # A late log of the old meter before the swap still fits below it.
    series.add([(utc(2026, 3, 1, 4), 500.04), (utc(2026, 3, 1, 5), 500.045)], exact=True)
    assert series.point(utc(2026, 3, 1, 5)) == (500.045, True)
    assert series.rows()[-1].sum == 0.068


def test_prune_keeps_sums_absolute() -> None:
    series = HourlySeries()
    series.add([(utc(2026, 3, 1, 0), 1.0)], exact=True)
    series.add([(utc(2026, 3, 1, 0) + k * H, 1.0 + k / 1000) for k in range(1, 100)], exact=True)
    before = series.rows()[-1]
    series.prune(utc(2026, 3, 3))
    assert series.first_boundary == utc(2026, 3, 3)
    assert series.rows()[-1] == before
    # Pruned hours cannot come back (they were imported long ago).
    assert series.add([(utc(2026, 3, 2), 1.024)], exact=True).changed_from is None
    # The newest point is never pruned: a decrease is still recognised much later.
    series.prune(utc(2026, 6, 1))
    assert len(series) == 1
    assert series.last_total == pytest.approx(1.099)
    assert series.add([(utc(2026, 6, 2), 0.5)], exact=True).backwards


def test_series_round_trip_and_junk() -> None:
    series = HourlySeries()
    series.add([(utc(2026, 3, 1, 0), 1.0)], exact=True)
    series.add([(utc(2026, 3, 1, 3), 1.003), (utc(2026, 3, 1, 1), 1.001)], exact=True)
    series.add([(utc(2026, 3, 1, 3, 10), 1.004)], exact=False)
    series.rebase(utc(2026, 3, 1, 4, 30), 0.0)
    stored = json.loads(json.dumps(series.as_dict()))
    back = HourlySeries.from_dict(stored)
    assert back.as_dict() == stored
    assert back.rows() == series.rows()
    assert back.point(utc(2026, 3, 1, 4)) == (1.004, False)
    # The swap offset survives: the new meter's 0.001 m³ continues from 1.004 m³.
    assert back.add([(utc(2026, 3, 1, 6), 0.001)], exact=True).rejected == 0
    assert back.last_total == pytest.approx(1.005)
    for junk in (
        None,
        "x",
        3,
        [],
        {"start": "x"},
        {"start": "2026-03-01T00:30:00Z", "totals": [1]},
    ):
        assert HourlySeries.from_dict(junk).rows() == []
    messy = HourlySeries.from_dict(
        {
            "start": "2026-03-01T00:00:00+00:00",
            "totals": [1.0, "x", 0.5, None, 1.2, True, 1.3],
            "approx": ["1", 6],
            "base": "nonsense",
            "offsets": [["2026-03-01T00:00:00Z", "x"], "junk", ["2026-03-01T05:00:00Z", 2.0]],
        }
    )
    assert rows(messy) == [("28 23:00", 1.0, 0.0), ("01 03:00", 1.2, 0.2), ("01 05:00", 1.3, 0.3)]
    assert messy.point(utc(2026, 3, 1, 6)) == (1.3, False)
    assert messy.as_dict()["offsets"] == [["2026-03-01T05:00:00+00:00", 2.0]]


# Property: any split of a monotone walk into logs gives the same absolute sums.


@st.composite
def walks_and_logs(draw: st.DrawFn) -> tuple[list[float], list[list[int]]]:
    steps = draw(st.lists(st.integers(0, 40), min_size=2, max_size=60))
    start_l = draw(st.integers(0, 5_000_000))
    litres = [start_l]
    for step in steps:
        litres.append(litres[-1] + step)
    walk = [v / 1000 for v in litres]
    n = len(walk)
    windows: list[list[int]] = []
    for _ in range(draw(st.integers(1, 12))):
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(a, min(n - 1, a + 15)))
        windows.append(list(range(a, b + 1)))
    windows.append(list(range(max(0, n - 1 - draw(st.integers(0, 15))), n)))  # reaches the end
    order = draw(st.permutations(windows))
    dupes = draw(st.lists(st.sampled_from(windows), max_size=4))
    return walk, [*order, *dupes]


@hyp_settings(max_examples=150, deadline=None)
@given(walks_and_logs(), st.booleans())
def test_any_split_into_logs_sums_to_the_total_use(
    data: tuple[list[float], list[list[int]]], reverse_each: bool
) -> None:
    walk, logs = data
    t0 = utc(2026, 3, 1)
    series = HourlySeries()
    base = max(logs[0])
    for window in logs:
        indices = reversed(window) if reverse_each else window
        result = series.add([(t0 + k * H, walk[k]) for k in indices], exact=True)
        assert result.rejected == 0
        assert not result.backwards
    stored = sorted({k for w in logs for k in w if k >= base})
    out = series.rows()
    assert [r.start for r in out] == [t0 + (k - 1) * H for k in stored]
    assert [r.state for r in out] == [round(walk[k], 6) for k in stored]
    assert out[-1].sum == round(walk[-1] - walk[base], 6)
    assert all(a.sum <= b.sum for a, b in itertools.pairwise(out))
    # Adding everything once more changes nothing.
    for window in logs:
        assert series.add([(t0 + k * H, walk[k]) for k in window], exact=True) == AddResult(
            None, 0, False
        )


@hyp_settings(max_examples=100, deadline=None)
@given(walks_and_logs(), st.lists(st.tuples(st.integers(0, 59), st.integers(1, 59)), max_size=10))
def test_mid_hour_readings_never_break_the_sums(
    data: tuple[list[float], list[list[int]]], mid: list[tuple[int, int]]
) -> None:
    walk, logs = data
    t0 = utc(2026, 3, 1)
    series = HourlySeries()
    for window in logs:
        series.add([(t0 + k * H, walk[k]) for k in window], exact=True)
        for k, minute in mid:
            if k < len(walk) - 1:
                # At k:minute the register is between walk[k] and walk[k + 1]: walk[k] is true.
                assert (
                    series.add(
                        [(t0 + k * H + timedelta(minutes=minute), walk[k])], exact=False
                    ).rejected
                    == 0
                )
    out = series.rows()
    assert all(a.sum <= b.sum for a, b in itertools.pairwise(out))
    assert all(a.state <= b.state for a, b in itertools.pairwise(out))
    base_total = out[0].state
    assert out[-1].sum == round(walk[-1] - base_total, 6)


# -- state ---------------------------------------------------------------------------


def test_ingest_flags_first_seen_and_late_readings() -> None:
    state = MeterState()
    state.ingest(reading(utc(2026, 3, 1, 10), 1.0, leak=True, burst=False))
    state.ingest(reading(utc(2026, 3, 1, 11), 1.0, leak=True, dry=True))
    assert state.alarms_since == {
        AlertType.LEAK: utc(2026, 3, 1, 10),
        AlertType.DRY: utc(2026, 3, 1, 11),
    }
    # A replayed older uplink changes no flag and no last-seen time.
    state.ingest(reading(utc(2026, 3, 1, 9), 0.9, leak=False, dry=False))
    assert set(state.alarms_since) == {AlertType.LEAK, AlertType.DRY}
    assert state.last_seen == utc(2026, 3, 1, 11)
    # An uplink that does not mention a flag leaves it; one that reports it off drops it.
    state.ingest(reading(utc(2026, 3, 1, 12), 1.0, dry=False))
    assert set(state.alarms_since) == {AlertType.LEAK}


def test_state_round_trip_and_junk() -> None:
    meter = Meter(utc(2026, 3, 1))
    meter.send()
    meter.use(*[3.0] * 30)
    meter.send()
    meter.state.ingest(reading(meter.now, 0.1, leak=True))  # backwards, with a leak flag
    meter.evaluate()
    assert set(meter.state.active) == {
        AlertType.LEAK,
        AlertType.CONTINUOUS_FLOW,
        AlertType.BACKWARDS,
    }
    stored = json.loads(json.dumps(meter.state.as_dict()))
    back = MeterState.from_dict(stored)
    assert back.as_dict() == stored
    assert evaluate(EUI, back, DEFAULTS, meter.now) == MeterEvaluation(
        [], [], meter.evaluate().next_wakeup
    )
    for junk in (
        None,
        [],
        "x",
        {"series": 3, "active": [1, {"alert": "nope"}], "alarms_since": []},
    ):
        assert MeterState.from_dict(junk).as_dict() == MeterState().as_dict()
    partial = MeterState.from_dict(
        {
            "last_seen": "2026-03-01T10:00:00",  # naive: UTC
            "alarms_since": {
                "leak": "2026-03-01T09:00:00Z",
                "silent": "2026-03-01T09:00:00Z",
                "dry": 5,
            },
            "rejected_m3": "x",
        }
    )
    assert partial.last_seen == utc(2026, 3, 1, 10)
    assert partial.alarms_since == {AlertType.LEAK: utc(2026, 3, 1, 9)}
    assert partial.rejected_m3 is None


def test_alert_dict() -> None:
    alert = MeterAlert(EUI, AlertType.CONTINUOUS_FLOW, utc(2026, 3, 1, 5), 12.0)
    assert alert.as_dict() == {
        "dev_eui": EUI,
        "alert": "continuous_flow",
        "since": "2026-03-01T05:00:00+00:00",
        "leak_rate_lph": 12.0,
        "alert_id": f"{EUI}|continuous_flow|2026-03-01T05:00:00+00:00",
        "source": "derived",
    }
    assert MeterAlert(EUI, AlertType.TAMPER, utc(2026, 3, 1)).as_dict()["source"] == "meter"
    assert MeterAlert.from_dict(alert.as_dict()) == alert
    assert MeterAlert.from_dict({"dev_eui": EUI, "alert": "leak"}) is None


# -- device alarms ---------------------------------------------------------------------


def test_device_alarm_from_first_seen_until_reported_off() -> None:
    meter = Meter(utc(2026, 3, 1))
    meter.state.ingest(reading(utc(2026, 3, 1, 10), 1.0, burst=True, tamper=False))
    result = check(meter, utc(2026, 3, 1, 10), started=[(AlertType.BURST, utc(2026, 3, 1, 10))])
    assert result.started[0].source == "meter"
    assert result.started[0].leak_rate_lph is None
    meter.state.ingest(reading(utc(2026, 3, 1, 11), 1.0, burst=True))
    check(meter, utc(2026, 3, 1, 11))
    meter.state.ingest(reading(utc(2026, 3, 1, 12), 1.0, burst=False))
    check(meter, utc(2026, 3, 1, 12), cleared=[AlertType.BURST])
    # Seen again: a new alert with a new since.
    meter.state.ingest(reading(utc(2026, 3, 1, 13), 1.0, burst=True))
    check(meter, utc(2026, 3, 1, 13), started=[(AlertType.BURST, utc(2026, 3, 1, 13))])


# -- continuous flow -------------------------------------------------------------------


def test_continuous_flow_raise_and_clear() -> None:
    meter = Meter(utc(2026, 3, 2))  # 03:00 local
    meter.send()
    meter.use(5.0, 0.0)  # a zero hour ends at 02:00 UTC
    meter.use(*[2.0] * 10, 1.5, *[3.0] * 12)  # 23 hours with use
    meter.send()
    check(meter, meter.now)
    meter.use(2.5)  # the 24th
    meter.send()
    result = check(meter, meter.now, started=[(AlertType.CONTINUOUS_FLOW, utc(2026, 3, 2, 2))])
    assert result.started[0].leak_rate_lph == 1.5
    # More flow: the same alert (same since), its rate updated silently.
    meter.use(*[4.0] * 12)
    meter.send()
    check(meter, meter.now)
    assert meter.state.active[AlertType.CONTINUOUS_FLOW].leak_rate_lph == 2.5
    assert meter.state.active[AlertType.CONTINUOUS_FLOW].since == utc(2026, 3, 2, 2)
    meter.use(0.0)
    meter.send()
    check(meter, meter.now, cleared=[AlertType.CONTINUOUS_FLOW])


def test_continuous_flow_needs_all_24_hours_known() -> None:
    meter = Meter(utc(2026, 3, 2))
    meter.send()
    meter.use(*[2.0] * 10, None, *[2.0] * 13)  # 11th hour's end boundary is missing
    meter.send()
    check(meter, meter.now)
    meter.use(2.0)
    meter.send()
    check(meter, meter.now)  # still a gap inside the 24 newest hours
    meter.use(*[2.0] * 12)
    meter.send()
    # Now 24 known hours in a row after the gap: since is where the known run starts.
    check(meter, meter.now, started=[(AlertType.CONTINUOUS_FLOW, utc(2026, 3, 2, 12))])
    assert not meter.evaluate(settings=MeterSettings(continuous_by_design=True)).started
    assert AlertType.CONTINUOUS_FLOW not in meter.state.active  # cleared by that evaluation


def test_continuous_flow_never_for_a_meter_flowing_by_design() -> None:
    cooling = MeterSettings(continuous_by_design=True, night_flow_lph=100)
    meter = Meter(utc(2026, 3, 2))
    meter.send()
    meter.use(*[50.0] * 48)
    meter.send()
    check(meter, meter.now, settings=cooling)
    assert meter.state.active == {}


def test_late_data_extending_a_run_keeps_the_alert_identity() -> None:
    t0 = utc(2026, 3, 2)
    state = MeterState()
    state.ingest(reading(t0, 1.000, at=t0))
    # Ten hours go missing; then 30 known hours, each with 1 L.
    log = [(t0 + k * H, 1.0 + k / 1000) for k in range(10, 41)]
    state.ingest(reading(log[-1][0], log[-1][1], log=log[:-1]))
    first = evaluate(EUI, state, DEFAULTS, log[-1][0])
    assert kinds(first.started) == [(AlertType.CONTINUOUS_FLOW, t0 + 10 * H)]
    # The missing hours arrive late: the run really began at t0. Same alert, same id.
    state.ingest(reading(t0 + 11 * H, log=[(t0 + k * H, 1.0 + k / 1000) for k in range(11)]))
    again = evaluate(EUI, state, DEFAULTS, log[-1][0] + H)
    assert (again.started, again.cleared) == ([], [])
    assert state.active[AlertType.CONTINUOUS_FLOW].alert_id == first.started[0].alert_id


# -- night flow --------------------------------------------------------------------------


# 06:00-24:00 local, with a zero hour at each end (no continuous flow).
DAY: tuple[float, ...] = (0.0, *[20.0] * 16, 0.0)


def test_night_flow_raise_needs_two_clean_nights_and_skips_unknown_ones() -> None:
    meter = Meter(loc(2026, 3, 2, 0))  # Monday 00:00 local
    meter.send()
    meter.use(6.0, 6.0, 6.0, 4.0, 8.0, 6.0)  # 36 L in 6 h: 6 L/h, dirty
    meter.send()
    check(meter, loc(2026, 3, 2, 6, 30))  # not judged before 07:00
    result = check(meter, loc(2026, 3, 2, 7), started=[(AlertType.NIGHT_FLOW, loc(2026, 3, 2, 0))])
    assert result.started[0].leak_rate_lph == 4.0  # the lowest hour
    meter.use(*DAY)
    meter.use(1.0, 0.0, 0.0, 0.0, 0.0, 3.0)  # clean night 1 (0.67 L/h)
    meter.send()
    check(meter, loc(2026, 3, 3, 7))
    meter.use(*DAY, *[None] * 6)  # night 2: no data (a gap)
    meter.use(*DAY)
    meter.send()
    check(meter, loc(2026, 3, 4, 23))  # still active: the unknown night counts for nothing
    meter.use(5.0, 5.0, 5.0, 5.0, 5.0, 5.0)  # night 3: exactly 5 L/h is not above 5: clean
    meter.send()
    check(meter, loc(2026, 3, 5, 7), cleared=[AlertType.NIGHT_FLOW])


def test_a_dirty_night_between_clean_ones_keeps_the_run() -> None:
    meter = Meter(loc(2026, 3, 2, 0))
    meter.send()
    dirty, clean, day = [9.0] * 6, [0.0] * 6, DAY
    meter.use(*dirty, *day, *clean, *day, *dirty, *day)
    meter.send()
    check(meter, loc(2026, 3, 4, 8), started=[(AlertType.NIGHT_FLOW, loc(2026, 3, 2, 0))])
    meter.use(*clean, *day, *clean, *day)
    meter.send()
    check(meter, loc(2026, 3, 6, 7), cleared=[AlertType.NIGHT_FLOW])
    meter.use(*dirty)
    meter.send()
    check(meter, loc(2026, 3, 7, 7), started=[(AlertType.NIGHT_FLOW, loc(2026, 3, 7, 0))])


def test_a_night_is_judged_late_when_its_data_arrives_late() -> None:
    meter = Meter(loc(2026, 3, 2, 0))
    meter.send()
    result = check(meter, loc(2026, 3, 2, 0, 5))
    assert result.next_wakeup == loc(2026, 3, 2, 7)
    check(meter, loc(2026, 3, 2, 7))  # nothing known about the night yet
    meter.use(*[8.0] * 9)  # the uplink with the log arrives at 09:00
    meter.send()
    check(meter, loc(2026, 3, 2, 9, 0, 30), started=[(AlertType.NIGHT_FLOW, loc(2026, 3, 2, 0))])


@pytest.mark.parametrize(
    ("day", "hours", "litres", "dirty"),
    [
        # Spring forward (Sun 29 March 2026): 00:00-06:00 local is 5 hours.
        (29, 5, 30.0, True),  # 6 L/h (over 6 hours it would be 5.0: clean)
        # Fall back (Sun 25 October 2026): 7 hours.
        (25, 7, 35.0, False),  # 5.0 L/h: not above the threshold
        (25, 7, 35.7, True),  # 5.1 L/h
    ],
)
def test_night_flow_on_daylight_saving_nights(
    day: int, hours: int, litres: float, dirty: bool
) -> None:
    month = 3 if day == 29 else 10
    night_start = loc(2026, month, day, 0)
    meter = Meter(night_start)
    meter.send()
    assert loc(2026, month, day, 6) - night_start == hours * H
    meter.use(*[litres / hours] * hours, 1.0)
    meter.send()
    expected = [(AlertType.NIGHT_FLOW, night_start)] if dirty else []
    result = check(meter, loc(2026, month, day, 7), started=expected)
    if dirty:
        assert result.started[0].leak_rate_lph == round(litres / hours, 1)


def test_night_window_across_midnight() -> None:
    late = MeterSettings(night_start=time(22), night_end=time(5), night_check=time(6))
    meter = Meter(loc(2026, 3, 2, 22))
    meter.send()
    meter.use(*[6.0] * 7)  # 22:00-05:00
    meter.send()
    check(meter, loc(2026, 3, 3, 5, 59), settings=late)
    check(
        meter,
        loc(2026, 3, 3, 6),
        started=[(AlertType.NIGHT_FLOW, loc(2026, 3, 2, 22))],
        settings=late,
    )


# -- high use --------------------------------------------------------------------------


def days_of(meter: Meter, *totals: float, hours: int = 24) -> None:
    """Whole local days with the given litres, used in ten daytime hours (none at night)."""
    for total in totals:
        meter.use(*[0.0] * 8, *[total / 10] * 10, *[0.0] * (hours - 18))


def test_high_use_by_factor_and_its_clearing() -> None:
    meter = Meter(loc(2026, 3, 2))  # Monday; no DST change in these days
    meter.send()
    days_of(meter, 100, 120, 80, 100, 110, 90, 100)  # 7 ordinary days: median 100
    days_of(meter, 300)  # not above 3 × 100
    meter.send()
    check(meter, meter.now)
    days_of(meter, 301.2)  # Tuesday 10 March
    meter.send()
    result = check(meter, meter.now, started=[(AlertType.HIGH_USE, loc(2026, 3, 10))])
    assert result.started[0].leak_rate_lph == round((301.2 - 100) / 24, 1)
    days_of(meter, 500)  # still high; the median now includes the 300 and 301 days
    meter.send()
    check(meter, meter.now)
    assert meter.state.active[AlertType.HIGH_USE].since == loc(2026, 3, 10)
    days_of(meter, 100)
    meter.send()
    check(meter, meter.now, cleared=[AlertType.HIGH_USE])


def test_high_use_needs_seven_days_for_the_median() -> None:
    meter = Meter(loc(2026, 3, 2))
    meter.send()
    days_of(meter, 100, 100, 100, 100, 100, 100, 900)
    meter.send()
    check(meter, meter.now)  # only 6 days before the 900
    days_of(meter, 900)
    meter.send()
    check(meter, meter.now, started=[(AlertType.HIGH_USE, loc(2026, 3, 9))])


def test_high_use_by_the_daily_limit() -> None:
    limit = MeterSettings(daily_limit_l=250.0)
    meter = Meter(loc(2026, 3, 2))
    meter.send()
    days_of(meter, 260)  # no median yet: the limit alone
    meter.send()
    result = check(
        meter, meter.now, started=[(AlertType.HIGH_USE, loc(2026, 3, 2))], settings=limit
    )
    assert result.started[0].leak_rate_lph is None
    days_of(meter, 200)
    meter.send()
    check(meter, meter.now, cleared=[AlertType.HIGH_USE], settings=limit)
    days_of(meter, 200, 200, 200, 200, 200, 200, 251)
    meter.send()
    result = check(
        meter, meter.now, started=[(AlertType.HIGH_USE, loc(2026, 3, 10))], settings=limit
    )
    assert result.started[0].leak_rate_lph == round((251 - 200) / 24, 1)
    # Without the limit the same day is ordinary.
    assert evaluate(EUI, meter.state, DEFAULTS, meter.now).cleared[0].type is AlertType.HIGH_USE


def test_high_use_on_daylight_saving_days() -> None:
    meter = Meter(loc(2026, 3, 21))
    meter.send()
    days_of(meter, *[100] * 8)  # Sat 21 - Sat 28 March
    days_of(meter, 460, hours=23)  # Sunday 29 March has 23 hours
    meter.send()
    result = check(meter, meter.now, started=[(AlertType.HIGH_USE, loc(2026, 3, 29))])
    assert result.started[0].leak_rate_lph == round(360 / 23, 1)
    assert meter.now == loc(2026, 3, 30) + timedelta(seconds=30)

    autumn = Meter(loc(2026, 10, 17))
    autumn.send()
    days_of(autumn, *[100] * 8)
    days_of(autumn, 350, hours=25)  # Sunday 25 October has 25 hours
    autumn.send()
    result = check(autumn, autumn.now, started=[(AlertType.HIGH_USE, loc(2026, 10, 25))])
    assert result.started[0].leak_rate_lph == round(250 / 25, 1)


# -- silent ----------------------------------------------------------------------------


def test_silent_raise_and_clear() -> None:
    meter = Meter(utc(2026, 3, 2, 12))
    meter.send()
    heard = meter.state.last_seen
    assert heard is not None
    result = check(meter, heard)
    assert result.next_wakeup == loc(2026, 3, 3, 7)  # the next night check comes first
    result = check(meter, loc(2026, 3, 4, 7))
    assert result.next_wakeup == heard + timedelta(hours=48)
    check(meter, heard + timedelta(hours=48) - timedelta(seconds=1))
    result = check(meter, heard + timedelta(hours=48), started=[(AlertType.SILENT, heard)])
    assert result.next_wakeup == loc(2026, 3, 5, 7)  # silent: only the night check
    meter.state.ingest(reading(utc(2026, 3, 5, 1), 100.0))
    check(meter, utc(2026, 3, 5, 1), cleared=[AlertType.SILENT])


def test_a_meter_never_heard_goes_silent_after_being_added() -> None:
    state = MeterState()
    added = utc(2026, 3, 2, 12)
    assert evaluate(EUI, state, DEFAULTS, added).started == []
    assert state.added_at == added
    later = evaluate(EUI, state, MeterSettings(silent_after=timedelta(hours=2)), added + 2 * H)
    assert kinds(later.started) == [(AlertType.SILENT, added)]


def test_silent_twice_between_evaluations_is_a_new_alert() -> None:
    meter = Meter(utc(2026, 3, 2, 12))
    meter.send()
    check(meter, utc(2026, 3, 5), started=[(AlertType.SILENT, utc(2026, 3, 2, 12, 0, 30))])
    meter.state.ingest(reading(utc(2026, 3, 5, 1), 100.0))
    result = check(
        meter,
        utc(2026, 3, 8),
        started=[(AlertType.SILENT, utc(2026, 3, 5, 1))],
        cleared=[AlertType.SILENT],
    )
    assert result.cleared[0].since == utc(2026, 3, 2, 12, 0, 30)


# -- backwards and the meter swap ----------------------------------------------------------


def test_backwards_then_a_swap_continues_the_sums() -> None:
    meter = Meter(utc(2026, 3, 2))
    meter.send()
    meter.use(*[10.0] * 5)
    meter.send()
    before = meter.state.series.rows()
    # The meter is replaced: the new one reads 0.004 m³.
    swap_at = utc(2026, 3, 2, 5, 20)
    result = meter.state.ingest(reading(swap_at, 0.004))
    assert result.backwards
    assert result.changed_from is None
    assert meter.state.series.rows() == before  # never stored, never counted
    assert (meter.state.rejected_m3, meter.state.rejected_at) == (0.004, swap_at)
    check(meter, swap_at, started=[(AlertType.BACKWARDS, swap_at)])
    meter.state.ingest(reading(utc(2026, 3, 2, 6, 20), 0.010))  # still the new meter
    check(meter, utc(2026, 3, 2, 6, 20))
    assert meter.state.backwards_since == swap_at
    meter.state.accept_swap(meter.state.rejected_at, meter.state.rejected_m3)  # type: ignore[arg-type]
    assert meter.state.rejected_m3 is None
    check(meter, utc(2026, 3, 2, 6, 21), cleared=[AlertType.BACKWARDS])
    meter.state.ingest(reading(utc(2026, 3, 2, 7, 0, 10), 0.030, at=utc(2026, 3, 2, 7)))
    last = meter.state.series.rows()[-1]
    assert last.start == utc(2026, 3, 2, 6)
    assert last.sum == pytest.approx(0.050 + 0.026)  # old meter 50 L, new meter 26 L
    check(meter, utc(2026, 3, 2, 7, 0, 10))


def test_a_glitch_clears_with_the_next_good_reading() -> None:
    meter = Meter(utc(2026, 3, 2))
    meter.send()
    meter.use(10.0)
    meter.send()
    meter.state.ingest(reading(utc(2026, 3, 2, 1, 30), 0.0))
    check(meter, utc(2026, 3, 2, 1, 30), started=[(AlertType.BACKWARDS, utc(2026, 3, 2, 1, 30))])
    meter.state.ingest(reading(utc(2026, 3, 2, 0, 59), 100.005))  # late: decides nothing
    assert meter.state.backwards_since is not None
    meter.state.ingest(reading(utc(2026, 3, 2, 1, 45), 100.012))
    check(meter, utc(2026, 3, 2, 1, 45), cleared=[AlertType.BACKWARDS])


# -- the whole engine ------------------------------------------------------------------------


def test_a_long_leak_keeps_its_alert_while_old_hours_are_pruned() -> None:
    meter = Meter(utc(2026, 3, 2))
    meter.send()
    started: list[MeterAlert] = []
    for _ in range(40):  # a running toilet for 40 days, one uplink a day
        meter.use(*[1.0] * 24)
        meter.send()
        result = meter.evaluate()
        assert result.cleared == []
        started += result.started
        assert (meter.evaluate().started, meter.evaluate().cleared) == ([], [])
    assert kinds(started) == [(AlertType.CONTINUOUS_FLOW, utc(2026, 3, 2))]
    # 35 days of points are kept; the sums are still absolute.
    series = meter.state.series
    assert series.first_boundary == meter.now.replace(second=0) - timedelta(days=35) + H
    assert series.rows()[-1].sum == pytest.approx(40 * 24 / 1000)
    assert meter.state.active[AlertType.CONTINUOUS_FLOW].since == utc(2026, 3, 2)
    assert meter.state.active[AlertType.CONTINUOUS_FLOW].leak_rate_lph == 1.0


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(EUI, MeterState(), DEFAULTS, datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        HourlySeries().add([(datetime(2026, 3, 1), 1.0)], exact=True)
