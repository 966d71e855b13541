"""How many entities a gateway entry enables, and a warning before Home Assistant's cap.

Home Assistant enables at most ``MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY`` (10,000 in
2026.10) entities per config entry; past it, it logs a warning and adds no more entities
(only core protocol integrations are exempt). A gateway entry is one network-server
application, so a town's water meters can be thousands of devices in one entry. Per
device we enable only what a facility manager reads (sensor.py's ``_DIAGNOSTIC_NOTE``,
binary_sensor.py's ``_METER_NOTE``): a water meter enables 2 entities, an Elsys ERS 4, so
5,000 meters or 2,500 ERS fill an entry exactly.

``async_check_capacity`` counts an entry's enabled entities (the entity registry for
devices already there, the enabled-by-default descriptions for devices being added) and
raises the repair issue ``entity_cap_<entry_id>`` from ``WARN_SHARE`` of the cap on, with
the number and how to split the devices into a second gateway entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.entity_platform import MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY

from ..angelib.catalog import MODELS, Kind
from ..angelib.device import DeviceConfig, device_kinds
from ..const import DOMAIN

if TYPE_CHECKING:
    from .hub import GatewayHub

MAX_ENABLED = MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY
WARN_SHARE = 0.9  # the repair issue appears at 9,000 of 10,000
ISSUE_PREFIX = "entity_cap_"


def issue_id(entry_id: str) -> str:
    """The repair issue of one gateway entry."""
    return f"{ISSUE_PREFIX}{entry_id}"


def _exists(description: object, config: DeviceConfig) -> bool:
    exists_fn = getattr(description, "exists_fn", None)
    if exists_fn is not None:
        return bool(exists_fn(config))
    return getattr(description, "key", None) in config.model.fields


def enabled_by_default(config: DeviceConfig) -> dict[str, list[str]]:
    """Per platform, the keys of a device's entities that are enabled when it is added.

    A generic device's field entities are not known before it reports; they are counted
    from the registry once they exist.
    """
    from . import binary_sensor, button, sensor  # noqa: PLC0415 (they import the hub)

    binary = [
        d.key
        for d in binary_sensor.BINARY_SENSORS
        if d.entity_registry_enabled_default and _exists(d, config)
    ]
    sensors = [
        d.key for d in sensor.SENSORS if d.entity_registry_enabled_default and _exists(d, config)
    ]
    # button.py's factory needs a hub; it gives every water meter "Accept new reading".
    accept = button.ACCEPT_READING
    buttons = (
        [accept.key]
        if accept.entity_registry_enabled_default and Kind.WATER_METER in device_kinds(config)
        else []
    )
    return {"sensor": sensors, "binary_sensor": binary, "button": buttons}


def enabled_per_device(config: DeviceConfig) -> int:
    """How many entities a device enables when it is added."""
    return sum(len(keys) for keys in enabled_by_default(config).values())


def gateway_enabled_by_default() -> int:
    """Entities of the gateway device itself enabled by default."""
    from .sensor import GATEWAY_SENSORS  # noqa: PLC0415

    return sum(1 for d in GATEWAY_SENSORS if d.entity_registry_enabled_default)


def model_config(model_id: str) -> DeviceConfig:
    """A device of a catalogue model as the config flow adds it (snow sensors mounted)."""
    return DeviceConfig(
        dev_eui="0000000000000000",
        model_id=model_id,
        name=MODELS[model_id].name,
        mounting_height_mm=2000,
    )


def enabled_per_model() -> dict[str, int]:
    """Enabled entities per device of each catalogue model."""
    return {model_id: enabled_per_device(model_config(model_id)) for model_id in MODELS}


def devices_per_entry(per_device: int, gateway: int | None = None) -> int:
    """How many devices of one kind fit in one gateway entry under the cap."""
    fixed = gateway_enabled_by_default() if gateway is None else gateway
    return (MAX_ENABLED - fixed) // per_device if per_device else MAX_ENABLED


def enabled_count(hub: GatewayHub) -> int:
    """The entry's enabled entities once every configured device has its entities.

    Devices already in the entity registry count what is enabled there (the user may have
    enabled or disabled some); devices not yet there count their enabled-by-default
    entities.
    """
    entry_id = hub.entry.entry_id
    registry = er.async_get(hub.hass)
    enabled = 0
    registered: set[str] = set()
    for entity in er.async_entries_for_config_entry(registry, entry_id):
        registered.add(entity.unique_id.partition("_")[0])
        if entity.disabled_by is None:
            enabled += 1
    if entry_id not in registered:  # the gateway's own: "<entry_id>_<key>"
        enabled += gateway_enabled_by_default()
    for dev_eui in hub.subentry_ids:
        if dev_eui not in registered:
            enabled += enabled_per_device(hub.device(dev_eui).config)
    return enabled


@callback
def async_check_capacity(hub: GatewayHub) -> int:
    """Raise (or clear) the entry's "close to the entity cap" repair issue; the count."""
    hass: HomeAssistant = hub.hass
    count = enabled_count(hub)
    entry = hub.entry
    if count < WARN_SHARE * MAX_ENABLED:
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry.entry_id))
        return count
    devices = len(hub.subentry_ids)
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(entry.entry_id),
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.ERROR if count >= MAX_ENABLED else ir.IssueSeverity.WARNING,
        translation_key="entity_cap_near",
        translation_placeholders={
            "gateway": entry.title,
            "count": str(count),
            "max": str(MAX_ENABLED),
            "devices": str(devices),
            "threshold": str(int(WARN_SHARE * MAX_ENABLED)),
        },
    )
    return count
