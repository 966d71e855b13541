"""Diagnostics of Ånge IoT: device health without identities or residents' data."""

from __future__ import annotations

import json

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.ange_iot.angelib.simulator import (
    APARTMENTS,
    DEMO_BUILDING,
    DEMO_DEVICES,
    DEMO_LOT,
)
from custom_components.ange_iot.config_flow import demo_subentries
from custom_components.ange_iot.const import (
    CONF_GATEWAY,
    CONF_LEAKING_METER,
    CONF_RESIDENT_NOT_UP,
    CONF_SEED,
    CONF_SILENT_DEVICE,
    CONF_SNOWFALL,
    CONF_SPEED,
    DEFAULT_SEED,
    DOMAIN,
    GATEWAY_SIMULATED,
)
from custom_components.ange_iot.gateway.diagnostics import RESIDENT_FIELDS

from .common import FIRST_REPORTS, METER_1101, MOTION_1101, async_run_until


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """The demo entry with every scenario option pointing at a device or apartment."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Ånge LSS demo",
        unique_id=GATEWAY_SIMULATED,
        data={CONF_GATEWAY: GATEWAY_SIMULATED, CONF_SEED: DEFAULT_SEED},
        options={
            CONF_SPEED: "1",
            CONF_RESIDENT_NOT_UP: APARTMENTS[1],
            CONF_SILENT_DEVICE: MOTION_1101,
            CONF_LEAKING_METER: METER_1101,
            CONF_SNOWFALL: False,
        },
        subentries_data=demo_subentries(),
    )


async def test_diagnostics(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    hass_client: ClientSessionGenerator,  # after the clock is moved: its token is fresh
    snapshot: SnapshotAssertion,
) -> None:
    """Counters and device health, snapshotted; nothing that identifies a person or place."""
    await async_run_until(hass, freezer, dt_util.utcnow() + FIRST_REPORTS)
    hub = init_integration.runtime_data
    hub.async_handle_chirpstack(b"{not json", source="test")  # a malformed one to count

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diagnostics == snapshot

    dump = json.dumps(diagnostics, ensure_ascii=False)
    for device in DEMO_DEVICES:
        assert device.dev_eui not in dump.lower()
        assert device.name not in dump
        assert device.area not in dump
    assert "Lgh" not in dump
    assert DEMO_BUILDING not in dump
    assert DEMO_LOT not in dump
    assert init_integration.title not in dump

    # Water use: no meter's reading, in m³ or litres.
    for dev_eui, tracked in hub.pipeline.devices.items():
        volume = tracked.state.values.get("volume")
        if volume is None:
            continue
        assert str(volume) not in dump, dev_eui
        assert str(round(volume * 1000)) not in dump, dev_eui

    devices = diagnostics["devices"]
    assert isinstance(devices, list)
    assert len(devices) == 16
    for device in devices:
        assert isinstance(device, dict)
        values = device["values"]
        assert isinstance(values, dict)
        # No motion counts, door states, presence or volumes as values.
        assert not set(values) & RESIDENT_FIELDS
        assert values.keys().isdisjoint({"motion_count", "door", "volume", "occupancy"})
    # The redacted fields are named, so a support request shows what the device sends.
    assert any("motion_count (redacted)" in d["fields"] for d in devices)  # type: ignore[index]

    gateway = diagnostics["gateway"]
    assert isinstance(gateway, dict)
    assert gateway["malformed"] == 1
    assert gateway["messages"] == hub.stats.messages
    entry = diagnostics["entry"]
    assert isinstance(entry, dict)
    assert entry["options"] == {
        CONF_SPEED: "1",
        CONF_RESIDENT_NOT_UP: "**REDACTED**",
        CONF_SILENT_DEVICE: "**REDACTED**",
        CONF_LEAKING_METER: "**REDACTED**",
        CONF_SNOWFALL: False,
    }
