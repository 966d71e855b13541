"""Config flow, options flow and device subentry flow of Ånge IoT."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_NAME, STATE_OFF, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ange_iot import async_remove_config_entry_device
from custom_components.ange_iot.angelib.simulator import DEMO_DEVICES, DEMO_SITE_NAME
from custom_components.ange_iot.const import (
    CONF_AREA,
    CONF_DEV_EUI,
    CONF_EPOCH,
    CONF_GATEWAY,
    CONF_INVERT_DOOR,
    CONF_LEAKING_METER,
    CONF_MISSED_REPORTS,
    CONF_MODEL,
    CONF_MOUNTING_HEIGHT,
    CONF_REPORT_INTERVAL,
    CONF_RESIDENT_NOT_UP,
    CONF_SEED,
    CONF_SILENT_DEVICE,
    CONF_SNOWFALL,
    CONF_SPEED,
    DEFAULT_SEED,
    DOMAIN,
    GATEWAY_SIMULATED,
    GATEWAYS,
    KIND_BUILDING,
    NONE_OPTION,
    SERVICE_SET_SCENARIO,
    SUBENTRY_DEVICE,
)

from .conftest import START

# Activity and per-uplink timestamp entities are off by default (privacy, logbook):
# these tests read them.
pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")

MOTION_1101 = "a81758fffe0a1101"  # Elsys ERS in Lgh 1101
DOOR_1101 = "70b3d52c00010001"  # Sensative Strips Guard
METER_1101 = "0001a8f000002101"  # Kamstrup flowIQ 2200
SNOW_1 = "24e124126b000001"  # Milesight EM500-UDL, mounted at 2000 mm

NEW_EUI = "a81758fffe0a9999"
NEW_DEVICE = {
    CONF_DEV_EUI: NEW_EUI,
    CONF_NAME: "Lgh 1101 hall",
    CONF_MODEL: "elsys_ers_co2",
    CONF_REPORT_INTERVAL: 15,
    CONF_MISSED_REPORTS: 4,
}

ALL_SCENARIOS = {
    CONF_SPEED: "60",
    CONF_RESIDENT_NOT_UP: "Lgh 1102",
    CONF_SILENT_DEVICE: MOTION_1101,
    CONF_LEAKING_METER: METER_1101,
    CONF_SNOWFALL: True,
}
NO_SCENARIOS = {
    CONF_SPEED: "1",
    CONF_RESIDENT_NOT_UP: NONE_OPTION,
    CONF_SILENT_DEVICE: NONE_OPTION,
    CONF_LEAKING_METER: NONE_OPTION,
    CONF_SNOWFALL: False,
}


def _entity_id(
    entity_registry: er.EntityRegistry, platform: Platform, unique_id: str
) -> str | None:
    return entity_registry.async_get_entity_id(platform, DOMAIN, unique_id)


def _subentry_id(entry: MockConfigEntry, dev_eui: str) -> str:
    return next(s.subentry_id for s in entry.subentries.values() if s.unique_id == dev_eui)


def _form_values(result: dict[str, Any]) -> dict[str, Any]:
    """What the form shows: defaults, then suggested values over them."""
    values: dict[str, Any] = {}
    for marker in result["data_schema"].schema:
        if (suggested := (marker.description or {}).get("suggested_value")) is not None:
            values[str(marker)] = suggested
        elif callable(marker.default):
            values[str(marker)] = marker.default()
    return values


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


# -- config flow --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "gateway", "building"),
    [("en", "Gateway: ", "Building: "), ("sv", "Gateway: ", "Byggnad: ")],
)
async def test_first_screen_says_what_each_choice_is(
    hass: HomeAssistant, language: str, gateway: str, building: str
) -> None:
    """The first menu asks what to add; each choice says whether it is a gateway or a
    building (a building is not a gateway, and it is where meters and snow sites live)."""
    hass.config.language = language
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    strings = await async_get_translations(hass, language, "config", [DOMAIN])
    step = f"component.{DOMAIN}.config.step.user"
    assert "gateway" not in strings[f"{step}.title"].casefold()
    for option in result["menu_options"]:
        label = strings[f"{step}.menu_options.{option}"]
        assert label.startswith(building if option == KIND_BUILDING else gateway), label
        assert strings[f"{step}.menu_option_descriptions.{option}"]


async def test_user_flow_creates_simulated_gateway(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, device_registry: dr.DeviceRegistry
) -> None:
    """The menu leads to the simulated gateway, created with the demo devices."""
    freezer.move_to(START)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == [*GATEWAYS, KIND_BUILDING]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": GATEWAY_SIMULATED}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == GATEWAY_SIMULATED
    assert result["errors"] is None
    assert _form_values(result) == {CONF_NAME: DEMO_SITE_NAME, CONF_SPEED: "1"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Solbacken", CONF_SPEED: "60"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Solbacken"
    assert result["data"] == {
        CONF_GATEWAY: GATEWAY_SIMULATED,
        CONF_SEED: DEFAULT_SEED,
        CONF_EPOCH: dt_util.utcnow().isoformat(),  # meter registers count from here
    }
    assert result["options"] == {CONF_SPEED: "60"}
    entry = result["result"]
    assert entry.unique_id == GATEWAY_SIMULATED

    subentries = list(entry.subentries.values())
    assert len(subentries) == 16
    assert {s.subentry_type for s in subentries} == {SUBENTRY_DEVICE}
    assert [s.unique_id for s in subentries] == [d.dev_eui for d in DEMO_DEVICES]
    assert [s.title for s in subentries] == [d.name for d in DEMO_DEVICES]
    by_eui = {s.unique_id: s for s in subentries}
    assert by_eui[MOTION_1101].title == "Lgh 1101 rörelsesensor"
    assert dict(by_eui[MOTION_1101].data) == {
        CONF_DEV_EUI: MOTION_1101,
        CONF_MODEL: "elsys_ers",
        CONF_REPORT_INTERVAL: 600,
        CONF_AREA: "Lgh 1101",
    }
    assert dict(by_eui[SNOW_1].data) == {
        CONF_DEV_EUI: SNOW_1,
        CONF_MODEL: "milesight_em500_udl",
        CONF_REPORT_INTERVAL: 600,
        CONF_AREA: "Parkering Solbacken",
        CONF_MOUNTING_HEIGHT: 2000,
    }

    # The created entry runs: the gateway at the chosen speed, a device per subentry.
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.gateway.speed == 60.0
    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert len(devices) == 17
    gateway = device_registry.async_get(entry.runtime_data.gateway_device_id)
    assert gateway.name == "Solbacken"
    assert {d.config_subentry_id for d in devices if d.id != gateway.id} == set(entry.subentries)


async def test_user_flow_defaults(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Submitting the form unchanged names the gateway after the demo site, at real time."""
    freezer.move_to(START)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": GATEWAY_SIMULATED}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == DEMO_SITE_NAME
    assert result["options"] == {CONF_SPEED: "1"}
    assert result["result"].runtime_data.gateway.speed == 1.0


