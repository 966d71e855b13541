"""Water meters of a building: alerts, total consumption, hourly statistics, flows.

The building "Solbacken" holds the demo's water meters: the Axioma W1 main meter (counted
in the building total) and the six Kamstrup flowIQ apartment meters behind it (not counted).
Meters report hourly with their hourly log (flowIQ: 12 h, W1: 15 h), so each hour's use is
known the hour after. The simulator's leak scenario adds 12 L/h to one apartment meter (and
so to the main meter too).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.components.recorder.statistics import get_metadata, statistics_during_period
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.ange_iot.const import DOMAIN
from custom_components.ange_iot.diagnostics import async_get_config_entry_diagnostics

from .building import (
    APARTMENT_METERS,
    NAMES,
    WATER_BUILDING_ID as BUILDING_ID,
    WATER_OPTIONS,
    building_config_entry,
    meter_sub,
    water_building_entry as building_entry,
)
from .common import (
    BUILDING_METER,
    METER_1101,
    assert_attributes_translated,
    async_run_until,
    async_setup_blueprint,
    fired_events,
    meter_event,
    mobile_phone,
    set_scenario,
)

LOCAL = ZoneInfo("Europe/Stockholm")
ALERTS = "event.solbacken_meter_alerts"
IN_ALERT = "sensor.solbacken_meters_in_alert"
TOTAL = "sensor.solbacken_water_consumption"
HOUR = timedelta(hours=1)


def local(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock time in Ånge in the test's week (November 2026)."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=LOCAL)


def utc(day: int, hour: int, minute: int = 0, second: int = 0) -> str:
    """How events write a local wall-clock time: ISO in UTC."""
    return local(day, hour, minute, second).astimezone(dt_util.UTC).isoformat()


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Every test here runs with the recorder (set up before Home Assistant)."""


@pytest.fixture
def platforms() -> list[Platform]:
    """The gateway with its buttons only: the meters' devices exist, few entities."""
    return [Platform.BUTTON]


@pytest.fixture
def meter_alerts(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Every event the building's meter-alerts entity fires (not restored states)."""
    return fired_events(hass, ALERTS)


async def hourly(
    hass: HomeAssistant, statistic_id: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The imported hourly rows of one statistic."""
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        start,
        end,
        {statistic_id},
        "hour",
        None,
        {"state", "sum"},
    )
    return rows.get(statistic_id, [])


def statistic(dev_eui: str) -> str:
    """A meter's hourly statistic id."""
    return f"{DOMAIN}:water_{dev_eui}"


async def test_building_water_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    first_reports: MockConfigEntry,
) -> None:
    """Meter alerts, meters in alert and total consumption sit on the building's device."""
    entry = building_entry()
    entry.add_to_hass(hass)
    with patch("custom_components.ange_iot.building.PLATFORMS", [Platform.SENSOR]):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_no_water_entities_without_meters(
    hass: HomeAssistant, first_reports: MockConfigEntry
) -> None:
    """A care-only building gets no water entities."""
    entry = MockConfigEntry(domain=DOMAIN, title="Solbacken", data={"kind": "building"})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(ALERTS) is None
    assert hass.states.get(TOTAL) is None


def started(alerts: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(meter, alert, since) of every alert_started, in order."""
    return [
        (e["meter"], e["alert"], e["since"]) for e in alerts if e["event_type"] == "alert_started"
    ]


def cleared(alerts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(meter, alert) of every alert_cleared, in order."""
    return [(e["meter"], e["alert"]) for e in alerts if e["event_type"] == "alert_cleared"]


async def test_leak_alerts_fire_once_and_clear(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    first_reports: MockConfigEntry,
    meter_alerts: list[dict[str, Any]],
) -> None:
    """A running toilet in Lgh 1101: continuous flow, night flow and the meters' own leak.

    The leak also runs through the main meter. Each alert fires once, with the meter, its
    device, since when and the leak rate; they clear when the leak is mended (night flow
    only after two clean nights).
    """
    await set_scenario(hass, first_reports, "leak", METER_1101, True)
    entry = building_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, local(25, 7, 1), timedelta(minutes=30))

    flat, main = NAMES[METER_1101], NAMES[BUILDING_METER]
    assert sorted(started(meter_alerts), key=lambda a: (a[2], a[0])) == [
        (flat, "continuous_flow", utc(23, 8)),
        (main, "continuous_flow", utc(23, 9)),
        (main, "night_flow", utc(24, 0)),
        (flat, "night_flow", utc(24, 0)),
        (flat, "leak", utc(24, 5, 0, 32)),
        (main, "leak", utc(24, 5, 0, 33)),
    ]
    first = next(e for e in meter_alerts if e["alert"] == "continuous_flow")
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, METER_1101), first_reports.entry_id
    )
    assert device is not None
    assert first == {
        "event_type": "alert_started",
        "alert": "continuous_flow",
        "alert_id": f"{METER_1101}|continuous_flow|{utc(23, 8)}",
        "source": "derived",
        "meter": flat,
        "meter_device_id": device.id,
        "building": "Solbacken",
        "since": utc(23, 8),
        "leak_rate_lph": 12.0,
    }
    assert hass.states.get(IN_ALERT).state == "2"
    open_alerts = hass.states.get(IN_ALERT).attributes["alerts"]
    assert {(a["meter"], a["alert"]) for a in open_alerts} == {
        (m, a) for m, a, _ in started(meter_alerts)
    }
    assert assert_attributes_translated(hass)  # the event's and the sensors' attributes

    # Mended in the morning of the 25th: the flow stops, alerts clear by their own rules.
    await set_scenario(hass, first_reports, "leak", METER_1101, False)
    await async_run_until(hass, freezer, local(26, 7, 1), timedelta(minutes=30))
    assert ("Lgh 1101 vattenmätare", "continuous_flow") in cleared(meter_alerts)
    assert (flat, "leak") in cleared(meter_alerts)
    assert (flat, "night_flow") not in cleared(meter_alerts)  # one clean night so far
    await async_run_until(hass, freezer, local(27, 7, 1), timedelta(minutes=30))
    assert (flat, "night_flow") in cleared(meter_alerts)
    assert len(started(meter_alerts)) == 6  # nothing started twice
    assert hass.states.get(IN_ALERT).state == "0"


