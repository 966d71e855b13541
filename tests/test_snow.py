"""Snow-clearing sites of a building: flows, depth, clearing events, restarts.

The demo's parking lot has two Milesight EM500-UDL distance sensors mounted at 1,500 mm,
reporting every 10 minutes; the simulator's lot has a 2 cm base. The simulated snowfall
adds 1.5 cm an hour, so with a threshold of 8 cm and a minimum rise of 5 cm the lot needs
clearing once the depth reaches 8 cm, about four hours in. A plough is a report with a
small depth.
"""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.ange_iot.angelib.codecs import milesight
from custom_components.ange_iot.angelib.lns import chirpstack
from custom_components.ange_iot.angelib.simulator import DEMO_BY_EUI, DEMO_LOT
from custom_components.ange_iot.const import DOMAIN

from .building import SITE, SNOW, site_data, snow_building_entry as building_entry
from .common import assert_attributes_translated, async_run_until, fired_events, set_scenario

DEPTH = "sensor.parkering_snow_depth"
NEEDED = "binary_sensor.parkering_clearing_needed"
CLEARING = "event.parkering_snow_clearing"
STEP = timedelta(minutes=10)


@pytest.fixture
def platforms() -> list[Platform]:
    """The gateway without entity platforms: the site's entities are under test."""
    return []


