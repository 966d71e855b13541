"""Buttons of a building: acknowledge an apartment's alerts, or the open meter alerts.

Each apartment has **Acknowledge**: staff can take its open alerts from a dashboard (the
care board, a wall tablet), not only from a phone; it goes through the same action as a
phone's button, so who pressed is recorded and logged. The building has one for its open
meter alerts, from its first water meter on.
"""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import (
    ATTR_APARTMENT,
    ATTR_BUILDING,
    DOMAIN,
    SERVICE_ACKNOWLEDGE,
    SERVICE_ACKNOWLEDGE_METER,
    SUBENTRY_APARTMENT,
    SUBENTRY_WATER_METER,
)
from .entity import AngeApartmentEntity, AngeBuildingEntity
from .runtime import BuildingConfigEntry

ACKNOWLEDGE = ButtonEntityDescription(key="acknowledge_care", translation_key="acknowledge_care")
ACKNOWLEDGE_METERS = ButtonEntityDescription(
    key="acknowledge_meter_alerts", translation_key="acknowledge_meter_alerts"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BuildingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add "acknowledge" to every apartment, and "acknowledge meter alerts" to the building."""
    building = entry.runtime_data
    meters_added = False

    def _add(subentry_type: str, subentry_id: str) -> None:
        nonlocal meters_added
        if subentry_type == SUBENTRY_APARTMENT:
            async_add_entities(
                [AngeAcknowledgeButton(building, subentry_id, ACKNOWLEDGE)],
                config_subentry_id=subentry_id,
            )
        elif subentry_type == SUBENTRY_WATER_METER and not meters_added:
            meters_added = True  # from the building's first meter on
            async_add_entities([AngeAcknowledgeMetersButton(building, ACKNOWLEDGE_METERS)])

    building.async_register_part_adder(_add)


class AngeAcknowledgeButton(AngeApartmentEntity, ButtonEntity):
    """Someone is on it: acknowledge every open alert of the apartment, as the presser."""

    async def async_press(self) -> None:
        """Through ``ange_iot.acknowledge_care_check``: the presser is named and logged."""
        evaluation = self.apartment.evaluation
        if evaluation is None or not any(a.waiting for a in evaluation.open_alerts):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="nothing_to_acknowledge",
                translation_placeholders={"apartment": self.apartment.label},
            )
        device = self.device_entry
        await self.hass.services.async_call(
            DOMAIN,
            SERVICE_ACKNOWLEDGE,
            {ATTR_APARTMENT: device.id if device else ""},
            blocking=True,
            context=self._context,
        )


class AngeAcknowledgeMetersButton(AngeBuildingEntity, ButtonEntity):
    """Someone is on the building's open meter alerts: recorded as the presser."""

    async def async_press(self) -> None:
        """Through ``ange_iot.acknowledge_meter_alert``: the presser is named and logged."""
        water = self.runtime.water
        if not any(a.alert_id not in water.acknowledged for _, a in water.active_alerts()):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_meter_alert_to_acknowledge",
                translation_placeholders={"building": self.runtime.entry.title},
            )
        await self.hass.services.async_call(
            DOMAIN,
            SERVICE_ACKNOWLEDGE_METER,
            {ATTR_BUILDING: self.runtime.entry.entry_id},
            blocking=True,
            context=self._context,
        )
