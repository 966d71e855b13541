"""Sensors of Ånge IoT: measurements, meter readings and device health."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path

from homeassistant.components.sensor import (
    ATTR_STATE_CLASS,
    SensorDeviceClass,
    SensorStateClass,
)
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    Platform,
    UnitOfVolume,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.ange_iot.gateway.sensor import SENSORS

from .common import (
    METER_1101,
    MOTION_1101,
    SNOW_1,
    entity_id,
)

TRANSLATIONS = Path(__file__).parents[1] / "custom_components" / "ange_iot" / "translations"


@pytest.fixture
def platforms() -> list[Platform]:
    """Only the sensor platform."""
    return [Platform.SENSOR]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_all_entities(
    hass: HomeAssistant,
    first_reports: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Snapshot every sensor of the demo site after its first reports."""
    await snapshot_platform(hass, entity_registry, snapshot, first_reports.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_key_sensor_metadata(
    hass: HomeAssistant, first_reports: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Device classes, units and state classes that statistics and the energy panel rely on."""
    volume = hass.states.get(entity_id(entity_registry, "sensor", METER_1101, "volume"))
    assert volume is not None
    assert volume.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.WATER
    assert volume.attributes[ATTR_UNIT_OF_MEASUREMENT] == UnitOfVolume.CUBIC_METERS
    assert volume.attributes[ATTR_STATE_CLASS] == SensorStateClass.TOTAL_INCREASING
    assert float(volume.state) == pytest.approx(53.217)

    # Raw PIR counts describe a resident: no state class, so no long-term statistics.
    motion = hass.states.get(entity_id(entity_registry, "sensor", MOTION_1101, "motion_count"))
    assert motion is not None
    assert ATTR_STATE_CLASS not in motion.attributes
    assert ATTR_DEVICE_CLASS not in motion.attributes
    assert int(motion.state) > 0  # Lgh 1101's resident is up at 07:30
    # A (translated) unit: History draws a graph, not a text timeline, and the logbook
    # leaves it out (a sensor with a unit is "continuous").
    assert motion.attributes[ATTR_UNIT_OF_MEASUREMENT] == "detections"

    activity = hass.states.get(entity_id(entity_registry, "sensor", MOTION_1101, "last_activity"))
    assert activity is not None
    assert activity.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.TIMESTAMP
    assert ATTR_STATE_CLASS not in activity.attributes
    assert datetime.fromisoformat(activity.state) == datetime(2026, 11, 23, 6, 30, 1, tzinfo=UTC)

    rssi_id = entity_id(entity_registry, "sensor", MOTION_1101, "rssi")
    rssi = hass.states.get(rssi_id)
    assert rssi is not None
    assert rssi.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.SIGNAL_STRENGTH
    assert rssi.attributes[ATTR_UNIT_OF_MEASUREMENT] == SIGNAL_STRENGTH_DECIBELS_MILLIWATT
    rssi_entry = entity_registry.async_get(rssi_id)
    assert rssi_entry is not None
    assert rssi_entry.entity_category is EntityCategory.DIAGNOSTIC
    # Whole dBm: the frontend shows "-103 dBm", not "-103,0 dBm".
    assert rssi_entry.options["sensor"]["suggested_display_precision"] == 0

    last_seen = hass.states.get(entity_id(entity_registry, "sensor", METER_1101, "last_seen"))
    assert last_seen is not None
    assert last_seen.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.TIMESTAMP
    assert datetime.fromisoformat(last_seen.state) == datetime(2026, 11, 23, 6, 30, 17, tzinfo=UTC)

    # Snow depth = mounting height (2000 mm) minus the measured distance.
    distance = hass.states.get(entity_id(entity_registry, "sensor", SNOW_1, "distance"))
    depth = hass.states.get(entity_id(entity_registry, "sensor", SNOW_1, "snow_depth"))
    assert distance is not None
    assert depth is not None
    assert float(depth.state) == pytest.approx((2000 - float(distance.state)) / 10)


async def test_disabled_by_default(
    hass: HomeAssistant, first_reports: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Radio and link diagnostics start disabled, as in core; the device's battery does not.

    HA enables at most 10,000 entities per config entry (gateway/capacity.py), and a
    facility manager reads a sensor's measurements and battery, not its RSSI.
    """
    for key in ("rssi", "snr", "last_seen", "rejected_frames", "lns_battery"):
        entry = entity_registry.async_get(entity_id(entity_registry, "sensor", SNOW_1, key))
        assert entry is not None, key
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION, key
    battery_id = entity_id(entity_registry, "sensor", SNOW_1, "battery")
    battery = entity_registry.async_get(battery_id)
    assert battery is not None
    assert battery.disabled_by is None
    assert hass.states.get(battery_id) is not None
    # The gateway's own counters: disabled like Z-Wave JS's controller statistics.
    for key in ("uplinks", "rejected_messages", "last_message"):
        uid = f"{first_reports.entry_id}_{key}"
        entity = entity_registry.async_get_entity_id("sensor", "ange_iot", uid)
        assert entity is not None, key
        gateway_entry = entity_registry.async_get(entity)
        assert gateway_entry is not None
        assert gateway_entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION, key


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_names_are_translated(
    hass: HomeAssistant, first_reports: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Every sensor has a translated name, in English and Swedish."""
    entries = er.async_entries_for_config_entry(entity_registry, first_reports.entry_id)
    assert entries
    for entry in entries:
        assert entry.translation_key is not None, entry.entity_id
        assert entry.original_name, entry.entity_id
    for language in ("en", "sv"):
        names = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
        for description in SENSORS:
            assert names["entity"]["sensor"][description.translation_key]["name"], (
                language,
                description.key,
            )


@pytest.fixture
def language(hass: HomeAssistant, request: pytest.FixtureRequest) -> str:
    """The instance's language, set before the integration loads."""
    hass.config.language = request.param
    return str(request.param)


@pytest.mark.parametrize("language", ["en", "sv"], indirect=True)
async def test_every_meter_is_recognisable_in_the_energy_picker(
    hass: HomeAssistant,
    language: str,
    first_reports: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The water picker lists each meter reading by its entity name first, then its device
    and area: each name carries the meter's place, so seven meters are seven lines.

    The entity ids keep the area once (``sensor.lgh_1101_vattenmatare_water_volume``).
    """
    strings = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
    template = strings["entity"]["sensor"]["volume_at"]["name"]
    meters = [
        entry
        for entry in er.async_entries_for_config_entry(entity_registry, first_reports.entry_id)
        if entry.unique_id.endswith("_volume")
    ]
    assert len(meters) == 7
    names = [entry.original_name for entry in meters]  # the picker's first line
    friendly = [hass.states.get(entry.entity_id).attributes["friendly_name"] for entry in meters]
    assert len(set(names)) == len(names) == len(set(friendly))
    placed = {entry.unique_id: entry for entry in meters}[f"{METER_1101}_volume"]
    assert placed.original_name == template.replace("{place}", "Lgh 1101")
    assert placed.entity_id.endswith("_water_volume") or placed.entity_id.endswith(
        "_vattenmatarstallning"
    )
    assert placed.entity_id.count("1101") == 1
