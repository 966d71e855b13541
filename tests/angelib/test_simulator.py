"""The demo site: deterministic, lifelike, and its payloads mean what it intended."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from itertools import pairwise
import json

import pytest

from custom_components.ange_iot.angelib.catalog import MODELS
from custom_components.ange_iot.angelib.codecs import CODECS
from custom_components.ange_iot.angelib.lns import chirpstack
from custom_components.ange_iot.angelib.simulator import (
    APARTMENTS,
    DEMO_BY_EUI,
    DEMO_DEVICES,
    LOCAL_TZ,
    Role,
    Scenario,
    SimMessage,
    Simulator,
)

START = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 06:00 in Ånge, a Monday


def run(seed: int = 7, hours: float = 30, start: datetime = START) -> list[SimMessage]:
    return Simulator(seed=seed, start=start).advance(start + timedelta(hours=hours))


def test_same_seed_same_messages() -> None:
    """Byte-identical events for the same seed and start."""
    first, second = run(), run()
    assert len(first) > 1000
    assert [json.dumps(m.event, sort_keys=True) for m in first] == [
        json.dumps(m.event, sort_keys=True) for m in second
    ]


def test_other_seed_other_messages() -> None:
    """A different seed changes the payloads (not just the ids)."""
    first, second = run(seed=1, hours=3), run(seed=2, hours=3)
    assert [m.event["data"] for m in first] != [m.event["data"] for m in second]


def test_advancing_in_steps_gives_the_same_messages() -> None:
    """How often the clock is advanced does not change what is sent."""
    sim = Simulator(seed=7, start=START)
    stepped: list[SimMessage] = []
    for minute in range(1, 6 * 60 + 1, 7):
        stepped += sim.advance(START + timedelta(minutes=minute))
    stepped += sim.advance(START + timedelta(hours=6, minutes=1))
    once = run(hours=6 + 1 / 60)
    assert [m.event for m in stepped] == [m.event for m in once]


def test_messages_are_chirpstack_up_events_in_time_order() -> None:
    """Each message parses as a ChirpStack v4 uplink on the default topic."""
    messages = run(hours=2)
    assert [m.time for m in messages] == sorted(m.time for m in messages)
    for message in messages:
        uplink = chirpstack.parse_up(
            chirpstack.loads(json.dumps(message.event)), source="simulated"
        )
        assert uplink.dev_eui == message.dev_eui
        assert message.topic.endswith(f"/device/{message.dev_eui}/event/up")
        assert uplink.payload == base64.b64decode(message.event["data"])


def test_payloads_decode_to_what_the_simulator_meant() -> None:
    """Real bytes: decoding each payload gives back the intended canonical values."""
    seen_roles = set()
    for message in run(hours=26):
        device = DEMO_BY_EUI[message.dev_eui]
        codec = CODECS[MODELS[device.model_id].codec]
        fields = codec.decode(
            message.event.get("fPort", 0), base64.b64decode(message.event["data"])
        )
        for key, value in message.fields.items():
            assert fields[key] == pytest.approx(value), (device.name, key)
        seen_roles.add(device.role)
    assert seen_roles == set(Role)


def test_every_device_reports_at_its_interval() -> None:
    """Over a day each device sends about 24 h / its interval reports."""
    counts: dict[str, int] = {}
    for message in run(hours=24):
        counts[message.dev_eui] = counts.get(message.dev_eui, 0) + 1
    for device in DEMO_DEVICES:
        expected = 24 * 3600 / device.interval_s
        assert expected * 0.9 <= counts[device.dev_eui] <= expected * 1.1 + 8, device.name


def _motion_by_local_hour(messages: list[SimMessage], eui: str) -> dict[int, int]:
    totals: dict[int, int] = {}
    for message in messages:
        if message.dev_eui == eui:
            hour = message.time.astimezone(LOCAL_TZ).hour
            totals[hour] = totals.get(hour, 0) + message.fields["motion_count"]
    return totals


def test_residents_sleep_at_night_and_are_up_in_the_day() -> None:
    """Little motion 01-05, plenty 17-21 (everyone is home in the evening)."""
    messages = run(hours=48, start=datetime(2026, 11, 23, 23, 0, tzinfo=UTC))
    for device in (d for d in DEMO_DEVICES if d.role is Role.MOTION):
        by_hour = _motion_by_local_hour(messages, device.dev_eui)
        night = sum(by_hour.get(h, 0) for h in range(1, 5))
        evening = sum(by_hour.get(h, 0) for h in range(17, 21))
        assert evening > 10 * max(night, 1), device.name


def test_resident_not_up_scenario() -> None:
    """That apartment shows no motion while the scenario is on; others still do."""
    sim = Simulator(seed=7, start=START)
    sim.set_scenario(Scenario.RESIDENT_NOT_UP, True, APARTMENTS[2])
    messages = sim.advance(START + timedelta(hours=8))
    motion = {d.area: 0 for d in DEMO_DEVICES if d.role is Role.MOTION}
    for message in messages:
        device = DEMO_BY_EUI[message.dev_eui]
        if device.role is Role.MOTION:
            motion[device.area] += message.fields["motion_count"]
    assert motion[APARTMENTS[2]] == 0
    assert all(count > 0 for area, count in motion.items() if area != APARTMENTS[2])
    sim.set_scenario(Scenario.RESIDENT_NOT_UP, False, APARTMENTS[2])
    later = sim.advance(START + timedelta(hours=12))
    assert any(
        m.fields.get("motion_count") for m in later if DEMO_BY_EUI[m.dev_eui].area == APARTMENTS[2]
    )


def test_resident_not_up_keeps_the_door_shut() -> None:
    """Lgh 1101's door is not used while its resident stays in (no door activity sent)."""
    door = next(d for d in DEMO_DEVICES if d.role is Role.DOOR)

    def door_changes(sim: Simulator, hours: float) -> list[bool]:
        return [
            m.fields["door"]
            for m in sim.advance(START + timedelta(hours=hours))
            if m.dev_eui == door.dev_eui and "door" in m.fields
        ]

    normal = door_changes(Simulator(seed=7, start=START), 48)
    assert True in normal  # the outing or the evening visit opens it
    sim = Simulator(seed=7, start=START)
    sim.set_scenario(Scenario.RESIDENT_NOT_UP, True, door.area)
    assert True not in door_changes(sim, 48)


