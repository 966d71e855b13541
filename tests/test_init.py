"""Setup, unload, reload and device removal of Ånge IoT."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)


async def test_setup_creates_demo_devices(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The demo site's 16 sensors appear as devices behind the gateway."""
    assert init_integration.state is ConfigEntryState.LOADED
    devices = dr.async_entries_for_config_entry(device_registry, init_integration.entry_id)
    sensors = [d for d in devices if d.via_device_id is not None]
    assert len(sensors) == 16
    models = sorted({d.model for d in sensors})
    assert models == ["EM500-UDL", "ERS", "Qalcosonic W1", "Strips Guard", "flowIQ 2200"]


async def test_first_reports_arrive(
    hass: HomeAssistant, init_integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Within a minute of start every demo device has reported."""
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    hub = init_integration.runtime_data
    assert all(t.state.last_seen for t in hub.pipeline.devices.values())
    assert hub.pipeline.counters["applied"] == 16
    assert hub.stats.malformed == 0


async def test_unload_and_reload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The entry unloads (timers cancelled) and reloads cleanly."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED


def test_device_name_drops_the_area_label() -> None:
    """HA prefixes the area itself; the device name must not repeat it."""
    from custom_components.ange_iot.angelib.names import device_name

    assert device_name("Lgh 1101 ytterdörr", "Lgh 1101") == "Ytterdörr"
    assert device_name("lgh 1101 – Rörelse", "Lgh 1101") == "Rörelse"
    assert device_name("Huvudvattenmätare", "Gruppbostad Solbacken") == "Huvudvattenmätare"
    assert device_name("Lgh 1101", "Lgh 1101") == "Lgh 1101"
    assert device_name("Snödjup plats 1", None) == "Snödjup plats 1"
