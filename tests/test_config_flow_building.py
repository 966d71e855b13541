"""Config flows of a building: its entry, its options, its apartment/meter/site subentries.

The gateway's flows are in test_config_flow.py. The building "Solbacken" and its fixtures
(``building``, ``water``, ``site``) are in tests/building.py and conftest.py; the flows'
effects on the running building are asserted here too (next checks, meters, entities).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_NAME, Platform
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ange_iot.angelib.simulator import APARTMENTS, DEMO_BY_EUI, DEMO_DEVICES
from custom_components.ange_iot.const import DOMAIN

from .building import (
    ALERTS,
    APARTMENT_METERS,
    APT,
    ATTENTION,
    BUILDING_ID,
    MORNING_DUE,
    MOTION,
    NAMES,
    OPTIONS,
    SITE,
    SNOW,
    WATCHING,
    WATER_OPTIONS,
    apartment_data,
    form_values,
    local,
    meter_sub,
    open_care_defaults,
    site_data,
    state,
    sub_id,
    to_form,
    utc_iso,
    water_building_entry,
)
from .common import BUILDING_METER, METER_1101


@pytest.fixture
def platforms() -> list[Platform]:
    """The gateway without entity platforms: the building's entities are under test."""
    return []


@pytest.fixture(autouse=True)
def care_entities_enabled(entity_registry_enabled_by_default: None) -> None:
    """Next check is off by default (privacy): the flow tests read it."""


# -- the building: config flow and options ----------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            {"morning_deadline": "05:30:00"},
            ("morning_deadline_order", {"deadline": "05:30", "start": "06:00"}),
        ),
        (
            {"inactivity_limit": {"hours": 15, "minutes": 0, "seconds": 0}},
            (
                "inactivity_too_long",
                {"limit": "15 h 00 min", "start": "07:00", "end": "22:00"},
            ),
        ),
        (
            {"night_start": "05:00:00"},
            ("night_window_empty", {}),
        ),
    ],
)
async def test_building_flow(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    bad: dict[str, Any],
    message: tuple[str, dict[str, str]],
) -> None:
    """The building form shows the engine's defaults, explains bad times, then creates.

    The explanation is a translated error (the engine's rule as an error key, the times it
    quotes as placeholders), never the engine's English text inside a Swedish form.
    """
    freezer.move_to(WATCHING)
    await hass.config.async_set_time_zone("Europe/Stockholm")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert "building" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "building"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "building"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {}
    # The engine's defaults (reminders every 15 minutes; the tests here store them off).
    assert form_values(result) == OPTIONS | {
        "reminder_interval": {"hours": 0, "minutes": 15, "seconds": 0}
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Solbacken", **OPTIONS, **bad}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": message[0]}
    assert result["description_placeholders"] == message[1]
    assert form_values(result) == {CONF_NAME: "Solbacken", **OPTIONS, **bad}  # kept

    changed = {**OPTIONS, "morning_deadline": "08:30:00", "night_door": True}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: " Solbacken ", **changed}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Solbacken"
    assert result["data"] == {"kind": "building"}
    assert result["options"] == changed
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.defaults.morning_deadline.isoformat() == "08:30:00"
    assert entry.runtime_data.defaults.night_door is True
    assert entry.runtime_data.apartments == {}
    building_device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"building_{entry.entry_id}"), entry.entry_id
    )
    assert building_device is not None
    assert building_device.name == "Solbacken"
    assert hass.states.get(ALERTS) is not None
    assert hass.states.get(ATTENTION).state == "0"


async def test_building_options_flow(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry
) -> None:
    """The options show the building's times; bad ones are explained; good ones apply."""
    assert state(hass, "sensor", APT, "next_check").state == utc_iso(MORNING_DUE)

    result = await open_care_defaults(hass, building)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "care"
    assert form_values(result) == OPTIONS

    bad = {**OPTIONS, "active_start": "22:00:00"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], bad)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "active_hours_order"}
    assert result["description_placeholders"] == {"start": "22:00", "end": "22:00"}

    good = {**OPTIONS, "morning_deadline": "08:30:00", "grace": {"minutes": 20}}
    result = await hass.config_entries.options.async_configure(result["flow_id"], good)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert building.options == good
    # Applied in place (no reload) with the new defaults: every apartment's next check moved.
    assert building.state is ConfigEntryState.LOADED
    for label in APARTMENTS:
        assert state(hass, "sensor", label, "next_check").state == utc_iso(local(8, 50))


async def test_building_options_flow_while_not_loaded(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry
) -> None:
    """The form shows the stored times also while the building is not running."""
    changed = {**OPTIONS, "morning_deadline": "10:00:00"}
    hass.config_entries.async_update_entry(building, options=changed)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(building.entry_id)
    await hass.async_block_till_done()

    result = await open_care_defaults(hass, building)
    assert form_values(result) == changed


# -- apartments: subentry flow ----------------------------------------------------------


