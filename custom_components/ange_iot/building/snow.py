"""Snow-clearing sites of a building: snow depth per site and clearing events.

A site (a building's lot, or a named area) is a ``snow_site`` subentry grouping distance
sensors that have a mounting height. Its depth is the mean of the depths of its available
sensors (a silent sensor does not count; with none, the depth is unknown and nothing is
decided). The rules are the pure ``angelib.snow`` engine; state is stored with ``Store`` so
a restart neither repeats nor loses a "clearing needed".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import area_registry as ar, device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.signal_type import SignalType

from ..angelib import snow
from ..angelib.device import ApplyResult, snow_depth_cm
from ..angelib.snow import SiteState, SnowSettings
from ..const import (
    CONF_MIN_RISE,
    CONF_SENSORS,
    CONF_SITE_NAME,
    CONF_THRESHOLD,
    DOMAIN,
    LOGGER,
    SUBENTRY_SNOW_SITE,
)
from ..router import get_router
from .part import RuntimePart, part_store
from .signals import SITE_UPDATED, SNOW_EVENT

SNOW_SAVE_DELAY_S = 5


@dataclass
class SiteRuntime:
    """One snow-clearing site."""

    subentry_id: str
    name: str
    sensors: tuple[str, ...]
    settings: SnowSettings
    state: SiteState
    depth_cm: float | None = None  # now: None while no sensor of the site reports

    @property
    def device_identifier(self) -> str:
        """The site's device in the registry."""
        return f"site_{self.subentry_id}"


