"""Binary sensor platform of Ånge IoT: motion, presence, doors, leaks and meter alarms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..angelib.catalog import Kind
from ..angelib.device import DeviceConfig, device_kinds
from ..angelib.generic import FieldSpec, Meaning, ValueKind
from ..angelib.pipeline import TrackedDevice
from .entity import AngeDeviceEntity
from .field_entity import (
    AngeFieldEntity,
    async_follow_new_fields,
    async_remove_stale,
    field_description,
    shown_fields,
)
from .hub import GatewayConfigEntry, GatewayHub


@dataclass(frozen=True, kw_only=True)
class AngeBinarySensorEntityDescription(BinarySensorEntityDescription):
    """Describes one binary sensor of a LoRaWAN device."""

    is_on_fn: Callable[[TrackedDevice], bool | None]
    exists_fn: Callable[[DeviceConfig], bool] | None = None
    alarm: bool = False  # a device-reported alarm: carries the time it was first seen


def _flag(name: str) -> Callable[[TrackedDevice], bool | None]:
    def is_on(device: TrackedDevice) -> bool | None:
        value = device.state.values.get(name)
        return value if isinstance(value, bool) else None

    return is_on


def _door(name: str) -> Callable[[TrackedDevice], bool | None]:
    def is_on(device: TrackedDevice) -> bool | None:
        value = device.state.values.get(name)
        if not isinstance(value, bool):
            return None
        return value != device.config.invert_door

    return is_on


def _motion(device: TrackedDevice) -> bool | None:
    count = device.state.values.get("motion_count")
    return count > 0 if isinstance(count, int) else None


def _occupancy(device: TrackedDevice) -> bool | None:
    value = device.state.values.get("occupancy")
    return value >= 1 if isinstance(value, int) else None


def _problem(
    key: str,
    device_class: BinarySensorDeviceClass = BinarySensorDeviceClass.PROBLEM,
    entity_category: EntityCategory | None = None,
) -> AngeBinarySensorEntityDescription:
    """A meter or device alarm reported by the device itself."""
    return AngeBinarySensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=device_class,
        entity_category=entity_category,
        is_on_fn=_flag(key),
        alarm=True,
    )


# _ACTIVITY_NOTE: motion, presence and door changes are a resident's activity. They are off
# by default (privacy by default): enabled, each change is a logbook line and a recorder row.
# The care checks use the devices' reports whether these entities are enabled or not.
BINARY_SENSORS: tuple[AngeBinarySensorEntityDescription, ...] = (
    AngeBinarySensorEntityDescription(
        key="motion",
        translation_key="motion",
        device_class=BinarySensorDeviceClass.MOTION,
        is_on_fn=_motion,
        exists_fn=lambda c: "motion_count" in c.model.fields,
        entity_registry_enabled_default=False,  # a resident's activity: see _ACTIVITY_NOTE
    ),
    AngeBinarySensorEntityDescription(
        key="occupancy",
        translation_key="occupancy",
        device_class=BinarySensorDeviceClass.OCCUPANCY,
        is_on_fn=_occupancy,
        entity_registry_enabled_default=False,
    ),
    AngeBinarySensorEntityDescription(
        key="presence",
        translation_key="presence",
        device_class=BinarySensorDeviceClass.PRESENCE,
        is_on_fn=_flag("presence"),
        entity_registry_enabled_default=False,
    ),
    AngeBinarySensorEntityDescription(
        key="close_proximity",
        translation_key="close_proximity",
        device_class=BinarySensorDeviceClass.OCCUPANCY,
        is_on_fn=_flag("close_proximity"),
        entity_registry_enabled_default=False,
    ),
    AngeBinarySensorEntityDescription(
        key="door",
        translation_key="door",
        device_class=BinarySensorDeviceClass.DOOR,
        is_on_fn=_door("door"),
        entity_registry_enabled_default=False,
    ),
    AngeBinarySensorEntityDescription(
        key="door_alarm",
        translation_key="door_alarm",
        device_class=BinarySensorDeviceClass.DOOR,
        is_on_fn=_door("door_alarm"),
        entity_registry_enabled_default=False,
    ),
    AngeBinarySensorEntityDescription(
        key="water_leak",
        translation_key="water_leak",
        device_class=BinarySensorDeviceClass.MOISTURE,
        is_on_fn=_flag("water_leak"),
    ),
    _problem("tilt", entity_category=EntityCategory.DIAGNOSTIC),
    _problem("leak"),
    _problem("burst"),
    _problem("dry"),
    _problem("reverse_flow"),
    _problem("tamper", device_class=BinarySensorDeviceClass.TAMPER),
    _problem("freeze"),
    _problem("permanent_error"),
    _problem("low_battery", device_class=BinarySensorDeviceClass.BATTERY),
    AngeBinarySensorEntityDescription(
        key="volume_decreased",
        translation_key="volume_decreased",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda d: d.state.volume_decreased,
        exists_fn=lambda c: Kind.WATER_METER in device_kinds(c),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of every configured device."""
    hub = entry.runtime_data

    def _entities(dev_eui: str) -> list[Entity]:
        config = hub.device(dev_eui).config
        entities: list[Entity] = [
            AngeBinarySensorEntity(hub, dev_eui, description)
            for description in BINARY_SENSORS
            if (
                description.exists_fn(config)
                if description.exists_fn
                else description.key in config.model.fields
            )
        ]
        if config.is_generic:
            async_remove_stale(hub, dev_eui, "binary_sensor", FIELD_KINDS)
            entities += [
                AngeFieldBinarySensor(hub, dev_eui, spec)
                for spec in shown_fields(hub, dev_eui, FIELD_KINDS)
            ]
        return entities

    hub.changes.async_register_entity_factory(Platform.BINARY_SENSOR, _entities, async_add_entities)

    def add_fields(dev_eui: str, specs: list[FieldSpec]) -> None:
        async_add_entities(
            (AngeFieldBinarySensor(hub, dev_eui, spec) for spec in specs),
            config_subentry_id=hub.subentry_ids[dev_eui],
        )

    async_follow_new_fields(hub, FIELD_KINDS, add_fields)