async def test_add_apartment(
    hass: HomeAssistant,
    building: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Every error of the apartment form, each followed by a fix; then it is added."""
    result = await hass.config_entries.subentries.async_init(
        (building.entry_id, "apartment"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert form_values(result) == {
        "sensors": [],
        "enabled": True,
        "morning_check": True,
        "inactivity_check": True,
        "night_door": False,
        "own_times": {},  # empty: the building's times, which the form lists
    }
    own_times = next(m for m in result["data_schema"].schema if str(m) == "own_times")
    assert result["data_schema"].schema[own_times].options == {"collapsed": True}
    assert result["description_placeholders"] == {
        "morning_start": "06:00",
        "morning_deadline": "09:00",
        "active_start": "07:00",
        "active_end": "22:00",
        "inactivity_limit": "4 h",
        "night_start": "23:00",
        "night_end": "05:00",
        "grace": "15 min",
    }
    # The sensors to choose from: every device of the demo gateway, by name and model.
    sensors = next(m for m in result["data_schema"].schema if str(m) == "sensors")
    options = result["data_schema"].schema[sensors].config["options"]
    # Only activity sensors (motion, door): meters and snow sensors say nothing of a resident.
    assert {o["value"] for o in options} == {
        d.dev_eui for d in DEMO_DEVICES if d.model_id in ("elsys_ers", "sensative_strips_guard")
    }
    assert {"value": MOTION[APT], "label": "Lgh 1102 rörelsesensor (Elsys ERS)"} in options

    new = {
        "label": "Lgh 1301",
        "sensors": [MOTION["Lgh 1203"]],
        "enabled": True,
        "morning_check": True,
        "inactivity_check": False,
        "night_door": True,
        "morning_deadline": "10:00:00",
    }
    for user_input, errors in (
        ({**new, "label": "  "}, {"label": "label_required"}),
        ({**new, "label": "lgh 1101 "}, {"label": "label_taken"}),
        ({**new, "sensors": []}, {"sensors": "sensors_required"}),
        ({**new, "morning_deadline": "05:00:00"}, {"base": "morning_deadline_order"}),
    ):
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], to_form(user_input)
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == errors
        assert form_values(result) == to_form(user_input)  # what was entered stays
    assert result["description_placeholders"]["deadline"] == "05:00"
    assert result["description_placeholders"]["start"] == "06:00"

    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], to_form({**new, "label": " Lgh 1301 "})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Lgh 1301"
    [subentry] = [s for s in building.subentries.values() if s.title == "Lgh 1301"]
    assert dict(subentry.data) == new  # stored flat, as before the form had a section
    # An API caller that leaves the section out (scripts/develop) is understood too.
    result = await hass.config_entries.subentries.async_init(
        (building.entry_id, "apartment"), context={"source": SOURCE_USER}
    )
    flat = {k: v for k, v in new.items() if k != "morning_deadline"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**flat, "label": "Lgh 1302"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {**flat, "label": "Lgh 1302"}
    await hass.async_block_till_done()
    # Applied in place (no reload): the new apartment with its own morning deadline.
    assert building.state is ConfigEntryState.LOADED
    runtime = building.runtime_data
    apartment = runtime.apartments[subentry.subentry_id]
    assert apartment.settings.morning_deadline.isoformat() == "10:00:00"
    assert apartment.settings.inactivity_check is False
    assert apartment.settings.night_door is True
    assert apartment.sensors == (MOTION["Lgh 1203"],)
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"apartment_{subentry.subentry_id}"), building.entry_id
    )
    assert device is not None
    assert device.name == "Care"  # its role; the area says which apartment
    area = ar.async_get(hass).async_get_area(device.area_id or "")
    assert area is not None
    assert area.name == "Lgh 1301"
    next_check = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{BUILDING_ID}_{subentry.subentry_id}_next_check"
    )
    assert hass.states.get(next_check).state == utc_iso(local(10, 15))


async def test_reconfigure_apartment(hass: HomeAssistant, building: MockConfigEntry) -> None:
    """Changing an apartment: prefilled, every error with a fix, then applied."""
    result = await hass.config_entries.subentries.async_init(
        (building.entry_id, "apartment"),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": sub_id(APT)},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert form_values(result) == to_form(apartment_data(APT))

    changed = {**apartment_data(APT), "morning_deadline": "08:00:00", "grace": {"minutes": 5}}
    for user_input, errors in (
        ({**changed, "label": ""}, {"label": "label_required"}),
        ({**changed, "label": "LGH 1101"}, {"label": "label_taken"}),
        ({**changed, "sensors": []}, {"sensors": "sensors_required"}),
        (
            {**changed, "inactivity_limit": {"hours": 20}},
            {"base": "inactivity_too_long"},
        ),
    ):
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], to_form(user_input)
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == errors
    assert result["description_placeholders"]["limit"] == "20 h 00 min"
    assert result["description_placeholders"]["start"] == "07:00"
    assert result["description_placeholders"]["end"] == "22:00"

    # Its own label is not "taken".
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], to_form(changed)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(building.subentries[sub_id(APT)].data) == changed
    assert building.state is ConfigEntryState.LOADED
    assert state(hass, "sensor", APT, "next_check").state == utc_iso(local(8, 5))
    # The other apartments keep the building's times.
    assert state(hass, "sensor", "Lgh 1101", "next_check").state == utc_iso(MORNING_DUE)

    # Stored own times load back into the folded section.
    result = await hass.config_entries.subentries.async_init(
        (building.entry_id, "apartment"),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": sub_id(APT)},
    )
    assert form_values(result)["own_times"] == {
        "morning_deadline": "08:00:00",
        "grace": {"minutes": 5},
    }


# -- water meters: the building's water options and the meter subentry flow -------------


async def test_water_options_flow(
    hass: HomeAssistant, first_reports: MockConfigEntry, water: MockConfigEntry
) -> None:
    """The building's water thresholds: shown, explained when wrong, applied when right."""
    result = await hass.config_entries.options.async_init(water.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "water"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "water"
    bad = {**WATER_OPTIONS, "water_night_check": "03:00:00"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], bad)
    assert result["errors"] == {"base": "night_check_in_night"}
    assert result["description_placeholders"] == {
        "check": "03:00",
        "start": "00:00",
        "end": "06:00",
    }
    for key, value, error in (
        ("meter_reminder_interval", {"hours": 25, "minutes": 0, "seconds": 0}, "reminder_range"),
        ("meter_escalation_delay", {"hours": 0, "minutes": 0, "seconds": 30}, "escalation_range"),
    ):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**WATER_OPTIONS, key: value}
        )
        assert result["errors"] == {"base": error}
    good = {
        **WATER_OPTIONS,
        "night_flow_lph": 8.0,
        "daily_limit_l": 2000,
        "meter_reminder_interval": {"hours": 0, "minutes": 30, "seconds": 0},
        "meter_escalation_delay": {"hours": 2, "minutes": 0, "seconds": 0},
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], good)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert water.options == good
    meter = water.runtime_data.water.meters[METER_1101]
    assert meter.settings.night_flow_lph == 8.0
    assert meter.settings.daily_limit_l == 2000
    assert meter.settings.reminder_interval == timedelta(minutes=30)
    assert meter.settings.escalation_delay == timedelta(hours=2)


