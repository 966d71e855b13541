"""Ånge IoT: LoRaWAN sensors of Ånge municipality as Home Assistant devices."""

from __future__ import annotations

from datetime import datetime

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_platform,
    entity_registry as er,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util

from . import care_board
from .angelib.simulator import Scenario
from .care_runtime import BuildingRuntime, care_store
from .const import (
    CONF_EPOCH,
    CONF_GATEWAY,
    CONF_KIND,
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
    KIND_BUILDING,
    NONE_OPTION,
)
from .coordinator import AngeConfigEntry, AngeHub
from .gateway import Gateway, SimulatedGateway
from .services import async_setup_services
from .snow_runtime import SnowRuntime, snow_store
from .water_runtime import WaterRuntime, water_store

GATEWAY_MODELS = {
    GATEWAY_SIMULATED: "Ånge IoT simulator (LoRaWAN)",
    GATEWAY_CHIRPSTACK_MQTT: "ChirpStack v4 (MQTT)",
    GATEWAY_CHIRPSTACK_HTTP: "ChirpStack v4 (HTTP integration)",
    GATEWAY_TTS_WEBHOOK: "The Things Stack v3 (webhook)",
    GATEWAY_TTS_MQTT: "The Things Stack v3 (MQTT)",
}

BUILDING_PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
]
PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's services."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: AngeConfigEntry) -> bool:
    """Set up one gateway entry with its devices, or one building with its apartments."""
    if entry.data.get(CONF_KIND) == KIND_BUILDING:
        return await _async_setup_building(hass, entry)  # type: ignore[arg-type]
    hub = AngeHub(hass, entry)
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
    hub.gateway_device_id = gateway_device.id
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)

    gateway = _create_gateway(hass, hub, entry)
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
    hub.applied_subentries = _subentry_snapshot(entry)
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: AngeConfigEntry) -> bool:
    """Unload a gateway or building entry."""
    if entry.data.get(CONF_KIND) != KIND_BUILDING:
        return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    care_board.async_unregister_if_unused(hass, entry.entry_id)
    return await hass.config_entries.async_unload_platforms(entry, BUILDING_PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: AngeConfigEntry) -> None:
    """A removed building takes its stored care state (activity times) with it."""
    if entry.data.get(CONF_KIND) == KIND_BUILDING:
        await care_store(hass, entry.entry_id).async_remove()
        await water_store(hass, entry.entry_id).async_remove()
        await snow_store(hass, entry.entry_id).async_remove()


async def _async_setup_building(hass: HomeAssistant, entry: ConfigEntry[BuildingRuntime]) -> bool:
    """A building: care checks for its apartments (subentries), on sensors of any gateway."""
    runtime = BuildingRuntime(hass, entry)
    await runtime.async_setup()
    runtime.water = WaterRuntime(hass, entry)
    await runtime.water.async_setup()
    entry.async_on_unload(runtime.water.async_shutdown)
    runtime.snow = SnowRuntime(hass, entry)
    await runtime.snow.async_setup()
    entry.async_on_unload(runtime.snow.async_shutdown)
    entry.runtime_data = runtime
    entry.async_on_unload(runtime.async_shutdown)
    building = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"building_{entry.entry_id}")},
        name=entry.title,
        manufacturer="Ånge IoT",
        entry_type=dr.DeviceEntryType.SERVICE,
    )
    runtime.building_device_id = building.id
    await hass.config_entries.async_forward_entry_setups(entry, BUILDING_PLATFORMS)
    runtime.async_follow_sensors()
    runtime.water.async_follow_sensors()
    care_board.async_register(hass)  # the staff's care board, one view per building

    @callback
    def _start(_hass: HomeAssistant) -> None:
        runtime.async_start()  # evaluates every apartment: late deadlines fire now, once
        runtime.water.async_start()  # meter alerts that came due while HA was down
        runtime.snow.async_start()

    # At boot, once Home Assistant has started: automations arm their triggers just before,
    # so the alerts that came due while it was down reach them. Now on a reload.
    entry.async_on_unload(async_at_started(hass, _start))
    entry.async_on_unload(entry.add_update_listener(_async_reload_building))
    return True


