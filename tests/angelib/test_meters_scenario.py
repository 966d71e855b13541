"""Thirty days of the demo building's water meters through the whole chain.

The seeded simulator emits real ChirpStack uplinks for the building's main meter (Axioma W1,
15-hour log) and the six apartment meters (Kamstrup flowIQ, 12-hour profile). Each goes
through ``chirpstack.loads``/``parse_up``, the catalogue codec (as ``Pipeline`` decodes),
``reading_from_fields`` and ``MeterState.ingest``; every meter is evaluated at each of its
uplinks and at its ``next_wakeup``, as the Home Assistant layer does with its timers. Halfway
the state goes through JSON, as at a restart. The alerts that come out must be exactly the
ones written down below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cache
import itertools
import json
from zoneinfo import ZoneInfo

from custom_components.ange_iot.angelib.catalog import MODELS
from custom_components.ange_iot.angelib.codecs import CODECS
from custom_components.ange_iot.angelib.lns import chirpstack
from custom_components.ange_iot.angelib.meters import (
    AlertType,
    MeterAlert,
    MeterReading,
    MeterSettings,
    MeterState,
    evaluate,
    reading_from_fields,
)
from custom_components.ange_iot.angelib.simulator import (
    DEMO_DEVICES,
    LEAK_FLOW_L_PER_H,
    Role,
    Scenario,
    SimMessage,
    Simulator,
)

Z = ZoneInfo("Europe/Stockholm")
SEED = 2026
START = datetime(2026, 3, 16, tzinfo=Z).astimezone(UTC)  # day 1: Monday 16 March, 00:00
DAYS = 30  # the spring DST change (Sunday 29 March, day 14) falls inside
END = START + timedelta(days=DAYS)
HOUR = timedelta(hours=1)
SETTINGS = MeterSettings()  # the defaults: night 00-06 judged 07:00, 5 L/h, 3 × median, 48 h

METERS = tuple(d for d in DEMO_DEVICES if d.role in (Role.APARTMENT_METER, Role.BUILDING_METER))
NAME = {d.dev_eui: "Huvudmätare" if d.role is Role.BUILDING_METER else d.area for d in METERS}
EUI = {name: eui for eui, name in NAME.items()}


def local(day: int, hhmm: str) -> datetime:
    """Local wall-clock time on day ``day`` (1 = the Monday the run starts) as UTC."""
    base = START.astimezone(Z).date() + timedelta(days=day - 1)
    return datetime.combine(base, time.fromisoformat(hhmm), tzinfo=Z).astimezone(UTC)


LEAK_FROM = local(12, "14:00")  # Fri 27 March: a toilet in Lgh 1102 starts running, 12 L/h
SILENT_FROM = local(20, "10:00")  # Sat 4 April: Lgh 1202's meter stops reporting
RESTART = local(16, "12:00")  # Tue 31 March: the state goes through JSON


@dataclass
class World:
    sim: Simulator
    states: dict[str, MeterState]
    wakeups: dict[str, datetime | None] = field(default_factory=dict)
    messages: list[SimMessage] = field(default_factory=list)
    readings: dict[str, list[MeterReading]] = field(default_factory=dict)
    # (what, meter, alert, evaluated at)
    log: list[tuple[str, str, MeterAlert, datetime]] = field(default_factory=list)

    def evaluate(self, eui: str, now: datetime) -> None:
        result = evaluate(eui, self.states[eui], SETTINGS, now)
        assert result.next_wakeup is None or result.next_wakeup > now
        self.wakeups[eui] = result.next_wakeup
        self.log += [("cleared", eui, a, now) for a in result.cleared]
        self.log += [("started", eui, a, now) for a in result.started]

    def uplink(self, message: SimMessage) -> None:
        uplink = chirpstack.parse_up(chirpstack.loads(json.dumps(message.event)), source="sim")
        codec = CODECS[MODELS[self.sim.devices[message.dev_eui].model_id].codec]
        reading = reading_from_fields(
            codec.decode(uplink.fport, uplink.payload), uplink.received_at
        )
        self.readings.setdefault(message.dev_eui, []).append(reading)
        result = self.states[message.dev_eui].ingest(reading)
        assert result.rejected == 0
        assert not result.backwards
        self.evaluate(message.dev_eui, uplink.received_at)


def _restart(world: World) -> None:
    stored = json.loads(json.dumps({k: s.as_dict() for k, s in world.states.items()}))
    world.states = {k: MeterState.from_dict(v) for k, v in stored.items()}


@cache
def thirty_days() -> World:
    """Run the building's meters for 30 days (cached: several tests read the same run)."""
    sim = Simulator(seed=SEED, start=START, devices=METERS)
    world = World(sim, {d.dev_eui: MeterState() for d in METERS})
    for d in METERS:
        world.evaluate(d.dev_eui, START)
    actions = [
        (LEAK_FROM, lambda: sim.set_scenario(Scenario.LEAK, True, EUI["Lgh 1102"])),
        (RESTART, lambda: _restart(world)),
        (SILENT_FROM, lambda: sim.set_scenario(Scenario.SENSOR_SILENT, True, EUI["Lgh 1202"])),
    ]
    while True:
        wakeups = [w for w in world.wakeups.values() if w is not None]
        candidates = [sim.next_time(), min(wakeups), actions[0][0] if actions else None]
        now = min(c for c in candidates if c is not None)
        if now > END:
            break
        # Uplinks first, then actions, then timers.
        if sim.next_time() == now:
            for message in sim.advance(now):
                world.messages.append(message)
                world.uplink(message)
            continue
        if actions and actions[0][0] == now:
            assert sim.advance(now) == []
            actions.pop(0)[1]()
            continue
        for eui, wakeup in world.wakeups.items():
            if wakeup is not None and wakeup <= now:
                world.evaluate(eui, now)
    return world


