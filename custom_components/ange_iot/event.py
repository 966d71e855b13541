"""Event platform of Ånge IoT: hands each entry to its wing's event entities."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .building import event as building_event
from .entries import AngeConfigEntry, is_building

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AngeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entities of a gateway entry or of a building entry."""
    if is_building(entry):
        await building_event.async_setup_entry(hass, entry, async_add_entities)
