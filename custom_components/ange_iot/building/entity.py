"""The entity bases of the building wing: the building, its apartments, meters and sites.

Devices, as a Home Assistant user finds them:

* the building: named by its title (the user's own name, which tells buildings apart);
* an apartment: named by its role, "Care" (``translation_key``), in the apartment's area
  (created from its label when the device is created, as HA does with ``suggested_area``)
  so the device page reads "Lgh 1101 ▸ Care" and new ids ``sensor.lgh_1101_care_status``;
* a snow site: in the area of its sensors, named "Snow clearing" when its name only
  repeats that area, else by its name.

Each entity refreshes on its part's dispatcher signal (``signals.py``).
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.util.signal_type import SignalType

from ..angelib.names import device_name
from ..const import DOMAIN
from .apartment import MANUFACTURER, ApartmentRuntime, apartment_device_info
from .runtime import BuildingRuntime, building_identifier
from .snow import SiteRuntime

SNOW_SITE_DEVICE = "snow_site"  # translation key: a site named like its area


class AngeBuildingEntity(Entity):
    """An entity on the building's device, refreshed by ``refresh_signal`` if it has one."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, runtime: BuildingRuntime, description: EntityDescription) -> None:
        """Bind to the building's runtime."""
        self.runtime = runtime
        self.entity_description = description
        self._attr_unique_id = f"{runtime.entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, building_identifier(runtime.entry.entry_id))}
        )

    @property
    def refresh_signal(self) -> SignalType[()] | None:
        """The dispatcher signal after which this entity writes its state (None: none)."""
        return None

    async def async_added_to_hass(self) -> None:
        """Follow the part's updates."""
        await super().async_added_to_hass()
        if (signal := self.refresh_signal) is not None:
            self.async_on_remove(async_dispatcher_connect(self.hass, signal, self._refresh))

    @callback
    def _refresh(self) -> None:
        self.async_write_ha_state()


class AngeCareEntity(AngeBuildingEntity):
    """A building-wide care entity (attention, follow-up), on the building's device."""

    @property
    def refresh_signal(self) -> SignalType[()]:
        """Every evaluation of any apartment."""
        return self.runtime.care.building_signal


class AngeWaterEntity(AngeBuildingEntity):
    """An entity of a building's water meters (on the building's device)."""

    @property
    def refresh_signal(self) -> SignalType[()]:
        """The meters' evaluations."""
        return self.runtime.water.signal


class AngeBuildingPartEntity(AngeBuildingEntity):
    """An entity of one part of a building (an apartment, a site): a device under it."""

    def __init__(
        self,
        runtime: BuildingRuntime,
        subentry_id: str,
        description: EntityDescription,
        device_info: DeviceInfo,
    ) -> None:
        """Bind to one subentry of the building, on its own device."""
        super().__init__(runtime, description)
        self.subentry_id = subentry_id
        self._attr_unique_id = f"{runtime.entry.entry_id}_{subentry_id}_{description.key}"
        self._attr_device_info = device_info


class AngeApartmentEntity(AngeBuildingPartEntity):
    """An entity of one apartment (its "Care" device, in the apartment's area)."""

    def __init__(
        self, runtime: BuildingRuntime, subentry_id: str, description: EntityDescription
    ) -> None:
        """Bind to one apartment of the building."""
        info = apartment_device_info(
            runtime.care.apartments[subentry_id], runtime.building_device_id
        )
        super().__init__(runtime, subentry_id, description, info)

    @property
    def apartment(self) -> ApartmentRuntime:
        """The apartment's runtime (settings, state, last evaluation)."""
        return self.runtime.care.apartments[self.subentry_id]

    @property
    def refresh_signal(self) -> SignalType[()]:
        """The apartment's evaluations."""
        return self.runtime.care.apartment_signal(self.subentry_id)


class AngeSiteEntity(AngeBuildingPartEntity):
    """An entity of one snow-clearing site (a device under its building)."""

    def __init__(
        self, runtime: BuildingRuntime, subentry_id: str, description: EntityDescription
    ) -> None:
        """Bind to one site of the building."""
        super().__init__(runtime, subentry_id, description, site_device_info(runtime, subentry_id))

    @property
    def site(self) -> SiteRuntime:
        """The site's runtime (settings, sensors, state)."""
        return self.runtime.snow.sites[self.subentry_id]

    @property
    def refresh_signal(self) -> SignalType[()]:
        """The site's updates."""
        return self.runtime.snow.signal(self.subentry_id)


def site_device_info(runtime: BuildingRuntime, subentry_id: str) -> DeviceInfo:
    """A site's device: in the area of its sensors, named by what it is or its name.

    A site named like that area is called "Snow clearing" (translated): the area says
    where, the device what (no "parkering_parkering_" ids).
    """
    site = runtime.snow.sites[subentry_id]
    area = runtime.snow.site_area(site)
    name = device_name(site.name, area)
    by_role = bool(area) and name.casefold() == (area or "").casefold()
    return DeviceInfo(
        identifiers={(DOMAIN, site.device_identifier)},
        manufacturer=MANUFACTURER,
        via_device_id=runtime.building_device_id,
        suggested_area=area or None,
        translation_key=SNOW_SITE_DEVICE if by_role else None,
        name=None if by_role else name,
    )


def entity_of_device(hass: HomeAssistant, device_id: str | None, key: str) -> str | None:
    """The entity id of one of our entities on a device (by its unique id's key)."""
    if not device_id:
        return None
    for entry in er.async_entries_for_device(er.async_get(hass), device_id):
        if entry.platform == DOMAIN and entry.unique_id.endswith(f"_{key}"):
            return entry.entity_id
    return None
