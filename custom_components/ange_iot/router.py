"""The domain-wide router: which gateway entry owns each DevEUI (shared by both wings).

A building may hold devices heard by any gateway, and the same uplink may arrive over MQTT
and HTTP at once: every gateway hands uplinks to the owning entry, whose device state
deduplicates them. The building wing reads device states through this module only, never
through the gateway wing's classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .angelib.pipeline import TrackedDevice
from .const import DOMAIN


class DeviceOwner(Protocol):
    """What the rest of the integration may ask of the gateway entry that owns a device."""

    @property
    def entry(self) -> ConfigEntry[Any]:
        """The gateway's config entry."""

    @property
    def silent(self) -> bool:
        """The gateway has delivered nothing for longer than its silence limit."""

    @property
    def last_message(self) -> datetime | None:
        """When the gateway last delivered a message from any device."""

    def tracked(self, dev_eui: str) -> TrackedDevice | None:
        """The device's config and state, if this entry runs it."""

    def is_available(self, dev_eui: str) -> bool:
        """Has the device reported within its silence limit?"""


@dataclass
class Router:
    """Which entry owns each DevEUI, across all gateways (one per Home Assistant)."""

    owners: dict[str, DeviceOwner] = field(default_factory=dict)
    discovered: set[str] = field(default_factory=set)  # discovery raised during this run

    def tracked(self, dev_eui: str) -> TrackedDevice | None:
        """A device's config and state, from whichever gateway runs it (None if none)."""
        owner = self.owners.get(dev_eui)
        return owner.tracked(dev_eui) if owner is not None else None


DATA_ROUTER: HassKey[Router] = HassKey(f"{DOMAIN}_router")


def get_router(hass: HomeAssistant) -> Router:
    """The domain-wide router (created on first use)."""
    if (router := hass.data.get(DATA_ROUTER)) is None:
        router = hass.data[DATA_ROUTER] = Router()
    return router
