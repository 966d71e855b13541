"""Event platform of Ånge IoT: care alerts, meter alerts and snow clearing.

The building "Solbacken" (tests/building.py, fixtures in conftest.py) watches the demo site
of the simulated gateway: its care alerts (``building``), its meters (``water``) and its
parking lot (``site``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.ange_iot.const import DOMAIN

from .building import (
    ALERT_ID,
    ALERTS,
    APT,
    MORNING_DUE,
    NAMES,
    NOT_UP,
    STEP,
    Alerts,
    apartment_device,
    snow_building_entry,
    utc_iso,
    water_building_entry,
)
from .common import BUILDING_METER, METER_1101, async_run_until, fired_events, set_scenario

METER_ALERTS = "event.solbacken_meter_alerts"
CLEARING = "event.parkering_snow_clearing"
METER_EVENT_TYPES = [
    "alert_started",
    "alert_cleared",
    "alert_acknowledged",
    "reminder",
    "escalated",
]


def local_day(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Ånge in the test's week (November 2026)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("Europe/Stockholm"))


CARE_EVENT_TYPES = [
    "check_needed",
    "sensor_offline",
    "acknowledged",
    "resolved",
    "reminder",
    "escalated",
    "incident",
    "incident_resolved",
    "phone_check_failed",  # building/phone_check.py
]


@pytest.fixture
def platforms() -> list[Platform]:
    """The gateway without entity platforms: the building's entities are under test."""
    return []


@pytest.fixture
def building_platforms() -> list[Platform]:
    """The event platform alone (the snapshots); a behaviour test may take them all."""
    return [Platform.EVENT]


def fired(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    """An event entity's attributes (its last event)."""
    state = hass.states.get(entity_id)
    assert state is not None
    return dict(state.attributes)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("building_platforms", [[Platform.EVENT]], ids=["event"])
async def test_entities(
    hass: HomeAssistant,
    building: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The care building's event entity as it starts watching."""
    await snapshot_platform(hass, entity_registry, snapshot, building.entry_id)


@pytest.mark.parametrize("building_platforms", [[Platform.EVENT]], ids=["event"])
async def test_site_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    first_reports: MockConfigEntry,
    setup_building: Any,
) -> None:
    """A snow-clearing site's event entity, on the site's device."""
    entry = await setup_building(snow_building_entry())
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_meter_alerts_entity(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    water: MockConfigEntry,
) -> None:
    """A building with meters gets one meter-alerts event entity (not one a meter)."""
    await snapshot_platform(hass, entity_registry, snapshot, water.entry_id)


@NOT_UP
@pytest.mark.parametrize("building_platforms", [None], ids=["care"])  # the device ids too
async def test_care_alert_event(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry, alerts: Alerts
) -> None:
    """A missed morning: check_needed with the apartment, reason, times and its device."""
    state = hass.states.get(ALERTS)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert state.attributes["event_types"] == CARE_EVENT_TYPES
    assert state.attributes["event_type"] is None

    await async_run_until(hass, freezer, MORNING_DUE, STEP)
    state = hass.states.get(ALERTS)
    assert dt_util.parse_datetime(state.state) == MORNING_DUE
    assert fired(hass, ALERTS) == {
        "event_types": CARE_EVENT_TYPES,
        "event_type": "check_needed",
        "apartment": APT,
        "reason": "no_morning_activity",
        "since": utc_iso(MORNING_DUE),
        "late": False,
        "id": f"{ALERT_ID}|check_needed",
        "alert_id": ALERT_ID,
        "device_id": apartment_device(hass),
        "friendly_name": "Solbacken Care alerts",
    }
    assert [a["event_type"] for a in alerts.fired] == ["check_needed"]


@pytest.mark.parametrize("platforms", [[Platform.BUTTON]])
async def test_meter_alert_event(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    first_reports: MockConfigEntry,
    setup_building: Any,
) -> None:
    """A leak the meters report: alert_started per meter, with the meter and its device."""
    await set_scenario(hass, first_reports, "leak", METER_1101, True)
    await setup_building(water_building_entry())
    state = hass.states.get(METER_ALERTS)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert state.attributes["event_types"] == METER_EVENT_TYPES
    meter_alerts = fired_events(hass, METER_ALERTS)

    await async_run_until(hass, freezer, local_day(24, 5, 31), timedelta(minutes=30))
    leaks = [e for e in meter_alerts if e["alert"] == "leak" and e["event_type"] == "alert_started"]
    assert {e["meter"] for e in leaks} == {NAMES[METER_1101], NAMES[BUILDING_METER]}
    [flat] = [e for e in leaks if e["meter"] == NAMES[METER_1101]]
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, METER_1101), first_reports.entry_id
    )
    assert device is not None
    assert flat == {
        "event_type": "alert_started",
        "alert": "leak",
        "alert_id": f"{METER_1101}|leak|{flat['since']}",
        "source": "meter",
        "meter": NAMES[METER_1101],
        "meter_device_id": device.id,
        "building": "Solbacken",
        "since": flat["since"],
        "leak_rate_lph": None,
    }
    assert dt_util.parse_datetime(flat["since"]) <= dt_util.utcnow()
    # Open and nobody took them: reminders follow, nothing else.
    assert {e["event_type"] for e in meter_alerts} <= {"alert_started", "reminder"}
    assert hass.states.get(METER_ALERTS).attributes["event_type"] == meter_alerts[-1]["event_type"]


async def test_snow_clearing_event(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    first_reports: MockConfigEntry,
    site: MockConfigEntry,
) -> None:
    """Snowfall past the threshold: clearing_needed with the site, depth and threshold."""
    state = hass.states.get(CLEARING)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert state.attributes["event_types"] == ["clearing_needed", "cleared"]
    clearing = fired_events(hass, CLEARING)

    await set_scenario(hass, first_reports, "snowfall", active=True)
    await async_run_until(
        hass, freezer, dt_util.utcnow() + timedelta(hours=5), timedelta(minutes=10)
    )
    [needed] = clearing
    assert set(needed) == {
        "event_type",
        "site",
        "depth_cm",
        "threshold_cm",
        "baseline_cm",
        "peak_cm",
        "since",
    }
    assert needed["event_type"] == "clearing_needed"
    assert needed["site"] == "Parkering"
    assert needed["threshold_cm"] == 8
    assert 8 <= needed["depth_cm"] == needed["peak_cm"] < 8.5
    assert needed["baseline_cm"] < needed["depth_cm"]
    assert dt_util.parse_datetime(needed["since"]) <= dt_util.utcnow()
