"""Runtime of a building entry: its parts (care, water, snow) on one lifecycle.

A building is its own config entry; its apartments, water meters and snow sites are its
subentries, each run by one part (``part.RuntimePart``). This composes the parts: sets
them up and starts them together, owns the building's device, applies subentry changes in
place and hands the parts added to the entity platforms.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send

from ..angelib.care import CareSettings
from ..angelib.followup import FollowUp
from ..const import DOMAIN
from .apartment import ApartmentRuntime
from .care import CareRuntime
from .incidents import Incident
from .part import PartAdder, RuntimePart
from .snow import SnowRuntime
from .water import WaterRuntime

type BuildingConfigEntry = ConfigEntry[BuildingRuntime]


class BuildingRuntime:
    """Everything a building entry runs: care for its apartments, water, snow."""

    def __init__(self, hass: HomeAssistant, entry: BuildingConfigEntry) -> None:
        """The parts of ``entry``'s building; nothing runs before ``async_setup``."""
        self.hass = hass
        self.entry = entry
        self.care = CareRuntime(hass, entry)
        self.water = WaterRuntime(hass, entry)  # the building's water meters
        self.snow = SnowRuntime(hass, entry)  # the building's snow-clearing sites
        # Per entity platform: adds the entities of one part (subentry type, subentry id).
        self.part_adders: list[PartAdder] = []

    @property
    def parts(self) -> tuple[RuntimePart, ...]:
        """Care, water and snow, in the order they start."""
        return (self.care, self.water, self.snow)

    @property
    def building_device_id(self) -> str:
        """The building's device (parent of its apartments' and sites' devices)."""
        return self.care.building_device_id

    async def async_setup(self) -> None:
        """Load every part's stored state, and make the building's device."""
        for part in self.parts:
            await part.async_setup()
        building = dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry.entry_id,
            identifiers={(DOMAIN, building_identifier(self.entry.entry_id))},
            name=self.entry.title,
            manufacturer="Ånge IoT",
            entry_type=dr.DeviceEntryType.SERVICE,
        )
        self.care.building_device_id = building.id

    @callback
    def async_follow_sensors(self) -> None:
        """Record the sensors' activity from setup on (judged once started)."""
        for part in self.parts:
            part.async_follow_sensors()

    @callback
    def async_start(self) -> None:
        """Judge everything now: what came due while Home Assistant was down fires, once."""
        for part in self.parts:
            part.async_start()

    async def async_shutdown(self) -> None:
        """Cancel timers and write every part's state before the entry finishes unloading."""
        for part in (self.care, self.snow, self.water):
            await part.async_shutdown()

    # -- apartments, meters and sites added, changed or removed: applied in place -------

    @callback
    def async_register_part_adder(self, adder: PartAdder) -> None:
        """An entity platform set up: add its entities of every part, and of later ones."""
        self.part_adders.append(adder)
        for part in self.parts:
            for subentry_id in part.subentry_ids():
                adder(part.subentry_type, subentry_id)

    @callback
    def async_apply_changes(self) -> None:
        """Make the running building match its subentries and defaults, in place.

        A changed apartment, meter or site (or changed building defaults) is updated where
        it runs and judged again; an added one starts, a removed one stops. The others
        are not touched: a settings change is not downtime, and nothing is reported late.
        Synchronous, so two changes in a row cannot interleave.
        """
        added = [item for part in self.parts for item in part.async_apply_subentries()]
        for subentry_type, subentry_id in added:
            for adder in self.part_adders:
                adder(subentry_type, subentry_id)
        async_dispatcher_send(self.hass, self.care.building_signal)

    # -- the care actions, as the services call them on the building ---------------------

    @property
    def running(self) -> bool:
        """Evaluating care checks (the actions refuse a building not started)."""
        return self.care.running

    @property
    def apartments(self) -> dict[str, ApartmentRuntime]:
        """The building's apartments, by subentry id."""
        return self.care.apartments

    @property
    def followup(self) -> FollowUp:
        """Each alert's course (time to acknowledge, to resolve)."""
        return self.care.followup

    @property
    def incidents(self) -> dict[str, Incident]:
        """The open care incidents."""
        return self.care.incidents

    @property
    def defaults(self) -> CareSettings:
        """The building's default care settings."""
        return self.care.defaults

    @callback
    def async_acknowledge(self, subentry_id: str, user: str, alert_id: str | None = None) -> bool:
        """Someone is on it; returns False when there was nothing to acknowledge."""
        return self.care.async_acknowledge(subentry_id, user, alert_id)

    @callback
    def async_pause(self, subentry_id: str, until: datetime | None) -> None:
        """Pause an apartment's checks until ``until`` or a resume."""
        self.care.async_pause(subentry_id, until)

    @callback
    def async_resume(self, subentry_id: str) -> bool:
        """Resume paused checks; False if they were not paused."""
        return self.care.async_resume(subentry_id)

    @callback
    def async_arm_escalation(self, subentry_id: str, alert_id: str, delay: timedelta) -> bool:
        """Escalate ``alert_id`` after ``delay`` unless acknowledged or resolved first."""
        return self.care.async_arm_escalation(subentry_id, alert_id, delay)


def building_identifier(entry_id: str) -> str:
    """The building device's identifier in the device registry."""
    return f"building_{entry_id}"
