"""The building wing: a building's apartments (care checks), water meters and snow sites.

``async_setup_building`` starts the building's runtime (care, water, snow), its device and
platforms; changes to its parts are applied in place by the update listener.
"""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.start import async_at_started

from . import care_board
from .apartment import care_index_store, care_store
from .phone_check import async_setup_phone_check, phone_check_store
from .runtime import BuildingConfigEntry, BuildingRuntime
from .snow import snow_store
from .water import water_store

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup_building(hass: HomeAssistant, entry: BuildingConfigEntry) -> bool:
    """A building: care checks for its apartments (subentries), on sensors of any gateway."""
    runtime = BuildingRuntime(hass, entry)
    await runtime.async_setup()  # care, water and snow state; the building's device
    entry.runtime_data = runtime
    entry.async_on_unload(runtime.async_shutdown)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    runtime.async_follow_sensors()
    await care_board.async_register(hass)  # the staff's care board, one view per building
    entry.async_on_unload(await async_setup_phone_check(hass, entry, runtime))  # if configured

    @callback
    def _start(_hass: HomeAssistant) -> None:
        runtime.async_start()  # apartments, meters, sites: late deadlines fire now, once

    # At boot, once Home Assistant has started: automations arm their triggers just before,
    # so the alerts that came due while it was down reach them. Now on a reload.
    entry.async_on_unload(async_at_started(hass, _start))
    entry.async_on_unload(entry.add_update_listener(_async_building_changed))
    runtime.async_apply_changes()  # apartments, meters or sites added while setting up
    return True


async def _async_building_changed(hass: HomeAssistant, entry: BuildingConfigEntry) -> None:
    """Apartments, meters, sites or defaults changed: applied in place, not by a reload.

    A reload would make every entity unavailable and judge deadlines as if Home Assistant
    had been down; the building's other apartments must not notice a change to one.
    """
    entry.runtime_data.async_apply_changes()


async def async_unload_building(hass: HomeAssistant, entry: BuildingConfigEntry) -> bool:
    """Unload a building entry; the care board loses its view when no building is left."""
    care_board.async_unregister_if_unused(hass, entry.entry_id)
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_building(hass: HomeAssistant, entry: BuildingConfigEntry) -> None:
    """A removed building takes its stored state (care, water, snow) with it."""
    await care_store(hass, entry.entry_id).async_remove()
    await care_index_store(hass, entry.entry_id).async_remove()
    await water_store(hass, entry.entry_id).async_remove()
    await snow_store(hass, entry.entry_id).async_remove()
    await phone_check_store(hass, entry.entry_id).async_remove()
