"""Sensors of a building: care per apartment and building-wide, water totals, snow depth.

Each is a description whose ``value_fn`` (and ``attributes_fn``) reads one part of the
building's runtime (an apartment's evaluation, care, water, a snow site); one entity class
per part says where that part is, ``DescribedSensor`` shows it.
"""

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
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from ..angelib.care import Evaluation, Status
from ..angelib.followup import summary
from ..const import SUBENTRY_APARTMENT, SUBENTRY_SNOW_SITE, SUBENTRY_WATER_METER
from .care import CareRuntime
from .entity import AngeApartmentEntity, AngeCareEntity, AngeSiteEntity, AngeWaterEntity
from .runtime import BuildingConfigEntry
from .snow import SiteRuntime, SnowRuntime
from .water import WaterRuntime

# -- care: per apartment, and building-wide -----------------------------------------

type Attributes = dict[str, Any]
type Value = StateType | datetime


@dataclass(frozen=True, kw_only=True)
class AngeBuildingSensorEntityDescription[S](SensorEntityDescription):
    """A sensor of a building: ``value_fn`` and ``attributes_fn`` read one part ``S``."""

    value_fn: Callable[[S], Value]
    attributes_fn: Callable[[S], Attributes] | None = None


class DescribedSensor[S](SensorEntity):
    """Shows its description's value and attributes of the part ``_source`` finds."""

    entity_description: AngeBuildingSensorEntityDescription[S]

    def _source(self) -> S | None:
        """The part the description reads (None: not known yet, the state is unknown)."""
        raise NotImplementedError

    @property
    def native_value(self) -> Value:
        """The description's value of the part."""
        source = self._source()
        return None if source is None else self.entity_description.value_fn(source)

    @property
    def extra_state_attributes(self) -> Attributes | None:
        """The description's attributes of the part, if it has any."""
        source = self._source()
        attributes_fn = self.entity_description.attributes_fn
        return None if source is None or attributes_fn is None else attributes_fn(source)


# A sensor of one apartment, from its latest evaluation (unknown before one).
AngeApartmentSensorEntityDescription = AngeBuildingSensorEntityDescription[Evaluation]


def _care_status_attributes(evaluation: Evaluation) -> Attributes:
    """Why, since when, who is on it: no resident data."""
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


CARE_SENSORS: tuple[AngeApartmentSensorEntityDescription, ...] = (
    AngeApartmentSensorEntityDescription(
        key="care_status",
        translation_key="care_status",
        device_class=SensorDeviceClass.ENUM,
        options=[str(status) for status in Status],
        value_fn=lambda e: str(e.status),
        attributes_fn=_care_status_attributes,
    ),
    # Both move with the resident's activity (next check = last activity + the limit by
    # day): each change would be a logbook line and a recorder row. Off by default.
    AngeApartmentSensorEntityDescription(
        key="apartment_last_activity",
        translation_key="apartment_last_activity",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_registry_enabled_default=False,
        value_fn=lambda e: e.last_activity,
    ),
    AngeApartmentSensorEntityDescription(
        key="next_check",
        translation_key="next_check",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_registry_enabled_default=False,
        value_fn=lambda e: e.next_check,
    ),
)


# A building-wide care sensor (on the building's device).
AngeCareSensorEntityDescription = AngeBuildingSensorEntityDescription[CareRuntime]


FOLLOW_UP_PERIOD = timedelta(days=30)
NEEDS_A_PERSON = (Status.CHECK_NEEDED, Status.SENSOR_OFFLINE)


def _follow_up(care: CareRuntime) -> Attributes:
    now = dt_util.utcnow()
    return summary(care.followup.between(now - FOLLOW_UP_PERIOD, now))


def _minutes_to_acknowledge(care: CareRuntime) -> float | None:
    """Minutes; unknown while no alert was acknowledged in the period."""
    value = _follow_up(care)["median_minutes_to_acknowledge"]
    return float(value) if value is not None else None


def _follow_up_attributes(care: CareRuntime) -> Attributes:
    """The period's counts and the median time to resolve (no apartment, no resident)."""
    data = _follow_up(care)
    return {
        "alerts": data["alerts"],
        "escalated": data["escalated"],
        "median_minutes_to_resolve": data["median_minutes_to_resolve"],
    }


BUILDING_CARE_SENSORS: tuple[AngeCareSensorEntityDescription, ...] = (
    # How many apartments need a person now (a check needed, or we cannot tell), and
    # which (their labels), for the care board and notifications.
    AngeCareSensorEntityDescription(
        key="apartments_needing_attention",
        translation_key="apartments_needing_attention",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda care: care.attention_count(),
        attributes_fn=lambda care: {
            "apartments": sorted(
                apartment.label
                for apartment in care.apartments.values()
                if apartment.evaluation is not None
                and apartment.evaluation.status in NEEDS_A_PERSON
            )
        },
    ),
    # Median time from an alert to its acknowledgement over the last 30 days (follow-up).
    AngeCareSensorEntityDescription(
        key="median_time_to_acknowledge",
        translation_key="median_time_to_acknowledge",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=_minutes_to_acknowledge,
        attributes_fn=_follow_up_attributes,
    ),
)

