"""Fixtures for the Ånge IoT tests (core style: see shared/specs/style.md)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from contextlib import ExitStack
from datetime import datetime, timedelta
import logging
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import Event, HomeAssistant, State, callback
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

from .building import (
    ALERTS,
    STEP,
    WATCHING,
    Alerts,
    building_entry,
    snow_building_entry,
    water_building_entry,
)
from .common import FIRST_REPORTS, async_run_until, set_scenario

# pytest-homeassistant-custom-component's plugin calls logging.basicConfig() at import (a
# handler on the terminal's stderr, which pytest's capture does not cover for the recorder's
# thread) and turns sqlalchemy.engine up to INFO: every recorder test printed its SQL.
# pytest's logging plugin (caplog, "Captured log" on a failure) is the one log sink here.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
for _handler in list(logging.getLogger().handlers):
    if type(_handler) is logging.StreamHandler:  # basicConfig's; pytest's are subclasses
        logging.getLogger().removeHandler(_handler)

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


# -- the building "Solbacken" (tests/building.py) ---------------------------------------

SetupBuilding = Callable[..., Awaitable[MockConfigEntry]]  # (entry, default platforms)
# The care building's platforms: what the care tests look at (no buttons, no snow sensors).
CARE_PLATFORMS = [Platform.EVENT, Platform.SENSOR, Platform.SWITCH]


@pytest.fixture
def building_platforms() -> list[Platform] | None:
    """The building's platforms to load (None: the fixture's own; a module or test overrides)."""
    return None


@pytest.fixture
def setup_building(
    hass: HomeAssistant, building_platforms: list[Platform] | None
) -> Generator[SetupBuilding]:
    """Add a building entry and set it up; its platforms stay patched for the whole test.

    ``building_platforms`` if set, else ``default`` if given, else every building platform.
    """
    with ExitStack() as stack:

        async def _setup(
            entry: MockConfigEntry, default: list[Platform] | None = None
        ) -> MockConfigEntry:
            chosen = default if building_platforms is None else building_platforms
            if chosen is not None:
                stack.enter_context(patch("custom_components.ange_iot.building.PLATFORMS", chosen))
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            return entry

        yield _setup


@pytest.fixture
def not_up() -> tuple[str, ...]:
    """Apartments whose resident stays in bed (a test parametrizes this)."""
    return ()


@pytest.fixture
def alerts(hass: HomeAssistant) -> Alerts:
    """Collect every event the care-alerts entity fires (not its restored states)."""
    log = Alerts()

    @callback
    def _on_state(event: Event) -> None:
        new: State | None = event.data["new_state"]
        if event.data["entity_id"] != ALERTS or new is None:
            return
        if new.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            return
        # A fired event is stamped now (a millisecond later for a second one in the same
        # instant); a state restored after a reload is older.
        stamp = dt_util.parse_datetime(new.state)
        if stamp is None or abs(stamp - dt_util.utcnow()) >= timedelta(seconds=1):
            return
        log.fired.append(
            {k: v for k, v in new.attributes.items() if k not in ("event_types", "friendly_name")}
        )

    hass.bus.async_listen("state_changed", _on_state)
    return log


@pytest.fixture
async def building(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    alerts: Alerts,
    setup_building: SetupBuilding,
    *,
    not_up: tuple[str, ...],
) -> MockConfigEntry:
    """The demo site with the care building (an apartment per demo apartment) from 07:31.

    With the care platforms unless the test sets ``building_platforms``.
    """
    for label in not_up:
        await set_scenario(hass, init_integration, "resident_not_up", label)
    await async_run_until(hass, freezer, WATCHING, STEP)
    return await setup_building(building_entry(), CARE_PLATFORMS)


@pytest.fixture
async def water(first_reports: MockConfigEntry, setup_building: SetupBuilding) -> MockConfigEntry:
    """The demo site with the building's meters set up after the first reports."""
    return await setup_building(water_building_entry())


@pytest.fixture
async def site(first_reports: MockConfigEntry, setup_building: SetupBuilding) -> MockConfigEntry:
    """The demo site with the building (and its lot) set up after the first reports."""
    return await setup_building(snow_building_entry())
