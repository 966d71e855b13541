"""Generic devices in Home Assistant: discovery, entities, field corrections, roles, restart.

A ChirpStack HTTP gateway receives the recorded messages of real sensors that are not in
the catalogue (tests/angelib/data/generic): the network server decoded them, we type them.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    ConfigEntryState,
    ConfigSubentryData,
    ConfigSubentryDataWithId,
)
from homeassistant.const import CONF_NAME, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ange_iot.angelib.lns import tts
from custom_components.ange_iot.const import (
    CONF_APPLICATION_ID,
    CONF_GATEWAY,
    CONF_MODEL,
    CONF_MODEL_TEXT,
    CONF_SECRET,
    CONF_SEEN_FIELDS,
    CONF_SILENCE_LIMIT,
    CONF_WEBHOOK_ID,
    DOMAIN,
    GATEWAY_CHIRPSTACK_HTTP,
)
from custom_components.ange_iot.gateway.hub import GatewayHub

from .common import BUILDING_OPTIONS, async_run_until, fired_events

DATA = Path(__file__).parent / "angelib" / "data" / "generic"
TRANSLATIONS = Path(__file__).parents[1] / "custom_components" / "ange_iot" / "translations"
LOCAL = ZoneInfo("Europe/Stockholm")
START = datetime(2026, 11, 23, 7, 30, tzinfo=LOCAL)
DOOR = "a84041000181b002"  # Dragino LDS02
METER = "70b3d5e050001234"  # Quandify CubicMeter 1.1
GATEWAY_ID = "01JGENERICGATEWAY0000000000"


def recorded(name: str) -> dict[str, Any]:
    """The message of one recorded device."""
    message: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())["message"]
    return copy.deepcopy(message)


def door_event(when: datetime, fcnt: int, opened: int = 0) -> dict[str, Any]:
    """The LDS02's ChirpStack up event at ``when`` with the door open or closed."""
    event = recorded("dragino_lds02_chirpstack")
    event["time"] = when.astimezone(dt_util.UTC).isoformat()
    event["fCnt"] = fcnt
    event["object"]["DOOR_OPEN_STATUS"] = opened
    return event


def meter_message(when: datetime, fcnt: int, litres: int, leak: str = "") -> dict[str, Any]:
    """The CubicMeter's TTS uplink at ``when`` with its register in litres."""
    message = recorded("quandify_cubicmeter_tts_normalized")
    up = message["uplink_message"]
    up["received_at"] = when.astimezone(dt_util.UTC).isoformat().replace("+00:00", "Z")
    up["f_cnt"] = fcnt
    up["frm_payload"] = ""  # the frame is not ours to decode; dedup then keys on fCnt
    normalized = up["normalized_payload"][0]
    normalized["metering"]["water"]["total"] = litres
    normalized["water"]["leak"] = leak
    return message


def generic_subentry(
    dev_eui: str, title: str, fields: dict[str, Any] | None = None, **data: Any
) -> ConfigSubentryData:
    """A generic device as the flows store it."""
    return ConfigSubentryDataWithId(
        subentry_id=f"dev_{dev_eui[-4:]}",
        subentry_type="device",
        title=title,
        unique_id=dev_eui,
        data={
            "dev_eui": dev_eui,
            CONF_MODEL: "generic",
            "missed_reports": 3,
            "invert_door": False,
            "report_interval": 600,
            "mounting_height": None,
            "fields": fields or {},
            **data,
        },
    )


def gateway_entry(*subentries: ConfigSubentryData) -> MockConfigEntry:
    """A ChirpStack HTTP gateway with the given devices."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=GATEWAY_ID,
        title="ChirpStack",
        unique_id=f"{GATEWAY_CHIRPSTACK_HTTP}:hook",
        data={
            CONF_GATEWAY: GATEWAY_CHIRPSTACK_HTTP,
            CONF_WEBHOOK_ID: "hook",
            CONF_SECRET: "s3cret",
            CONF_APPLICATION_ID: None,
        },
        options={CONF_SILENCE_LIMIT: 600},
        subentries_data=list(subentries),
    )


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> GatewayHub:
    """Load an entry; its hub."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    hub: GatewayHub = entry.runtime_data
    return hub


def hub_of(hass: HomeAssistant) -> GatewayHub:
    """The gateway's (current) hub."""
    entry = hass.config_entries.async_get_entry(GATEWAY_ID)
    assert entry is not None
    hub: GatewayHub = entry.runtime_data
    return hub