async def test_hourly_statistics_in_the_hour_the_water_ran(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    water: MockConfigEntry,
) -> None:
    """Each meter's hourly use lands in its own hour, from the logs; a repeat adds nothing."""
    await async_run_until(hass, freezer, local(24, 8, 1), timedelta(minutes=30))
    gateway = first_reports.runtime_data.gateway
    sim = gateway.simulator
    device = sim.devices[METER_1101]
    rows = await hourly(hass, statistic(METER_1101), local(22, 0), dt_util.utcnow())
    assert len(rows) >= 24
    for row in rows[1:]:
        start = dt_util.utc_from_timestamp(row["start"])
        end = start + HOUR
        # The simulated register in whole litres at each boundary, as the meter logs it.
        used_l = sim_register_l(sim, device, end) - sim_register_l(sim, device, start)
        previous = next(r for r in rows if r["start"] == row["start"] - 3600)
        assert round((row["sum"] - previous["sum"]) * 1000) == used_l, start
        assert row["state"] == sim_register_l(sim, device, end) / 1000

    # The same log again, in a new uplink (as a network server may resend it): no change.
    before = await hourly(hass, statistic(METER_1101), local(22, 0), dt_util.utcnow())
    last_hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    _fport, payload, _fields = sim.payload_fields(device, last_hour)
    first_reports.runtime_data.async_handle_chirpstack(
        meter_event(volume_l=0, fcnt=70_000, time=dt_util.utcnow(), payload=payload),
        source="test",
    )
    await hass.async_block_till_done()
    assert await hourly(hass, statistic(METER_1101), local(22, 0), dt_util.utcnow()) == before

    # In the Energy dashboard's picker every meter is told apart (and found by search) by
    # its name, what the statistic is, and the building.
    metadata = await get_instance(hass).async_add_executor_job(
        partial(
            get_metadata, hass, statistic_ids={statistic(METER_1101), statistic(BUILDING_METER)}
        )
    )
    assert {meta["name"] for _id, meta in metadata.values()} == {
        f"{NAMES[METER_1101]} (Water consumption) · Solbacken",
        f"{NAMES[BUILDING_METER]} (Water consumption) · Solbacken",
    }


