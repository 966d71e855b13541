"""Switch platform of Ånge IoT: pause an apartment's care checks (resident away or visited)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import ATTR_UNTIL, SUBENTRY_APARTMENT
from .entity import AngeApartmentEntity
from .runtime import BuildingConfigEntry

PAUSED = SwitchEntityDescription(key="care_checks_paused", translation_key="care_checks_paused")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BuildingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the pause switch of every apartment."""
    runtime = entry.runtime_data

    def _add(subentry_type: str, subentry_id: str) -> None:
        if subentry_type == SUBENTRY_APARTMENT:
            async_add_entities(
                [AngeCarePausedSwitch(runtime, subentry_id, PAUSED)],
                config_subentry_id=subentry_id,
            )

    runtime.async_register_part_adder(_add)


class AngeCarePausedSwitch(AngeApartmentEntity, SwitchEntity):
    """On while the apartment's care checks are paused (until a time, or until turned off).

    Turning it on pauses until turned off; ``ange_iot.pause_care_checks`` sets an end time.
    """

    @property
    def is_on(self) -> bool:
        """Paused now."""
        evaluation = self.apartment.evaluation
        return evaluation is not None and evaluation.reason == "paused"

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """When the pause ends by itself, if it does."""
        evaluation = self.apartment.evaluation
        until = evaluation.pause_until if evaluation else None
        return {ATTR_UNTIL: until.isoformat() if until else None}

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Pause until turned off."""
        self.runtime.care.async_pause(self.subentry_id, None)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Resume the checks."""
        self.runtime.care.async_resume(self.subentry_id)