class SnowRuntime(RuntimePart):
    """Everything a building does with its snow-clearing sites (keyed by subentry id)."""

    store_key = "snow"
    save_delay = SNOW_SAVE_DELAY_S
    subentry_type = SUBENTRY_SNOW_SITE

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """The snow part of ``entry``'s building."""
        super().__init__(hass, entry)
        self.sites: dict[str, SiteRuntime] = {}

    def subentry_ids(self) -> list[str]:
        """The sites."""
        return list(self.sites)

    def _watched(self) -> dict[str, tuple[str, ...]]:
        return {sid: site.sensors for sid, site in self.sites.items()}

    def sensor_devices(self, site: SiteRuntime) -> list[dr.DeviceEntry]:
        """The devices of the site's distance sensors (on any gateway) known so far."""
        registry = dr.async_get(self.hass)
        return [
            device
            for dev_eui in site.sensors
            for device in registry.async_get_devices(identifiers={(DOMAIN, dev_eui)})
        ]

    def sensor_area(self, site: SiteRuntime) -> str | None:
        """The area all of the site's sensors are in (None when none or several)."""
        areas = {device.area_id for device in self.sensor_devices(site)}
        if len(areas) != 1 or (area_id := areas.pop()) is None:
            return None
        area = ar.async_get(self.hass).async_get_area(area_id)
        return area.name if area else None

    def site_area(self, site: SiteRuntime) -> str | None:
        """The area of the site's device: its current one, or its sensors' for a new one.

        Home Assistant applies a suggested area only when it creates a device, so a site
        device from before keeps the area it has (possibly none).
        """
        registry = dr.async_get(self.hass)
        existing = registry.async_get_devices(identifiers={(DOMAIN, site.device_identifier)})
        if not existing:
            return self.sensor_area(site)
        area_id = existing[0].area_id
        area = ar.async_get(self.hass).async_get_area(area_id) if area_id else None
        return area.name if area else None

    def event_signal(self, subentry_id: str) -> SignalType[str, dict[str, Any]]:
        """Dispatcher signal carrying a site's clearing events to its event entity."""
        return SNOW_EVENT.format(self.entry.entry_id, subentry_id)

    def signal(self, subentry_id: str) -> SignalType[()]:
        """Dispatcher signal telling a site's entities to refresh."""
        return SITE_UPDATED.format(self.entry.entry_id, subentry_id)

    async def _async_load(self, stored: dict[str, Any]) -> None:
        """Load stored site states and build the sites from the subentries."""
        raw: object = stored.get("sites")
        states: dict[str, Any] = raw if isinstance(raw, dict) else {}
        for subentry_id, subentry in self._subentries().items():
            self.sites[subentry_id] = _site(subentry, SiteState.from_dict(states.get(subentry_id)))

    # -- sites added, changed or removed: applied in place -----------------------------

    @callback
    def async_apply_subentries(self) -> list[tuple[str, str]]:
        """Make the running sites match the building's site subentries.

        Returns the sites added, as (subentry type, subentry id), for their entities.
        """
        wanted = self._subentries()
        for subentry_id in [sid for sid in self.sites if sid not in wanted]:
            del self.sites[subentry_id]
            self._stop(subentry_id)
            self._clear_subentry(subentry_id)
            self._save()
        added: list[tuple[str, str]] = []
        for subentry_id, subentry in wanted.items():
            current = self.sites.get(subentry_id)
            site = _site(subentry, current.state if current else SiteState.from_dict(None))
            if current is None:
                added.append((SUBENTRY_SNOW_SITE, subentry_id))
            elif (current.name, current.sensors, current.settings) == (
                site.name,
                site.sensors,
                site.settings,
            ):
                continue
            elif current.name != site.name:
                devices = dr.async_get(self.hass)
                device = devices.async_get_device_by_identifier(
                    (DOMAIN, site.device_identifier), self.entry.entry_id
                )
                if device is not None:
                    devices.async_update_device(device.id, name=site.name)
            self.sites[subentry_id] = site
            self._follow(subentry_id, site.sensors)
            self.async_evaluate(subentry_id)
        return added

    def _on_device(
        self, key: str, applied: ApplyResult | None, received_at: datetime | None
    ) -> None:
        self.async_evaluate(key)

    def depths(self, site: SiteRuntime) -> dict[str, float]:
        """Current depth (cm) of each available sensor of the site that has a mounting height."""
        router = get_router(self.hass)
        out: dict[str, float] = {}
        for dev_eui in site.sensors:
            owner = router.owners.get(dev_eui)
            tracked = owner.tracked(dev_eui) if owner else None
            if owner is None or tracked is None or not owner.is_available(dev_eui):
                continue
            height = tracked.config.mounting_height_mm
            distance = tracked.state.values.get("distance")
            if height is None or not isinstance(distance, int | float):
                continue
            out[dev_eui] = snow_depth_cm(float(distance), float(height))
        return out

    @callback
    def async_evaluate(self, key: str) -> None:
        """Judge one site from its sensors now; fire a clearing event on a change."""
        subentry_id = key
        site = self.sites.get(subentry_id)
        if site is None or not self._started:
            return
        depth = site.depth_cm = snow.site_depth(list(self.depths(site).values()))
        event = snow.update(site.state, site.settings, depth, dt_util.utcnow())
        if event is not None:
            data = event.as_dict()
            event_type = data.pop("type")
            data["site"] = site.name
            LOGGER.info("%s: %s at %s cm", site.name, event_type, event.depth_cm)
            async_dispatcher_send(self.hass, self.event_signal(subentry_id), event_type, data)
        self._save()
        async_dispatcher_send(self.hass, self.signal(subentry_id))

    def _snapshot(self) -> dict[str, Any]:
        return {"sites": {sid: site.state.as_dict() for sid, site in self.sites.items()}}


def _site(subentry: ConfigSubentry, state: SiteState) -> SiteRuntime:
    """A site as its subentry describes it, with ``state``."""
    try:
        settings = SnowSettings.from_dict(snow_settings_data(dict(subentry.data)))
    except ValueError as err:
        LOGGER.error("%s: invalid snow settings (%s); defaults used", subentry.title, err)
        settings = SnowSettings()
    return SiteRuntime(
        subentry_id=subentry.subentry_id,
        name=subentry.data.get(CONF_SITE_NAME) or subentry.title,
        sensors=tuple(subentry.data.get(CONF_SENSORS) or ()),
        settings=settings,
        state=state,
    )


def snow_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where a building keeps its snow-clearing sites' state."""
    return part_store(hass, entry_id, SnowRuntime.store_key)


def snow_settings_data(data: dict[str, Any]) -> dict[str, Any]:
    """The snow-settings part of a site subentry's data."""
    return {k: data[k] for k in (CONF_THRESHOLD, CONF_MIN_RISE) if k in data}