def sim_register_l(sim: Any, device: Any, at: datetime) -> int:
    """The simulated meter's register at ``at`` in whole litres (what it sends)."""
    return int(sim._volume_l(device, at) // 1)


async def test_silent_meter(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    water: MockConfigEntry,
    meter_alerts: list[dict[str, Any]],
) -> None:
    """A meter that stops reporting raises "meter silent" after 48 h, cleared when it's back."""
    await async_run_until(hass, freezer, local(23, 12, 1), timedelta(minutes=30))
    await set_scenario(hass, first_reports, "sensor_silent", METER_1101, True)
    await async_run_until(hass, freezer, local(25, 12, 0), timedelta(minutes=30))
    assert started(meter_alerts) == []
    await async_run_until(hass, freezer, local(25, 12, 30), timedelta(minutes=30))
    # Silent since its last uplink (12:00 local, received 10 s after the hour).
    assert started(meter_alerts) == [(NAMES[METER_1101], "silent", utc(23, 12, 0, 10))]
    await set_scenario(hass, first_reports, "sensor_silent", METER_1101, False)
    await async_run_until(hass, freezer, local(25, 13, 30), timedelta(minutes=30))
    assert cleared(meter_alerts) == [(NAMES[METER_1101], "silent")]


async def test_restart_fires_nothing_twice(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    meter_alerts: list[dict[str, Any]],
) -> None:
    """Open alerts survive a reload of the building without firing again."""
    await set_scenario(hass, first_reports, "leak", METER_1101, True)
    entry = building_entry(meter_sub(METER_1101))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, local(24, 9), timedelta(minutes=30))
    fired = started(meter_alerts)
    assert {alert for _m, alert, _s in fired} == {"continuous_flow", "night_flow", "leak"}
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, local(24, 12), timedelta(minutes=30))
    assert started(meter_alerts) == fired
    assert hass.states.get(IN_ALERT).state == "1"


async def test_meter_swap_is_never_counted(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    first_reports: MockConfigEntry,
    meter_alerts: list[dict[str, Any]],
) -> None:
    """A lower reading raises "reading went backwards"; after the swap is accepted the
    statistics continue from where they were (no negative, no jump)."""
    entry = building_entry(meter_sub(METER_1101, counted=True))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, local(23, 12, 1), timedelta(minutes=30))
    hub = first_reports.runtime_data
    total_before = float(hass.states.get(TOTAL).state)
    rows_before = await hourly(hass, statistic(METER_1101), local(22, 0), dt_util.utcnow())

    hub.async_handle_chirpstack(meter_event(volume_l=12, fcnt=80_000), source="test")
    await hass.async_block_till_done()
    assert started(meter_alerts)[-1][:2] == (NAMES[METER_1101], "backwards")
    assert float(hass.states.get(TOTAL).state) == total_before

    # Accepted, as the repair issue's fix (or the meter's button, when enabled) does.
    hub.async_accept_volume(METER_1101)
    await hass.async_block_till_done()
    assert cleared(meter_alerts)[-1] == (NAMES[METER_1101], "backwards")
    freezer.tick(HOUR)
    hub.async_handle_chirpstack(meter_event(volume_l=42, fcnt=80_001), source="test")
    await hass.async_block_till_done()
    rows = await hourly(hass, statistic(METER_1101), local(22, 0), dt_util.utcnow())
    sums = [r["sum"] for r in rows]
    assert sums == sorted(sums)  # never decreasing
    assert rows[-1]["sum"] == pytest.approx(rows_before[-1]["sum"] + 0.030)
    assert float(hass.states.get(TOTAL).state) == pytest.approx(total_before + 0.030)


async def test_total_never_drops_when_a_meter_leaves(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    water: MockConfigEntry,
) -> None:
    """The building total counts the main meter; uncounting or removing it keeps its use."""
    await async_run_until(hass, freezer, local(23, 14, 1), timedelta(minutes=30))
    total = float(hass.states.get(TOTAL).state)
    assert total > 0
    subentry = water.subentries[f"meter_{BUILDING_METER[-4:]}"]
    hass.config_entries.async_update_subentry(
        water, subentry, data={**subentry.data, "counted": False}
    )
    await hass.async_block_till_done()
    assert water.state is ConfigEntryState.LOADED
    assert float(hass.states.get(TOTAL).state) == total
    await async_run_until(hass, freezer, local(23, 18, 1), timedelta(minutes=30))
    assert float(hass.states.get(TOTAL).state) == total  # no counted meter uses water now
    hass.config_entries.async_remove_subentry(water, subentry.subentry_id)
    await hass.async_block_till_done()
    assert float(hass.states.get(TOTAL).state) == total


