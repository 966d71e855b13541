"""Sensor platform of Ånge IoT: hands each entry to its wing's sensor entities."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .building import sensor as building_sensor
from .entries import AngeConfigEntry, is_building
from .gateway import sensor as gateway_sensor

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AngeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensor entities of a gateway entry or of a building entry."""
    if is_building(entry):
        await building_sensor.async_setup_entry(hass, entry, async_add_entities)
    else:
        await gateway_sensor.async_setup_entry(hass, entry, async_add_entities)
