"""What a gateway's start builds: no registry-disabled entity, each device once (issue 13).

A start builds only the entities the entity registry has enabled, or has not seen yet
(so a new device's disabled-by-default entities get registered, to be enabled in the UI).
Enabling one makes Home Assistant reload the entry after ``RELOAD_AFTER_UPDATE_DELAY``,
and the reload builds it. Each device is written to the device registry once, not once
per entity.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from types import MappingProxyType
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import RELOAD_AFTER_UPDATE_DELAY, ConfigSubentry
from homeassistant.const import CONF_NAME, STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_platform,
    entity_registry as er,
)
from homeassistant.helpers.entity import EntityDescription
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ange_iot.const import (
    CONF_DEV_EUI,
    CONF_MISSED_REPORTS,
    CONF_MODEL,
    CONF_REPORT_INTERVAL,
    DOMAIN,
    SUBENTRY_DEVICE,
)
from custom_components.ange_iot.gateway.entity import AngeDeviceEntity
from custom_components.ange_iot.gateway.hub import GatewayHub

from .common import METER_1101, MOTION_1101, async_tick, entity_id

NEW = "a81758fffe0a7777"


@pytest.fixture
def built() -> Generator[list[str]]:
    """The unique ids of the device entities built (constructed) from now on."""
    unique_ids: list[str] = []
    original = AngeDeviceEntity.__init__

    def _init(
        self: AngeDeviceEntity, hub: GatewayHub, dev_eui: str, description: EntityDescription
    ) -> None:
        original(self, hub, dev_eui, description)
        unique_ids.append(str(self.unique_id))

    with patch.object(AngeDeviceEntity, "__init__", _init):
        yield unique_ids


def _device_entries(
    registry: er.EntityRegistry, entry: MockConfigEntry
) -> dict[str, er.RegistryEntry]:
    """The entry's device entities in the registry by unique id (not the gateway's own)."""
    return {
        e.unique_id: e
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if not e.unique_id.startswith(entry.entry_id)
    }


def _live(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    """Unique ids of the entities the entry's platforms hold (added to Home Assistant)."""
    return {
        str(entity.unique_id)
        for platform in entity_platform.async_get_platforms(hass, DOMAIN)
        if platform.config_entry is not None and platform.config_entry.entry_id == entry.entry_id
        for entity in platform.entities.values()
        if not str(entity.unique_id).startswith(entry.entry_id)
    }


async def test_restart_builds_only_enabled_entities(
    hass: HomeAssistant,
    first_reports: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    built: list[str],
) -> None:
    """Disabled by default or by the user: registered, not built at the next start."""
    battery = entity_id(entity_registry, Platform.SENSOR, MOTION_1101, "battery_voltage")
    entity_registry.async_update_entity(battery, disabled_by=er.RegistryEntryDisabler.USER)
    await hass.async_block_till_done()
    registered = _device_entries(entity_registry, first_reports)
    enabled = {uid for uid, e in registered.items() if not e.disabled}
    disabled = set(registered) - enabled
    assert len(disabled) > 2 * len(enabled)  # radio diagnostics, meter alarms, buttons

    assert await hass.config_entries.async_reload(first_reports.entry_id)
    await hass.async_block_till_done()

    assert sorted(built) == sorted(enabled)  # each enabled one once, no disabled one
    assert _live(hass, first_reports) == enabled
    assert _device_entries(entity_registry, first_reports).keys() == registered.keys()
    assert hass.states.get(battery) is None
    rssi = entity_id(entity_registry, Platform.SENSOR, MOTION_1101, "rssi")
    assert hass.states.get(rssi) is None
    temperature = entity_id(entity_registry, Platform.SENSOR, MOTION_1101, "temperature")
    assert hass.states.get(temperature).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


