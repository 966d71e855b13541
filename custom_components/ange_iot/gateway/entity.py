"""The entity bases of the gateway wing: every entity is pushed by typed dispatcher signals.

One mechanism, no polling and no hub listeners: each entity follows exactly one signal
of ``signals.py`` (``_update_signal``) and re-reads the hub when it fires:

- a device's entities (``AngeDeviceEntity``): ``SIGNAL_DEVICE_UPDATED`` of the entry and
  DevEUI, sent by the hub for an applied uplink, a status event, a decode error or an
  accepted meter reading, by ``availability.py`` when the device goes silent and by
  ``device_changes.py`` when its config changed; written only when what it shows changed;
- the gateway's own counters (``AngeGatewayEntity``): ``SIGNAL_GATEWAY_UPDATED`` of the
  entry, sent by the hub at most once a second while messages arrive.

Entities are added the same way: a platform registers a factory with
``hub.changes`` (devices added or changed in place; it plans a device's entities and
builds only those not disabled in the registry), and ``SIGNAL_NEW_FIELDS`` tells
the platforms that a generic device learned fields (``field_entity.py``).
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.util.signal_type import SignalType

from ..angelib.pipeline import TrackedDevice
from ..signals import SIGNAL_DEVICE_UPDATED, SIGNAL_GATEWAY_UPDATED
from .hub import GatewayHub


def gateway_unique_id(hub: GatewayHub, key: str) -> str:
    """The unique id of the gateway's own entity of the description ``key``."""
    return f"{hub.entry.entry_id}_{key}"


def device_unique_id(dev_eui: str, key: str) -> str:
    """The unique id of a device's entity of the description ``key``."""
    return f"{dev_eui}_{key}"


class AngeGatewayWingEntity(Entity):
    """An entity of a gateway entry, written when its one update signal fires."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    hub: GatewayHub

    @property
    def _update_signal(self) -> SignalType[()]:
        """The signal this entity follows."""
        raise NotImplementedError

    async def async_added_to_hass(self) -> None:
        """Follow the entity's update signal."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(self.hass, self._update_signal, self._handle_update)
        )

    @callback
    def _handle_update(self) -> None:
        """Write the state (a subclass may skip writes that change nothing)."""
        self.async_write_ha_state()


class AngeGatewayEntity(AngeGatewayWingEntity):
    """An entity of the gateway itself (on the gateway's device), e.g. a counter."""

    def __init__(self, hub: GatewayHub, description: EntityDescription) -> None:
        """Bind to the hub; the unique id is the entry's and the description's key."""
        self.hub = hub
        self.entity_description = description
        self._attr_unique_id = gateway_unique_id(hub, description.key)
        self.device_entry = dr.async_get(hub.hass).async_get(hub.gateway_device_id)

    @property
    def _update_signal(self) -> SignalType[()]:
        return SIGNAL_GATEWAY_UPDATED.format(self.hub.entry.entry_id)


class AngeDeviceEntity(AngeGatewayWingEntity):
    """An entity of one LoRaWAN device, updated by pushes from the hub."""

    _shown: tuple[Any, ...] | None = None  # (available, value, attributes) last written

    def __init__(self, hub: GatewayHub, dev_eui: str, description: EntityDescription) -> None:
        """Bind to one device of the hub."""
        self.hub = hub
        self.dev_eui = dev_eui
        self.entity_description = description
        self._attr_unique_id = device_unique_id(dev_eui, description.key)
        # Written to the device registry once per device by ``hub.changes``, not per entity.
        self.device_entry = hub.changes.device_entry(dev_eui)

    @property
    def device(self) -> TrackedDevice:
        """The device's live config and state."""
        return self.hub.device(self.dev_eui)

    @property
    def available(self) -> bool:
        """Unavailable only after the device missed several reports."""
        return self.hub.is_available(self.dev_eui)

    @property
    def _update_signal(self) -> SignalType[()]:
        return SIGNAL_DEVICE_UPDATED.format(self.hub.entry.entry_id, self.dev_eui)

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
