"""The ange_iot.set_scenario service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
import probatio
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
import voluptuous as vol

from custom_components.ange_iot.const import DOMAIN, SERVICE_SET_SCENARIO

MOTION_1101 = "a81758fffe0a1101"
MOTION_1102 = "a81758fffe0a1102"
METER_1101 = "0001a8f000002101"
BUILDING_METER = "0004a30b00e10001"


async def _call(hass: HomeAssistant, entry_id: str, **data: Any) -> None:
    await hass.services.async_call(
        DOMAIN, SERVICE_SET_SCENARIO, {"config_entry_id": entry_id, **data}, blocking=True
    )
    await hass.async_block_till_done()


def _active(entry: MockConfigEntry) -> list[tuple[str, str]]:
    return entry.runtime_data.gateway.simulator.active_scenarios()


@pytest.mark.parametrize(
    ("scenario", "target", "active"),
    [
        ("resident_not_up", "Lgh 1102", ("resident_not_up", "Lgh 1102")),
        ("sensor_silent", MOTION_1101, ("sensor_silent", MOTION_1101)),
        ("sensor_silent", "A8-17-58-FF-FE-0A-11-01", ("sensor_silent", MOTION_1101)),
        ("leak", METER_1101, ("leak", METER_1101)),
        ("leak", BUILDING_METER.upper(), ("leak", BUILDING_METER)),
        ("snowfall", "", ("snowfall", "")),
        ("snowfall", "the whole lot", ("snowfall", "")),
    ],
)
async def test_set_scenario_on_and_off(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    scenario: str,
    target: str,
    active: tuple[str, str],
) -> None:
    """Each scenario switches on (active by default) and off again."""
    assert _active(init_integration) == []
    await _call(hass, init_integration.entry_id, scenario=scenario, target=target)
    assert _active(init_integration) == [active]

    await _call(hass, init_integration.entry_id, scenario=scenario, target=target, active=False)
    assert _active(init_integration) == []


@pytest.mark.parametrize(
    ("scenario", "device", "active"),
    [
        ("resident_not_up", MOTION_1102, ("resident_not_up", "Lgh 1102")),  # its apartment
        ("sensor_silent", MOTION_1101, ("sensor_silent", MOTION_1101)),
        ("leak", METER_1101, ("leak", METER_1101)),
    ],
)
async def test_set_scenario_by_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    scenario: str,
    device: str,
    active: tuple[str, str],
) -> None:
    """The UI picks a device instead of typing a label or DevEUI."""
    picked = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, device), init_integration.entry_id
    )
    assert picked is not None
    await _call(hass, init_integration.entry_id, scenario=scenario, device=picked.id)
    assert _active(init_integration) == [active]


async def test_set_scenario_by_apartment_device(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An apartment of a building stands for its resident."""
    building = MockConfigEntry(
        domain=DOMAIN,
        title="Solbacken",
        data={"kind": "building"},
        subentries_data=[
            ConfigSubentryDataWithId(
                subentry_id="apt_1203",
                subentry_type="apartment",
                title="Lgh 1203",
                unique_id=None,
                data={"label": "Lgh 1203", "sensors": [], "enabled": True},
            )
        ],
    )
    building.add_to_hass(hass)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    apartment = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, "apartment_apt_1203"), building.entry_id
    )
    assert apartment is not None
    await _call(hass, init_integration.entry_id, scenario="resident_not_up", device=apartment.id)
    assert _active(init_integration) == [("resident_not_up", "Lgh 1203")]

    # The building is no gateway: refused with a message, not a crash.
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, building.entry_id, scenario="snowfall")
    assert err.value.translation_key == "not_simulated"
    assert err.value.translation_placeholders == {"title": "Solbacken"}


