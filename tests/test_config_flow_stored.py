"""Entries stored by the flows as they were when the flows moved into the wings.

The dicts below are literal copies of what the config, options and subentry flows wrote
(gateway/config_flow.py, gateway/device_flow.py, gateway/options_flow.py,
building/config_flow.py, building/part_flows.py), not built by the code under test: a flow
that starts storing something else, or reads the stored keys differently, fails here. Each
entry sets up; its options and each subentry's reconfigure flow open with the stored values
and, saved as shown, leave data, options, titles and unique ids as they were, and Home
Assistant logs no "Detected that custom integration" about any of these flows.
"""

from __future__ import annotations

import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryDataWithId
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ange_iot.const import DOMAIN
from custom_components.ange_iot.gateway.config_flow import demo_subentries

from .building import form_values
from .common import DOOR_1101, METER_1101, MOTION_1101, SNOW_1
from .conftest import START

DEPRECATION = "Detected that custom integration"
ERS = "a81758fffe0a7001"
HOOK = "0123456789abcdef0123456789abcdef"

DEVICE = ConfigSubentryDataWithId(  # as the device form stores a sensor
    subentry_id="dev_ers",
    subentry_type="device",
    title="Lgh 1101 hall",
    unique_id=ERS,
    data={
        "dev_eui": ERS,
        "model": "elsys_ers",
        "missed_reports": 3,
        "invert_door": False,
        "report_interval": 600,
        "mounting_height": None,
    },
)

# Gateway entries as each network server's step creates them: (title, unique id, data).
GATEWAYS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "chirpstack_mqtt": (
        "ChirpStack",
        "chirpstack_mqtt:application/app/device/+/event/+",
        {
            "gateway": "chirpstack_mqtt",
            "topic_template": "application/{applicationId}/device/{devEui}/event/{event}",
            "application_id": "app",
        },
    ),
    "chirpstack_http": (
        "ChirpStack",
        f"chirpstack_http:{HOOK}",
        {
            "gateway": "chirpstack_http",
            "webhook_id": HOOK,
            "secret": "s3cret",
            "application_id": None,
        },
    ),
    "tts_webhook": (
        "The Things Stack",
        f"tts_webhook:{HOOK}",
        {
            "gateway": "tts_webhook",
            "webhook_id": HOOK,
            "secret": "s3cret",
            "application_id": "ange-lss",
            "backfill": False,
            "host": None,
            "api_key": None,
        },
    ),
    "tts_mqtt": (
        "The Things Stack",
        "tts_mqtt:v3/ange-lss@ttn/devices/+/up",
        {
            "gateway": "tts_mqtt",
            "application_id": "ange-lss",
            "tenant": "ttn",
            "backfill": False,
            "host": None,
            "api_key": None,
        },
    ),
}
GATEWAY_OPTIONS = {"silence_limit": 60}

# The simulator: its one options form stores every field.
SIMULATOR_OPTIONS = {
    "speed": "60",
    "resident_not_up": "Lgh 1102",
    "silent_device": "none",
    "leaking_meter": "none",
    "snowfall": True,
}

