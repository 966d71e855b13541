"""Sensor platform of Ånge IoT: measurements, meter readings and device health."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    UnitOfLength,
    UnitOfTime,
    UnitOfVolume,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from ..angelib.care import Evaluation, Status
from ..angelib.followup import summary
from ..const import SUBENTRY_APARTMENT, SUBENTRY_SNOW_SITE, SUBENTRY_WATER_METER
from .entity import (
    AngeApartmentEntity,
    AngeBuildingEntity,
    AngeSiteEntity,
    AngeWaterEntity,
)
from .runtime import BuildingConfigEntry

# -- buildings: care checks ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AngeCareSensorEntityDescription(SensorEntityDescription):
    """Describes one care-check sensor of an apartment."""

    value_fn: Callable[[Evaluation], StateType | datetime]


CARE_SENSORS: tuple[AngeCareSensorEntityDescription, ...] = (
    AngeCareSensorEntityDescription(
        key="care_status",
        translation_key="care_status",
        device_class=SensorDeviceClass.ENUM,
        options=[str(status) for status in Status],
        value_fn=lambda e: str(e.status),
    ),
    # Both move with the resident's activity (next check = last activity + the limit by
    # day): each change would be a logbook line and a recorder row. Off by default.
    AngeCareSensorEntityDescription(
        key="apartment_last_activity",
        translation_key="apartment_last_activity",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_registry_enabled_default=False,
        value_fn=lambda e: e.last_activity,
    ),
    AngeCareSensorEntityDescription(
        key="next_check",
        translation_key="next_check",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_registry_enabled_default=False,
        value_fn=lambda e: e.next_check,
    ),
)

ATTENTION = SensorEntityDescription(
    key="apartments_needing_attention",
    translation_key="apartments_needing_attention",
    state_class=SensorStateClass.MEASUREMENT,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BuildingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The building's sensors, and those of each apartment, site (and the water total)."""
    runtime = entry.runtime_data
    async_add_entities(
        [AngeAttentionSensor(runtime, ATTENTION), AngeFollowUpSensor(runtime, TIME_TO_ACKNOWLEDGE)]
    )
    water_added = False

    def _add(subentry_type: str, subentry_id: str) -> None:
        nonlocal water_added
        if subentry_type == SUBENTRY_APARTMENT:
            async_add_entities(
                (AngeCareSensor(runtime, subentry_id, description) for description in CARE_SENSORS),
                config_subentry_id=subentry_id,
            )
        elif subentry_type == SUBENTRY_SNOW_SITE:
            async_add_entities(
                [AngeSnowDepthSensor(runtime, subentry_id, SITE_SNOW_DEPTH)],
                config_subentry_id=subentry_id,
            )
        elif subentry_type == SUBENTRY_WATER_METER and not water_added:
            water_added = True  # the building's total, from its first meter on
            async_add_entities(
                [
                    AngeWaterConsumptionSensor(runtime, WATER_CONSUMPTION),
                    AngeMetersInAlertSensor(runtime, METERS_IN_ALERT),
                ]
            )

    runtime.async_register_part_adder(_add)


