"""Ånge IoT: LoRaWAN sensors of Ånge municipality as Home Assistant devices.

One domain, two kinds of entry (``entries.py``): gateways (``gateway/``) and buildings
(``building/``). This module only tells them apart and hands each to its wing.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.typing import ConfigType

from .building import async_remove_building, async_setup_building, async_unload_building
from .const import DOMAIN
from .entries import AngeConfigEntry, is_building, is_gateway
from .gateway import async_setup_gateway, async_unload_gateway
from .logbook import async_setup_texts as async_setup_logbook_texts
from .services import async_setup_services
from .uptime import online_since

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services, load the logbook's texts, note when Home Assistant is up."""
    async_setup_services(hass)
    await async_setup_logbook_texts(hass)  # describing a logbook line cannot await them

    @callback
    def _started(_hass: HomeAssistant) -> None:
        online_since(hass)  # what came due before this came due while HA was not running

    async_at_started(hass, _started)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: AngeConfigEntry) -> bool:
    """Set up one gateway entry with its devices, or one building with its apartments."""
    if is_building(entry):
        return await async_setup_building(hass, entry)
    assert is_gateway(entry)  # the other kind
    return await async_setup_gateway(hass, entry)


async def async_unload_entry(hass: HomeAssistant, entry: AngeConfigEntry) -> bool:
    """Unload a gateway or building entry."""
    if is_building(entry):
        return await async_unload_building(hass, entry)
    assert is_gateway(entry)
    return await async_unload_gateway(hass, entry)


async def async_remove_entry(hass: HomeAssistant, entry: AngeConfigEntry) -> None:
    """A removed building takes its stored care state (activity times) with it."""
    if is_building(entry):
        await async_remove_building(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: AngeConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Allow deleting a sensor device from the UI; it removes the device's subentry.

    Works also while the entry is not loaded (no runtime data then).
    """
    subentry_ids = {s.unique_id: s.subentry_id for s in entry.subentries.values()}
    for domain, identifier in device.identifiers:
        if domain != DOMAIN:
            continue
        if identifier in (f"gateway_{entry.entry_id}", f"building_{entry.entry_id}"):
            return False  # the gateway or building goes with its entry
        if identifier.startswith("apartment_"):
            apartment = identifier.removeprefix("apartment_")
            if apartment in entry.subentries:
                hass.config_entries.async_remove_subentry(entry, apartment)
            continue
        if subentry_id := subentry_ids.get(identifier):
            hass.config_entries.async_remove_subentry(entry, subentry_id)
    return True