async def test_water_diagnostics_leave_out_meters_and_readings(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    water: MockConfigEntry,
) -> None:
    """Diagnostics show settings and counts, never a DevEUI, a meter name or a reading."""
    await async_run_until(hass, freezer, local(23, 10, 1), timedelta(minutes=30))
    diagnostics = await async_get_config_entry_diagnostics(hass, water)
    text = json.dumps(diagnostics)
    for dev_eui in [BUILDING_METER, *APARTMENT_METERS]:
        assert dev_eui not in text
        assert NAMES[dev_eui] not in text
    meters = diagnostics["water_meters"]
    assert len(meters) == 7
    assert [m["counted"] for m in meters].count(True) == 1
    assert all(m["hourly_points"] >= 2 for m in meters)
    assert "volume" not in text
    assert "53." not in text  # no register (the apartment meters read 53 m³ and up)


async def test_blueprint_on_the_real_meter_alerts(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    first_reports: MockConfigEntry,
) -> None:
    """The meter-alert blueprint on the integration's own event entity (not a stand-in)."""
    device_id, calls = mobile_phone(hass, "Pixel 7")
    await set_scenario(hass, first_reports, "leak", METER_1101, True)
    entry = building_entry(meter_sub(METER_1101))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await async_setup_blueprint(
        hass,
        tmp_path,
        "meter_alert_notification.yaml",
        "meter_alerts",
        {"meter_alerts": ALERTS, "phones": [device_id]},
    )
    await async_run_until(hass, freezer, local(24, 9), timedelta(minutes=30))
    reminders = [c.data for c in calls if c.data["title"].startswith("Påminnelse: ")]
    titles = sorted(c.data["title"] for c in calls if c.data not in reminders)
    # Nobody took them: the integration's reminders replace each alert's notification.
    assert {r["title"] for r in reminders} == {f"Påminnelse: {title}" for title in titles}
    assert titles == [
        "Flöde utan uppehåll: Solbacken",
        "Förbrukning nattetid: Solbacken",
        "Läcka: Solbacken",
    ]
    message = next(c.data["message"] for c in calls if c.data["title"].startswith("Flöde"))
    assert message == (
        f"Mätare: {NAMES[METER_1101]}. Sedan 2026-11-23 08:00. Uppskattat läckflöde ≈ 12.0 L/h."
    )


async def test_acknowledge_meter_alerts(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    meter_alerts: list[dict[str, Any]],
    hass_admin_user: MockUser,
    hass_storage: dict[str, Any],
) -> None:
    """Staff take the building's open meter alerts with its button: recorded with who."""
    await set_scenario(hass, first_reports, "leak", METER_1101, True)
    entry = building_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    button = er.async_get(hass).async_get_entity_id(
        "button", DOMAIN, f"{BUILDING_ID}_acknowledge_meter_alerts"
    )
    assert button is not None
    context = Context(user_id=hass_admin_user.id)
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "button", "press", {"entity_id": button}, blocking=True, context=context
        )
    await async_run_until(hass, freezer, local(24, 6, 0), timedelta(minutes=30))
    open_ids = {e["alert_id"] for e in meter_alerts if e["event_type"] == "alert_started"}
    assert len(open_ids) == 2  # the leak alarms of the flat's meter and the main meter
    await hass.services.async_call(
        "button", "press", {"entity_id": button}, blocking=True, context=context
    )
    await hass.async_block_till_done()
    taken = [e for e in meter_alerts if e["event_type"] == "alert_acknowledged"]
    assert {e["alert_id"] for e in taken} == open_ids
    assert {e["user"] for e in taken} == {hass_admin_user.name}
    # Each once: a second press has nothing left to take.
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "button", "press", {"entity_id": button}, blocking=True, context=context
        )
    assert await hass.config_entries.async_unload(entry.entry_id)
    stored = hass_storage[f"{DOMAIN}.{BUILDING_ID}.water"]["data"]["acknowledged"]
    assert set(stored) == open_ids
    assert {v["by"] for v in stored.values()} == {hass_admin_user.name}


async def test_seen_on_a_phone_is_recorded_with_who(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    first_reports: MockConfigEntry,
    meter_alerts: list[dict[str, Any]],
    hass_admin_user: MockUser,
) -> None:
    """ "Sett" on one phone: the integration records who; every phone learns who took it."""
    phones = [mobile_phone(hass, name) for name in ("Pixel 7", "iPhone 15")]
    await set_scenario(hass, first_reports, "leak", METER_1101, True)
    entry = building_entry(meter_sub(METER_1101))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await async_setup_blueprint(
        hass,
        tmp_path,
        "meter_alert_notification.yaml",
        "meter_alerts",
        {"meter_alerts": ALERTS, "phones": [d for d, _ in phones]},
    )
    await async_run_until(hass, freezer, local(24, 6), timedelta(minutes=30))
    leak = next(e for e in meter_alerts if e["alert"] == "leak")
    for _, calls in phones:
        calls.clear()
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": f"ANGE_METER_SEEN|{leak['alert_id']}"},
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()
    (taken,) = [e for e in meter_alerts if e["event_type"] == "alert_acknowledged"]
    assert (taken["alert_id"], taken["user"]) == (leak["alert_id"], hass_admin_user.name)
    for _, calls in phones:
        assert [(c.data["title"], c.data["message"]) for c in calls] == [
            ("Kvitterat: Läcka", f"{hass_admin_user.name} tar det. Mätare: {NAMES[METER_1101]}.")
        ]