# -- the expected alerts -----------------------------------------------------------------

Row = tuple[str, str, str, str, str, float | None]  # what, meter, alert, since, when, L/h


def row(what: str, eui: str, alert: MeterAlert, at: datetime) -> Row:
    def fmt(moment: datetime) -> str:
        return f"{moment.astimezone(Z):%a %d %b %H:%M:%S}"

    return (what, NAME[eui], str(alert.type), fmt(alert.since), fmt(at), alert.leak_rate_lph)


STARTED, CLEARED = "started", "cleared"
BUILDING = "Huvudmätare"

EXPECTED: list[Row] = [
    # Days 1-12: ordinary use. Every apartment uses nothing between 00:00 and 05:00, so no
    # continuous flow; nights average about 1 L/h (building) and less (apartments); days
    # vary 90-180 L per apartment, never above 3 × the median.
    #
    # Fri 27 March 14:00 (day 12): Lgh 1102's toilet starts running, 12 L/h.
    # Sat 28 March, 05:00 uplinks: the last hour without use (04:00-05:00 on Friday) leaves
    # the 24-hour window. The meters' own LEAK flags come on (the Kamstrup's "no hour of
    # standstill in 24 h"; the Axioma sees the building's sum) and the derived continuous
    # flow starts, since Friday 05:00 when the run of hours with use began; its rate is the
    # lowest hour of the last 24 (the leak alone, at night).
    (STARTED, BUILDING, "leak", "Sat 28 Mar 05:00:10", "Sat 28 Mar 05:00:10", None),
    (STARTED, BUILDING, "continuous_flow", "Fri 27 Mar 05:00:00", "Sat 28 Mar 05:00:10", 12.0),
    (STARTED, "Lgh 1102", "leak", "Sat 28 Mar 05:00:35", "Sat 28 Mar 05:00:35", None),
    (STARTED, "Lgh 1102", "continuous_flow", "Fri 27 Mar 05:00:00", "Sat 28 Mar 05:00:35", 12.0),
    # The first night with the leak (Sat 28 March 00:00-06:00) is judged at 07:00: 12 L/h.
    (STARTED, BUILDING, "night_flow", "Sat 28 Mar 00:00:00", "Sat 28 Mar 07:00:00", 12.0),
    (STARTED, "Lgh 1102", "night_flow", "Sat 28 Mar 00:00:00", "Sat 28 Mar 07:00:00", 12.0),
    # High use: the leak adds 288 L a day to Lgh 1102's usual 90-180 L, about 2.8 × its
    # median (157 L). Only Saturday, the first whole leak day, passes 3 × the median of the
    # 12 days before (477 L > 470 L), known with the midnight uplink; leak rate (477 - 157) / 24.
    # Sunday, the 23-hour DST day, used 426 L; Monday's midnight uplink clears the alert.
    # Later leak days stay below 3 × a median that soon includes leak days. The building's
    # +288 L on about 1030 L a day is no outlier.
    (STARTED, "Lgh 1102", "high_use", "Sat 28 Mar 00:00:00", "Sun 29 Mar 00:00:04", 13.4),
    (CLEARED, "Lgh 1102", "high_use", "Sat 28 Mar 00:00:00", "Mon 30 Mar 00:00:05", 13.4),
    # Sat 4 April 10:00 (day 20): Lgh 1202's meter falls silent. Its last uplink was at
    # 09:00:17; 48 hours later it is a silent meter (a timer, not an uplink, finds it).
    (STARTED, "Lgh 1202", "silent", "Sat 04 Apr 09:00:17", "Mon 06 Apr 09:00:17", None),
    # The leak never stops: its alerts stay active to the end, with the same since.
]


