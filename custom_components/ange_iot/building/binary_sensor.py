"""Binary sensors of a building: "clearing needed" of each snow-clearing site."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..angelib.snow import SiteState
from ..const import SUBENTRY_SNOW_SITE
from .entity import AngeSiteEntity
from .runtime import BuildingConfigEntry


@dataclass(frozen=True, kw_only=True)
class AngeSiteBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A binary sensor of one snow-clearing site, from its state."""

    is_on_fn: Callable[[SiteState], bool]
    attributes_fn: Callable[[SiteState], dict[str, Any]] | None = None


SITE_BINARY_SENSORS: tuple[AngeSiteBinarySensorEntityDescription, ...] = (
    # On from "clearing needed" until the site's depth dropped back (ploughed or melted);
    # since when, and the deepest depth since then.
    AngeSiteBinarySensorEntityDescription(
        key="clearing_needed",
        translation_key="clearing_needed",
        is_on_fn=lambda state: state.needs_clearing,
        attributes_fn=lambda state: {
            "since": state.since.isoformat() if state.since else None,
            "peak_cm": state.peak_cm,
        },
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BuildingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add "clearing needed" to every snow-clearing site of the building."""
    runtime = entry.runtime_data

    def _add(subentry_type: str, subentry_id: str) -> None:
        if subentry_type == SUBENTRY_SNOW_SITE:
            async_add_entities(
                (AngeSiteBinarySensor(runtime, subentry_id, d) for d in SITE_BINARY_SENSORS),
                config_subentry_id=subentry_id,
            )

    runtime.async_register_part_adder(_add)


class AngeSiteBinarySensor(AngeSiteEntity, BinarySensorEntity):
    """A yes/no of one snow-clearing site."""

    entity_description: AngeSiteBinarySensorEntityDescription

    @property
    def is_on(self) -> bool:
        """From the site's state."""
        return self.entity_description.is_on_fn(self.site.state)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The description's attributes, if it has any."""
        attributes_fn = self.entity_description.attributes_fn
        return None if attributes_fn is None else attributes_fn(self.site.state)