def follow_ups(alerts: list[dict[str, Any]], alert_id: str) -> list[tuple[str, Any, str, bool]]:
    """(event type, count, due, late) of the reminders and escalations of one alert."""
    return [
        (e["event_type"], e.get("count"), e["due"], e["late"])
        for e in alerts
        if e["event_type"] in ("reminder", "escalated") and e["alert_id"] == alert_id
    ]


async def test_reminders_and_escalation_are_timed_by_the_integration(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    meter_alerts: list[dict[str, Any]],
    hass_admin_user: MockUser,
    hass_storage: dict[str, Any],
) -> None:
    """An open alert nobody took repeats every 15 min and escalates once after 40 min, at
    the exact due times; a reload neither loses nor repeats one; acknowledged, it stops."""
    await set_scenario(hass, first_reports, "leak", METER_1101, True)
    entry = building_config_entry(
        BUILDING_ID,
        [meter_sub(METER_1101)],
        WATER_OPTIONS | {"meter_escalation_delay": {"hours": 0, "minutes": 40, "seconds": 0}},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # The leak flag arrives at about 05:00; its first reminder a quarter of an hour later.
    await async_run_until(hass, freezer, local(24, 5, 20), timedelta(minutes=1))
    leak = next(e for e in meter_alerts if e["alert"] == "leak")
    first = next(e for e in meter_alerts if e["event_type"] == "reminder")
    assert first["alert_id"] == leak["alert_id"]
    raised = dt_util.parse_datetime(first["due"])
    assert raised is not None
    raised -= timedelta(minutes=15)

    def at(minutes: int) -> str:
        return (raised + timedelta(minutes=minutes)).isoformat()

    await async_run_until(hass, freezer, raised + timedelta(minutes=35), timedelta(minutes=1))
    assert follow_ups(meter_alerts, leak["alert_id"]) == [
        ("reminder", 1, at(15), False),
        ("reminder", 2, at(30), False),
    ]
    assert (first["alert"], first["meter"], first["since"]) == (
        "leak",
        NAMES[METER_1101],
        leak["since"],
    )
    # A reload (not downtime): the counts are stored, nothing twice, nothing lost.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, raised + timedelta(minutes=50), timedelta(minutes=1))
    assert follow_ups(meter_alerts, leak["alert_id"])[2:] == [
        ("escalated", None, at(40), False),
        ("reminder", 3, at(45), False),
    ]
    stored = hass_storage[f"{DOMAIN}.{BUILDING_ID}.water"]["data"]["meters"][METER_1101]
    (saved,) = [a for a in stored["state"]["active"] if a["alert"] == "leak"]
    assert (saved["reminders"], saved["escalated"]) == (3, True)
    # Acknowledged: no more reminders for it (the other open alerts go on).
    await hass.services.async_call(
        DOMAIN,
        "acknowledge_meter_alert",
        {"building": entry.entry_id, "alert_id": leak["alert_id"]},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    before = len(follow_ups(meter_alerts, leak["alert_id"]))
    await async_run_until(hass, freezer, raised + timedelta(hours=3), timedelta(minutes=5))
    assert len(follow_ups(meter_alerts, leak["alert_id"])) == before


async def test_no_reminders_when_the_building_turns_them_off(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    meter_alerts: list[dict[str, Any]],
) -> None:
    """Reminder interval 0 (and escalation off, the default): each alert is sent once."""
    await set_scenario(hass, first_reports, "leak", METER_1101, True)
    entry = building_config_entry(
        BUILDING_ID,
        [meter_sub(METER_1101)],
        WATER_OPTIONS | {"meter_reminder_interval": {"hours": 0, "minutes": 0, "seconds": 0}},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, local(24, 9), timedelta(minutes=10))
    assert started(meter_alerts)
    assert not [e for e in meter_alerts if e["event_type"] in ("reminder", "escalated")]