# -- generic devices: one binary sensor per on/off field -----------------------------

FIELD_KINDS = {ValueKind.BOOL}


class AngeFieldBinarySensor(AngeFieldEntity, BinarySensorEntity):
    """An on/off field of a generic device (motion, door, leak, or a plain flag)."""

    def __init__(self, hub: GatewayHub, dev_eui: str, spec: FieldSpec) -> None:
        """Describe the field by its (corrected) meaning."""
        device_class = spec.info.device_class
        super().__init__(
            hub,
            dev_eui,
            spec,
            field_description(
                BinarySensorEntityDescription,
                spec,
                device_class=BinarySensorDeviceClass(device_class) if device_class else None,
            ),
        )
        self._door = spec.meaning is Meaning.DOOR

    @property
    def is_on(self) -> bool | None:
        """The field's latest state; a door follows the device's polarity setting."""
        value = self.field_value
        if not isinstance(value, bool):
            return None
        return value != self.device.config.invert_door if self._door else value

    def _shown_value(self) -> Any:
        return self.is_on


class AngeBinarySensorEntity(AngeDeviceEntity, BinarySensorEntity):
    """A binary sensor of a LoRaWAN device."""

    entity_description: AngeBinarySensorEntityDescription

    def __init__(
        self, hub: GatewayHub, dev_eui: str, description: AngeBinarySensorEntityDescription
    ) -> None:
        """Bind the description."""
        super().__init__(hub, dev_eui, description)

    @property
    def is_on(self) -> bool | None:
        """The latest state from the device."""
        return self.entity_description.is_on_fn(self.device)

    def _shown_value(self) -> Any:
        return self.is_on

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """A device alarm says since when it is on (first seen in an uplink)."""
        if not self.entity_description.alarm:
            return None
        since = self.device.state.alarm_since.get(self.entity_description.key)
        return {"first_seen": since.isoformat() if since else None}
