"""Sensor platform of Ånge IoT: measurements, meter readings and device health."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    LIGHT_LUX,
    PERCENTAGE,
    SIGNAL_STRENGTH_DECIBELS,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfElectricPotential,
    UnitOfLength,
    UnitOfPressure,
    UnitOfRatio,
    UnitOfSoundPressure,
    UnitOfTemperature,
    UnitOfVolume,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .angelib.care import Evaluation, Status
from .angelib.catalog import Kind
from .angelib.device import DeviceConfig, snow_depth_cm
from .angelib.pipeline import TrackedDevice
from .care_runtime import BuildingRuntime
from .const import DOMAIN
from .coordinator import AngeConfigEntry, AngeHub
from .entity import (
    AngeApartmentEntity,
    AngeBuildingEntity,
    AngeDeviceEntity,
    AngeSiteEntity,
    AngeWaterEntity,
)

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class AngeSensorEntityDescription(SensorEntityDescription):
    """Describes one sensor of a LoRaWAN device."""

    value_fn: Callable[[TrackedDevice], StateType | datetime]
    exists_fn: Callable[[DeviceConfig], bool] | None = None


def _field(name: str) -> Callable[[TrackedDevice], StateType]:
    def value(device: TrackedDevice) -> StateType:
        result: Any = device.state.values.get(name)
        return result if isinstance(result, int | float | str) else None

    return value


def _snow_depth(device: TrackedDevice) -> float | None:
    distance = device.state.values.get("distance")
    height = device.config.mounting_height_mm
    if not isinstance(distance, int | float) or not height:
        return None
    return snow_depth_cm(distance, height)


def _measurement(
    key: str, device_class: SensorDeviceClass | None, unit: str | None, **kwargs: Any
) -> AngeSensorEntityDescription:
    return AngeSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=device_class,
        native_unit_of_measurement=unit,
        state_class=kwargs.pop("state_class", SensorStateClass.MEASUREMENT),
        value_fn=kwargs.pop("value_fn", _field(key)),
        **kwargs,
    )


SENSORS: tuple[AngeSensorEntityDescription, ...] = (
    _measurement(
        "temperature", SensorDeviceClass.TEMPERATURE, UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
    ),
    _measurement("humidity", SensorDeviceClass.HUMIDITY, PERCENTAGE, suggested_display_precision=0),
    _measurement(
        "illuminance", SensorDeviceClass.ILLUMINANCE, LIGHT_LUX, suggested_display_precision=0
    ),
    _measurement(
        "co2", SensorDeviceClass.CO2, UnitOfRatio.PARTS_PER_MILLION, suggested_display_precision=0
    ),
    _measurement(
        "tvoc", SensorDeviceClass.VOLATILE_ORGANIC_COMPOUNDS_PARTS, UnitOfRatio.PARTS_PER_BILLION
    ),
    _measurement("pressure", SensorDeviceClass.ATMOSPHERIC_PRESSURE, UnitOfPressure.HPA),
    _measurement(
        "sound_peak", SensorDeviceClass.SOUND_PRESSURE, UnitOfSoundPressure.DECIBEL
    ),
    _measurement(
        "sound_avg", SensorDeviceClass.SOUND_PRESSURE, UnitOfSoundPressure.DECIBEL
    ),
    _measurement(
        "external_temperature", SensorDeviceClass.TEMPERATURE, UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
    ),
    _measurement(
        "water_temperature", SensorDeviceClass.TEMPERATURE, UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
    ),
    _measurement("wetness", SensorDeviceClass.MOISTURE, PERCENTAGE, suggested_display_precision=0),
    _measurement(
        "distance", SensorDeviceClass.DISTANCE, UnitOfLength.MILLIMETERS,
        suggested_display_precision=0,
    ),
    _measurement(
        "snow_depth", SensorDeviceClass.DISTANCE, UnitOfLength.CENTIMETERS,
        value_fn=_snow_depth, suggested_display_precision=1,
        exists_fn=lambda c: c.model.kind is Kind.DISTANCE and bool(c.mounting_height_mm),
    ),
    _measurement(
        "volume", SensorDeviceClass.WATER, UnitOfVolume.CUBIC_METERS,
        state_class=SensorStateClass.TOTAL_INCREASING, suggested_display_precision=3,
    ),
    # Raw PIR counts and activity times are about a resident (privacy by default): off until
    # enabled per entity; no state class (no long-term statistics); the count's unit comes
    # from the translations, which also keeps it out of the logbook when enabled.
    _measurement(
        "motion_count", None, None, state_class=None, entity_registry_enabled_default=False,
        suggested_display_precision=0,
    ),
    _measurement(
        "last_activity", SensorDeviceClass.TIMESTAMP, None, state_class=None,
        value_fn=lambda d: d.state.last_activity,
        exists_fn=lambda c: c.model.kind is Kind.ACTIVITY, entity_registry_enabled_default=False,
    ),
    _measurement(
        "battery", SensorDeviceClass.BATTERY, PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC, suggested_display_precision=0,
    ),
    _measurement(
        "battery_voltage", SensorDeviceClass.VOLTAGE, UnitOfElectricPotential.VOLT,
        entity_category=EntityCategory.DIAGNOSTIC, suggested_display_precision=2,
    ),
    _measurement(
        "lns_battery", SensorDeviceClass.BATTERY, PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC, exists_fn=lambda c: True,
        entity_registry_enabled_default=False,
    ),
    _measurement(
        "valid_samples", None, None, entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
    ),
    _measurement(
        "rssi", SensorDeviceClass.SIGNAL_STRENGTH, SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        entity_category=EntityCategory.DIAGNOSTIC, value_fn=lambda d: d.state.rssi,
        exists_fn=lambda c: True, suggested_display_precision=0,
    ),
    _measurement(
        "snr", SensorDeviceClass.SIGNAL_STRENGTH, SIGNAL_STRENGTH_DECIBELS,
        entity_category=EntityCategory.DIAGNOSTIC, value_fn=lambda d: d.state.snr,
        exists_fn=lambda c: True, entity_registry_enabled_default=False,
        suggested_display_precision=1,
    ),
    _measurement(
        "last_seen", SensorDeviceClass.TIMESTAMP, None, state_class=None,
        entity_category=EntityCategory.DIAGNOSTIC, value_fn=lambda d: d.state.last_seen,
        exists_fn=lambda c: True, entity_registry_enabled_default=False,  # a line per uplink
    ),
    _measurement(
        "rejected_frames", None, None, state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC, value_fn=lambda d: d.state.rejected_frames,
        exists_fn=lambda c: True,
    ),
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class AngeGatewaySensorEntityDescription(SensorEntityDescription):
    """Describes one counter of a gateway."""

    value_fn: Callable[[AngeHub], StateType | datetime]


GATEWAY_SENSORS: tuple[AngeGatewaySensorEntityDescription, ...] = (
    AngeGatewaySensorEntityDescription(
        key="uplinks",
        translation_key="uplinks",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda hub: hub.stats.uplinks,
    ),
    AngeGatewaySensorEntityDescription(
        key="rejected_messages",
        translation_key="rejected_messages",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda hub: hub.stats.rejected_total,
    ),
    AngeGatewaySensorEntityDescription(
        key="last_message",
        translation_key="last_message",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # changes with every uplink: a logbook line each
        value_fn=lambda hub: hub.stats.last_message,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AngeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every configured device (or of a building's apartments)."""
    runtime: Any = entry.runtime_data
    if isinstance(runtime, BuildingRuntime):
        _add_care_sensors(runtime, async_add_entities)
        if runtime.water.meters:
            async_add_entities(
                [
                    AngeWaterConsumptionSensor(runtime, WATER_CONSUMPTION),
                    AngeMetersInAlertSensor(runtime, METERS_IN_ALERT),
                ]
            )
        for subentry_id in runtime.snow.sites:
            async_add_entities(
                [AngeSnowDepthSensor(runtime, subentry_id, SITE_SNOW_DEPTH)],
                config_subentry_id=subentry_id,
            )
        return
    hub: AngeHub = runtime
    async_add_entities(AngeGatewaySensorEntity(hub, description) for description in GATEWAY_SENSORS)
    for dev_eui, subentry_id in hub.subentry_ids.items():
        config = hub.device(dev_eui).config
        async_add_entities(
            (
                AngeSensorEntity(hub, dev_eui, description)
                for description in SENSORS
                if (
                    description.exists_fn(config)
                    if description.exists_fn
                    else description.key in config.model.fields
                )
            ),
            config_subentry_id=subentry_id,
        )