async def test_water_meter_flow(hass: HomeAssistant, first_reports: MockConfigEntry) -> None:
    """Add a meter with overrides; a meter already in a building is not offered again.

    (The selectors keep every override within what the engine accepts.)
    """
    entry = water_building_entry(meter_sub(BUILDING_METER))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "water_meter"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    # "Empty: the building's (5 L/h)": the form says what the building's thresholds are.
    assert result["description_placeholders"] == {
        "night_flow_lph": "5",
        "high_use_factor": "3",
        "daily_limit_l": "–",
        "silent_hours": "48",
    }
    offered = {o["value"] for o in result["data_schema"].schema["dev_eui"].config["options"]}
    assert offered == set(APARTMENT_METERS)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"dev_eui": METER_1101, "counted": False, "continuous_by_design": True, "daily_limit_l": 0},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # Told apart from the gateway's sensor subentry of the same meter ("Lgh 1101 vattenmätare").
    assert result["title"] == f"Meter alerts and statistics: {NAMES[METER_1101]}"
    await hass.async_block_till_done()
    meter = entry.runtime_data.water.meters[METER_1101]
    assert meter.name == NAMES[METER_1101]  # events and statistics keep the meter's own name
    assert meter.settings.continuous_by_design is True
    assert meter.settings.daily_limit_l is None
    assert meter.counted is False

    subentry_id = next(
        s.subentry_id for s in entry.subentries.values() if s.unique_id == METER_1101
    )
    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id)
    assert "dev_eui" not in result["data_schema"].schema
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"counted": False, "continuous_by_design": False, "night_flow_lph": 2}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.runtime_data.water.meters[METER_1101].settings.night_flow_lph == 2


# -- snow-clearing sites: subentry flow ------------------------------------------------


async def test_site_flow(
    hass: HomeAssistant, first_reports: MockConfigEntry, site: MockConfigEntry
) -> None:
    """Add a site: a sensor without a mounting height is explained; reconfigure changes it."""
    # One lot sensor loses its mounting height.
    hub = first_reports.runtime_data
    sensor_sub = hub.subentry_ids[SNOW[1]]
    subentry = first_reports.subentries[sensor_sub]
    data = {k: v for k, v in subentry.data.items() if k != "mounting_height"}
    hass.config_entries.async_update_subentry(first_reports, subentry, data=data)
    await hass.async_block_till_done()

    result = await hass.config_entries.subentries.async_init(
        (site.entry_id, "snow_site"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], site_data(name="parkering")
    )
    assert result["errors"] == {"name": "label_taken"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], site_data(name="Gården")
    )
    assert result["errors"] == {"sensors": "mounting_height_required"}
    assert result["description_placeholders"]["sensor"].startswith(DEMO_BY_EUI[SNOW[1]].name)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], site_data(name=" Gården ", sensors=[SNOW[0]])
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert hass.states.get("sensor.garden_snow_depth") is not None

    result = await site.start_subentry_reconfigure_flow(hass, SITE)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], site_data(sensors=[SNOW[0]], threshold_cm=12)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert site.subentries[SITE].data["threshold_cm"] == 12
