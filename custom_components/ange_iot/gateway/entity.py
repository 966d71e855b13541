"""The entity base of the gateway wing: one LoRaWAN device, pushed by its hub."""

from __future__ import annotations

from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription

from ..angelib.names import device_name
from ..angelib.pipeline import TrackedDevice
from ..const import DOMAIN
from .hub import GatewayHub


class AngeDeviceEntity(Entity):
    """An entity of one LoRaWAN device, updated by pushes from the hub."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    _shown: tuple[Any, ...] | None = None  # (available, value, attributes) last written

    def __init__(self, hub: GatewayHub, dev_eui: str, description: EntityDescription) -> None:
        """Bind to one device of the hub."""
        self.hub = hub
        self.dev_eui = dev_eui
        self.entity_description = description
        config = hub.device(dev_eui).config
        model = config.model
        self._attr_unique_id = f"{dev_eui}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, dev_eui)},
            name=device_name(config.name, config.area),
            manufacturer=model.manufacturer or None,
            # A generic device shows the model the network server named (its profile).
            model=config.model_text or model.name,
            model_id=model.id,
            serial_number=dev_eui.upper(),
            via_device_id=hub.gateway_device_id,
            suggested_area=config.area or None,
        )

    @property
    def device(self) -> TrackedDevice:
        """The device's live config and state."""
        return self.hub.device(self.dev_eui)

    @property
    def available(self) -> bool:
        """Unavailable only after the device missed several reports."""
        return self.hub.is_available(self.dev_eui)

    async def async_added_to_hass(self) -> None:
        """Follow the device's updates."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(self.hass, self.hub.signal(self.dev_eui), self._handle_update)
        )

    def _shown_value(self) -> Any:
        """The value this entity shows (a platform overrides it): see ``_handle_update``."""
        return None

    @callback
    def _handle_update(self) -> None:
        """Write the state when what it shows changed, as Home Assistant's MQTT entities do.

        Every uplink signals all entities of its device, but most of them show the same
        as before; an unchanged write only moves ``last_reported`` and costs CPU on every
        uplink (about a third of the ingest cost, measured with ``scripts/bench``).
        """
        shown = (self.available, self._shown_value(), self.extra_state_attributes)
        if shown == self._shown:
            return
        self._shown = shown
        self.async_write_ha_state()