class AngeSensorEntity(AngeDeviceEntity, SensorEntity):
    """A sensor of a LoRaWAN device."""

    entity_description: AngeSensorEntityDescription

    def __init__(
        self, hub: AngeHub, dev_eui: str, description: AngeSensorEntityDescription
    ) -> None:
        """Bind the description."""
        super().__init__(hub, dev_eui, description)

    @property
    def native_value(self) -> StateType | datetime:
        """The latest value from the device."""
        return self.entity_description.value_fn(self.device)

    def _shown_value(self) -> Any:
        return self.native_value


class AngeGatewaySensorEntity(SensorEntity):
    """A counter of the gateway itself (on the gateway's device)."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: AngeGatewaySensorEntityDescription

    def __init__(self, hub: AngeHub, description: AngeGatewaySensorEntityDescription) -> None:
        """Bind to the hub's counters."""
        self.hub = hub
        self.entity_description = description
        self._attr_unique_id = f"{hub.entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, hub.gateway_id)})

    @property
    def native_value(self) -> StateType | datetime:
        """The counter's current value."""
        return self.entity_description.value_fn(self.hub)

    async def async_added_to_hass(self) -> None:
        """Follow the hub's counters (written at most once a second)."""
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.async_add_listener(self.async_write_ha_state))


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


def _add_care_sensors(
    runtime: BuildingRuntime, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    async_add_entities([AngeAttentionSensor(runtime, ATTENTION)])
    for subentry_id in runtime.apartments:
        async_add_entities(
            (AngeCareSensor(runtime, subentry_id, description) for description in CARE_SENSORS),
            config_subentry_id=subentry_id,
        )


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
        }


class AngeAttentionSensor(AngeBuildingEntity, SensorEntity):
    """How many apartments need a person now (a check needed, or we cannot tell)."""

    @property
    def native_value(self) -> int:
        """Apartments with status check_needed or sensor_offline."""
        return self.runtime.attention_count()

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
                self.hass, self.runtime.building_signal, self.async_write_ha_state
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