class AngeCareSensor(AngeApartmentEntity, SensorEntity):
    """Care status, last activity or next check of an apartment."""

    # The alert id is for actions and the care board (live state); history needs only
    # the status, its reason and since when.
    _unrecorded_attributes = frozenset({"alert_id"})
    entity_description: AngeCareSensorEntityDescription

    @property
    def native_value(self) -> StateType | datetime:
        """From the apartment's latest evaluation."""
        evaluation = self.apartment.evaluation
        return None if evaluation is None else self.entity_description.value_fn(evaluation)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Why, since when, who is on it: no resident data."""
        evaluation = self.apartment.evaluation
        if self.entity_description.key != "care_status" or evaluation is None:
            return None
        return {
            "reason": evaluation.reason,
            "since": evaluation.since.isoformat(),
            "rechecking": evaluation.rechecking,
            "alert_id": evaluation.alert_id,
            "acknowledged_by": evaluation.acknowledged_by,
            "offline_sensors": list(evaluation.offline_sensors),
            # Every open alert (several can be: each occasion has its own), oldest first.
            "open_alerts": [
                {
                    "id": alert.id,
                    "reason": alert.reason,
                    "since": alert.since.isoformat(),
                    "acknowledged_by": alert.acknowledged_by,
                }
                for alert in evaluation.open_alerts
            ],
        }


class AngeAttentionSensor(AngeBuildingEntity, SensorEntity):
    """How many apartments need a person now (a check needed, or we cannot tell)."""

    @property
    def native_value(self) -> int:
        """Apartments with status check_needed or sensor_offline."""
        return self.runtime.care.attention_count()

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Which apartments (their labels), for the care board and notifications."""
        return {
            "apartments": sorted(
                apartment.label
                for apartment in self.runtime.apartments.values()
                if apartment.evaluation is not None
                and apartment.evaluation.status in (Status.CHECK_NEEDED, Status.SENSOR_OFFLINE)
            )
        }

    async def async_added_to_hass(self) -> None:
        """Follow the building's evaluations."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, self.runtime.care.building_signal, self.async_write_ha_state
            )
        )


TIME_TO_ACKNOWLEDGE = SensorEntityDescription(
    key="median_time_to_acknowledge",
    translation_key="median_time_to_acknowledge",
    device_class=SensorDeviceClass.DURATION,
    native_unit_of_measurement=UnitOfTime.MINUTES,
    suggested_display_precision=0,
)
FOLLOW_UP_PERIOD = timedelta(days=30)


class AngeFollowUpSensor(AngeBuildingEntity, SensorEntity):
    """Median time from an alert to its acknowledgement over the last 30 days (follow-up)."""

    @property
    def _summary(self) -> dict[str, Any]:
        now = dt_util.utcnow()
        return summary(self.runtime.followup.between(now - FOLLOW_UP_PERIOD, now))

    @property
    def native_value(self) -> float | None:
        """Minutes; unknown while no alert was acknowledged in the period."""
        value = self._summary["median_minutes_to_acknowledge"]
        return float(value) if value is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The period's counts and the median time to resolve (no apartment, no resident)."""
        data = self._summary
        return {
            "alerts": data["alerts"],
            "escalated": data["escalated"],
            "median_minutes_to_resolve": data["median_minutes_to_resolve"],
        }

    async def async_added_to_hass(self) -> None:
        """Follow the building's evaluations."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, self.runtime.care.building_signal, self.async_write_ha_state
            )
        )


# -- buildings: water meters and snow-clearing sites --------------------------------

WATER_CONSUMPTION = SensorEntityDescription(
    key="water_consumption",
    translation_key="water_consumption",
    device_class=SensorDeviceClass.WATER,
    native_unit_of_measurement=UnitOfVolume.CUBIC_METERS,
    state_class=SensorStateClass.TOTAL_INCREASING,
    suggested_display_precision=3,
)
METERS_IN_ALERT = SensorEntityDescription(
    key="meters_in_alert",
    translation_key="meters_in_alert",
    state_class=SensorStateClass.MEASUREMENT,
)
SITE_SNOW_DEPTH = SensorEntityDescription(
    key="site_snow_depth",
    translation_key="site_snow_depth",
    device_class=SensorDeviceClass.DISTANCE,
    native_unit_of_measurement=UnitOfLength.CENTIMETERS,
    state_class=SensorStateClass.MEASUREMENT,
    suggested_display_precision=1,
)


class AngeWaterConsumptionSensor(AngeWaterEntity, SensorEntity):
    """Water used by the building's counted meters since each was added (never decreases).

    Its state follows the readings as they arrive; the hour-true consumption for the Energy
    dashboard is each meter's imported hourly statistic.
    """

    @property
    def native_value(self) -> float | None:
        """Sum of the counted meters' use, plus meters no longer counted."""
        return self.runtime.water.total_m3()


class AngeMetersInAlertSensor(AngeWaterEntity, SensorEntity):
    """How many of the building's meters have an open alert; the alerts as attributes."""

    @property
    def native_value(self) -> int:
        """Meters with at least one open alert."""
        return self.runtime.water.meters_in_alert()

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Every open alert: meter, type, since and leak rate."""
        return {
            "alerts": [
                {
                    "meter": meter.name,
                    "alert": str(alert.type),
                    "since": alert.since.isoformat(),
                    "leak_rate_lph": alert.leak_rate_lph,
                    "alert_id": alert.alert_id,
                }
                for meter, alert in self.runtime.water.active_alerts()
            ]
        }


class AngeSnowDepthSensor(AngeSiteEntity, SensorEntity):
    """A site's snow depth: the mean of its available sensors (unknown with none)."""

    # Settings, not measurements: shown live, not stored with every depth report.
    _unrecorded_attributes = frozenset({"threshold_cm", "min_rise_cm"})

    @property
    def native_value(self) -> float | None:
        """The site's depth, cm (unknown while none of its sensors reports)."""
        return self.site.depth_cm

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """What the clearing decision uses."""
        state = self.site.state
        return {
            "sensors": len(self.runtime.snow.depths(self.site)),
            "distance_sensors": [
                device.name_by_user or device.name or ""
                for device in self.runtime.snow.sensor_devices(self.site)
            ],
            "threshold_cm": self.site.settings.threshold_cm,
            "min_rise_cm": self.site.settings.min_rise_cm,
            "baseline_cm": state.baseline_cm,
        }