async def test_scenarios_combine(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Scenarios for different targets run side by side; switching one off keeps the rest."""
    await _call(hass, init_integration.entry_id, scenario="resident_not_up", target="Lgh 1101")
    await _call(hass, init_integration.entry_id, scenario="resident_not_up", target="Lgh 1203")
    await _call(hass, init_integration.entry_id, scenario="snowfall")
    assert _active(init_integration) == [
        ("resident_not_up", "Lgh 1101"),
        ("resident_not_up", "Lgh 1203"),
        ("snowfall", ""),
    ]
    await _call(
        hass, init_integration.entry_id, scenario="resident_not_up", target="Lgh 1101", active=False
    )
    assert _active(init_integration) == [("resident_not_up", "Lgh 1203"), ("snowfall", "")]


async def test_silent_sensor_stops_reporting(
    hass: HomeAssistant, init_integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The silenced sensor sends nothing more while the others keep reporting."""
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    hub = init_integration.runtime_data
    first = {eui: hub.device(eui).state.last_seen for eui in (MOTION_1101, MOTION_1102)}
    assert all(first.values())

    await _call(hass, init_integration.entry_id, scenario="sensor_silent", target=MOTION_1101)
    freezer.tick(timedelta(minutes=25))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    assert hub.device(MOTION_1101).state.last_seen == first[MOTION_1101]
    assert hub.device(MOTION_1102).state.last_seen > first[MOTION_1102]


async def test_unknown_entry(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """An id that is no config entry, or another integration's, is refused."""
    other = MockConfigEntry(domain="demo", title="Other")
    other.add_to_hass(hass)
    for entry_id in ("no_such_entry", other.entry_id):
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, entry_id, scenario="snowfall")
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "entry_not_found"
        assert err.value.translation_placeholders == {"entry_id": entry_id}
    assert _active(init_integration) == []


async def test_unloaded_entry(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """A gateway that is not running cannot take a scenario."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, init_integration.entry_id, scenario="snowfall")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "entry_not_loaded"
    assert err.value.translation_placeholders == {"title": "Ånge LSS demo"}

    # Running again, it takes one.
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    await _call(hass, init_integration.entry_id, scenario="snowfall")
    assert _active(init_integration) == [("snowfall", "")]


async def test_not_simulated(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """A gateway without a simulator (a real network server) has no scenarios."""
    with (
        patch.object(init_integration.runtime_data, "gateway", None),
        pytest.raises(ServiceValidationError) as err,
    ):
        await _call(hass, init_integration.entry_id, scenario="snowfall")
    assert err.value.translation_key == "not_simulated"
    assert err.value.translation_placeholders == {"title": "Ånge LSS demo"}


@pytest.mark.parametrize(
    ("scenario", "target"),
    [
        ("resident_not_up", "Lgh 9999"),
        ("resident_not_up", ""),
        ("sensor_silent", "ffffffffffffffff"),
        ("sensor_silent", "Lgh 1101"),
        ("leak", MOTION_1101),  # not a water meter
        ("leak", ""),
    ],
)
async def test_bad_target(
    hass: HomeAssistant, init_integration: MockConfigEntry, scenario: str, target: str
) -> None:
    """A target the demo site does not have is refused and nothing changes."""
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, init_integration.entry_id, scenario=scenario, target=target)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "bad_scenario_target"
    placeholders = err.value.translation_placeholders
    assert placeholders["scenario"] == scenario
    assert placeholders["target"] == target
    assert placeholders["error"]
    assert _active(init_integration) == []


@pytest.mark.parametrize(
    "data",
    [
        {"scenario": "earthquake"},
        {"scenario": "Snowfall"},
        {"target": "Lgh 1101"},  # no scenario
        {"scenario": "snowfall", "active": "perhaps"},
        {"scenario": "snowfall", "unknown": 1},
    ],
)
async def test_schema_rejects(
    hass: HomeAssistant, init_integration: MockConfigEntry, data: dict[str, Any]
) -> None:
    """The service schema refuses unknown scenarios and fields before the handler runs."""
    # HA 2026.10 validates with probatio and aliases voluptuous to it.
    assert vol.Invalid is probatio.Invalid
    with pytest.raises(probatio.Invalid):
        await _call(hass, init_integration.entry_id, **data)
    assert _active(init_integration) == []


async def test_schema_requires_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The gateway must be named."""
    with pytest.raises(probatio.Invalid):
        await hass.services.async_call(
            DOMAIN, SERVICE_SET_SCENARIO, {"scenario": "snowfall"}, blocking=True
        )
    assert _active(init_integration) == []
