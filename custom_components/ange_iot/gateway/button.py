"""Buttons of a gateway's devices: accept a water meter's lower reading (a replaced meter).

A reading that went backwards raises a fixable repair issue (``reading_backwards.py``) whose
fix does the same, so the button is disabled by default (it can be enabled on the meter's
page). Enabled, it is there whenever the meter is, so it never looks broken; pressed with
nothing to accept it says so (a translated ``ServiceValidationError``).
"""

from __future__ import annotations

from functools import partial

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..angelib.catalog import Kind
from ..angelib.device import device_kinds
from ..const import DOMAIN
from .device_changes import PlannedEntity
from .entity import AngeDeviceEntity, device_unique_id
from .hub import GatewayConfigEntry

ACCEPT_READING = ButtonEntityDescription(
    key="accept_meter_reading",
    translation_key="accept_meter_reading",
    entity_category=EntityCategory.CONFIG,
    # Rarely needed (a replaced meter), and then Settings › Repairs asks and fixes it:
    # off by default, so 5,000 meters fit in one gateway entry (2 entities each).
    entity_registry_enabled_default=False,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add "accept new reading" to every water meter."""
    hub = entry.runtime_data

    def _entities(dev_eui: str) -> list[PlannedEntity]:
        if Kind.WATER_METER in device_kinds(hub.device(dev_eui).config):
            return [
                PlannedEntity(
                    device_unique_id(dev_eui, ACCEPT_READING.key),
                    partial(AngeAcceptReadingButton, hub, dev_eui, ACCEPT_READING),
                )
            ]
        return []

    hub.changes.async_register_entity_factory(Platform.BUTTON, _entities, async_add_entities)


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