def test_sensor_silent_scenario() -> None:
    """A silenced device sends nothing until switched back."""
    eui = DEMO_DEVICES[0].dev_eui
    sim = Simulator(seed=7, start=START)
    sim.advance(START + timedelta(minutes=5))
    sim.set_scenario(Scenario.SENSOR_SILENT, True, eui)
    assert not [m for m in sim.advance(START + timedelta(hours=2)) if m.dev_eui == eui]
    sim.set_scenario(Scenario.SENSOR_SILENT, False, eui)
    assert [m for m in sim.advance(START + timedelta(hours=3)) if m.dev_eui == eui]


def test_leak_scenario_makes_flow_continuous() -> None:
    """A leaking toilet: every hour has use, and after 24 h the meter flags a leak."""
    meter = next(d for d in DEMO_DEVICES if d.role is Role.APARTMENT_METER)
    sim = Simulator(seed=7, start=START)
    sim.set_scenario(Scenario.LEAK, True, meter.dev_eui)
    messages = [m for m in sim.advance(START + timedelta(hours=27)) if m.dev_eui == meter.dev_eui]
    assert not messages[0].fields["leak"]
    assert messages[-1].fields["leak"]
    decoded = CODECS["kamstrup_flowiq"].decode(1, base64.b64decode(messages[-1].event["data"]))
    log = decoded["volume_log_m3"]
    assert all(b - a > 0.005 for a, b in pairwise(log))  # ≥ 12 L/h
    quiet = [m for m in run(hours=27) if m.dev_eui == meter.dev_eui]
    assert not any(m.fields["leak"] for m in quiet)


def test_snowfall_scenario_raises_snow_depth() -> None:
    """Distance to the ground shrinks by about 15 mm per hour of snowfall."""
    sim = Simulator(seed=7, start=START)
    before = [m for m in sim.advance(START + timedelta(minutes=30)) if "distance" in m.fields]
    sim.set_scenario(Scenario.SNOWFALL, True)
    after = [
        m for m in sim.advance(START + timedelta(hours=4, minutes=30)) if "distance" in m.fields
    ]
    assert before[-1].fields["distance"] - after[-1].fields["distance"] == pytest.approx(60, abs=8)


def test_meter_volumes_never_decrease() -> None:
    """Registers only go up (the building meter sums the apartments and common use)."""
    last: dict[str, float] = {}
    for message in run(hours=30):
        if "volume" in message.fields:
            assert message.fields["volume"] >= last.get(message.dev_eui, 0)
            last[message.dev_eui] = message.fields["volume"]
    building = next(d for d in DEMO_DEVICES if d.role is Role.BUILDING_METER)
    assert building.dev_eui in last


@pytest.mark.parametrize(
    ("scenario", "target"),
    [
        (Scenario.RESIDENT_NOT_UP, "Lgh 9999"),
        (Scenario.SENSOR_SILENT, "0000000000000000"),
        (Scenario.LEAK, DEMO_DEVICES[0].dev_eui),  # a motion sensor is no meter
    ],
)
def test_bad_scenario_targets_are_refused(scenario: Scenario, target: str) -> None:
    """A clear ValueError, nothing switched."""
    sim = Simulator(seed=7, start=START)
    with pytest.raises(ValueError, match=r"unknown|not a demo water meter"):
        sim.set_scenario(scenario, True, target)
    assert sim.active_scenarios() == []


def test_naive_start_is_refused() -> None:
    """Simulator time is always timezone-aware."""
    with pytest.raises(ValueError, match="timezone-aware"):
        Simulator(seed=1, start=datetime(2026, 1, 1))


def test_restart_continues_meter_registers() -> None:
    """A simulator restarted later with the same epoch continues the registers.

    Home Assistant restarts (and entry reloads) start a new simulator; its meters must
    not wind back, or every restart would look like a meter swap.
    """
    epoch = START
    first = Simulator(seed=7, start=epoch)
    history: dict[tuple[str, datetime], float] = {}
    for message in first.advance(epoch + timedelta(hours=5)):
        if "volume" in message.fields:
            history[(message.dev_eui, message.time)] = message.fields["volume"]
    restarted = Simulator(seed=7, start=epoch + timedelta(hours=3, minutes=30), epoch=epoch)
    later = [m for m in restarted.advance(epoch + timedelta(hours=5)) if "volume" in m.fields]
    assert later
    for message in later:
        last_before = max(
            (v for (eui, t), v in history.items() if eui == message.dev_eui and t <= message.time),
            default=0.0,
        )
        assert message.fields["volume"] >= last_before
        assert message.fields["volume"] > 40  # not wound back to a fresh register
