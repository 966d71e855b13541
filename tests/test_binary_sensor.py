"""Binary sensors of Ånge IoT: motion, doors and meter alarms."""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.const import ATTR_DEVICE_CLASS, STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.ange_iot.gateway.binary_sensor import BINARY_SENSORS

from .common import (
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