async def test_enabling_an_entity_builds_it_after_the_reload(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Enabled in the UI: Home Assistant reloads the entry, and the entity shows its value."""
    assert await hass.config_entries.async_reload(first_reports.entry_id)
    await hass.async_block_till_done()
    rssi = entity_id(entity_registry, Platform.SENSOR, MOTION_1101, "rssi")
    leak = entity_id(entity_registry, Platform.BINARY_SENSOR, METER_1101, "leak")
    assert hass.states.get(rssi) is None
    hub = first_reports.runtime_data

    entity_registry.async_update_entity(rssi, disabled_by=None)
    entity_registry.async_update_entity(leak, disabled_by=None)
    await hass.async_block_till_done()
    assert hass.states.get(rssi) is None  # not before the reload
    await async_tick(hass, freezer, timedelta(seconds=RELOAD_AFTER_UPDATE_DELAY + 1))

    assert first_reports.runtime_data is not hub  # reloaded
    state = hass.states.get(rssi)
    assert state is not None
    assert float(state.state) == first_reports.runtime_data.device(MOTION_1101).state.rssi
    assert hass.states.get(leak).state == "off"


async def test_new_device_registers_its_disabled_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    built: list[str],
) -> None:
    """A device added in place: its disabled-by-default entities are registered, disabled.

    A later change of the device keeps them registered, and builds them no more.
    """
    subentry = ConfigSubentry(
        data=MappingProxyType(
            {
                CONF_DEV_EUI: NEW,
                CONF_MODEL: "elsys_ers",
                CONF_REPORT_INTERVAL: 600,
                CONF_MISSED_REPORTS: 3,
            }
        ),
        subentry_type=SUBENTRY_DEVICE,
        title="Lgh 1103 hall",
        unique_id=NEW,
    )
    hass.config_entries.async_add_subentry(init_integration, subentry)
    await hass.async_block_till_done()

    new: dict[str, Any] = {
        uid: e
        for uid, e in _device_entries(entity_registry, init_integration).items()
        if uid.startswith(NEW)
    }
    disabled = {uid for uid, e in new.items() if e.disabled}
    assert {f"{NEW}_rssi", f"{NEW}_motion", f"{NEW}_motion_count"} <= disabled
    assert f"{NEW}_temperature" in new.keys() - disabled
    assert sorted(built) == sorted(new)  # every one built once: first sight
    assert {uid for uid in _live(hass, init_integration) if uid.startswith(NEW)} == (
        new.keys() - disabled
    )

    built.clear()
    hass.config_entries.async_update_subentry(
        init_integration, subentry, data={**subentry.data, CONF_NAME: "x"}, title="Lgh 1103 kök"
    )
    await hass.async_block_till_done()
    assert init_integration.runtime_data.device(NEW).config.name == "Lgh 1103 kök"
    after = {
        uid: e
        for uid, e in _device_entries(entity_registry, init_integration).items()
        if uid.startswith(NEW)
    }
    assert after.keys() == new.keys()  # the disabled ones were not dropped
    assert {uid for uid, e in after.items() if e.disabled} == disabled
    assert sorted(built) == sorted(new.keys() - disabled)


async def test_restart_registers_each_device_once(
    hass: HomeAssistant,
    first_reports: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """One device-registry write per device (and the gateway's), whatever its entities."""
    devices = {
        d.id: d for d in dr.async_entries_for_config_entry(device_registry, first_reports.entry_id)
    }
    real = dr.DeviceRegistry.async_get_or_create
    calls: list[set[tuple[str, str]]] = []

    def _counted(self: dr.DeviceRegistry, **kwargs: Any) -> dr.DeviceEntry:
        calls.append(kwargs["identifiers"])
        return real(self, **kwargs)

    with patch.object(dr.DeviceRegistry, "async_get_or_create", _counted):
        assert await hass.config_entries.async_reload(first_reports.entry_id)
        await hass.async_block_till_done()

    assert len(calls) == len(devices) == len(first_reports.subentries) + 1
    after = {
        d.id: d for d in dr.async_entries_for_config_entry(device_registry, first_reports.entry_id)
    }
    assert after == devices  # the same devices, unchanged
    for entity in er.async_entries_for_config_entry(entity_registry, first_reports.entry_id):
        assert entity.device_id in devices, entity.entity_id
