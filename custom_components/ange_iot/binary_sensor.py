"""Binary sensor platform of Ånge IoT: hands each entry to its wing's binary sensor entities."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .building import binary_sensor as building_binary_sensor
from .entries import AngeConfigEntry, is_building
from .gateway import binary_sensor as gateway_binary_sensor

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AngeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensor entities of a gateway entry or of a building entry."""
    if is_building(entry):
        await building_binary_sensor.async_setup_entry(hass, entry, async_add_entities)
    else:
        await gateway_binary_sensor.async_setup_entry(hass, entry, async_add_entities)
