"""The gateway wing: a network server (or the simulator) and the sensors it hears.

``async_setup_gateway`` starts the entry's hub, its device and platforms, then its
transport; ``PLATFORMS`` are the platforms a gateway entry has.
"""

from __future__ import annotations

from datetime import datetime

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from ..angelib.simulator import Scenario
from ..const import (
    CONF_EPOCH,
    CONF_GATEWAY,
    CONF_LEAKING_METER,
    CONF_RESIDENT_NOT_UP,
    CONF_SEED,
    CONF_SILENT_DEVICE,
    CONF_SNOWFALL,
    CONF_SPEED,
    DEFAULT_SEED,
    DEFAULT_SPEED,
    DOMAIN,
    GATEWAY_CHIRPSTACK_HTTP,
    GATEWAY_CHIRPSTACK_MQTT,
    GATEWAY_SIMULATED,
    GATEWAY_TTS_MQTT,
    GATEWAY_TTS_WEBHOOK,
    NONE_OPTION,
)
from .capacity import async_check_capacity
from .hub import GatewayConfigEntry, GatewayHub
from .simulated import SimulatedGateway
from .transport import Transport

GATEWAY_MODELS = {
    GATEWAY_SIMULATED: "Ånge IoT simulator (LoRaWAN)",
    GATEWAY_CHIRPSTACK_MQTT: "ChirpStack v4 (MQTT)",
    GATEWAY_CHIRPSTACK_HTTP: "ChirpStack v4 (HTTP integration)",
    GATEWAY_TTS_WEBHOOK: "The Things Stack v3 (webhook)",
    GATEWAY_TTS_MQTT: "The Things Stack v3 (MQTT)",
}

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]


async def async_setup_gateway(hass: HomeAssistant, entry: GatewayConfigEntry) -> bool:
    """Set up one gateway entry with its devices, then start receiving."""
    hub = GatewayHub(hass, entry)
    await hub.async_setup()
    entry.runtime_data = hub
    entry.async_on_unload(hub.async_shutdown)

    gateway_device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, hub.gateway_id)},
        name=entry.title,
        manufacturer="Ånge IoT",
        model=GATEWAY_MODELS[entry.data[CONF_GATEWAY]],
        entry_type=dr.DeviceEntryType.SERVICE,
    )
    hub.changes.gateway_device_id = gateway_device.id
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)

    gateway = _create_transport(hass, hub, entry)
    hub.gateway = gateway
    entry.async_on_unload(gateway.async_stop)
    try:
        await gateway.async_start()
    except Exception:
        # Setup fails or is retried (MQTT not ready): a retry sets the platforms up again.
        await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
        raise
    if isinstance(gateway, SimulatedGateway):
        apply_simulation_options(hub)
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))
    hub.changes.async_apply()  # devices added while it was setting up
    async_check_capacity(hub)  # HA's enabled-entity cap per entry: warn before it
    return True


async def async_unload_gateway(hass: HomeAssistant, entry: GatewayConfigEntry) -> bool:
    """Unload a gateway entry (its hub and transport stop through ``async_on_unload``)."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


def _create_transport(hass: HomeAssistant, hub: GatewayHub, entry: GatewayConfigEntry) -> Transport:
    """The transport of this entry's gateway type; it delivers to the hub (its sink)."""
    kind = entry.data[CONF_GATEWAY]
    if kind == GATEWAY_SIMULATED:
        return SimulatedGateway(
            hass,
            entry,
            hub,
            seed=entry.data.get(CONF_SEED, DEFAULT_SEED),
            speed=float(entry.options.get(CONF_SPEED, DEFAULT_SPEED)),
            epoch=_simulation_epoch(entry),
        )
    if kind in (GATEWAY_CHIRPSTACK_MQTT, GATEWAY_CHIRPSTACK_HTTP):
        from .chirpstack import create_chirpstack_transport  # noqa: PLC0415

        return create_chirpstack_transport(hass, entry, hub, kind)
    if kind in (GATEWAY_TTS_WEBHOOK, GATEWAY_TTS_MQTT):
        from .tts import create_tts_transport  # noqa: PLC0415

        return create_tts_transport(hass, entry, hub, kind)
    raise ValueError(f"unknown gateway type {kind!r}")


def _simulation_epoch(entry: GatewayConfigEntry) -> datetime:
    """When the simulated site began: stored at creation, else the entry's creation."""
    stored = entry.data.get(CONF_EPOCH)
    parsed = dt_util.parse_datetime(stored) if isinstance(stored, str) else None
    return parsed if parsed is not None and parsed.tzinfo else entry.created_at


def apply_simulation_options(hub: GatewayHub) -> None:
    """Make the running simulator match the entry's options (speed and scenarios)."""
    gateway = hub.gateway
    if not isinstance(gateway, SimulatedGateway) or gateway.simulator is None:
        return
    options = hub.entry.options
    speed = float(options.get(CONF_SPEED, DEFAULT_SPEED))
    if speed != gateway.speed:
        gateway.async_set_speed(speed)
    simulator = gateway.simulator
    wanted: set[tuple[Scenario, str]] = set()
    for option, scenario in (
        (CONF_RESIDENT_NOT_UP, Scenario.RESIDENT_NOT_UP),
        (CONF_SILENT_DEVICE, Scenario.SENSOR_SILENT),
        (CONF_LEAKING_METER, Scenario.LEAK),
    ):
        target = options.get(option, NONE_OPTION)
        if target and target != NONE_OPTION:
            wanted.add((scenario, target))
    if options.get(CONF_SNOWFALL):
        wanted.add((Scenario.SNOWFALL, ""))
    active = {(Scenario(name), target) for name, target in simulator.active_scenarios()}
    for scenario, target in active - wanted:
        if (scenario, target) in hub.option_scenarios:  # leave service-set ones alone
            gateway.async_set_scenario(scenario, False, target)
    for scenario, target in wanted - active:
        gateway.async_set_scenario(scenario, True, target)
    hub.option_scenarios = wanted


async def _async_update_listener(hass: HomeAssistant, entry: GatewayConfigEntry) -> None:
    """Options and devices change in place: no reload, so no uplink is lost meanwhile.

    A changed connection (reconfigure, reauthentication) is reloaded by its flow.
    """
    hub = entry.runtime_data
    hub.changes.async_apply()
    async_check_capacity(hub)
    hub.watchdog.async_limit_changed()
    apply_simulation_options(hub)
