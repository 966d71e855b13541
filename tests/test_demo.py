"""The demo's quick start: a care alert, a meter alert and snow clearing within minutes.

``scripts/develop`` sets the demo up as below (the simulator's ``DEMO_*`` constants): the
site at 360×, a running toilet, snowfall, and a resident who does not get up in an
apartment whose own settings check for two minutes without activity. The care checks run
on Home Assistant's real clock; nothing fakes time in the engine.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ange_iot.angelib.simulator import (
    APARTMENTS,
    DEMO_DEVICES,
    DEMO_LEAKING_METER,
    DEMO_NOT_UP,
    DEMO_NOT_UP_SETTINGS,
    DEMO_QUICK_SPEED,
    Role,
)
from custom_components.ange_iot.const import DOMAIN

from .common import BUILDING_OPTIONS, async_tick, fired_events
from .conftest import START

BUILDING_ID = "demo_building"
STEP = timedelta(seconds=1)  # the site reports every ~0.1 s of real time at 360×


@pytest.fixture
def mock_config_entry(mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """The demo gateway as scripts/develop leaves it: quick, with the three scenarios."""
    return MockConfigEntry(
        domain=mock_config_entry.domain,
        entry_id=mock_config_entry.entry_id,
        title=mock_config_entry.title,
        unique_id=mock_config_entry.unique_id,
        data=dict(mock_config_entry.data),
        options={
            "speed": DEMO_QUICK_SPEED,
            "resident_not_up": DEMO_NOT_UP,
            "silent_device": "none",
            "leaking_meter": DEMO_LEAKING_METER,
            "snowfall": True,
        },
        subentries_data=[
            ConfigSubentryDataWithId(
                subentry_id=s.subentry_id,
                subentry_type=s.subentry_type,
                title=s.title,
                unique_id=s.unique_id,
                data=dict(s.data),
            )
            for s in mock_config_entry.subentries.values()
        ],
    )


@pytest.fixture
def platforms() -> list[Any]:
    """The gateway without entity platforms: the building's events are under test."""
    return []


def demo_building() -> MockConfigEntry:
    """The demo building as scripts/develop adds it."""
    apartments = [
        ConfigSubentryDataWithId(
            subentry_id=f"apt_{label[-4:]}",
            subentry_type="apartment",
            title=label,
            unique_id=None,
            data={
                "label": label,
                "sensors": [
                    d.dev_eui
                    for d in DEMO_DEVICES
                    if d.area == label and d.role in (Role.MOTION, Role.DOOR)
                ],
                "enabled": True,
                "morning_check": True,
                "inactivity_check": True,
                "night_door": False,
                **(DEMO_NOT_UP_SETTINGS if label == DEMO_NOT_UP else {}),
            },
        )
        for label in APARTMENTS
    ]
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=BUILDING_ID,
        title="Gruppbostad Solbacken",
        data={"kind": "building"},
        options=BUILDING_OPTIONS | {"inactivity_limit": {"hours": 6, "minutes": 0, "seconds": 0}},
        subentries_data=[
            *apartments,
            ConfigSubentryDataWithId(
                subentry_id="meter",
                subentry_type="water_meter",
                title="Lgh 1101 vattenmätare",
                unique_id=DEMO_LEAKING_METER,
                data={
                    "dev_eui": DEMO_LEAKING_METER,
                    "counted": False,
                    "continuous_by_design": False,
                },
            ),
            ConfigSubentryDataWithId(
                subentry_id="parking",
                subentry_type="snow_site",
                title="Parkering",
                unique_id=None,
                data={
                    "name": "Parkering",
                    "sensors": [d.dev_eui for d in DEMO_DEVICES if d.role is Role.SNOW],
                    "threshold_cm": 8,
                    "min_rise_cm": 5,
                },
            ),
        ],
    )


async def test_quick_start_shows_all_three_within_minutes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """Started at 07:30: the care alert, the meter alert and snow clearing by 07:35."""
    building = demo_building()
    building.add_to_hass(hass)
    with patch("custom_components.ange_iot.building.PLATFORMS", ["event"]):
        assert await hass.config_entries.async_setup(building.entry_id)
        await hass.async_block_till_done()
    registry = er.async_get(hass)

    def event_entity(key: str) -> str:
        found = registry.async_get_entity_id("event", DOMAIN, f"{BUILDING_ID}_{key}")
        assert found is not None, key
        return found

    care = fired_events(hass, event_entity("care_alerts"))
    meters = fired_events(hass, event_entity("meter_alerts"))
    snow = fired_events(hass, event_entity("parking_snow_clearing"))
    first: dict[str, float] = {}
    started = dt_util.utcnow()
    while dt_util.utcnow() < START + timedelta(minutes=5) and len(first) < 3:
        await async_tick(hass, freezer, STEP)
        elapsed = (dt_util.utcnow() - started).total_seconds() / 60
        for name, fired in (("care", care), ("meter", meters), ("snow", snow)):
            if fired and name not in first:
                first[name] = elapsed

    assert [(e["event_type"], e["apartment"]) for e in care][:1] == [("check_needed", DEMO_NOT_UP)]
    assert care[0]["reason"] == "inactive"
    assert [e["event_type"] for e in meters][:1] == ["alert_started"]
    assert meters[0]["meter"] == "Lgh 1101 vattenmätare"
    assert [e["event_type"] for e in snow][:1] == ["clearing_needed"]
    assert all(minutes <= 5 for minutes in first.values()), first
    # Only the demo apartment: the others are up and about.
    assert {e["apartment"] for e in care} == {DEMO_NOT_UP}
