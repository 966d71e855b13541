"""The shipped blueprints: valid for HA 2026.10, and they do what they promise."""

from __future__ import annotations

from datetime import timedelta
import json
from pathlib import Path
import shutil

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, yaml as yaml_util
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.ange_iot.angelib.codecs import sensative_strips
from custom_components.ange_iot.angelib.lns import chirpstack
from custom_components.ange_iot.angelib.names import device_name
from custom_components.ange_iot.angelib.simulator import DEMO_DEVICES, Role, Scenario
from custom_components.ange_iot.signals import SIGNAL_DEVICE_UPDATED

BLUEPRINTS = Path(__file__).resolve().parents[1] / "blueprints"
ALL = sorted(BLUEPRINTS.rglob("*.yaml"))


SHIPPED = {
    "care_check_notification.yaml",
    "meter_alert_notification.yaml",
    "sensor_maintenance.yaml",
    "snow_clearing_notification.yaml",
}


def test_there_are_blueprints() -> None:
    """The folder the develop instance links in holds every blueprint we ship."""
    assert {path.name for path in ALL} >= SHIPPED


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_blueprint_is_valid(path: Path) -> None:
    """Each blueprint passes HA's own schema, names its domain and links its source."""
    domain = path.parent.parent.name
    assert domain == "automation", "add the schema for a new blueprint domain here"
    blueprint = Blueprint(
        load_yaml_dict(path), expected_domain=domain, schema=AUTOMATION_BLUEPRINT_SCHEMA
    )
    metadata = blueprint.metadata
    assert metadata["source_url"].endswith(f"blueprints/{domain}/ange_iot/{path.name}")
    assert "Ånge IoT" in metadata["name"]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_blueprint_inputs(path: Path) -> None:
    """Every input is used and named in Swedish and English; the language is sv or en."""
    blueprint = Blueprint(
        load_yaml_dict(path), expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )
    inputs = blueprint.inputs
    assert set(inputs) == yaml_util.extract_inputs(blueprint.data)
    for key, spec in inputs.items():
        assert " / " in spec["name"], f"{key}: name it 'Svenska / English'"
        assert "selector" in spec, key
    language = inputs.get("language")
    if language is not None:
        assert language["default"] == "sv"
        options = language["selector"]["select"]["options"]
        assert [option["value"] for option in options] == ["sv", "en"]


async def _advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, until: timedelta) -> None:
    step = timedelta(seconds=30)
    end = dt_util.utcnow() + until
    while dt_util.utcnow() < end:
        freezer.tick(step)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


@pytest.fixture
async def maintenance_automation(
    hass: HomeAssistant, init_integration: MockConfigEntry, tmp_path: Path
) -> tuple[list[ServiceCall], str]:
    """The sensor-report blueprint, set up for one phone at 09:00."""
    hass.config.config_dir = str(tmp_path)
    target = tmp_path / "blueprints" / "automation" / "ange_iot"
    target.mkdir(parents=True)
    shutil.copy(BLUEPRINTS / "automation" / "ange_iot" / "sensor_maintenance.yaml", target)
    phone_entry = MockConfigEntry(domain="mobile_app", title="Pixel 7")
    phone_entry.add_to_hass(hass)
    phone = dr.async_get(hass).async_get_or_create(
        config_entry_id=phone_entry.entry_id,
        identifiers={("mobile_app", "pixel-7")},
        name="Pixel 7",
    )
    calls = async_mock_service(hass, "notify", "mobile_app_pixel_7")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "sensor_report",
                "use_blueprint": {
                    "path": "ange_iot/sensor_maintenance.yaml",
                    "input": {"phones": [phone.id], "report_time": "09:00:00"},
                },
            }
        },
    )
    await hass.async_block_till_done()
    return calls, phone.id


# The automation's daily time trigger is still armed when the test's hass stops.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_sensor_report_lists_a_silent_sensor(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    maintenance_automation: tuple[list[ServiceCall], str],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A sensor silent for longer than its limit is named in the 09:00 report, once."""
    calls, _ = maintenance_automation
    silent = next(d for d in DEMO_DEVICES if d.role is Role.MOTION)
    await _advance(hass, freezer, timedelta(minutes=1))
    init_integration.runtime_data.gateway.async_set_scenario(
        Scenario.SENSOR_SILENT, True, silent.dev_eui
    )
    await _advance(hass, freezer, timedelta(hours=1, minutes=31))  # past 09:00 local
    assert len(calls) == 1
    data = calls[0].data
    assert data["title"] == "Sensorrapport"
    assert data["message"] == f"Offline (1): {silent.area} {device_name(silent.name, silent.area)}"
    assert data["data"]["tag"] == "ange-iot-sensor-report"


