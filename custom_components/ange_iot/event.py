"""Event platform of Ånge IoT: a building's care alerts, for automations and blueprints."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .angelib.care import EventType
from .care_runtime import ESCALATED, BuildingRuntime
from .entity import AngeBuildingEntity

PARALLEL_UPDATES = 0

CARE_ALERTS = EventEntityDescription(
    key="care_alerts",
    translation_key="care_alerts",
    event_types=[*(str(t) for t in EventType), ESCALATED],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the care-alerts event entity of a building."""
    runtime = entry.runtime_data
    if isinstance(runtime, BuildingRuntime):
        async_add_entities([AngeCareAlertsEvent(runtime, CARE_ALERTS)])


class AngeCareAlertsEvent(AngeBuildingEntity, EventEntity):
    """A building's care alerts, with apartment, reason, since and late.

    Types: check_needed, sensor_offline, acknowledged, resolved, and escalated (an
    escalation armed with ``ange_iot.arm_escalation`` came due unacknowledged).

    Attributes carry an apartment label, reasons and times only: nothing about a resident;
    ``device_id`` is the apartment's device, for ``ange_iot.acknowledge_care_check`` and
    ``ange_iot.arm_escalation`` (a blueprint needs no label-to-device lookup).
    """

    async def async_added_to_hass(self) -> None:
        """Receive the building's care events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(self.hass, self.runtime.event_signal, self._on_event)
        )

    @callback
    def _on_event(self, event_type: str, data: dict[str, Any]) -> None:
        self._trigger_event(event_type, data)
        self.async_write_ha_state()
