"""Switch platform of Ånge IoT: an apartment's "care checks paused" switch.

The building "Solbacken" (tests/building.py) watches the demo site from 07:31; its
fixtures are in conftest.py.
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TOGGLE,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.ange_iot.angelib.simulator import APARTMENTS

from .building import (
    APT,
    NOT_UP,
    STEP,
    Alerts,
    attention,
    care_entity,
    local,
    state,
    status,
    utc_iso,
)
from .common import async_run_until, home_assistant_restarts

PAUSED = "care_checks_paused"


@pytest.fixture
def platforms() -> list[Platform]:
    """The gateway without entity platforms: the building's entities are under test."""
    return []


@pytest.fixture(autouse=True)
def care_entities_enabled(entity_registry_enabled_by_default: None) -> None:
    """Next check is off by default (privacy): these tests read it."""


async def switch_service(hass: HomeAssistant, service: str, entity: str) -> None:
    """Call a switch service on one entity and let it settle."""
    await hass.services.async_call("switch", service, {ATTR_ENTITY_ID: entity}, blocking=True)
    await hass.async_block_till_done()


async def restart(hass: HomeAssistant, building: MockConfigEntry) -> None:
    """The building stops and starts again as in a restart of Home Assistant."""
    assert await hass.config_entries.async_unload(building.entry_id)
    await hass.async_block_till_done()
    home_assistant_restarts(hass)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()


@pytest.mark.parametrize("building_platforms", [[Platform.SWITCH]], ids=["switch"])
async def test_entities(
    hass: HomeAssistant,
    building: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The building's switch entities (one per apartment) as it starts watching."""
    await snapshot_platform(hass, entity_registry, snapshot, building.entry_id)


async def test_one_pause_switch_per_apartment_off_at_start(
    hass: HomeAssistant, building: MockConfigEntry
) -> None:
    """Every apartment has its pause switch, off with no end time, as the building starts."""
    for label in APARTMENTS:
        switch = state(hass, "switch", label, PAUSED)
        assert switch.state == STATE_OFF
        assert switch.attributes["until"] is None


async def test_pause_switch_round_trip_touches_one_apartment(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry
) -> None:
    """On pauses only its apartment; off resumes it; toggle does the same both ways."""
    switch = care_entity(hass, "switch", APT, PAUSED)
    other = care_entity(hass, "switch", "Lgh 1101", PAUSED)
    await switch_service(hass, SERVICE_TURN_ON, switch)
    assert hass.states.get(switch).state == STATE_ON
    assert status(hass) == "paused"
    assert hass.states.get(other).state == STATE_OFF
    assert status(hass, "Lgh 1101") == "ok"

    await switch_service(hass, SERVICE_TURN_OFF, switch)
    assert hass.states.get(switch).state == STATE_OFF
    assert status(hass) == "ok"

    await switch_service(hass, SERVICE_TOGGLE, switch)
    assert hass.states.get(switch).state == STATE_ON
    assert status(hass) == "paused"
    await switch_service(hass, SERVICE_TOGGLE, switch)
    assert hass.states.get(switch).state == STATE_OFF
    assert status(hass) == "ok"


async def test_pause_switch_after_a_restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry
) -> None:
    """A pause survives a restart of Home Assistant (stored), and so does its end."""
    switch = care_entity(hass, "switch", APT, PAUSED)
    await async_run_until(hass, freezer, local(8, 0), STEP)
    await switch_service(hass, SERVICE_TURN_ON, switch)

    await restart(hass, building)
    assert hass.states.get(switch).state == STATE_ON
    care_status = state(hass, "sensor", APT, "care_status")
    assert care_status.state == "paused"
    assert care_status.attributes["since"] == utc_iso(local(8, 0))

    await switch_service(hass, SERVICE_TURN_OFF, switch)
    await restart(hass, building)
    assert hass.states.get(switch).state == STATE_OFF
    assert status(hass) == "ok"


@NOT_UP
async def test_pause_switch(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry, alerts: Alerts
) -> None:
    """The pause switch: no checks while on (the deadline is dropped), back when off."""
    switch = care_entity(hass, "switch", APT, "care_checks_paused")
    await async_run_until(hass, freezer, local(8, 0))
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True)
    await hass.async_block_till_done()
    assert hass.states.get(switch).state == STATE_ON
    assert hass.states.get(switch).attributes["until"] is None
    care_status = state(hass, "sensor", APT, "care_status")
    assert care_status.state == "paused"
    assert care_status.attributes["since"] == utc_iso(local(8, 0))
    assert state(hass, "sensor", APT, "next_check").state == STATE_UNKNOWN

    await async_run_until(hass, freezer, local(9, 30), STEP)
    assert alerts.fired == []
    assert status(hass) == "paused"
    assert attention(hass) == 0

    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True)
    await hass.async_block_till_done()
    assert hass.states.get(switch).state == STATE_OFF
    assert status(hass) == "ok"
    # The morning passed while paused: not judged. Inactivity counts from the resume.
    assert state(hass, "sensor", APT, "next_check").state == utc_iso(
        local(9, 30) + timedelta(hours=4, minutes=15)
    )
    await async_run_until(hass, freezer, local(10, 0), STEP)
    assert alerts.fired == []