@pytest.fixture
def clearing_events(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Every event the site's snow-clearing entity fires (not restored states)."""
    return fired_events(hass, CLEARING)


async def snowfall(hass: HomeAssistant, gateway: MockConfigEntry, active: bool) -> None:
    """Switch the simulator's snowfall."""
    await set_scenario(hass, gateway, "snowfall", active=active)


def plough(hass: HomeAssistant, gateway: MockConfigEntry, depth_mm: int, fcnt: int) -> None:
    """Both lot sensors report ``depth_mm`` of snow (the plough went by)."""
    hub = gateway.runtime_data
    for dev_eui in SNOW:
        demo = DEMO_BY_EUI[dev_eui]
        assert demo.mounting_height_mm is not None
        payload = milesight.encode(
            {"battery": 99, "distance": demo.mounting_height_mm - depth_mm}, model="EM500-UDL"
        )
        event = chirpstack.build_up(
            dev_eui=dev_eui,
            fport=85,
            fcnt=fcnt,
            payload=payload,
            time=dt_util.utcnow(),
            device_name=demo.name,
            profile_name=demo.profile_name,
            application_id="test",
            dedup_id=f"plough-{dev_eui}-{fcnt}",
            rssi=-80,
            snr=8.0,
        )
        hub.async_handle_chirpstack(json.dumps(event).encode(), source="test")


def depth(hass: HomeAssistant) -> float:
    """The lot's current depth, cm."""
    return float(hass.states.get(DEPTH).state)


@pytest.mark.parametrize("platform", [Platform.BINARY_SENSOR, Platform.SENSOR])  # event: test_event
async def test_site_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    first_reports: MockConfigEntry,
    platform: Platform,
) -> None:
    """A site is a device under its building with depth, clearing-needed and an event."""
    entry = building_entry()
    entry.add_to_hass(hass)
    with patch("custom_components.ange_iot.building.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


@pytest.mark.parametrize("platforms", [[Platform.SENSOR]])
@pytest.mark.parametrize(
    ("site_name", "device_name", "entity_prefix"),
    [
        ("Parkering", "Parkering", "sensor.parkering_solbacken_parkering"),
        (DEMO_LOT, "Snow clearing", "sensor.parkering_solbacken_snow_clearing"),
    ],
)
async def test_site_device_in_the_area_of_its_sensors(
    hass: HomeAssistant,
    first_reports: MockConfigEntry,
    site_name: str,
    device_name: str,
    entity_prefix: str,
) -> None:
    """The site is placed in its sensors' area and lists them; named like the area, it is
    called "Snow clearing" (translated) so its ids do not repeat the area."""
    entry = building_entry()
    entry.add_to_hass(hass)
    hass.config_entries.async_update_subentry(
        entry, entry.subentries[SITE], title=site_name, data=site_data(name=site_name)
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    [device] = dr.async_get(hass).async_get_devices(identifiers={(DOMAIN, f"site_{SITE}")})
    assert device.name == device_name
    assert device.model is None  # no English word on a Swedish page
    area = ar.async_get(hass).async_get_area(device.area_id or "")
    assert area is not None
    assert area.name == DEMO_LOT
    state = hass.states.get(f"{entity_prefix}_snow_depth")
    assert state is not None
    assert sorted(state.attributes["distance_sensors"]) == sorted(
        DEMO_BY_EUI[eui].name.removeprefix(f"{DEMO_LOT} ").capitalize() for eui in SNOW
    )


@pytest.mark.parametrize("platforms", [[Platform.SENSOR]])
async def test_site_device_from_before_keeps_its_name(
    hass: HomeAssistant, first_reports: MockConfigEntry
) -> None:
    """A site device created before sites had areas has none (HA suggests an area only to a
    new device), so it keeps its own name rather than an ambiguous "Snow clearing"."""
    entry = building_entry()
    entry.add_to_hass(hass)
    hass.config_entries.async_update_subentry(
        entry, entry.subentries[SITE], title=DEMO_LOT, data=site_data(name=DEMO_LOT)
    )
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        config_subentry_id=SITE,
        identifiers={(DOMAIN, f"site_{SITE}")},
        name=DEMO_LOT,
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    [device] = dr.async_get(hass).async_get_devices(identifiers={(DOMAIN, f"site_{SITE}")})
    assert device.name == DEMO_LOT
    assert device.area_id is None


async def test_clearing_needed_once_then_cleared(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    site: MockConfigEntry,
    clearing_events: list[dict[str, Any]],
) -> None:
    """Snowfall raises clearing_needed once at 8 cm; a plough clears it once."""
    assert 1.5 <= depth(hass) <= 2.5  # the lot's thin base
    assert hass.states.get(NEEDED).state == STATE_OFF
    await snowfall(hass, first_reports, True)
    await async_run_until(hass, freezer, dt_util.utcnow() + timedelta(hours=3), STEP)
    assert clearing_events == []
    assert hass.states.get(NEEDED).state == STATE_OFF
    await async_run_until(hass, freezer, dt_util.utcnow() + timedelta(hours=2), STEP)
    assert [e["event_type"] for e in clearing_events] == ["clearing_needed"]
    needed = clearing_events[0]
    assert needed["site"] == "Parkering"
    assert 8 <= needed["depth_cm"] < 8.5
    assert needed["threshold_cm"] == 8
    assert hass.states.get(NEEDED).state == STATE_ON
    assert assert_attributes_translated(hass)
    # More snow: still the one event.
    await async_run_until(hass, freezer, dt_util.utcnow() + timedelta(hours=2), STEP)
    assert len(clearing_events) == 1
    assert depth(hass) > 10

    await snowfall(hass, first_reports, False)
    plough(hass, first_reports, depth_mm=10, fcnt=90_001)
    await hass.async_block_till_done()
    # The first ploughed sensor already brings the mean below the threshold.
    assert [e["event_type"] for e in clearing_events] == ["clearing_needed", "cleared"]
    assert clearing_events[1]["depth_cm"] < 8
    assert depth(hass) == 1.0
    assert hass.states.get(NEEDED).state == STATE_OFF


async def test_restart_keeps_clearing_needed_without_repeating(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    site: MockConfigEntry,
    clearing_events: list[dict[str, Any]],
) -> None:
    """A reload of the building neither loses nor repeats "clearing needed"."""
    await snowfall(hass, first_reports, True)
    await async_run_until(hass, freezer, dt_util.utcnow() + timedelta(hours=5), STEP)
    assert len(clearing_events) == 1
    assert await hass.config_entries.async_reload(site.entry_id)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, dt_util.utcnow() + timedelta(hours=1), STEP)
    assert len(clearing_events) == 1
    assert hass.states.get(NEEDED).state == STATE_ON


async def test_silent_sensors_leave_the_depth_unknown(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    site: MockConfigEntry,
    clearing_events: list[dict[str, Any]],
) -> None:
    """With both sensors silent the depth is unknown and nothing is decided."""
    for dev_eui in SNOW:
        await set_scenario(hass, first_reports, "sensor_silent", dev_eui)
    await snowfall(hass, first_reports, True)
    await async_run_until(hass, freezer, dt_util.utcnow() + timedelta(hours=6), STEP)
    assert hass.states.get(DEPTH).state == "unknown"
    assert clearing_events == []