# -- water meters and snow-clearing sites ---------------------------------------------


# A sensor of the building's water meters (on the building's device).
AngeWaterSensorEntityDescription = AngeBuildingSensorEntityDescription[WaterRuntime]


WATER_SENSORS: tuple[AngeWaterSensorEntityDescription, ...] = (
    # Water used by the counted meters since each was added (never decreases). Its state
    # follows the readings as they arrive; the hour-true consumption for the Energy
    # dashboard is each meter's imported hourly statistic.
    AngeWaterSensorEntityDescription(
        key="water_consumption",
        translation_key="water_consumption",
        device_class=SensorDeviceClass.WATER,
        native_unit_of_measurement=UnitOfVolume.CUBIC_METERS,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=3,
        value_fn=lambda water: water.total_m3(),
    ),
    # How many meters have an open alert; every open alert as attributes.
    AngeWaterSensorEntityDescription(
        key="meters_in_alert",
        translation_key="meters_in_alert",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda water: water.meters_in_alert(),
        attributes_fn=lambda water: {
            "alerts": [
                {
                    "meter": meter.name,
                    "alert": str(alert.type),
                    "since": alert.since.isoformat(),
                    "leak_rate_lph": alert.leak_rate_lph,
                    "alert_id": alert.alert_id,
                }
                for meter, alert in water.active_alerts()
            ]
        },
    ),
)


@dataclass(frozen=True, slots=True)
class SnowSite:
    """One snow-clearing site, with the building's snow part that knows its sensors."""

    snow: SnowRuntime
    site: SiteRuntime


# A sensor of one snow-clearing site.
AngeSiteSensorEntityDescription = AngeBuildingSensorEntityDescription[SnowSite]


SITE_SENSORS: tuple[AngeSiteSensorEntityDescription, ...] = (
    # The site's depth: the mean of its available sensors (unknown with none), and what
    # the clearing decision uses.
    AngeSiteSensorEntityDescription(
        key="site_snow_depth",
        translation_key="site_snow_depth",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.CENTIMETERS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda part: part.site.depth_cm,
        attributes_fn=lambda part: {
            "sensors": len(part.snow.depths(part.site)),
            "distance_sensors": [
                device.name_by_user or device.name or ""
                for device in part.snow.sensor_devices(part.site)
            ],
            "threshold_cm": part.site.settings.threshold_cm,
            "min_rise_cm": part.site.settings.min_rise_cm,
            "baseline_cm": part.site.state.baseline_cm,
        },
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BuildingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The building's sensors, and those of each apartment, site (and the water total)."""
    runtime = entry.runtime_data
    async_add_entities(AngeCareSensor(runtime, d) for d in BUILDING_CARE_SENSORS)
    water_added = False

    def _add(subentry_type: str, subentry_id: str) -> None:
        nonlocal water_added
        if subentry_type == SUBENTRY_APARTMENT:
            async_add_entities(
                (AngeApartmentSensor(runtime, subentry_id, d) for d in CARE_SENSORS),
                config_subentry_id=subentry_id,
            )
        elif subentry_type == SUBENTRY_SNOW_SITE:
            async_add_entities(
                (AngeSiteSensor(runtime, subentry_id, d) for d in SITE_SENSORS),
                config_subentry_id=subentry_id,
            )
        elif subentry_type == SUBENTRY_WATER_METER and not water_added:
            water_added = True  # the building's total, from its first meter on
            async_add_entities(AngeWaterSensor(runtime, d) for d in WATER_SENSORS)

    runtime.async_register_part_adder(_add)


class AngeApartmentSensor(AngeApartmentEntity, DescribedSensor[Evaluation]):
    """Care status, last activity or next check of an apartment."""

    # The alert id is for actions and the care board (live state); history needs only
    # the status, its reason and since when.
    _unrecorded_attributes = frozenset({"alert_id"})

    def _source(self) -> Evaluation | None:
        return self.apartment.evaluation


class AngeCareSensor(AngeCareEntity, DescribedSensor[CareRuntime]):
    """A building-wide care figure."""

    def _source(self) -> CareRuntime:
        return self.runtime.care


class AngeWaterSensor(AngeWaterEntity, DescribedSensor[WaterRuntime]):
    """A figure of the building's water meters."""

    def _source(self) -> WaterRuntime:
        return self.runtime.water


class AngeSiteSensor(AngeSiteEntity, DescribedSensor[SnowSite]):
    """A figure of one snow-clearing site."""

    # Settings, not measurements: shown live, not stored with every depth report.
    _unrecorded_attributes = frozenset({"threshold_cm", "min_rise_cm"})

    def _source(self) -> SnowSite:
        return SnowSite(self.runtime.snow, self.site)