async def send_chirpstack(hass: HomeAssistant, event: dict[str, Any]) -> None:
    """Hand a ChirpStack up event to the gateway, as its transport would."""
    hub_of(hass).async_handle_chirpstack(json.dumps(event), source="test")
    await hass.async_block_till_done()


async def send_tts(hass: HomeAssistant, message: dict[str, Any]) -> None:
    """Hand a TTS uplink to the gateway (any gateway takes any network server's uplink)."""
    hub_of(hass).async_handle_message(
        lambda: tts.parse_up(json.loads(json.dumps(message)), source="test"), source="test"
    )
    await hass.async_block_till_done()


def field_entity(hass: HomeAssistant, platform: str, dev_eui: str, key: str) -> str | None:
    """The entity id of a generic field (None when it has none)."""
    return er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{dev_eui}_field_{key}")


def field_state(hass: HomeAssistant, platform: str, dev_eui: str, key: str) -> Any:
    """The state object of a generic field."""
    entity_id = field_entity(hass, platform, dev_eui, key)
    assert entity_id is not None, f"no {platform} for {key}"
    return hass.states.get(entity_id)


@pytest.fixture(autouse=True)
async def _start(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Every test starts on Monday morning in Ånge."""
    freezer.move_to(START)
    await hass.config.async_set_time_zone("Europe/Stockholm")


def discovery_flows(hass: HomeAssistant) -> list[Any]:
    """The open discovery flows of the integration."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["handler"] == DOMAIN and flow["context"]["source"] == SOURCE_INTEGRATION_DISCOVERY
    ]


def suggested(result: Any) -> dict[str, Any]:
    """The suggested values of a form."""
    return {
        str(marker): (marker.description or {}).get("suggested_value")
        for marker in result["data_schema"].schema
    }


# -- discovery → generic device → entities ------------------------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_discovery_adds_a_generic_device_with_typed_entities(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """An unknown LDS02 with a decoded object: generic device pre-selected, fields shown."""
    await setup(hass, gateway_entry())
    await send_chirpstack(hass, door_event(START, 1))
    flows = discovery_flows(hass)
    assert len(flows) == 1
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"])
    assert result["step_id"] == "discovery_confirm"
    assert suggested(result)[CONF_MODEL] == "generic"
    assert suggested(result)[CONF_MODEL_TEXT] == "Dragino LDS02"
    fields = result["description_placeholders"]["fields"]
    assert "- `DOOR_OPEN_STATUS`: Door / contact, False, guessed" in fields
    assert "- `BAT_V`: Battery voltage, 2.952 V, guessed" in fields

    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"],
        {CONF_NAME: "Lgh 1101 ytterdörr", CONF_MODEL: "generic", CONF_MODEL_TEXT: "Dragino LDS02"},
    )
    assert result["reason"] == "device_added"
    await hass.async_block_till_done()
    entry = hass.config_entries.async_get_entry(GATEWAY_ID)
    assert entry is not None
    (subentry,) = entry.subentries.values()
    assert subentry.data[CONF_MODEL] == "generic"
    assert subentry.data[CONF_MODEL_TEXT] == "Dragino LDS02"
    assert len(subentry.data[CONF_SEEN_FIELDS]) == 6

    # Entities from the fields the discovery saw, before the next uplink.
    assert field_state(hass, "binary_sensor", DOOR, "DOOR_OPEN_STATUS").state == STATE_UNAVAILABLE
    freezer.tick(timedelta(minutes=10))
    await send_chirpstack(hass, door_event(dt_util.utcnow(), 2, opened=1))
    door = field_state(hass, "binary_sensor", DOOR, "DOOR_OPEN_STATUS")
    assert door.state == STATE_ON
    assert door.attributes["device_class"] == "door"
    assert door.attributes["guessed"] is True
    battery = field_state(hass, "sensor", DOOR, "BAT_V")
    assert battery.state == "2.952"
    assert battery.attributes["unit_of_measurement"] == "V"
    assert battery.attributes["device_class"] == "voltage"
    opened = field_state(hass, "sensor", DOOR, "DOOR_OPEN_TIMES")
    assert opened.attributes["state_class"] == "total_increasing"
    assert "device_class" not in opened.attributes
    registry = er.async_get(hass)
    entity = registry.async_get(field_entity(hass, "sensor", DOOR, "BAT_V") or "")
    assert entity is not None
    assert entity.translation_key == "generic_battery_voltage"
    assert entity.original_name == "Battery voltage (BAT_V)"
    device = entity.device_id and hass.data["device_registry"].async_get(entity.device_id)
    assert device
    assert device.model == "Dragino LDS02"


