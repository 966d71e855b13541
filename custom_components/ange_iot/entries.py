"""The two kinds of Ånge IoT config entry, told apart in one place.

A gateway entry (a network server and its sensors) runs a ``GatewayHub``; a building entry
(apartments, water meters, snow-clearing sites) runs a ``BuildingRuntime``, like core's
``hue`` keeps its two bridge kinds apart. Only ``__init__.py``, the diagnostics and the
top-level platform dispatchers (``platform_dispatcher``) ask which kind an entry is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeGuard

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_KIND, KIND_BUILDING

if TYPE_CHECKING:
    from .building.runtime import BuildingConfigEntry, BuildingRuntime
    from .gateway.hub import GatewayConfigEntry, GatewayHub

type AngeConfigEntry = ConfigEntry[GatewayHub | BuildingRuntime]
# A platform's ``async_setup_entry`` for one kind of entry.
type PlatformSetup[E] = Callable[
    [HomeAssistant, E, AddConfigEntryEntitiesCallback], Awaitable[None]
]


def is_building(entry: AngeConfigEntry) -> TypeGuard[BuildingConfigEntry]:
    """A building entry (care checks, meters, snow sites), not a gateway."""
    return entry.data.get(CONF_KIND) == KIND_BUILDING


def is_gateway(entry: AngeConfigEntry) -> TypeGuard[GatewayConfigEntry]:
    """A gateway entry (a network server or the simulator, and its sensors)."""
    return entry.data.get(CONF_KIND) != KIND_BUILDING


def platform_dispatcher(
    building: PlatformSetup[BuildingConfigEntry] | None,
    gateway: PlatformSetup[GatewayConfigEntry] | None,
) -> PlatformSetup[AngeConfigEntry]:
    """A top-level platform's ``async_setup_entry``: each entry to its wing's platform."""

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: AngeConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        if is_building(entry):
            if building is not None:
                await building(hass, entry, async_add_entities)
        elif gateway is not None and is_gateway(entry):
            await gateway(hass, entry, async_add_entities)

    return async_setup_entry
