"""Button platform of Ånge IoT: accept a water meter's lower reading after a swap."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .angelib.catalog import Kind
from .angelib.device import device_kinds
from .coordinator import AngeConfigEntry
from .entity import AngeDeviceEntity

PARALLEL_UPDATES = 1

ACCEPT_READING = ButtonEntityDescription(
    key="accept_meter_reading",
    translation_key="accept_meter_reading",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AngeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the button to every water meter."""
    hub = entry.runtime_data

    def _entities(dev_eui: str) -> list[Entity]:
        if Kind.WATER_METER in device_kinds(hub.device(dev_eui).config):
            return [AngeAcceptReadingButton(hub, dev_eui, ACCEPT_READING)]
        return []

    hub.async_register_entity_factory(Platform.BUTTON, _entities, async_add_entities)


class AngeAcceptReadingButton(AngeDeviceEntity, ButtonEntity):
    """Take a lower reading as the new baseline (the meter was replaced)."""

    @property
    def available(self) -> bool:
        """Pressable whenever a lower reading is waiting to be accepted."""
        return self.device.state.volume_decreased

    async def async_press(self) -> None:
        """Accept the reading; the volume sensor continues from it."""
        self.hub.async_accept_volume(self.dev_eui)
