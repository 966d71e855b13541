"""The entity bases of the building wing: the building, its apartments, meters and sites."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.util.signal_type import SignalType

from ..angelib.names import device_name
from ..const import DOMAIN
from .apartment import ApartmentRuntime
from .runtime import BuildingRuntime
from .snow import SiteRuntime


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
    def refresh_signal(self) -> SignalType[()]:
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
    def refresh_signal(self) -> SignalType[()]:
        """The apartment's evaluations."""
        return self.runtime.care.apartment_signal(self.subentry_id)


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
    def refresh_signal(self) -> SignalType[()]:
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
