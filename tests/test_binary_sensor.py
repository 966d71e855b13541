"""Binary sensors of Ånge IoT: motion, doors and meter alarms."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path

from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.const import ATTR_DEVICE_CLASS, STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.ange_iot.gateway.binary_sensor import BINARY_SENSORS, METER_ALARMS
from custom_components.ange_iot.signals import SIGNAL_DEVICE_UPDATED

from .common import (
    BUILDING_METER,
    DOOR_1101,
    METER_1101,
    MOTION_1101,
    entity_id,
)

TRANSLATIONS = Path(__file__).parents[1] / "custom_components" / "ange_iot" / "translations"
MOTION_1103 = "a81758fffe0a1103"  # nobody moving in Lgh 1103 at start


@pytest.fixture
def platforms() -> list[Platform]:
    """Only the binary sensor platform."""
    return [Platform.BINARY_SENSOR]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_all_entities(
    hass: HomeAssistant,
    first_reports: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Snapshot every binary sensor of the demo site after its first reports."""
    await snapshot_platform(hass, entity_registry, snapshot, first_reports.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_key_binary_sensors(
    hass: HomeAssistant, first_reports: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Device classes and the states the demo's first reports imply."""
    motion = hass.states.get(entity_id(entity_registry, "binary_sensor", MOTION_1101, "motion"))
    assert motion is not None
    assert motion.attributes[ATTR_DEVICE_CLASS] == BinarySensorDeviceClass.MOTION
    assert motion.state == STATE_ON  # motion counted since the previous report
    still = hass.states.get(entity_id(entity_registry, "binary_sensor", MOTION_1103, "motion"))
    assert still is not None
    assert still.state == STATE_OFF

    door = hass.states.get(entity_id(entity_registry, "binary_sensor", DOOR_1101, "door"))
    assert door is not None
    assert door.attributes[ATTR_DEVICE_CLASS] == BinarySensorDeviceClass.DOOR
    assert door.state == STATE_OFF

    decreased = hass.states.get(
        entity_id(entity_registry, "binary_sensor", METER_1101, "volume_decreased")
    )
    assert decreased is not None
    assert decreased.attributes[ATTR_DEVICE_CLASS] == BinarySensorDeviceClass.PROBLEM
    assert decreased.state == STATE_OFF

    leak = hass.states.get(entity_id(entity_registry, "binary_sensor", METER_1101, "leak"))
    assert leak is not None
    assert leak.attributes[ATTR_DEVICE_CLASS] == BinarySensorDeviceClass.PROBLEM
    assert leak.state == STATE_OFF

    # No volume_decreased on devices that are not water meters.
    assert (
        entity_registry.async_get_entity_id(
            "binary_sensor", "ange_iot", f"{MOTION_1101}_volume_decreased"
        )
        is None
    )


async def test_door_alarm_disabled_by_default(
    hass: HomeAssistant, first_reports: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """The door alarm duplicates the door state: disabled until someone wants it."""
    entry = entity_registry.async_get(
        entity_id(entity_registry, "binary_sensor", DOOR_1101, "door_alarm")
    )
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_names_are_translated(
    hass: HomeAssistant, first_reports: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Every binary sensor has a translated name, in English and Swedish."""
    entries = er.async_entries_for_config_entry(entity_registry, first_reports.entry_id)
    assert entries
    for entry in entries:
        assert entry.translation_key is not None, entry.entity_id
        assert entry.original_name, entry.entity_id
    for language in ("en", "sv"):
        names = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
        for description in BINARY_SENSORS:
            assert names["entity"]["binary_sensor"][description.translation_key]["name"], (
                language,
                description.key,
            )


def test_tamper_states_read_naturally() -> None:
    """Tamper sensors name their own states (HA's Swedish "clear" reads "Tom", empty)."""
    tamper = [d for d in BINARY_SENSORS if d.device_class is BinarySensorDeviceClass.TAMPER]
    assert tamper
    for language in ("en", "sv"):
        names = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
        for description in tamper:
            states = names["entity"]["binary_sensor"][description.translation_key]["state"]
            assert set(states) == {"on", "off"}, (language, description.key)
            assert all(states.values())
    sv = json.loads((TRANSLATIONS / "sv.json").read_text("utf-8"))
    assert sv["entity"]["binary_sensor"]["tamper"]["state"]["off"] == "Ingen manipulering"


async def test_meter_problem_groups_the_alarms(
    hass: HomeAssistant, first_reports: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """A water meter shows one "Meter problem" by default; its alarms are disabled entities.

    Enabled: the reading and "Meter problem" only (HA's 10,000 enabled entities per entry,
    gateway/capacity.py). Each alarm entity is still in the registry for a user to enable.
    """
    problem_id = entity_id(entity_registry, "binary_sensor", METER_1101, "meter_problem")
    problem = hass.states.get(problem_id)
    assert problem is not None
    assert problem.attributes[ATTR_DEVICE_CLASS] == BinarySensorDeviceClass.PROBLEM
    assert problem.state == STATE_OFF
    assert problem.attributes["alarms"] == []
    assert problem.attributes["first_seen"] is None
    for key in ("leak", "burst", "dry", "reverse_flow", "tamper", "low_battery"):
        entry = entity_registry.async_get(
            entity_id(entity_registry, "binary_sensor", METER_1101, key)
        )
        assert entry is not None, key
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION, key
    for meter, key in ((METER_1101, "volume_decreased"), (BUILDING_METER, "freeze")):
        entry = entity_registry.async_get(entity_id(entity_registry, "binary_sensor", meter, key))
        assert entry is not None
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION

    # The meter reports a leak and a burst: on, listing both (leak first), since the first.
    hub = first_reports.runtime_data
    state = hub.device(METER_1101).state
    state.values.update(leak=True, burst=True)
    state.alarm_since.update(
        leak=datetime(2026, 1, 24, 5, tzinfo=UTC), burst=datetime(2026, 1, 24, 6, tzinfo=UTC)
    )
    async_dispatcher_send(hass, SIGNAL_DEVICE_UPDATED.format(hub.entry.entry_id, METER_1101))
    await hass.async_block_till_done()
    problem = hass.states.get(problem_id)
    assert problem is not None
    assert problem.state == STATE_ON
    assert problem.attributes["alarms"] == ["leak", "burst"]
    assert problem.attributes["first_seen"] == "2026-01-24T05:00:00+00:00"

    # A replaced meter's lower reading is a problem too (the button accepts it).
    state.values.update(leak=False, burst=False)
    state.volume_decreased = True
    async_dispatcher_send(hass, SIGNAL_DEVICE_UPDATED.format(hub.entry.entry_id, METER_1101))
    await hass.async_block_till_done()
    problem = hass.states.get(problem_id)
    assert problem is not None
    assert problem.state == STATE_ON
    assert problem.attributes["alarms"] == ["volume_decreased"]

    # Not on other devices.
    assert (
        entity_registry.async_get_entity_id(
            "binary_sensor", "ange_iot", f"{MOTION_1101}_meter_problem"
        )
        is None
    )


def test_meter_problem_names_every_alarm() -> None:
    """Each alarm "Meter problem" can list has a name in English and Swedish."""
    keys = {d.key for d in BINARY_SENSORS}
    assert set(METER_ALARMS) <= keys
    for language in ("en", "sv"):
        names = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
        problem = names["entity"]["binary_sensor"]["meter_problem"]
        assert problem["name"]
        assert problem["state_attributes"]["first_seen"]["name"]
        alarms = problem["state_attributes"]["alarms"]
        assert alarms["name"]
        assert set(alarms["state"]) == set(METER_ALARMS), language
        assert all(alarms["state"].values())
