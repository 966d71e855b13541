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
    Platform,
    UnitOfElectricPotential,
    UnitOfLength,
    UnitOfPressure,
    UnitOfRatio,
    UnitOfSoundPressure,
    UnitOfTemperature,
    UnitOfVolume,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from ..angelib.catalog import Kind
from ..angelib.device import DeviceConfig, device_kinds, snow_depth_cm
from ..angelib.generic import FieldSpec, Meaning, ValueKind
from ..angelib.names import device_name
from ..angelib.pipeline import TrackedDevice
from ..const import DOMAIN
from .device_changes import registry_disabled
from .entity import AngeDeviceEntity, AngeGatewayEntity, gateway_unique_id
from .field_entity import (
    AngeFieldEntity,
    async_setup_device_platform,
    field_description,
)
from .hub import GatewayConfigEntry, GatewayHub


@dataclass(frozen=True, kw_only=True)
class AngeSensorEntityDescription(SensorEntityDescription):
    """Describes one sensor of a LoRaWAN device."""

    value_fn: Callable[[TrackedDevice], StateType | datetime]
    exists_fn: Callable[[DeviceConfig], bool] | None = None
    # Named with the device's place ("Water volume Lgh 1101", translation key "<key>_at")
    # where the device name leaves the place out: the Energy dashboard's picker lists the
    # entity name first, and seven "Water volume" lines could not be told apart.
    placed_name: bool = False


# Tuples, not ``int | float | str``: a union is built at every call, and these run for
# every entity of a device on every uplink.
_STATE_TYPES = (int, float, str)
_NUMBER = (int, float)


def _field(name: str) -> Callable[[TrackedDevice], StateType]:
    def value(device: TrackedDevice) -> StateType:
        result: Any = device.state.values.get(name)
        return result if isinstance(result, _STATE_TYPES) else None

    return value


def _snow_depth(device: TrackedDevice) -> float | None:
    distance = device.state.values.get("distance")
    height = device.config.mounting_height_mm
    if not isinstance(distance, _NUMBER) or not height:
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
        # A water meter's (Axioma W1): its freeze alarm is in "Meter problem", and a meter
        # shows its reading only by default (binary_sensor.py's _METER_NOTE).
        entity_registry_enabled_default=False,
    ),
    _measurement("wetness", SensorDeviceClass.MOISTURE, PERCENTAGE, suggested_display_precision=0),
    _measurement(
        "distance", SensorDeviceClass.DISTANCE, UnitOfLength.MILLIMETERS,
        suggested_display_precision=0,
    ),
    _measurement(
        "snow_depth", SensorDeviceClass.DISTANCE, UnitOfLength.CENTIMETERS,
        value_fn=_snow_depth, suggested_display_precision=1,
        exists_fn=lambda c: Kind.DISTANCE in device_kinds(c) and bool(c.mounting_height_mm),
    ),
    _measurement(
        "volume", SensorDeviceClass.WATER, UnitOfVolume.CUBIC_METERS,
        state_class=SensorStateClass.TOTAL_INCREASING, suggested_display_precision=3,
        placed_name=True,
    ),
    # Raw PIR counts and activity times are about a resident (privacy by default): off until
    # enabled per entity; no state class (no long-term statistics); the count's unit comes
    # from the translations, which makes History draw a graph and keeps it out of the
    # logbook when enabled.
    _measurement(
        "motion_count", None, None, state_class=None, suggested_display_precision=0,
        entity_registry_enabled_default=False,
    ),
    _measurement(
        "last_activity", SensorDeviceClass.TIMESTAMP, None, state_class=None,
        value_fn=lambda d: d.state.last_activity,
        exists_fn=lambda c: Kind.ACTIVITY in device_kinds(c),
        entity_registry_enabled_default=False,
    ),
    # _DIAGNOSTIC_NOTE: as in core (ZHA, Shelly, ESPHome, Z-Wave JS), a device's radio and
    # link figures (RSSI, SNR, last seen, rejected frames, the network server's battery
    # estimate) are diagnostic entities disabled by default; the battery the device reports
    # stays enabled (the maintenance blueprint reads it). Every device shows its few
    # measurements only: HA enables at most 10,000 entities per config entry
    # (gateway/capacity.py). The diagnostics download carries the radio figures anyway.
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
        entity_registry_enabled_default=False,  # radio diagnostics: see _DIAGNOSTIC_NOTE
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
        exists_fn=lambda c: True, entity_registry_enabled_default=False,
    ),
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class AngeGatewaySensorEntityDescription(SensorEntityDescription):
    """Describes one counter of a gateway."""

    value_fn: Callable[[GatewayHub], StateType | datetime]