def test_thirty_days_give_exactly_the_expected_alerts() -> None:
    """Every expected alert starts exactly once, and nothing else starts or clears."""
    world = thirty_days()
    assert [row(*entry) for entry in world.log] == EXPECTED
    started = [a.alert_id for what, _, a, _ in world.log if what == STARTED]
    assert len(started) == len(set(started))
    active = {
        (NAME[eui], str(kind), a.since)
        for eui, s in world.states.items()
        for kind, a in s.active.items()
    }
    assert active == {
        (NAME[eui], str(a.type), a.since)
        for what, eui, a, _ in world.log
        if what == STARTED and a.type is not AlertType.HIGH_USE
    }


def test_the_written_times_follow_from_the_uplinks() -> None:
    """Cross-check the hand-written times against the simulator's messages and the series."""
    world = thirty_days()
    by_eui = {eui: [m for m in world.messages if m.dev_eui == eui] for eui in NAME}
    # The meters' own LEAK alarms start with the first uplink carrying the flag.
    for name in ("Lgh 1102", BUILDING):
        first = next(m.time for m in by_eui[EUI[name]] if m.fields["leak"])
        alert = world.states[EUI[name]].active[AlertType.LEAK]
        assert alert.since == first
        assert not [m for m in by_eui[EUI[name]] if m.time < LEAK_FROM and m.fields["leak"]]
    # Continuous flow: no use in the hour before since, use in every hour from then on, and
    # from the leak on at least the leak's 12 L (registers count whole litres).
    series = world.states[EUI["Lgh 1102"]].series
    since = world.states[EUI["Lgh 1102"]].active[AlertType.CONTINUOUS_FLOW].since
    assert since < LEAK_FROM
    assert series.use_l(since - HOUR) == 0.0
    before = [series.use_l(since + k * HOUR) for k in range(int((LEAK_FROM - since) / HOUR))]
    assert all(u is not None and u > 0 for u in before)
    last = series.last_boundary
    assert last is not None
    during = [series.use_l(LEAK_FROM + k * HOUR) for k in range(int((last - LEAK_FROM) / HOUR))]
    assert len(during) > 17 * 24
    assert all(u is not None and u >= LEAK_FLOW_L_PER_H - 1 for u in during)
    # The silent meter: its last uplink before the scenario, and nothing after it.
    silent = by_eui[EUI["Lgh 1202"]]
    assert max(m.time for m in silent) < SILENT_FROM
    assert world.states[EUI["Lgh 1202"]].active[AlertType.SILENT].since == silent[-1].time
    assert all(m.time < SILENT_FROM for m in silent)
    # Every meter reported hourly, as the demo says (the silent one until it stopped).
    assert len(by_eui[EUI["Lgh 1101"]]) == DAYS * 24


def test_statistics_count_exactly_the_water_used() -> None:
    """The last row's sum is the meter's total use over the run; sums never go down."""
    world = thirty_days()
    for eui, state in world.states.items():
        rows = state.series.rows()
        first = world.readings[eui][0]
        last = world.readings[eui][-1]
        assert first.volume_m3 is not None
        assert last.volume_m3 is not None
        assert rows[0].sum == 0.0
        assert rows[-1].sum == round(rows[-1].state - rows[0].state, 6)
        assert all(a.sum <= b.sum for a, b in itertools.pairwise(rows))
        # Every hour since the first uplink is there (no gaps: the logs overlap).
        assert [r.start for r in rows] == [rows[0].start + k * HOUR for k in range(len(rows))]
        # The newest row holds the last uplink's register: Kamstrup reads it on the hour,
        # the Axioma a few seconds after (a lower bound for the next hour).
        assert rows[-1].state == last.volume_m3
        if NAME[eui] != BUILDING:
            # The first register, read on the hour, is where the sums start.
            assert rows[0].state == first.volume_m3
            assert rows[-1].sum == round(last.volume_m3 - first.volume_m3, 6)
        else:
            # Read at 00:00:01: stored for 01:00, then replaced by the exact 01:00 value.
            assert rows[0].start == START
            assert rows[0].state >= first.volume_m3
    apartments = sum(
        world.states[EUI[n]].series.rows()[-1].sum for n in NAME.values() if n != BUILDING
    )
    assert world.states[EUI[BUILDING]].series.rows()[-1].sum > apartments


def test_feeding_every_uplink_again_changes_nothing() -> None:
    """A replay of the whole month (network server backfill) adds and alerts nothing."""
    world = thirty_days()
    for eui, readings in world.readings.items():
        state = MeterState.from_dict(json.loads(json.dumps(world.states[eui].as_dict())))
        before = state.as_dict()
        for reading in readings:
            result = state.ingest(reading)
            assert result.changed_from is None
            assert result.rejected == 0
        assert state.as_dict() == before
        again = evaluate(eui, state, SETTINGS, END)
        assert (again.started, again.cleared) == ([], [])
