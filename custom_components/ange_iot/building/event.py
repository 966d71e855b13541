"""Event platform of Ånge IoT: care alerts, meter alerts and snow clearing, for blueprints."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.signal_type import SignalType

from ..angelib.care import EventType
from ..angelib.snow import SnowEventType
from ..const import (
    EVENT_CARE_LOG,
    EVENT_METER_LOG,
    METER_ALERT_ACKNOWLEDGED,
    METER_ALERT_CLEARED,
    METER_ALERT_ESCALATED,
    METER_ALERT_REMINDER,
    METER_ALERT_STARTED,
    SUBENTRY_SNOW_SITE,
    SUBENTRY_WATER_METER,
)
from .care import ESCALATED
from .entity import AngeBuildingEntity, AngeSiteEntity, entity_of_device
from .incidents import INCIDENT, INCIDENT_RESOLVED
from .phone_check import PHONE_CHECK_FAILED
from .runtime import BuildingConfigEntry

CARE_ALERTS = EventEntityDescription(
    key="care_alerts",
    translation_key="care_alerts",
    event_types=[
        *(str(t) for t in EventType),
        ESCALATED,
        INCIDENT,
        INCIDENT_RESOLVED,
        PHONE_CHECK_FAILED,  # a phone did not confirm its shift-start check (phone_check.py)
    ],
)
METER_ALERTS = EventEntityDescription(
    key="meter_alerts",
    translation_key="meter_alerts",
    event_types=[
        METER_ALERT_STARTED,
        METER_ALERT_CLEARED,
        METER_ALERT_ACKNOWLEDGED,
        METER_ALERT_REMINDER,
        METER_ALERT_ESCALATED,
    ],
)
SNOW_CLEARING = EventEntityDescription(
    key="snow_clearing",
    translation_key="snow_clearing",
    event_types=[str(t) for t in SnowEventType],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BuildingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the care-alerts event entity of a building."""
    runtime = entry.runtime_data
    async_add_entities([AngeCareAlertsEvent(runtime, CARE_ALERTS)])
    water_added = False

    def _add(subentry_type: str, subentry_id: str) -> None:
        nonlocal water_added
        if subentry_type == SUBENTRY_SNOW_SITE:
            async_add_entities(
                [AngeSnowClearingEvent(runtime, subentry_id, SNOW_CLEARING)],
                config_subentry_id=subentry_id,
            )
        elif subentry_type == SUBENTRY_WATER_METER and not water_added:
            water_added = True  # from the building's first meter on
            async_add_entities([AngeMeterAlertsEvent(runtime, METER_ALERTS)])

    runtime.async_register_part_adder(_add)


class AngeDispatchedEvent(EventEntity):
    """An event entity fed by a dispatcher signal carrying (event type, data)."""

    @property
    def event_signal(self) -> SignalType[str, dict[str, Any]]:
        """The signal this entity's events arrive on."""
        raise NotImplementedError

    async def async_added_to_hass(self) -> None:
        """Receive the events."""
        await super().async_added_to_hass()
        self.async_on_remove(async_dispatcher_connect(self.hass, self.event_signal, self._on_event))

    @callback
    def _on_event(self, event_type: str, data: dict[str, Any]) -> None:
        self._trigger_event(event_type, data)
        self.async_write_ha_state()
        self._log(event_type, data)

    @callback
    def _log(self, event_type: str, data: dict[str, Any]) -> None:
        """Write the event's logbook line, if it has one (see ``logbook.py``)."""


# Care events with a logbook line of their own; "acknowledged" is logged by the action,
# which knows the Home Assistant user (``services.py``).
LOGGED_CARE_EVENTS = frozenset({"check_needed", "sensor_offline", "escalated", "resolved"})


class AngeCareAlertsEvent(AngeBuildingEntity, AngeDispatchedEvent):
    """A building's care alerts, with apartment, reason, since and late.

    Types: check_needed, sensor_offline, acknowledged, resolved, and escalated (an
    escalation armed with ``ange_iot.arm_escalation`` came due unacknowledged).

    Attributes carry an apartment label, reasons and times only: nothing about a resident;
    ``device_id`` is the apartment's device, for ``ange_iot.acknowledge_care_check`` and
    ``ange_iot.arm_escalation`` (a blueprint needs no label-to-device lookup).
    """

    @property
    def event_signal(self) -> SignalType[str, dict[str, Any]]:
        """The building's care events."""
        return self.runtime.care.event_signal

    @callback
    def _log(self, event_type: str, data: dict[str, Any]) -> None:
        """An alert, its escalation or its end: a line in the apartment's logbook."""
        if event_type not in LOGGED_CARE_EVENTS:
            return
        device_id = data.get("device_id")
        self.hass.bus.async_fire(
            EVENT_CARE_LOG,
            {
                "action": event_type,
                "apartment": data.get("apartment"),
                "building": self.runtime.entry.title,
                "reason": data.get("reason"),
                "resolution": data.get("resolution"),
                "since": data.get("since"),
                "late": data.get("late", False),
                "device_id": device_id,
                "entity_id": entity_of_device(self.hass, device_id, "care_status"),
            },
        )


class AngeMeterAlertsEvent(AngeBuildingEntity, AngeDispatchedEvent):
    """A building's water-meter alerts: started, acknowledged (with ``user``), cleared.

    An open alert nobody acknowledged comes again as ``reminder`` (with ``count``, the
    how-manieth, every ``meter_reminder_interval``) and once as ``escalated`` (after
    ``meter_escalation_delay``); both carry ``late`` (due while Home Assistant was down).

    Data: ``alert_id`` (stable while the alert is open), ``alert`` (leak, burst,
    reverse_flow, dry, tamper, freeze from the meter; continuous_flow, night_flow, high_use,
    silent, backwards derived), ``source`` (meter / derived), ``meter`` (its name),
    ``meter_device_id``, ``building``, ``since`` and ``leak_rate_lph`` (None when not
    derivable).
    """

    @property
    def event_signal(self) -> SignalType[str, dict[str, Any]]:
        """The building's meter alerts."""
        return self.runtime.water.event_signal

    @callback
    def _log(self, event_type: str, data: dict[str, Any]) -> None:
        """A meter alert started, escalated or ended: a line in the meter's logbook.

        Reminders have none: one every few minutes would bury the rest.
        """
        if event_type == METER_ALERT_REMINDER:
            return
        device_id = data.get("meter_device_id")
        self.hass.bus.async_fire(
            EVENT_METER_LOG,
            {
                "action": event_type,
                "meter": data.get("meter"),
                "building": self.runtime.entry.title,
                "alert": data.get("alert"),
                "leak_rate_lph": data.get("leak_rate_lph"),
                "since": data.get("since"),
                "user": data.get("user"),
                "late": data.get("late", False),
                "device_id": device_id,
                "entity_id": entity_of_device(self.hass, device_id, "volume"),
            },
        )


class AngeSnowClearingEvent(AngeSiteEntity, AngeDispatchedEvent):
    """A site's snow clearing: ``clearing_needed`` and ``cleared`` (the depth dropped back).

    Data: ``site``, ``depth_cm``, ``threshold_cm``, ``baseline_cm``, ``peak_cm``, ``since``.
    """

    @property
    def event_signal(self) -> SignalType[str, dict[str, Any]]:
        """The site's clearing events."""
        return self.runtime.snow.event_signal(self.subentry_id)