async def test_user_flow_rejects_unknown_speed(hass: HomeAssistant) -> None:
    """The speed select only takes the listed speeds (the voluptuous schema is enforced)."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": GATEWAY_SIMULATED}
    )
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_NAME: "Solbacken", CONF_SPEED: "1000"}
        )
    assert CONF_SPEED in err.value.schema_errors
    assert not hass.config_entries.async_entries(DOMAIN)

    # The form is still open: a listed speed creates the entry.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Solbacken", CONF_SPEED: "10"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == {CONF_SPEED: "10"}


async def test_second_simulated_gateway_aborts(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """There is one demo site per Home Assistant."""
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": GATEWAY_SIMULATED}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


# -- options flow -------------------------------------------------------------------


async def _set_options(hass: HomeAssistant, entry: MockConfigEntry, options: dict[str, Any]) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "simulation"
    result = await hass.config_entries.options.async_configure(result["flow_id"], options)
    await hass.async_block_till_done()
    return result


async def test_options_flow_form_shows_current_options(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A fresh gateway shows real time and no scenarios; later the stored choices."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert _form_values(result) == NO_SCENARIOS

    await _set_options(hass, init_integration, ALL_SCENARIOS)
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert _form_values(result) == ALL_SCENARIOS


async def test_options_apply_without_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Speed and scenarios are stored and switched on in the running simulator."""
    hub = init_integration.runtime_data
    gateway = hub.gateway
    sim_before = gateway.sim_time(dt_util.utcnow())

    result = await _set_options(hass, init_integration, ALL_SCENARIOS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options == ALL_SCENARIOS

    assert init_integration.runtime_data is hub  # not reloaded
    assert hub.gateway is gateway
    assert gateway.speed == 60.0
    assert gateway.simulator.active_scenarios() == [
        ("leak", METER_1101),
        ("resident_not_up", "Lgh 1102"),
        ("sensor_silent", MOTION_1101),
        ("snowfall", ""),
    ]
    # The simulator clock is continuous across the speed change, then runs 60× faster.
    assert gateway.sim_time(dt_util.utcnow()) == sim_before
    await _tick(hass, freezer, 60)
    assert gateway.sim_time(dt_util.utcnow()) == sim_before + timedelta(hours=1)


async def test_options_back_to_none_turns_scenarios_off(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Choosing "none" (and unticking snowfall) ends the option's scenario."""
    gateway = init_integration.runtime_data.gateway
    await _set_options(hass, init_integration, ALL_SCENARIOS)
    assert len(gateway.simulator.active_scenarios()) == 4

    # One at a time: the leak moves to another meter, the silent sensor is cleared.
    await _set_options(
        hass,
        init_integration,
        {**ALL_SCENARIOS, CONF_LEAKING_METER: "0004a30b00e10001", CONF_SILENT_DEVICE: NONE_OPTION},
    )
    assert gateway.simulator.active_scenarios() == [
        ("leak", "0004a30b00e10001"),
        ("resident_not_up", "Lgh 1102"),
        ("snowfall", ""),
    ]

    result = await _set_options(hass, init_integration, NO_SCENARIOS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options == NO_SCENARIOS
    assert gateway.simulator.active_scenarios() == []
    assert gateway.speed == 1.0
    assert init_integration.runtime_data.gateway is gateway  # still not reloaded


async def test_options_leave_service_scenarios_alone(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A scenario switched on by the service survives unrelated option changes."""
    gateway = init_integration.runtime_data.gateway
    for scenario, target in (("snowfall", ""), ("resident_not_up", "Lgh 1203")):
        await hass.services.async_call(
            DOMAIN,
            SERVICE_SET_SCENARIO,
            {"config_entry_id": init_integration.entry_id, "scenario": scenario, "target": target},
            blocking=True,
        )
    await _set_options(hass, init_integration, {**NO_SCENARIOS, CONF_LEAKING_METER: METER_1101})
    assert gateway.simulator.active_scenarios() == [
        ("leak", METER_1101),
        ("resident_not_up", "Lgh 1203"),
        ("snowfall", ""),
    ]
    await _set_options(hass, init_integration, {**NO_SCENARIOS, CONF_SPEED: "10"})
    assert gateway.speed == 10.0
    assert gateway.simulator.active_scenarios() == [
        ("resident_not_up", "Lgh 1203"),
        ("snowfall", ""),
    ]


async def test_options_reject_unknown_target(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The selects only offer the demo site's apartments and devices."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**NO_SCENARIOS, CONF_LEAKING_METER: MOTION_1101}
        )
    assert CONF_LEAKING_METER in err.value.schema_errors
    assert init_integration.options == {CONF_SPEED: "1"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**NO_SCENARIOS, CONF_LEAKING_METER: METER_1101}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.runtime_data.gateway.simulator.active_scenarios() == [
        ("leak", METER_1101)
    ]


async def test_options_survive_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """After a restart of the entry the stored options are applied again."""
    await _set_options(hass, init_integration, {**NO_SCENARIOS, CONF_SNOWFALL: True})
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    gateway = init_integration.runtime_data.gateway
    assert gateway.simulator.active_scenarios() == [("snowfall", "")]

    await _set_options(hass, init_integration, NO_SCENARIOS)
    assert gateway.simulator.active_scenarios() == []


# -- device subentry flow: add ----------------------------------------------------------


async def _start_add(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_DEVICE), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return result


MODEL_FIELDS = (CONF_INVERT_DOOR, CONF_MOUNTING_HEIGHT)  # on the second form, if the model has them


async def _add(hass: HomeAssistant, flow_id: str, user_input: dict[str, Any]) -> Any:
    """Fill the first form, and the model's own form when the flow shows one."""
    first = {k: v for k, v in user_input.items() if k not in MODEL_FIELDS}
    result = await hass.config_entries.subentries.async_configure(flow_id, first)
    if result["type"] is FlowResultType.FORM and result["step_id"] == "model_options":
        offered = {str(marker) for marker in result["data_schema"].schema}
        second = {k: v for k, v in user_input.items() if k in offered}
        result = await hass.config_entries.subentries.async_configure(flow_id, second)
    await hass.async_block_till_done()
    return result


@pytest.mark.parametrize(
    "typed",
    [" A81758FFFE0A9999 ", "A8-17-58-FF-FE-0A-99-99", "a8:17:58:ff:fe:0a:99:99"],
)
async def test_add_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    typed: str,
) -> None:
    """A DevEUI in any usual notation adds the device, in place (no reload)."""
    hub = init_integration.runtime_data
    result = await _start_add(hass, init_integration)
    assert result["errors"] == {}
    result = await _add(hass, result["flow_id"], {**NEW_DEVICE, CONF_DEV_EUI: typed})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Lgh 1101 hall"
    assert result["unique_id"] == NEW_EUI
    assert result["data"] == {
        CONF_DEV_EUI: NEW_EUI,
        CONF_MODEL: "elsys_ers_co2",
        CONF_REPORT_INTERVAL: 900,  # 15 minutes, stored in seconds
        CONF_MISSED_REPORTS: 4,
        CONF_INVERT_DOOR: False,
        CONF_MOUNTING_HEIGHT: None,
    }
    assert len(init_integration.subentries) == 17
    subentry = init_integration.subentries[_subentry_id(init_integration, NEW_EUI)]
    assert subentry.subentry_type == SUBENTRY_DEVICE
    assert subentry.title == "Lgh 1101 hall"

    # Applied in place: the same hub tracks the device with the configured interval and limit.
    new_hub = init_integration.runtime_data
    assert init_integration.state is ConfigEntryState.LOADED
    assert new_hub is hub
    config = new_hub.device(NEW_EUI).config
    assert config.report_interval_s == 900
    assert config.silence_limit == timedelta(hours=1)

    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, NEW_EUI), init_integration.entry_id
    )
    assert device is not None
    assert device.name == "Lgh 1101 hall"
    assert device.model == "ERS CO2"
    assert device.serial_number == NEW_EUI.upper()
    assert device.via_device_id == new_hub.gateway_device_id
    assert device.config_subentry_id == subentry.subentry_id
    co2 = _entity_id(entity_registry, Platform.SENSOR, f"{NEW_EUI}_co2")
    assert co2 is not None
    assert entity_registry.async_get(co2).device_id == device.id
    # It has never reported: unavailable, not unknown.
    assert hass.states.get(co2).state == STATE_UNAVAILABLE


async def test_add_device_defaults(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Without a name the DevEUI names it; without an interval the model's applies."""
    result = await _start_add(hass, init_integration)
    result = await _add(
        hass,
        result["flow_id"],
        {
            CONF_DEV_EUI: "24E124126B000099",
            CONF_NAME: "  ",
            CONF_MODEL: "milesight_em310_udl",
            CONF_MISSED_REPORTS: 3,
            CONF_INVERT_DOOR: False,
            CONF_MOUNTING_HEIGHT: 1800,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "24e124126b000099"
    assert result["data"][CONF_REPORT_INTERVAL] is None
    assert result["data"][CONF_MOUNTING_HEIGHT] == 1800
    config = init_integration.runtime_data.device("24e124126b000099").config
    assert config.report_interval_s is None
    assert config.interval == timedelta(seconds=1200)  # the EM310-UDL's default
    assert config.mounting_height_mm == 1800
    # A distance sensor with a mounting height also measures snow depth.
    assert _entity_id(entity_registry, Platform.SENSOR, "24e124126b000099_snow_depth")


@pytest.mark.parametrize(
    "bad",
    [
        "a81758fffe0a99",  # too short
        "a81758fffe0a999999",  # too long
        "a81758fffe0a99zz",  # not hex
        "",
    ],
)
async def test_add_device_invalid_dev_eui(
    hass: HomeAssistant, init_integration: MockConfigEntry, bad: str
) -> None:
    """A DevEUI that is not 16 hex digits is refused; a corrected one is added."""
    result = await _start_add(hass, init_integration)
    result = await _add(hass, result["flow_id"], {**NEW_DEVICE, CONF_DEV_EUI: bad})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {CONF_DEV_EUI: "invalid_dev_eui"}
    assert len(init_integration.subentries) == 16
    # The form keeps what was typed.
    assert _form_values(result)[CONF_NAME] == "Lgh 1101 hall"
    assert _form_values(result)[CONF_REPORT_INTERVAL] == 15

    result = await _add(hass, result["flow_id"], NEW_DEVICE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["unique_id"] == NEW_EUI
    assert len(init_integration.subentries) == 17


async def test_add_device_already_configured(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A DevEUI already added (in any notation) is refused; another one is added."""
    result = await _start_add(hass, init_integration)
    result = await _add(
        hass, result["flow_id"], {**NEW_DEVICE, CONF_DEV_EUI: "A8-17-58-FF-FE-0A-11-01"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_DEV_EUI: "already_configured"}
    assert len(init_integration.subentries) == 16
    demo = init_integration.subentries[_subentry_id(init_integration, MOTION_1101)]
    assert demo.title == "Lgh 1101 rörelsesensor"  # untouched

    result = await _add(hass, result["flow_id"], NEW_DEVICE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(init_integration.subentries) == 17


@pytest.mark.parametrize(
    ("model", "model_fields"),
    [
        ("elsys_ers_co2", None),  # a climate sensor: no second form
        ("kamstrup_flowiq_2200", None),
        ("sensative_strips_guard", {CONF_INVERT_DOOR}),
        ("milesight_em310_udl", {CONF_MOUNTING_HEIGHT}),
    ],
)
async def test_add_device_asks_only_what_the_model_uses(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    model: str,
    model_fields: set[str] | None,
) -> None:
    """Door polarity only for door sensors, mounting height only for distance sensors."""
    result = await _start_add(hass, init_integration)
    assert not set(MODEL_FIELDS) & {str(m) for m in result["data_schema"].schema}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**NEW_DEVICE, CONF_MODEL: model}
    )
    await hass.async_block_till_done()
    if model_fields is None:
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"][CONF_INVERT_DOOR] is False
        assert result["data"][CONF_MOUNTING_HEIGHT] is None
        return
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "model_options"
    assert result["description_placeholders"] == {"dev_eui": NEW_EUI}
    assert {str(m) for m in result["data_schema"].schema} == model_fields
    assert len(init_integration.subentries) == 16  # nothing added before the second form
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_MODEL] == model
    assert len(init_integration.subentries) == 17


async def test_add_device_schema_limits(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Out-of-range numbers and unknown models are refused by the form itself."""
    result = await _start_add(hass, init_integration)
    for field, value in (
        (CONF_REPORT_INTERVAL, 0),
        (CONF_REPORT_INTERVAL, 1441),
        (CONF_MISSED_REPORTS, 0),
        (CONF_MODEL, "acme_rocket"),
    ):
        with pytest.raises(InvalidData) as err:
            await hass.config_entries.subentries.async_configure(
                result["flow_id"], {**NEW_DEVICE, field: value}
            )
        assert field in err.value.schema_errors
    result = await _add(hass, result["flow_id"], NEW_DEVICE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # The mounting height's own limits, on the distance sensor's second form.
    result = await _start_add(hass, init_integration)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {**NEW_DEVICE, CONF_DEV_EUI: "24e124126b000099", CONF_MODEL: "milesight_em310_udl"},
    )
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.subentries.async_configure(
            result["flow_id"], {CONF_MOUNTING_HEIGHT: 50}
        )
    assert CONF_MOUNTING_HEIGHT in err.value.schema_errors


# -- device subentry flow: reconfigure ------------------------------------------------


async def _start_reconfigure(hass: HomeAssistant, entry: MockConfigEntry, dev_eui: str) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_DEVICE),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": _subentry_id(entry, dev_eui)},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {"dev_eui": dev_eui}
    return result


def _reconfigure_input(result: Any, **changes: Any) -> dict[str, Any]:
    """The prefilled form, with some fields changed (None: cleared)."""
    values = {**_form_values(result), **changes}
    return {key: value for key, value in values.items() if value is not None}


async def test_reconfigure_form_is_prefilled(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The forms show the stored settings, the interval in minutes; no DevEUI field."""
    result = await _start_reconfigure(hass, init_integration, SNOW_1)
    assert _form_values(result) == {
        CONF_NAME: "Snödjup plats 1",
        CONF_MODEL: "milesight_em500_udl",
        CONF_REPORT_INTERVAL: 10,
        CONF_MISSED_REPORTS: 3,
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _form_values(result)
    )
    assert result["step_id"] == "model_options"
    assert _form_values(result) == {CONF_MOUNTING_HEIGHT: 2000}  # no door polarity


async def test_reconfigure_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Name, interval, missed reports and door inversion change in place (no reload)."""
    await _tick(hass, freezer, 60)
    door_entity = _entity_id(entity_registry, Platform.BINARY_SENSOR, f"{DOOR_1101}_door")
    assert hass.states.get(door_entity).state == STATE_OFF  # closed in the morning
    hub = init_integration.runtime_data
    subentry_id = _subentry_id(init_integration, DOOR_1101)

    result = await _start_reconfigure(hass, init_integration, DOOR_1101)
    result = await _add(
        hass,
        result["flow_id"],
        _reconfigure_input(
            result,
            **{
                CONF_NAME: "Lgh 1101 entrédörr",
                CONF_REPORT_INTERVAL: 30,
                CONF_MISSED_REPORTS: 5,
                CONF_INVERT_DOOR: True,
            },
        ),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"

    subentry = init_integration.subentries[subentry_id]
    assert subentry.title == "Lgh 1101 entrédörr"
    assert subentry.unique_id == DOOR_1101
    assert dict(subentry.data) == {
        CONF_DEV_EUI: DOOR_1101,
        CONF_MODEL: "sensative_strips_guard",
        CONF_REPORT_INTERVAL: 1800,
        CONF_AREA: "Lgh 1101",  # kept though not on the form
        CONF_MISSED_REPORTS: 5,
        CONF_INVERT_DOOR: True,
        CONF_MOUNTING_HEIGHT: None,
    }

    new_hub = init_integration.runtime_data
    assert new_hub is hub
    config = new_hub.device(DOOR_1101).config
    assert (config.name, config.report_interval_s, config.missed_reports, config.invert_door) == (
        "Lgh 1101 entrédörr",
        1800,
        5,
        True,
    )
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, DOOR_1101), init_integration.entry_id
    )
    assert device.name == "Entrédörr"  # HA puts the area "Lgh 1101" in front itself
    # The entity id stays; the (still closed) door now reads inverted.
    await _tick(hass, freezer, 60)
    assert hass.states.get(door_entity).state == STATE_ON


async def test_reconfigure_model_adds_and_removes_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A model with more fields adds entities; one with fewer removes them."""
    co2 = f"{MOTION_1101}_co2"
    motion = f"{MOTION_1101}_motion"
    temperature = f"{MOTION_1101}_temperature"
    assert _entity_id(entity_registry, Platform.SENSOR, co2) is None
    assert _entity_id(entity_registry, Platform.BINARY_SENSOR, motion) is not None

    result = await _start_reconfigure(hass, init_integration, MOTION_1101)
    result = await _add(hass, result["flow_id"], _reconfigure_input(result, model="elsys_ers_co2"))
    assert result["type"] is FlowResultType.ABORT
    co2_id = _entity_id(entity_registry, Platform.SENSOR, co2)
    assert co2_id is not None
    assert hass.states.get(co2_id) is not None
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, MOTION_1101), init_integration.entry_id
    )
    assert device.model == "ERS CO2"

    result = await _start_reconfigure(hass, init_integration, MOTION_1101)
    result = await _add(hass, result["flow_id"], _reconfigure_input(result, model="elsys_ers_lite"))
    assert result["type"] is FlowResultType.ABORT
    for platform, unique_id in (
        (Platform.SENSOR, co2),
        (Platform.BINARY_SENSOR, motion),
        (Platform.SENSOR, f"{MOTION_1101}_motion_count"),
        (Platform.SENSOR, f"{MOTION_1101}_last_activity"),
    ):
        assert _entity_id(entity_registry, platform, unique_id) is None, unique_id
    temperature_id = _entity_id(entity_registry, Platform.SENSOR, temperature)
    assert temperature_id is not None
    assert hass.states.get(temperature_id) is not None
    device = device_registry.async_get(device.id)  # the same device, updated
    assert device.model == "ERS Lite"


async def test_reconfigure_mounting_height(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Without a mounting height a distance sensor has no snow depth; with one it has."""
    snow_depth = f"{SNOW_1}_snow_depth"
    assert _entity_id(entity_registry, Platform.SENSOR, snow_depth) is not None

    result = await _start_reconfigure(hass, init_integration, SNOW_1)
    result = await _add(hass, result["flow_id"], _reconfigure_input(result, mounting_height=None))
    assert result["type"] is FlowResultType.ABORT
    assert (
        init_integration.subentries[_subentry_id(init_integration, SNOW_1)].data[
            CONF_MOUNTING_HEIGHT
        ]
        is None
    )
    assert init_integration.runtime_data.device(SNOW_1).config.mounting_height_mm is None
    assert _entity_id(entity_registry, Platform.SENSOR, snow_depth) is None
    assert _entity_id(entity_registry, Platform.SENSOR, f"{SNOW_1}_distance") is not None

    result = await _start_reconfigure(hass, init_integration, SNOW_1)
    assert CONF_MOUNTING_HEIGHT not in _form_values(result)
    result = await _add(hass, result["flow_id"], _reconfigure_input(result, mounting_height=2500))
    assert result["type"] is FlowResultType.ABORT
    assert init_integration.runtime_data.device(SNOW_1).config.mounting_height_mm == 2500
    assert _entity_id(entity_registry, Platform.SENSOR, snow_depth) is not None


async def test_reconfigure_mounting_height_not_distance(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A motion sensor is asked no mounting height; switched to a distance model, it is."""
    result = await _start_reconfigure(hass, init_integration, MOTION_1101)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _reconfigure_input(result, name="Hall")
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT  # no second form for an Elsys ERS
    assert init_integration.subentries[_subentry_id(init_integration, MOTION_1101)].title == (
        "Hall"
    )

    result = await _start_reconfigure(hass, init_integration, MOTION_1101)
    result = await _add(
        hass,
        result["flow_id"],
        _reconfigure_input(result, model="elsys_elt_ultrasonic", mounting_height=2000),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    subentry = init_integration.subentries[_subentry_id(init_integration, MOTION_1101)]
    assert subentry.title == "Hall"
    assert subentry.data[CONF_MODEL] == "elsys_elt_ultrasonic"
    assert subentry.data[CONF_MOUNTING_HEIGHT] == 2000


async def test_reconfigure_clears_interval_and_keeps_title(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A cleared interval falls back to the model's; a blank name keeps the old one."""
    result = await _start_reconfigure(hass, init_integration, METER_1101)
    result = await _add(
        hass, result["flow_id"], _reconfigure_input(result, name=" ", report_interval=None)
    )
    assert result["type"] is FlowResultType.ABORT
    subentry = init_integration.subentries[_subentry_id(init_integration, METER_1101)]
    assert subentry.title == "Lgh 1101 vattenmätare"
    assert subentry.data[CONF_REPORT_INTERVAL] is None
    config = init_integration.runtime_data.device(METER_1101).config
    assert config.interval == timedelta(hours=1)  # the flowIQ 2200's default


# -- removing devices ---------------------------------------------------------------


def _entities_of(entity_registry: er.EntityRegistry, entry: MockConfigEntry, dev_eui: str) -> list:
    return [
        e
        for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
        if e.unique_id.startswith(f"{dev_eui}_")
    ]


async def test_remove_subentry_removes_device_and_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Removing a device's subentry removes its device, entities and states."""
    entities = _entities_of(entity_registry, init_integration, METER_1101)
    assert len(entities) > 10
    assert all(hass.states.get(e.entity_id) for e in entities if not e.disabled)

    assert hass.config_entries.async_remove_subentry(
        init_integration, _subentry_id(init_integration, METER_1101)
    )
    await hass.async_block_till_done()

    assert len(init_integration.subentries) == 15
    assert (
        device_registry.async_get_device_by_identifier(
            (DOMAIN, METER_1101), init_integration.entry_id
        )
        is None
    )
    assert _entities_of(entity_registry, init_integration, METER_1101) == []
    assert all(hass.states.get(e.entity_id) is None for e in entities)
    hub = init_integration.runtime_data
    assert init_integration.state is ConfigEntryState.LOADED
    assert METER_1101 not in hub.pipeline.devices
    assert len(hub.pipeline.devices) == 15
    # The other devices stay.
    assert _entities_of(entity_registry, init_integration, "0001a8f000002102")


async def test_remove_device_from_ui(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Deleting a sensor device in the UI removes its subentry, device and entities."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, SNOW_1), init_integration.entry_id
    )
    assert device is not None

    response = await client.remove_device(device.id)
    await hass.async_block_till_done()
    assert response["success"]

    assert SNOW_1 not in {s.unique_id for s in init_integration.subentries.values()}
    assert len(init_integration.subentries) == 15
    assert device_registry.async_get(device.id) is None
    assert _entities_of(entity_registry, init_integration, SNOW_1) == []
    assert SNOW_1 not in init_integration.runtime_data.pipeline.devices


async def test_gateway_device_cannot_be_removed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The gateway device goes with its entry, never on its own."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    gateway_device_id = init_integration.runtime_data.gateway_device_id

    response = await client.remove_device(gateway_device_id)
    await hass.async_block_till_done()
    assert not response["success"]

    assert device_registry.async_get(gateway_device_id) is not None
    assert len(init_integration.subentries) == 16
    assert init_integration.state is ConfigEntryState.LOADED


async def test_remove_device_while_unloaded(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A stopped gateway's sensors can be deleted too; its own device still cannot."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    gateway_device_id = init_integration.runtime_data.gateway_device_id
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, METER_1101), init_integration.entry_id
    )
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()

    response = await client.remove_device(device.id)
    assert response["success"]
    assert len(init_integration.subentries) == 15
    assert device_registry.async_get(device.id) is None

    response = await client.remove_device(gateway_device_id)
    assert not response["success"]
    assert device_registry.async_get(gateway_device_id) is not None

    # Set up again, the deleted sensor stays away.
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    assert METER_1101 not in init_integration.runtime_data.pipeline.devices
    assert (
        device_registry.async_get_device_by_identifier(
            (DOMAIN, METER_1101), init_integration.entry_id
        )
        is None
    )


async def test_remove_orphan_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    """A device of ours that no subentry backs may be deleted; no subentry is touched."""
    orphan = device_registry.async_get_or_create(
        config_entry_id=init_integration.entry_id,
        identifiers={(DOMAIN, "ffffffffffffffff")},
        name="Gammal sensor",
    )
    assert await async_remove_config_entry_device(hass, init_integration, orphan)
    await hass.async_block_till_done()
    assert len(init_integration.subentries) == 16