GATEWAY_SENSORS: tuple[AngeGatewaySensorEntityDescription, ...] = (
    AngeGatewaySensorEntityDescription(
        key="uplinks",
        translation_key="uplinks",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # like Z-Wave JS's controller statistics
        value_fn=lambda hub: hub.stats.uplinks,
    ),
    AngeGatewaySensorEntityDescription(
        key="rejected_messages",
        translation_key="rejected_messages",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # like Z-Wave JS's controller statistics
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
    entry: GatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the gateway's counters and the sensors of every configured device."""
    hub = entry.runtime_data
    registry = er.async_get(hass)
    async_add_entities(
        AngeGatewaySensorEntity(hub, description)
        for description in GATEWAY_SENSORS
        if not registry_disabled(registry, Platform.SENSOR, gateway_unique_id(hub, description.key))
    )

    async_setup_device_platform(
        hub,
        Platform.SENSOR,
        descriptions=SENSORS,
        entity=AngeSensorEntity,
        field_entity=AngeFieldSensor,
        kinds=FIELD_KINDS,
        async_add_entities=async_add_entities,
    )


# -- generic devices: one sensor per numeric or text field ----------------------------

FIELD_KINDS = {ValueKind.NUMBER, ValueKind.TEXT}
# Counts about a resident (PIR triggers, people present): no long-term statistics.
_NO_STATISTICS = frozenset({Meaning.MOTION, Meaning.OCCUPANCY})
_DIAGNOSTIC = frozenset({Meaning.BATTERY, Meaning.BATTERY_VOLTAGE})


def field_sensor_description(spec: FieldSpec) -> SensorEntityDescription:
    """Device class, unit and state class of a numeric or text field."""
    if spec.kind is not ValueKind.NUMBER:
        return field_description(SensorEntityDescription, spec)  # type: ignore[return-value]
    info = spec.info
    device_class = (
        SensorDeviceClass(info.device_class)
        if info.device_class and spec.meaning not in _NO_STATISTICS
        else None
    )
    return field_description(  # type: ignore[return-value]
        SensorEntityDescription,
        spec,
        device_class=device_class,
        native_unit_of_measurement=spec.unit,
        state_class=(
            None
            if spec.meaning in _NO_STATISTICS or info.state_class is None
            else SensorStateClass(info.state_class)
        ),
        entity_category=EntityCategory.DIAGNOSTIC if spec.meaning in _DIAGNOSTIC else None,
    )


class AngeFieldSensor(AngeFieldEntity, SensorEntity):
    """A numeric or text field of a generic device."""

    def __init__(self, hub: GatewayHub, dev_eui: str, spec: FieldSpec) -> None:
        """Describe the field by its (corrected) meaning and unit."""
        super().__init__(hub, dev_eui, spec, field_sensor_description(spec))

    @property
    def native_value(self) -> StateType:
        """The field's latest value (unknown while it has the wrong type)."""
        value = self.field_value
        return value if isinstance(value, _STATE_TYPES) else None

    def _shown_value(self) -> Any:
        return self.native_value


class AngeSensorEntity(AngeDeviceEntity, SensorEntity):
    """A sensor of a LoRaWAN device."""

    entity_description: AngeSensorEntityDescription

    def __init__(
        self, hub: GatewayHub, dev_eui: str, description: AngeSensorEntityDescription
    ) -> None:
        """Bind the description."""
        super().__init__(hub, dev_eui, description)
        config = hub.device(dev_eui).config
        self._placed = bool(
            description.placed_name
            and config.area
            and device_name(config.name, config.area) != config.name
        )
        if self._placed:
            self._attr_translation_key = f"{description.translation_key}_at"
            self._attr_translation_placeholders = {"place": config.area or ""}

    @property
    def suggested_object_id(self) -> str | None:
        """The entity id leaves the place out of its last part: its area is in it already.

        ``sensor.lgh_1101_vattenmatare_water_volume``, not ``..._water_volume_lgh_1101``.
        """
        if self._placed and self.platform_data:
            plain = self.platform_data.object_id_platform_translations.get(
                f"component.{DOMAIN}.entity.sensor.{self.entity_description.translation_key}.name"
            )
            if plain:
                return plain
        return super().suggested_object_id

    @property
    def native_value(self) -> StateType | datetime:
        """The latest value from the device."""
        return self.entity_description.value_fn(self.device)

    def _shown_value(self) -> Any:
        return self.native_value


class AngeGatewaySensorEntity(AngeGatewayEntity, SensorEntity):
    """A counter of the gateway itself (on the gateway's device)."""

    entity_description: AngeGatewaySensorEntityDescription

    def __init__(self, hub: GatewayHub, description: AngeGatewaySensorEntityDescription) -> None:
        """Bind to the hub's counters (written at most once a second)."""
        super().__init__(hub, description)

    @property
    def native_value(self) -> StateType | datetime:
        """The counter's current value."""
        return self.entity_description.value_fn(self.hub)