# A building as its entry step, care form and water form store it.
BUILDING_OPTIONS = {
    "morning_start": "06:00:00",
    "morning_deadline": "09:00:00",
    "active_start": "07:00:00",
    "active_end": "22:00:00",
    "inactivity_limit": {"hours": 4, "minutes": 0, "seconds": 0},
    "grace": {"hours": 0, "minutes": 15, "seconds": 0},
    "reminder_interval": {"hours": 0, "minutes": 15, "seconds": 0},
    "night_door": False,
    "night_start": "23:00:00",
    "night_end": "05:00:00",
    "water_night_start": "00:00:00",
    "water_night_end": "06:00:00",
    "water_night_check": "07:00:00",
    "night_flow_lph": 5.0,
    "high_use_factor": 3.0,
    "daily_limit_l": 900.0,
    "silent_hours": 48.0,
    "meter_reminder_interval": {"hours": 0, "minutes": 15, "seconds": 0},
    "meter_escalation_delay": {"hours": 0, "minutes": 0, "seconds": 0},
}
BUILDING_PARTS = [
    ConfigSubentryDataWithId(  # the apartment form: own times stored flat
        subentry_id="apt_1101",
        subentry_type="apartment",
        title="Lgh 1101",
        unique_id=None,
        data={
            "label": "Lgh 1101",
            "sensors": [MOTION_1101, DOOR_1101],
            "enabled": True,
            "morning_check": True,
            "inactivity_check": False,
            "night_door": True,
            "morning_deadline": "10:00:00",
            "grace": {"hours": 0, "minutes": 20, "seconds": 0},
        },
    ),
    ConfigSubentryDataWithId(  # the meter form: its title says what it is
        subentry_id="meter_2101",
        subentry_type="water_meter",
        title="Meter alerts and statistics: Lgh 1101 vattenmätare",
        unique_id=METER_1101,
        data={
            "dev_eui": METER_1101,
            "counted": False,
            "continuous_by_design": False,
            "night_flow_lph": 8.0,
        },
    ),
    ConfigSubentryDataWithId(  # the site form
        subentry_id="site_lot",
        subentry_type="snow_site",
        title="Parkering",
        unique_id=None,
        data={"name": "Parkering", "sensors": [SNOW_1], "threshold_cm": 8.0, "min_rise_cm": 5.0},
    ),
]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder runs (a building's water meters keep statistics)."""


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """The simulated gateway, its options as the simulator's options form stores them."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Ånge LSS demo",
        unique_id="simulated",
        data={"gateway": "simulated", "seed": 2026, "epoch": START.isoformat()},
        options=SIMULATOR_OPTIONS,
        subentries_data=demo_subentries(),
    )


def snapshot(entry: MockConfigEntry) -> dict[str, Any]:
    """What the flows may change: the entry's data, options, unique id and subentries."""
    return {
        "data": dict(entry.data),
        "options": dict(entry.options),
        "unique_id": entry.unique_id,
        "subentries": {
            s.subentry_id: (s.subentry_type, s.title, s.unique_id, dict(s.data))
            for s in entry.subentries.values()
        },
    }


async def save_options_as_shown(
    hass: HomeAssistant, entry: MockConfigEntry, menu_choice: str | None, step_id: str
) -> None:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    if menu_choice is not None:
        assert result["type"] is FlowResultType.MENU
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": menu_choice}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step_id
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form_values(result)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def save_subentries_as_shown(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    for subentry_id in list(entry.subentries):
        result = await entry.start_subentry_reconfigure_flow(hass, subentry_id)
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "reconfigure"
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], form_values(result)
        )
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()


async def _gateway_opens_and_saves_unchanged(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    caplog.set_level(logging.WARNING)
    freezer.move_to(START)
    title, unique_id, data = GATEWAYS[kind]
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=unique_id,
        data=data,
        options=GATEWAY_OPTIONS,
        subentries_data=[DEVICE],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    stored = snapshot(entry)

    await save_options_as_shown(hass, entry, None, "connection")
    await save_subentries_as_shown(hass, entry)
    result = await entry.start_reconfigure_flow(hass)
    if kind == "chirpstack_http":
        assert result["reason"] == "nothing_to_reconfigure"
    else:
        assert result["step_id"] == "reconfigure"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], form_values(result)
        )
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()

    assert snapshot(entry) == stored
    assert entry.state is ConfigEntryState.LOADED
    assert DEPRECATION not in caplog.text


@pytest.mark.parametrize("kind", ["chirpstack_http", "tts_webhook"])
async def test_stored_webhook_gateway_opens_and_saves_unchanged(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    """A webhook gateway: set up; options, its sensor and its connection (where there is
    one to change) saved as shown change nothing."""
    await _gateway_opens_and_saves_unchanged(hass, freezer, caplog, kind)


@pytest.mark.parametrize("kind", ["chirpstack_mqtt", "tts_mqtt"])
@pytest.mark.usefixtures("mqtt_mock")
async def test_stored_mqtt_gateway_opens_and_saves_unchanged(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    """An MQTT gateway: set up; options, its sensor and its connection saved as shown
    change nothing."""
    await _gateway_opens_and_saves_unchanged(hass, freezer, caplog, kind)


async def test_stored_simulator_and_building_open_and_save_unchanged(
    hass: HomeAssistant, init_integration: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """The simulator's options; a building with an apartment, a water meter and a snow
    site: set up; both kinds of defaults and each part saved as shown change nothing."""
    caplog.set_level(logging.WARNING)
    simulator = init_integration
    stored_simulator = snapshot(simulator)
    await save_options_as_shown(hass, simulator, None, "simulation")
    assert snapshot(simulator) == stored_simulator

    building = MockConfigEntry(
        domain=DOMAIN,
        title="Solbacken",
        data={"kind": "building"},
        options=BUILDING_OPTIONS,
        subentries_data=BUILDING_PARTS,
    )
    building.add_to_hass(hass)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    assert building.state is ConfigEntryState.LOADED
    stored = snapshot(building)

    await save_options_as_shown(hass, building, "care", "care")
    await save_options_as_shown(hass, building, "water", "water")
    await save_subentries_as_shown(hass, building)
    result = await building.start_reconfigure_flow(hass)
    assert result["reason"] == "nothing_to_reconfigure"

    assert snapshot(building) == stored
    assert building.state is ConfigEntryState.LOADED
    assert DEPRECATION not in caplog.text
