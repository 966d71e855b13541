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
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..angelib.catalog import Kind
from ..angelib.device import DeviceConfig, device_kinds
from ..angelib.generic import FieldSpec, Meaning, ValueKind
from ..angelib.pipeline import TrackedDevice
from .entity import AngeDeviceEntity
from .field_entity import (
    AngeFieldEntity,
    async_setup_device_platform,
    field_description,
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
    *,
    enabled: bool = True,
) -> AngeBinarySensorEntityDescription:
    """A meter or device alarm reported by the device itself."""
    return AngeBinarySensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=device_class,
        entity_category=entity_category,
        is_on_fn=_flag(key),
        alarm=True,
        entity_registry_enabled_default=enabled,
    )


# A water meter's alarms, in the order "Meter problem" lists them: what a facility manager
# acts on first (water running where it should not) before upkeep (battery, a replaced
# meter). Each stays its own entity, disabled by default: see _METER_NOTE.
METER_ALARMS = (
    "leak",
    "burst",
    "reverse_flow",
    "dry",
    "tamper",
    "freeze",
    "permanent_error",
    "low_battery",
    "volume_decreased",
)


def meter_alarms(device: TrackedDevice) -> list[str] | None:
    """The meter's active alarms (None while it has not reported any flag yet)."""
    values = device.state.values
    known = device.state.volume_decreased or any(
        isinstance(values.get(key), bool) for key in METER_ALARMS
    )
    if not known:
        return None
    return [
        key
        for key in METER_ALARMS
        if (device.state.volume_decreased if key == "volume_decreased" else values.get(key) is True)
    ]


def _meter_problem(device: TrackedDevice) -> bool | None:
    alarms = meter_alarms(device)
    return None if alarms is None else bool(alarms)


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
    # _METER_NOTE: a water meter shows two entities by default, its reading and "Meter
    # problem" (on while any alarm is active; the alarms are listed in its ``alarms``
    # attribute). Facility managers act on a meter's leak or burst through the building's
    # "Meter alerts" event entity and its blueprint, which read the device's reports, not
    # these entities. One alarm entity each would be 7-9 enabled entities per meter and HA
    # enables at most 10,000 per config entry (gateway/capacity.py): 5,000 meters fit in
    # one gateway entry only at 2. Each alarm entity is still there: enable it in the UI.
    AngeBinarySensorEntityDescription(
        key="meter_problem",
        translation_key="meter_problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=_meter_problem,
        exists_fn=lambda c: Kind.WATER_METER in device_kinds(c),
    ),
    _problem("leak", enabled=False),
    _problem("burst", enabled=False),
    _problem("dry", enabled=False),
    _problem("reverse_flow", enabled=False),
    _problem("tamper", device_class=BinarySensorDeviceClass.TAMPER, enabled=False),
    _problem("freeze", enabled=False),
    _problem("permanent_error", enabled=False),
    _problem("low_battery", device_class=BinarySensorDeviceClass.BATTERY, enabled=False),
    AngeBinarySensorEntityDescription(
        key="volume_decreased",
        translation_key="volume_decreased",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda d: d.state.volume_decreased,
        exists_fn=lambda c: Kind.WATER_METER in device_kinds(c),
        entity_registry_enabled_default=False,  # in "Meter problem": see _METER_NOTE
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of every configured device."""
    hub = entry.runtime_data

    async_setup_device_platform(
        hub,
        Platform.BINARY_SENSOR,
        descriptions=BINARY_SENSORS,
        entity=AngeBinarySensorEntity,
        field_entity=AngeFieldBinarySensor,
        kinds=FIELD_KINDS,
        async_add_entities=async_add_entities,
    )


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
        if self.entity_description.key == "meter_problem":
            alarms = meter_alarms(self.device) or []
            seen = [
                at for key in alarms if (at := self.device.state.alarm_since.get(key)) is not None
            ]
            return {"alarms": alarms, "first_seen": min(seen).isoformat() if seen else None}
        if not self.entity_description.alarm:
            return None
        since = self.device.state.alarm_since.get(self.entity_description.key)
        return {"first_seen": since.isoformat() if since else None}
