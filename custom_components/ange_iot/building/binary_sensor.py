"""Binary sensor platform of Ånge IoT: motion, presence, doors, leaks and meter alarms."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import SUBENTRY_SNOW_SITE
from .entity import AngeSiteEntity
from .runtime import BuildingConfigEntry


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
                [AngeClearingNeededSensor(runtime, subentry_id, CLEARING_NEEDED)],
                config_subentry_id=subentry_id,
            )

    runtime.async_register_part_adder(_add)


CLEARING_NEEDED = BinarySensorEntityDescription(
    key="clearing_needed", translation_key="clearing_needed"
)


class AngeClearingNeededSensor(AngeSiteEntity, BinarySensorEntity):
    """On from "clearing needed" until the site's depth dropped back (ploughed or melted)."""

    @property
    def is_on(self) -> bool:
        """Whether the site needs clearing."""
        return self.site.state.needs_clearing

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Since when, and the deepest depth since then."""
        state = self.site.state
        return {
            "since": state.since.isoformat() if state.since else None,
            "peak_cm": state.peak_cm,
        }
