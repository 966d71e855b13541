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
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .angelib.catalog import Kind
from .angelib.device import DeviceConfig, snow_depth_cm
from .angelib.pipeline import TrackedDevice
from .coordinator import AngeConfigEntry, AngeHub
from .entity import AngeDeviceEntity

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
    _measurement("illuminance", SensorDeviceClass.ILLUMINANCE, LIGHT_LUX),
    _measurement("co2", SensorDeviceClass.CO2, UnitOfRatio.PARTS_PER_MILLION),
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
    _measurement("wetness", SensorDeviceClass.MOISTURE, PERCENTAGE),
    _measurement("distance", SensorDeviceClass.DISTANCE, UnitOfLength.MILLIMETERS),
    _measurement(
        "snow_depth", SensorDeviceClass.DISTANCE, UnitOfLength.CENTIMETERS,
        value_fn=_snow_depth, suggested_display_precision=1,
        exists_fn=lambda c: c.model.kind is Kind.DISTANCE and bool(c.mounting_height_mm),
    ),
    _measurement(
        "volume", SensorDeviceClass.WATER, UnitOfVolume.CUBIC_METERS,
        state_class=SensorStateClass.TOTAL_INCREASING, suggested_display_precision=3,
    ),
    # Raw PIR counts are about a resident: no state class, so no long-term statistics.
    _measurement("motion_count", None, None, state_class=None),
    _measurement(
        "last_activity", SensorDeviceClass.TIMESTAMP, None, state_class=None,
        value_fn=lambda d: d.state.last_activity,
        exists_fn=lambda c: c.model.kind is Kind.ACTIVITY,
    ),
    _measurement(
        "battery", SensorDeviceClass.BATTERY, PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    _measurement(
        "battery_voltage", SensorDeviceClass.VOLTAGE, UnitOfElectricPotential.VOLT,
        entity_category=EntityCategory.DIAGNOSTIC, suggested_display_precision=2,
    ),
    _measurement(
        "valid_samples", None, None, entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
    ),
    _measurement(
        "rssi", SensorDeviceClass.SIGNAL_STRENGTH, SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        entity_category=EntityCategory.DIAGNOSTIC, value_fn=lambda d: d.state.rssi,
        exists_fn=lambda c: True,
    ),
    _measurement(
        "snr", SensorDeviceClass.SIGNAL_STRENGTH, SIGNAL_STRENGTH_DECIBELS,
        entity_category=EntityCategory.DIAGNOSTIC, value_fn=lambda d: d.state.snr,
        exists_fn=lambda c: True, entity_registry_enabled_default=False,
    ),
    _measurement(
        "last_seen", SensorDeviceClass.TIMESTAMP, None, state_class=None,
        entity_category=EntityCategory.DIAGNOSTIC, value_fn=lambda d: d.state.last_seen,
        exists_fn=lambda c: True,
    ),
    _measurement(
        "rejected_frames", None, None, state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC, value_fn=lambda d: d.state.rejected_frames,
        exists_fn=lambda c: True,
    ),
)  # fmt: skip


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AngeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every configured device."""
    hub = entry.runtime_data
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
