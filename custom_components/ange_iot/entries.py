"""The two kinds of Ånge IoT config entry, told apart in one place.

A gateway entry (a network server and its sensors) runs a ``GatewayHub``; a building entry
(apartments, water meters, snow-clearing sites) runs a ``BuildingRuntime``, like core's
``hue`` keeps its two bridge kinds apart. Only ``__init__.py`` and the top-level platform
dispatchers ask which kind an entry is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

from homeassistant.config_entries import ConfigEntry

from .const import CONF_KIND, KIND_BUILDING

if TYPE_CHECKING:
    from .building.runtime import BuildingConfigEntry
    from .gateway.hub import GatewayConfigEntry

type AngeConfigEntry = ConfigEntry[Any]


def is_building(entry: AngeConfigEntry) -> TypeGuard[BuildingConfigEntry]:
    """A building entry (care checks, meters, snow sites), not a gateway."""
    return entry.data.get(CONF_KIND) == KIND_BUILDING


def is_gateway(entry: AngeConfigEntry) -> TypeGuard[GatewayConfigEntry]:
    """A gateway entry (a network server or the simulator, and its sensors)."""
    return entry.data.get(CONF_KIND) != KIND_BUILDING
