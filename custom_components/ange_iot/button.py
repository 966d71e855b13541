"""Button platform of Ånge IoT: accept a water meter's lower reading after a swap.

The button is there whenever the meter is (available like the meter's other entities), so
it never looks broken; pressed with nothing to accept it says so (a translated
``ServiceValidationError``), like core buttons whose action does not apply right now.
The "Reading went backwards" binary sensor tells when a press is needed.
"""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .angelib.catalog import Kind
from .const import DOMAIN
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
    for dev_eui, subentry_id in hub.subentry_ids.items():
        if hub.device(dev_eui).config.model.kind is Kind.WATER_METER:
            async_add_entities(
                [AngeAcceptReadingButton(hub, dev_eui, ACCEPT_READING)],
                config_subentry_id=subentry_id,
            )


class AngeAcceptReadingButton(AngeDeviceEntity, ButtonEntity):
    """Take a lower reading as the new baseline (the meter was replaced)."""

    async def async_press(self) -> None:
        """Accept the waiting lower reading; the volume sensor continues from it."""
        if not self.device.state.volume_decreased:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_reading_to_accept",
                translation_placeholders={"meter": self.device.config.name},
            )
        self.hub.async_accept_volume(self.dev_eui)
