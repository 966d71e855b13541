"""Fixtures for the Ånge IoT tests (core style: see shared/specs/style.md)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from datetime import datetime
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

# Imported at collection time so HA's loader finds our integration, not a test copy.
from custom_components.ange_iot.config_flow import demo_subentries
from custom_components.ange_iot.const import (
    CONF_EPOCH,
    CONF_GATEWAY,
    CONF_SEED,
    CONF_SPEED,
    DEFAULT_SEED,
    DOMAIN,
    GATEWAY_SIMULATED,
)

from .common import FIRST_REPORTS, async_run_until

# A Monday morning in Ånge: residents waking up, the daily-activity outing ahead.
START = datetime(2026, 11, 23, 7, 30, tzinfo=ZoneInfo("Europe/Stockholm"))


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom integrations in every test."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, also those disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
    ):
        yield


@pytest.fixture
def platforms() -> list[Platform]:
    """Platforms to load (a platform test overrides this with its one platform)."""
    return [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """The simulated gateway with the demo site's devices."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id="01JANGEDEMO0000000000000000",  # fixed: unique ids include it (snapshots)
        title="Ånge LSS demo",
        unique_id=GATEWAY_SIMULATED,
        data={
            CONF_GATEWAY: GATEWAY_SIMULATED,
            CONF_SEED: DEFAULT_SEED,
            CONF_EPOCH: START.isoformat(),
        },
        options={CONF_SPEED: "1"},
        subentries_data=demo_subentries(),
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    platforms: list[Platform],
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the simulated gateway at START and deliver its first reports."""
    freezer.move_to(START)
    await hass.config.async_set_time_zone("Europe/Stockholm")
    mock_config_entry.add_to_hass(hass)
    with patch("custom_components.ange_iot.gateway.PLATFORMS", platforms):
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        yield mock_config_entry


@pytest.fixture
async def first_reports(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> MockConfigEntry:
    """The demo site a minute after start: every device has reported once."""
    await async_run_until(hass, freezer, dt_util.utcnow() + FIRST_REPORTS)
    return init_integration
