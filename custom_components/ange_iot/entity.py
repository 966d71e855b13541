"""Base entities of Ånge IoT."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription

from .angelib.pipeline import TrackedDevice
from .care_runtime import ApartmentRuntime, BuildingRuntime
from .const import DOMAIN
from .coordinator import AngeHub
from .snow_runtime import SiteRuntime


def device_name(title: str, area: str | None) -> str:
    """The device's name without a leading area label ("Lgh 1101 ytterdörr" → "Ytterdörr").

    Home Assistant prefixes entity names with the area, so repeating it in the device
    name would give "Lgh 1101 Lgh 1101 ytterdörr Dörr". Subentry titles keep the label,
    so the sensors stay distinguishable in the integration's list.
    """
    if area and title.casefold().startswith(area.casefold()):
        rest = title[len(area) :].strip(" -–·:")
        if rest:
            return rest[0].upper() + rest[1:]
    return title


class AngeDeviceEntity(Entity):
    """An entity of one LoRaWAN device, updated by pushes from the hub."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    _shown: tuple[Any, ...] | None = None  # (available, value, attributes) last written

    def __init__(self, hub: AngeHub, dev_eui: str, description: EntityDescription) -> None:
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
            manufacturer=model.manufacturer,
            model=model.name,
            model_id=model.id,
            serial_number=dev_eui.upper(),
            via_device_id=hub.gateway_device_id,
        )
        if config.area:
            self._attr_device_info["suggested_area"] = config.area

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


class AngeBuildingEntity(Entity):
    """An entity of a building (care alerts, attention count)."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, runtime: BuildingRuntime, description: EntityDescription) -> None:
        """Bind to the building's runtime."""
        self.runtime = runtime
        self.entity_description = description
        self._attr_unique_id = f"{runtime.entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, building_id(runtime))})


class AngeBuildingPartEntity(Entity):
    """An entity of one part of a building (an apartment, a site): a device under it."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        runtime: BuildingRuntime,
        subentry_id: str,
        description: EntityDescription,
        device_info: DeviceInfo,
    ) -> None:
        """Bind to one subentry of the building, on its own device."""
        self.runtime = runtime
        self.subentry_id = subentry_id
        self.entity_description = description
        self._attr_unique_id = f"{runtime.entry.entry_id}_{subentry_id}_{description.key}"
        self._attr_device_info = device_info

    @property
    def refresh_signal(self) -> str:
        """The dispatcher signal after which this entity writes its state."""
        raise NotImplementedError

    async def async_added_to_hass(self) -> None:
        """Follow the part's updates."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(self.hass, self.refresh_signal, self._refresh)
        )

    @callback
    def _refresh(self) -> None:
        self.async_write_ha_state()


class AngeApartmentEntity(AngeBuildingPartEntity):
    """An entity of one apartment (a device under its building)."""

    def __init__(
        self, runtime: BuildingRuntime, subentry_id: str, description: EntityDescription
    ) -> None:
        """Bind to one apartment of the building."""
        apartment = runtime.apartments[subentry_id]
        super().__init__(
            runtime,
            subentry_id,
            description,
            DeviceInfo(
                identifiers={(DOMAIN, f"apartment_{subentry_id}")},
                name=apartment.label,
                manufacturer="Ånge IoT",
                via_device_id=runtime.building_device_id,
                suggested_area=apartment.label,
            ),
        )

    @property
    def apartment(self) -> ApartmentRuntime:
        """The apartment's runtime (settings, state, last evaluation)."""
        return self.runtime.apartments[self.subentry_id]

    @property
    def refresh_signal(self) -> str:
        """The apartment's evaluations."""
        return self.runtime.apartment_signal(self.subentry_id)


def building_id(runtime: BuildingRuntime) -> str:
    """Identifier of a building's device in the device registry."""
    return f"building_{runtime.entry.entry_id}"


class AngeWaterEntity(AngeBuildingEntity):
    """An entity of a building's water meters (on the building's device)."""

    async def async_added_to_hass(self) -> None:
        """Follow the meters' evaluations."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(self.hass, self.runtime.water.signal, self._refresh)
        )

    @callback
    def _refresh(self) -> None:
        self.async_write_ha_state()


class AngeSiteEntity(AngeBuildingPartEntity):
    """An entity of one snow-clearing site (a device under its building)."""

    def __init__(
        self, runtime: BuildingRuntime, subentry_id: str, description: EntityDescription
    ) -> None:
        """Bind to one site of the building."""
        site = runtime.snow.sites[subentry_id]
        info = DeviceInfo(
            identifiers={(DOMAIN, site.device_identifier)},
            manufacturer="Ånge IoT",
            via_device_id=runtime.building_device_id,
        )
        # In the area of its sensors; a site named like that area is called "Snow clearing"
        # (translated): the area says where, the device what (no "parkering_parkering_" ids).
        area = runtime.snow.site_area(site)
        if area:
            info["suggested_area"] = area
        name = device_name(site.name, area)
        if area and name.casefold() == area.casefold():
            info["translation_key"] = "snow_site"
        else:
            info["name"] = name
        super().__init__(runtime, subentry_id, description, info)

    @property
    def site(self) -> SiteRuntime:
        """The site's runtime (settings, sensors, state)."""
        return self.runtime.snow.sites[self.subentry_id]

    @property
    def refresh_signal(self) -> str:
        """The site's updates."""
        return self.runtime.snow.signal(self.subentry_id)


def entity_of_device(hass: HomeAssistant, device_id: str | None, key: str) -> str | None:
    """The entity id of one of our entities on a device (by its unique id's key)."""
    if not device_id:
        return None
    for entry in er.async_entries_for_device(er.async_get(hass), device_id):
        if entry.platform == DOMAIN and entry.unique_id.endswith(f"_{key}"):
            return entry.entity_id
    return None