async def test_tts_normalized_discovery_suggests_the_repository_model_text(
    hass: HomeAssistant,
) -> None:
    """TTS version ids that are not in the catalogue: the generic device, ids as model text."""
    await setup(hass, gateway_entry())
    await send_tts(hass, meter_message(START, 1, 5342))
    (flow,) = discovery_flows(hass)
    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    assert suggested(result)[CONF_MODEL] == "generic"
    assert suggested(result)[CONF_MODEL_TEXT] == "quandify/cubicmeter-1-1-plastic"
    assert (
        "- `metering.water.total`: Water volume, 5.342 m³"
        in (result["description_placeholders"]["fields"])
    )


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_new_fields_get_entities_and_type_changes_keep_them(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """A field first seen later gets its entity; a field that changes type stays its type."""
    await setup(hass, gateway_entry(generic_subentry(DOOR, "Ytterdörr")))
    await send_chirpstack(hass, door_event(START, 1))
    assert field_state(hass, "sensor", DOOR, "BAT_V").state == "2.952"
    event = door_event(START + timedelta(minutes=1), 2)
    event["object"]["BAT_V"] = "low"
    event["object"]["extra"] = {"co2": 612}
    await send_chirpstack(hass, event)
    assert field_state(hass, "sensor", DOOR, "BAT_V").state == "unknown"
    assert field_state(hass, "sensor", DOOR, "extra.co2").state == "612"
    assert field_state(hass, "sensor", DOOR, "extra.co2").attributes["device_class"] == (
        "carbon_dioxide"
    )
    assert "field BAT_V changed its type" in caplog.text


async def test_uplinks_without_object_raise_one_repair_issue(hass: HomeAssistant) -> None:
    """A profile without codec: one repair issue, gone with the first decoded uplink."""
    await setup(hass, gateway_entry(generic_subentry(DOOR, "Ytterdörr")))
    for fcnt in (1, 2, 3):
        event = door_event(START + timedelta(minutes=fcnt), fcnt)
        del event["object"]
        await send_chirpstack(hass, event)
    issues = ir.async_get(hass)
    issue = issues.async_get_issue(DOMAIN, f"no_codec_{DOOR}")
    assert issue is not None
    assert issue.translation_key == "generic_no_codec"
    assert hub_of(hass).device(DOOR).state.generic.without_object == 3  # type: ignore[union-attr]
    await send_chirpstack(hass, door_event(START + timedelta(minutes=5), 5))
    assert issues.async_get_issue(DOMAIN, f"no_codec_{DOOR}") is None


# -- reconfigure: correct a unit, hide a field, choose a role ------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_reconfigure_fields(hass: HomeAssistant) -> None:
    """The manager corrects a unit, hides a field and makes the door an activity sensor."""
    await setup(hass, gateway_entry(generic_subentry(DOOR, "Ytterdörr")))
    await send_chirpstack(hass, door_event(START, 1))
    entry = hass.config_entries.async_get_entry(GATEWAY_ID)
    assert entry is not None
    result = await entry.start_subentry_reconfigure_flow(hass, "dev_b002")
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "Ytterdörr", CONF_MODEL: "generic", "missed_reports": 3},
    )
    assert result["step_id"] == "model_options"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"invert_door": False}
    )
    assert result["step_id"] == "fields"
    assert "- `BAT_V`: Battery voltage, V, guessed" in result["description_placeholders"]["fields"]

    async def edit(key: str, values: dict[str, Any]) -> Any:
        step = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"field": key}
        )
        assert step["step_id"] == "field"
        return await hass.config_entries.subentries.async_configure(result["flow_id"], values)

    wrong = await edit("BAT_V", {"meaning": "battery_voltage", "unit": "cm", "hidden": False,
                                 "role": "none"})  # fmt: skip
    assert wrong["errors"] == {"unit": "unit_not_for_meaning"}
    done = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"meaning": "battery_voltage", "unit": "mV", "hidden": False, "role": "none"},
    )
    assert done["step_id"] == "fields"
    await edit("MOD", {"meaning": "number", "unit": "none", "hidden": True, "role": "none"})
    bad_role = await edit(
        "DOOR_OPEN_TIMES", {"meaning": "counter", "unit": "none", "hidden": False,
                            "role": "activity"},
    )  # fmt: skip
    assert bad_role["errors"] == {"role": "role_not_for_meaning"}
    await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"meaning": "counter", "unit": "none", "hidden": False, "role": "none"}
    )
    await edit(
        "DOOR_OPEN_STATUS", {"meaning": "door", "unit": "none", "hidden": False, "role": "activity"}
    )
    final = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"field": "_done"}
    )
    assert final["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    subentry = entry.subentries["dev_b002"]
    assert subentry.data["fields"]["BAT_V"]["unit"] == "mV"
    assert subentry.data["fields"]["MOD"]["hidden"] is True
    assert subentry.data["fields"]["DOOR_OPEN_STATUS"]["role"] == "activity"
    # After the reload: the unit as corrected, the hidden field gone, values kept.
    assert field_state(hass, "sensor", DOOR, "BAT_V").attributes["guessed"] is False
    assert field_entity(hass, "sensor", DOOR, "MOD") is None
    await send_chirpstack(hass, door_event(START + timedelta(minutes=1), 2))
    # The value is now read as millivolts; Home Assistant keeps showing the volts the
    # entity was first shown in (the user's display unit), so 2.952 mV is 0.002952 V.
    battery = field_state(hass, "sensor", DOOR, "BAT_V")
    assert battery.attributes["unit_of_measurement"] == "V"
    assert float(battery.state) == pytest.approx(0.002952)


# -- roles: an apartment's activity sensor ---------------------------------------------


CARE_OPTIONS = BUILDING_OPTIONS


async def test_generic_door_as_activity_sensor_raises_a_care_alert(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A door that stays shut all morning: check needed at 09:15; opening it is activity."""
    await setup(
        hass,
        gateway_entry(
            generic_subentry(DOOR, "Lgh 1102 ytterdörr", {"DOOR_OPEN_STATUS": {"role": "activity"}})
        ),
    )
    await send_chirpstack(hass, door_event(START, 1))
    building = MockConfigEntry(
        domain=DOMAIN,
        entry_id="building",
        title="Solbacken",
        data={"kind": "building"},
        options=CARE_OPTIONS,
        subentries_data=[
            ConfigSubentryDataWithId(
                subentry_id="apt_1102",
                subentry_type="apartment",
                title="Lgh 1102",
                unique_id=None,
                data={
                    "label": "Lgh 1102",
                    "sensors": [DOOR],
                    "enabled": True,
                    "morning_check": True,
                    "inactivity_check": True,
                    "night_door": False,
                },
            )
        ],
    )
    await setup(hass, building)
    care = building.runtime_data.apartments["apt_1102"]
    alerts = fired_events(hass, "event.solbacken_care_alerts")
    fcnt = 2
    while dt_util.utcnow() < datetime(2026, 11, 23, 9, 16, tzinfo=LOCAL):
        freezer.tick(timedelta(minutes=10))
        await send_chirpstack(hass, door_event(dt_util.utcnow(), fcnt))  # still shut
        fcnt += 1
    assert [e["event_type"] for e in alerts] == ["check_needed"]
    assert care.evaluation.reason == "no_morning_activity"

    freezer.tick(timedelta(minutes=1))
    opened_at = dt_util.utcnow()
    await send_chirpstack(hass, door_event(opened_at, fcnt, opened=1))
    assert care.state.last_activity == opened_at
    assert care.evaluation.last_activity == opened_at


# -- restart --------------------------------------------------------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_restart_restores_fields_values_and_corrections(hass: HomeAssistant) -> None:
    """After a reload the learned fields, their values and the corrections are all back."""
    fields = {"BAT_V": {"unit": "mV"}, "MOD": {"hidden": True}}
    await setup(hass, gateway_entry(generic_subentry(DOOR, "Ytterdörr", fields)))
    await send_chirpstack(hass, door_event(START, 1, opened=1))
    before = {
        key: field_state(hass, platform, DOOR, key).state
        for platform, key in (("sensor", "BAT_V"), ("binary_sensor", "DOOR_OPEN_STATUS"))
    }
    entry = hass.config_entries.async_get_entry(GATEWAY_ID)
    assert entry is not None
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    tracked = hub_of(hass).device(DOOR)
    assert tracked.state.generic is not None
    assert "DOOR_OPEN_STATUS" in tracked.state.generic.fields
    after = {
        key: field_state(hass, platform, DOOR, key).state
        for platform, key in (("sensor", "BAT_V"), ("binary_sensor", "DOOR_OPEN_STATUS"))
    }
    assert after == before
    assert before["DOOR_OPEN_STATUS"] == STATE_ON
    assert before["BAT_V"] == "2.952"
    assert field_state(hass, "sensor", DOOR, "BAT_V").attributes["unit_of_measurement"] == "mV"
    assert field_entity(hass, "sensor", DOOR, "MOD") is None
    assert field_state(hass, "binary_sensor", DOOR, "DOOR_OPEN_STATUS").state != STATE_OFF


async def test_diagnostics_say_what_was_learned_without_resident_data(hass: HomeAssistant) -> None:
    """The device's fields, guesses and troubles are in diagnostics; door states are not."""
    from custom_components.ange_iot.diagnostics import (
        async_get_config_entry_diagnostics,
    )

    await setup(hass, gateway_entry(generic_subentry(DOOR, "Ytterdörr", model_text="LDS02")))
    event = door_event(START, 1, opened=1)
    await send_chirpstack(hass, event)
    entry = hass.config_entries.async_get_entry(GATEWAY_ID)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)  # type: ignore[arg-type]
    (device,) = diagnostics["devices"]
    assert "lns:DOOR_OPEN_STATUS" not in device["values"]
    assert "lns:DOOR_OPEN_STATUS (redacted)" in device["fields"]
    assert device["values"]["lns:BAT_V"] == 2.952
    assert device["generic"]["model_text"] == "LDS02"
    assert device["generic"]["no_codec"] is False
    assert [f["key"] for f in device["generic"]["fields"]][:3] == [
        "ALARM",
        "BAT_V",
        "DOOR_OPEN_STATUS",
    ]


# -- the demo ---------------------------------------------------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_demo_generic_co2_sensor(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """The simulated gateway's CO₂ sensor, added as a generic device, gets typed states."""
    from custom_components.ange_iot.angelib.simulator import (
        DEMO_GENERIC_DEVICES,
    )
    from custom_components.ange_iot.config_flow import demo_subentries
    from custom_components.ange_iot.const import (
        CONF_EPOCH,
        CONF_SEED,
        CONF_SPEED,
        DEFAULT_SEED,
        GATEWAY_SIMULATED,
    )

    (air,) = DEMO_GENERIC_DEVICES
    demo = MockConfigEntry(
        domain=DOMAIN,
        title="Ånge LSS demo",
        unique_id=GATEWAY_SIMULATED,
        data={CONF_GATEWAY: GATEWAY_SIMULATED, CONF_SEED: DEFAULT_SEED,
              CONF_EPOCH: START.isoformat()},
        options={CONF_SPEED: "1"},
        subentries_data=[*demo_subentries(), generic_subentry(air.dev_eui, air.name)],
    )  # fmt: skip
    await setup(hass, demo)
    await async_run_until(hass, freezer, START + timedelta(minutes=11))
    co2 = field_state(hass, "sensor", air.dev_eui, "co2")
    assert 300 <= float(co2.state) <= 2000
    assert co2.attributes["device_class"] == "carbon_dioxide"
    assert co2.attributes["unit_of_measurement"] == "ppm"
    assert field_state(hass, "sensor", air.dev_eui, "temperature").attributes["device_class"] == (
        "temperature"
    )


# -- roles: a snow-site distance sensor ------------------------------------------------


async def test_generic_distance_as_snow_site_sensor(hass: HomeAssistant) -> None:
    """A level sensor's distance in cm, chosen as snow-site sensor: depth from its height."""
    level = "0018b21000000f01"
    fields = {"level_cm": {"role": "snow_distance"}}
    await setup(
        hass,
        gateway_entry(generic_subentry(level, "Snödjup tak", fields, mounting_height=2000)),
    )
    event = door_event(START, 1)
    event["deviceInfo"]["devEui"] = level
    event["deviceInfo"]["deviceProfileName"] = "Some level sensor"
    event["object"] = {"level_cm": 150, "battery": 98}
    await send_chirpstack(hass, event)
    assert hub_of(hass).device(level).state.values["distance"] == 1500  # mm, canonical
    building = MockConfigEntry(
        domain=DOMAIN,
        entry_id="snow_building",
        title="Solbacken",
        data={"kind": "building"},
        options={},
        subentries_data=[
            ConfigSubentryDataWithId(
                subentry_id="site",
                subentry_type="snow_site",
                title="Tak",
                unique_id=None,
                data={"name": "Tak", "sensors": [level], "threshold_cm": 8, "min_rise_cm": 5},
            )
        ],
    )
    await setup(hass, building)
    site = building.runtime_data.snow.sites["site"]
    assert site.depth_cm == 50.0
    depth = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{level}_snow_depth")
    assert depth is not None
    assert hass.states.get(depth).state == "50.0"  # type: ignore[union-attr]


async def test_add_sensor_offers_the_generic_device(hass: HomeAssistant) -> None:
    """Add sensor lists the generic device (translated label) and adds one."""
    await setup(hass, gateway_entry())
    entry = hass.config_entries.async_get_entry(GATEWAY_ID)
    assert entry is not None
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "device"), context={"source": "user"}
    )
    selector = next(
        v for k, v in result["data_schema"].schema.items() if str(k) == CONF_MODEL
    ).config
    assert selector["translation_key"] == "model"
    assert selector["options"][-1]["value"] == "generic"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"dev_eui": DOOR, CONF_NAME: "Förråd dörr", CONF_MODEL: "generic", "missed_reports": 3},
    )  # fmt: skip
    # A generic device may report a door or a distance: door polarity and mounting height.
    assert result["step_id"] == "model_options"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"invert_door": False}
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    await send_chirpstack(hass, door_event(START, 1, opened=1))
    assert field_state(hass, "binary_sensor", DOOR, "DOOR_OPEN_STATUS").state == STATE_ON