async def _async_reload_building(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Apartments or defaults changed: reload (state is stored, nothing is lost)."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: AngeConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Allow deleting a sensor device from the UI; it removes the device's subentry.

    Works also while the entry is not loaded (no runtime data then).
    """
    subentry_ids = {s.unique_id: s.subentry_id for s in entry.subentries.values()}
    for domain, identifier in device.identifiers:
        if domain != DOMAIN:
            continue
        if identifier in (f"gateway_{entry.entry_id}", f"building_{entry.entry_id}"):
            return False  # the gateway or building goes with its entry
        if identifier.startswith("apartment_"):
            apartment = identifier.removeprefix("apartment_")
            if apartment in entry.subentries:
                hass.config_entries.async_remove_subentry(entry, apartment)
            continue
        if subentry_id := subentry_ids.get(identifier):
            hass.config_entries.async_remove_subentry(entry, subentry_id)
    return True


def _create_gateway(hass: HomeAssistant, hub: AngeHub, entry: AngeConfigEntry) -> Gateway:
    """The transport of this entry's gateway type."""
    kind = entry.data[CONF_GATEWAY]
    if kind == GATEWAY_SIMULATED:
        return SimulatedGateway(
            hass,
            hub,
            seed=entry.data.get(CONF_SEED, DEFAULT_SEED),
            speed=float(entry.options.get(CONF_SPEED, DEFAULT_SPEED)),
            epoch=_simulation_epoch(entry),
        )
    if kind in (GATEWAY_CHIRPSTACK_MQTT, GATEWAY_CHIRPSTACK_HTTP):
        from .gateway_chirpstack import create_chirpstack_gateway  # noqa: PLC0415

        return create_chirpstack_gateway(hass, hub, kind)
    if kind in (GATEWAY_TTS_WEBHOOK, GATEWAY_TTS_MQTT):
        from .gateway_tts import create_tts_gateway  # noqa: PLC0415

        return create_tts_gateway(hass, hub, kind)
    raise ValueError(f"unknown gateway type {kind!r}")


def _simulation_epoch(entry: AngeConfigEntry) -> datetime:
    """When the simulated site began: stored at creation, else the entry's creation."""
    stored = entry.data.get(CONF_EPOCH)
    parsed = dt_util.parse_datetime(stored) if isinstance(stored, str) else None
    return parsed if parsed is not None and parsed.tzinfo else entry.created_at


def _subentry_snapshot(entry: AngeConfigEntry) -> dict[str, tuple[str, dict[str, object]]]:
    return {sid: (s.title, dict(s.data)) for sid, s in entry.subentries.items()}


def apply_simulation_options(hub: AngeHub) -> None:
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


async def _async_update_listener(hass: HomeAssistant, entry: AngeConfigEntry) -> None:
    """Options change in place; added, changed or removed devices reload the entry."""
    hub = entry.runtime_data
    if (snapshot := _subentry_snapshot(entry)) != hub.applied_subentries:
        applied = hub.applied_subentries
        changed = {sid for sid, value in snapshot.items() if applied.get(sid) != value}
        await hass.config_entries.async_reload(entry.entry_id)
        if entry.state is ConfigEntryState.LOADED:
            _async_remove_stale_entities(hass, entry, changed)
        return
    hub.async_silence_limit_changed()
    apply_simulation_options(hub)


@callback
def _async_remove_stale_entities(
    hass: HomeAssistant, entry: AngeConfigEntry, subentry_ids: set[str]
) -> None:
    """Drop the entities a changed device no longer has (another model, no mounting height).

    Only enabled entities of the changed subentries are checked: a disabled one has no
    live entity to compare with, and the other devices' entities were not touched.
    """
    provided = {
        entity_id
        for platform in entity_platform.async_get_platforms(hass, DOMAIN)
        if platform.config_entry is not None and platform.config_entry.entry_id == entry.entry_id
        for entity_id in platform.entities
    }
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if (
            entity.config_subentry_id in subentry_ids
            and not entity.disabled
            and entity.entity_id not in provided
        ):
            registry.async_remove(entity.entity_id)