@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_sensor_report_silent_when_all_is_fine(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    maintenance_automation: tuple[list[ServiceCall], str],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nothing is sent when every sensor reports and no battery is low."""
    calls, _ = maintenance_automation
    await _advance(hass, freezer, timedelta(hours=1, minutes=32))
    assert calls == []


@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_sensor_report_lists_low_battery(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    maintenance_automation: tuple[list[ServiceCall], str],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A sensor whose last report shows a weak battery is named with its level."""
    calls, _ = maintenance_automation
    door = next(d for d in DEMO_DEVICES if d.role is Role.DOOR)  # reports hourly
    await _advance(hass, freezer, timedelta(hours=1, minutes=29))  # 08:59 local
    event = chirpstack.build_up(
        dev_eui=door.dev_eui,
        fport=1,
        fcnt=9999,
        payload=sensative_strips.encode({"battery": 12, "door": False}),
        time=dt_util.utcnow(),
        device_name=door.name,
        profile_name=door.profile_name,
        application_id="app",
        dedup_id="low-battery",
        rssi=-90,
        snr=5.0,
    )
    init_integration.runtime_data.async_handle_chirpstack(json.dumps(event), source="test")
    await _advance(hass, freezer, timedelta(minutes=2))
    assert len(calls) == 1
    shown = f"{door.area} {device_name(door.name, door.area)}"
    assert calls[0].data["message"] == f"Lågt batteri (1): {shown} (12 %)"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_blueprint_reads_well_in_the_ui(path: Path) -> None:
    """Short name (not cut off in the list); Swedish description with English below;
    every field briefly in both languages; our entities picked, never typed."""
    blueprint = Blueprint(
        load_yaml_dict(path), expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )
    metadata = blueprint.metadata
    assert len(metadata["name"]) <= 40, metadata["name"]
    swedish, english = metadata["description"].split("\n\n")
    assert english.startswith("*English:*")
    assert len(swedish) < 400
    assert len(english) < 450
    for key, spec in blueprint.inputs.items():
        assert " / " in spec["description"], f"{key}: describe it 'Svenska. / English.'"
        assert len(spec["description"]) < 240, key
        assert "<" not in spec["description"], f"{key}: no id hints to type"
        entity = spec["selector"].get("entity")
        if entity is not None and key not in OTHER_RECIPIENTS:
            assert entity["filter"] == [{"domain": ["event"], "integration": "ange_iot"}], key
        elif entity is not None:  # e.g. an SMS account: picked from notify entities
            assert entity["filter"] == [{"domain": ["notify"]}], key
        assert "default" in spec or key in REQUIRED_INPUTS, f"{key}: give it a working default"


# Entity inputs that are not ours: the notify entities of other integrations (SMS, e-mail).
OTHER_RECIPIENTS = frozenset({"notify_entities"})

# Inputs only the user can give (which building, which phones): no default.
REQUIRED_INPUTS = frozenset(
    {"care_alerts", "staff_phones", "meter_alerts", "phones", "snow_clearing"}
)


@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_sensor_report_lists_a_meter_with_low_battery(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    maintenance_automation: tuple[list[ServiceCall], str],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A water meter's low battery shows in its "Meter problem" (its own entity is off)."""
    calls, _ = maintenance_automation
    meter = next(d for d in DEMO_DEVICES if d.role is Role.APARTMENT_METER)
    await _advance(hass, freezer, timedelta(hours=1, minutes=29))  # 08:59 local
    hub = init_integration.runtime_data
    hub.device(meter.dev_eui).state.values["low_battery"] = True
    async_dispatcher_send(hass, SIGNAL_DEVICE_UPDATED.format(hub.entry.entry_id, meter.dev_eui))
    await _advance(hass, freezer, timedelta(minutes=2))
    assert len(calls) == 1
    shown = f"{meter.area} {device_name(meter.name, meter.area)}"
    assert calls[0].data["message"] == f"Lågt batteri (1): {shown}"