@pytest.mark.parametrize(
    ("fields", "offered"),
    [({"DOOR_OPEN_STATUS": {"role": "activity"}}, True), ({}, False)],
    ids=["activity_role", "no_role"],
)
async def test_building_forms_offer_generic_devices_by_role(
    hass: HomeAssistant, fields: dict[str, Any], offered: bool
) -> None:
    """The apartment form lists a generic device only once a field is its activity sensor."""
    await setup(hass, gateway_entry(generic_subentry(DOOR, "Ytterdörr", fields)))
    await send_chirpstack(hass, door_event(START, 1))
    building = MockConfigEntry(
        domain=DOMAIN, entry_id="forms", title="Solbacken", data={"kind": "building"},
        options=CARE_OPTIONS,
    )  # fmt: skip
    await setup(hass, building)
    result = await hass.config_entries.subentries.async_init(
        (building.entry_id, "apartment"), context={"source": "user"}
    )
    sensors = next(v for k, v in result["data_schema"].schema.items() if str(k) == "sensors")
    options = {o["value"]: o["label"] for o in sensors.config["options"]}
    assert (DOOR in options) is offered
    if offered:
        assert options[DOOR] == "Ytterdörr (Generic device)"


async def test_building_forms_label_generic_devices_in_the_instance_language(
    hass: HomeAssistant,
) -> None:
    """A Swedish instance's sensor dropdowns say "Generisk enhet", from the translations.

    The options are the user's own sensors, which the frontend cannot translate; a flow is
    not told its user's language, so the label follows the instance's language.
    """
    hass.config.language = "sv"
    fields = {"DOOR_OPEN_STATUS": {"role": "activity"}}
    await setup(hass, gateway_entry(generic_subentry(DOOR, "Ytterdörr", fields)))
    await send_chirpstack(hass, door_event(START, 1))
    building = MockConfigEntry(
        domain=DOMAIN, entry_id="forms", title="Solbacken", data={"kind": "building"},
        options=CARE_OPTIONS,
    )  # fmt: skip
    await setup(hass, building)
    result = await hass.config_entries.subentries.async_init(
        (building.entry_id, "apartment"), context={"source": "user"}
    )
    sensors = next(v for k, v in result["data_schema"].schema.items() if str(k) == "sensors")
    options = {o["value"]: o["label"] for o in sensors.config["options"]}
    swedish = json.loads((TRANSLATIONS / "sv.json").read_text("utf-8"))
    generic = swedish["selector"]["device_label"]["options"]["generic"]
    assert generic == "Generisk enhet"
    assert options[DOOR] == f"Ytterdörr ({generic})"
    # The model dropdown of Add sensor: the frontend translates the generic option itself.
    assert swedish["selector"]["model"]["options"]["generic"].startswith("Generisk enhet")
