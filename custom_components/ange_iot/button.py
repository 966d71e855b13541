"""Button platform of Ånge IoT: hands each entry to its wing's button entities."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .building import button as building_button
from .entries import AngeConfigEntry, is_building
from .gateway import button as gateway_button

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AngeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the button entities of a gateway entry or of a building entry."""
    if is_building(entry):
        await building_button.async_setup_entry(hass, entry, async_add_entities)
    else:
        await gateway_button.async_setup_entry(hass, entry, async_add_entities)
