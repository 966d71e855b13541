"""Care checks ("tillsyn") of a building: flows, entities, services, restarts, escalation.

The building "Solbacken" watches the demo site of the simulated gateway: one apartment per
demo apartment, each with its motion sensor (Lgh 1101 also with its door sensor). It starts
watching at 07:31 on Monday 2026-11-23, after every sensor's first report, so what a
resident did before is unknown to it. The simulator's "resident not up" scenario, switched
on before the first reports, keeps an apartment still all morning: the morning check
(deadline 09:00, re-check grace 15 min) then needs a check at 09:15 local time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import (
    ConfigEntryState,
)
from homeassistant.const import (
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import Context, CoreState, Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
from syrupy.assertion import SnapshotAssertion
import yaml

from custom_components.ange_iot import logbook as care_logbook
from custom_components.ange_iot.angelib.codecs import elsys
from custom_components.ange_iot.angelib.lns import chirpstack
from custom_components.ange_iot.angelib.simulator import APARTMENTS, DEMO_DEVICES, Role
from custom_components.ange_iot.building.signals import BUILDING_UPDATED
from custom_components.ange_iot.const import (
    DOMAIN,
    EVENT_CARE_LOG,
    SERVICE_ACKNOWLEDGE,
    SERVICE_ARM_ESCALATION,
    SERVICE_PAUSE,
    SERVICE_RESUME,
)
from custom_components.ange_iot.diagnostics import async_get_config_entry_diagnostics

from .building import (
    ALERT_ID,
    ALERTS,
    APT,
    BUILDING_ID,
    MORNING_DUE,
    MOTION,
    NOT_UP,
    OPTIONS,
    STEP,
    STORE_KEY,
    WATCHING,
    Alerts,
    apartment_data,
    apartment_device,
    attention,
    building_entry,
    care_entity,
    local,
    state,
    status,
    sub_id,
    utc_iso,
)
from .common import (
    DOOR_1101,
    assert_attributes_translated,
    async_run_until,
    home_assistant_restarts,
    set_scenario,
)
from .conftest import SetupBuilding


@pytest.fixture
def platforms() -> list[Platform]:
    """The gateway without entity platforms: the building's entities are under test."""
    return []


@pytest.fixture(autouse=True)
def care_entities_enabled(entity_registry_enabled_by_default: None) -> None:
    """Last activity and next check are off by default (privacy): these tests read them."""


async def call(
    hass: HomeAssistant, service: str, user: MockUser | None = None, **data: Any
) -> None:
    """Call one of the care services (as ``user`` if given) and let it settle."""
    await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        context=Context(user_id=user.id) if user else None,
    )
    await hass.async_block_till_done()


def status_recorder(hass: HomeAssistant, label: str = APT) -> list[str]:
    """Every care status an apartment shows from now on."""
    entity = care_entity(hass, "sensor", label, "care_status")
    seen: list[str] = []

    @callback
    def _on_state(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == entity and new is not None and seen[-1:] != [new.state]:
            seen.append(new.state)

    hass.bus.async_listen("state_changed", _on_state)
    return seen


async def until_morning_alert(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, alerts: Alerts
) -> dict[str, Any]:
    """Run to 09:15 and return the check_needed event of the apartment not up."""
    await async_run_until(hass, freezer, MORNING_DUE, STEP)
    [alert] = alerts.of("check_needed", APT)
    return alert


async def arm(hass: HomeAssistant, alert_id: str = ALERT_ID, minutes: int = 10) -> None:
    """Arm an escalation of an alert of the apartment not up (as the blueprint does)."""
    await call(
        hass,
        SERVICE_ARM_ESCALATION,
        apartment=apartment_device(hass),
        alert_id=alert_id,
        delay={"minutes": minutes},
    )


def describe_log(hass: HomeAssistant, event: Event) -> dict[str, str]:
    """The logbook entry of a care-log event, through the integration's logbook platform."""
    described: dict[str, Callable[[Event], dict[str, str]]] = {}

    def _register(domain: str, event_type: str, describe: Callable[[Event], Any]) -> None:
        assert domain == DOMAIN
        described[event_type] = describe

    care_logbook.async_describe_events(hass, _register)
    return described[EVENT_CARE_LOG](event)


def care_log(hass: HomeAssistant) -> list[Event]:
    """Collect the care-log events (acknowledgements, pauses) from now on."""
    events: list[Event] = []

    @callback
    def _on_event(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(EVENT_CARE_LOG, _on_event)
    return events


# -- the building: diagnostics and removal (its flows: test_config_flow_building.py) ----


@NOT_UP
async def test_building_diagnostics(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    alerts: Alerts,
) -> None:
    """A building's diagnostics: its settings, nothing about apartments or residents."""
    await until_morning_alert(hass, freezer, alerts)
    await arm(hass)
    diagnostics = json.loads(json.dumps(await async_get_config_entry_diagnostics(hass, building)))
    assert diagnostics["entry"] == {"data": {"kind": "building"}, "options": OPTIONS}
    assert len(diagnostics["apartments"]) == 6
    assert diagnostics["apartments"][1] == {
        "apartment": "apartment_2",
        "settings": {
            "enabled": True,
            "timezone": "Europe/Stockholm",
            "morning_check": True,
            "morning_start": "06:00",
            "morning_deadline": "09:00",
            "inactivity_check": True,
            "inactivity_limit": 14400,
            "active_start": "07:00",
            "active_end": "22:00",
            "night_door": False,
            "night_start": "23:00",
            "night_end": "05:00",
            "grace": 900,
            "reminder_interval": 0,
        },
        "sensors": 1,
        "escalations_armed": 1,
    }
    text = str(diagnostics)
    for secret in (APT, MOTION[APT], "check_needed", "no_morning_activity", "2026-11-23"):
        assert secret not in text


async def test_remove_building(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A removed building takes its stored activity times and its devices with it."""
    await async_run_until(hass, freezer, local(8, 0), STEP)
    assert STORE_KEY in hass_storage
    assert await hass.config_entries.async_remove(building.entry_id)
    await hass.async_block_till_done()
    assert STORE_KEY not in hass_storage
    assert dr.async_entries_for_config_entry(dr.async_get(hass), BUILDING_ID) == []
    assert hass.states.get(ALERTS) is None


# -- apartments: checks off, removal (the subentry flow: test_config_flow_building.py)


@NOT_UP
async def test_apartment_checks_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry, alerts: Alerts
) -> None:
    """Checks switched off for an apartment: paused (disabled), nothing judged meanwhile."""
    await async_run_until(hass, freezer, local(8, 0), STEP)
    hass.config_entries.async_update_subentry(
        building, building.subentries[sub_id(APT)], data={**apartment_data(APT), "enabled": False}
    )
    await hass.async_block_till_done()
    care_status = state(hass, "sensor", APT, "care_status")
    assert care_status.state == "paused"
    assert care_status.attributes["reason"] == "disabled"
    assert state(hass, "switch", APT, "care_checks_paused").state == STATE_OFF  # not a pause

    await async_run_until(hass, freezer, local(9, 30), STEP)
    assert alerts.fired == []
    hass.config_entries.async_update_subentry(
        building, building.subentries[sub_id(APT)], data=apartment_data(APT)
    )
    await hass.async_block_till_done()
    assert status(hass) == "ok"
    await async_run_until(hass, freezer, local(10, 0), STEP)
    assert alerts.fired == []  # the morning passed while off: not judged


async def test_remove_apartment(
    hass: HomeAssistant,
    building: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Removing an apartment (its subentry, or its device in the UI) removes its entities."""

    def _entities(label: str) -> list[er.RegistryEntry]:
        return [
            e
            for e in er.async_entries_for_config_entry(entity_registry, BUILDING_ID)
            if e.config_subentry_id == sub_id(label)
        ]

    removed = [e.entity_id for e in _entities("Lgh 1103")]
    assert len(removed) == 4
    assert all(hass.states.get(entity) for entity in removed)
    assert hass.config_entries.async_remove_subentry(building, sub_id("Lgh 1103"))
    await hass.async_block_till_done()
    assert building.state is ConfigEntryState.LOADED
    assert sub_id("Lgh 1103") not in building.runtime_data.apartments
    assert _entities("Lgh 1103") == []
    assert (
        device_registry.async_get_device_by_identifier(
            (DOMAIN, f"apartment_{sub_id('Lgh 1103')}"), BUILDING_ID
        )
        is None
    )
    assert all(hass.states.get(entity) is None for entity in removed)

    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    device = apartment_device(hass, "Lgh 1201")
    response = await client.remove_device(device)
    await hass.async_block_till_done()
    assert response["success"]
    assert sub_id("Lgh 1201") not in building.subentries
    assert device_registry.async_get(device) is None
    assert _entities("Lgh 1201") == []
    assert len(building.runtime_data.apartments) == 4
    assert len(_entities(APT)) == 4  # the others stay

    # The building's own device goes with the building, never on its own.
    response = await client.remove_device(building.runtime_data.building_device_id)
    await hass.async_block_till_done()
    assert not response["success"]


# -- entities ---------------------------------------------------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("building_platforms", [[Platform.SENSOR]], ids=["sensor"])
async def test_entities(
    hass: HomeAssistant,
    building: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The building's sensor entities as it starts watching (event, switch: their modules)."""
    await snapshot_platform(hass, entity_registry, snapshot, building.entry_id)


async def test_morning_activity_is_ok(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry, alerts: Alerts
) -> None:
    """Residents up and about: all well, with their last activity and next check."""
    for label in APARTMENTS:
        assert status(hass, label) == "ok"
        assert state(hass, "sensor", label, "apartment_last_activity").state == STATE_UNKNOWN
    seen = {label: status_recorder(hass, label) for label in APARTMENTS}

    await async_run_until(hass, freezer, local(9, 30), STEP)

    assert alerts.fired == []
    assert attention(hass) == 0
    for label in APARTMENTS:
        assert seen[label] == []  # ok all along
        care_status = state(hass, "sensor", label, "care_status")
        assert care_status.state == "ok"
        assert care_status.attributes["reason"] is None
        assert care_status.attributes["since"] == utc_iso(WATCHING)
        last = dt_util.parse_datetime(state(hass, "sensor", label, "apartment_last_activity").state)
        assert last is not None
        assert WATCHING < last <= local(9, 30)
        # The morning is met: the next check is the daytime inactivity check.
        next_check = state(hass, "sensor", label, "next_check").state
        assert next_check == utc_iso(last + timedelta(hours=4, minutes=15))
        # The apartment's last activity is one of its sensors' reports.
        tracked = building.runtime_data.apartments[sub_id(label)]
        assert tracked.evaluation.last_activity == last


@NOT_UP
async def test_resident_not_up(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry, alerts: Alerts
) -> None:
    """No activity in the morning window: a check is needed at exactly 09:15."""
    await async_run_until(hass, freezer, MORNING_DUE - timedelta(seconds=1), STEP)
    care_status = state(hass, "sensor", APT, "care_status")
    assert care_status.state == "ok"
    assert care_status.attributes["rechecking"] == "no_morning_activity"  # in the grace
    assert state(hass, "sensor", APT, "next_check").state == utc_iso(MORNING_DUE)
    assert alerts.fired == []
    assert attention(hass) == 0

    await async_run_until(hass, freezer, MORNING_DUE)

    assert alerts.fired == [
        {
            "event_type": "check_needed",
            "apartment": APT,
            "reason": "no_morning_activity",
            "since": utc_iso(MORNING_DUE),
            "late": False,
            "id": f"{ALERT_ID}|check_needed",
            "alert_id": ALERT_ID,
            "device_id": apartment_device(hass),
        }
    ]
    event = hass.states.get(ALERTS)
    assert dt_util.parse_datetime(event.state) == MORNING_DUE
    care_status = state(hass, "sensor", APT, "care_status")
    assert care_status.state == "check_needed"
    assert care_status.attributes == care_status.attributes | {
        "reason": "no_morning_activity",
        "since": utc_iso(MORNING_DUE),
        "alert_id": ALERT_ID,
        "acknowledged_by": None,
    }
    assert state(hass, "sensor", APT, "next_check").state == STATE_UNKNOWN
    assert attention(hass) == 1
    assert [label for label in APARTMENTS if status(hass, label) != "ok"] == [APT]

    # Nothing more while nobody comes: one open alert, no repeats.
    await async_run_until(hass, freezer, local(10, 0), STEP)
    assert alerts.types() == ["check_needed"]
    assert status(hass) == "check_needed"


@NOT_UP
@pytest.mark.usefixtures("building")
async def test_acknowledge_then_activity(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    alerts: Alerts,
    hass_admin_user: MockUser,
) -> None:
    """Someone is on it (who and when in the logbook); the resident's activity resolves it."""
    await until_morning_alert(hass, freezer, alerts)
    log = care_log(hass)
    await async_run_until(hass, freezer, local(9, 17))

    await call(hass, SERVICE_ACKNOWLEDGE, hass_admin_user, apartment=apartment_device(hass))

    care_status = state(hass, "sensor", APT, "care_status")
    assert care_status.state == "acknowledged"
    assert care_status.attributes["acknowledged_by"] == hass_admin_user.name
    assert care_status.attributes["since"] == utc_iso(local(9, 17))
    assert attention(hass) == 0  # someone is on it
    assert assert_attributes_translated(hass) > 10  # care status and the event, in en and sv
    assert alerts.fired[-1] == {
        "event_type": "acknowledged",
        "apartment": APT,
        "reason": "no_morning_activity",
        "since": utc_iso(local(9, 17)),
        "late": False,
        "id": f"{ALERT_ID}|acknowledged",
        "alert_id": ALERT_ID,
        "user": hass_admin_user.name,
        "device_id": apartment_device(hass),
    }
    [entry] = log
    assert entry.data == {
        "apartment": APT,
        "building": "Solbacken",
        "action": "acknowledged",
        "user": hass_admin_user.name,
        "device_id": apartment_device(hass),  # in the apartment's own logbook
        "entity_id": care_entity(hass, "sensor", APT, "care_status"),
    }
    assert entry.context.user_id == hass_admin_user.id
    assert describe_log(hass, entry) == {
        "name": APT,
        "message": f"care check acknowledged by {hass_admin_user.name}",
        "icon": "mdi:account-check",
        "entity_id": care_entity(hass, "sensor", APT, "care_status"),
    }

    # A second acknowledgement has nothing left to acknowledge: no event, no log.
    await call(hass, SERVICE_ACKNOWLEDGE, hass_admin_user, apartment=apartment_device(hass))
    assert alerts.types() == ["check_needed", "acknowledged"]
    assert len(log) == 1

    # The resident gets up: the next report with motion resolves the alert.
    await set_scenario(hass, init_integration, "resident_not_up", APT, active=False)
    await async_run_until(hass, freezer, local(10, 0), STEP)
    assert alerts.types(APT) == ["check_needed", "acknowledged", "resolved"]
    resolved = alerts.of("resolved")[0]
    assert resolved["resolution"] == "activity"
    assert resolved["alert_id"] == ALERT_ID
    assert assert_attributes_translated(hass)  # "resolution" and its value too
    # Resolved by the first report with motion (the resolution of "last activity").
    last = dt_util.parse_datetime(state(hass, "sensor", APT, "apartment_last_activity").state)
    assert local(9, 17) < dt_util.parse_datetime(resolved["since"]) <= last
    assert status(hass) == "ok"
    assert attention(hass) == 0


@NOT_UP
async def test_acknowledge_by_automation(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry, alerts: Alerts
) -> None:
    """Without a user (an automation's notification action) the log says so."""
    await until_morning_alert(hass, freezer, alerts)
    log = care_log(hass)
    await call(hass, SERVICE_ACKNOWLEDGE, apartment=apartment_device(hass), alert_id="old")
    assert status(hass) == "check_needed"  # another alert's id acknowledges nothing
    assert log == []

    await call(hass, SERVICE_ACKNOWLEDGE, apartment=apartment_device(hass), alert_id=ALERT_ID)
    assert status(hass) == "acknowledged"
    assert alerts.of("acknowledged")[0]["user"] == "automation"
    assert describe_log(hass, log[0])["message"] == "care check acknowledged by automation"


@NOT_UP
async def test_acknowledge_for_the_presser(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    alerts: Alerts,
    hass_admin_user: MockUser,
) -> None:
    """An automation answering a notification's button names who pressed it."""
    await until_morning_alert(hass, freezer, alerts)
    log = care_log(hass)
    automation = Context()
    await hass.services.async_call(
        DOMAIN,
        SERVICE_ACKNOWLEDGE,
        {"apartment": apartment_device(hass), "user_id": hass_admin_user.id},
        blocking=True,
        context=automation,
    )
    await hass.async_block_till_done()
    assert state(hass, "sensor", APT, "care_status").attributes["acknowledged_by"] == (
        hass_admin_user.name
    )
    assert alerts.of("acknowledged")[0]["user"] == hass_admin_user.name
    [entry] = log
    assert entry.data["user"] == hass_admin_user.name
    # The logbook entry is the user's, in a context that the automation's call caused.
    assert entry.context.user_id == hass_admin_user.id
    assert entry.context.parent_id == automation.id


@NOT_UP
async def test_acknowledge_for_an_unknown_user(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry, alerts: Alerts
) -> None:
    """A user id that names nobody never stops an acknowledgement."""
    await until_morning_alert(hass, freezer, alerts)
    await call(hass, SERVICE_ACKNOWLEDGE, apartment=apartment_device(hass), user_id="nobody")
    assert status(hass) == "acknowledged"
    assert alerts.of("acknowledged")[0]["user"] == "automation"


async def test_sensor_silent(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    building: MockConfigEntry,
    alerts: Alerts,
) -> None:
    """A silent sensor: "cannot tell" after 3 missed reports, never "all well" meanwhile."""
    hub = init_integration.runtime_data
    last_seen = hub.device(MOTION[APT]).state.last_seen
    assert last_seen is not None
    offline_at = last_seen + timedelta(minutes=30)  # 3 × the 10-minute report interval
    await set_scenario(hass, init_integration, "sensor_silent", MOTION[APT])
    seen = status_recorder(hass)

    await async_run_until(hass, freezer, offline_at - timedelta(seconds=1), STEP)
    assert status(hass) == "ok"
    assert alerts.fired == []
    await async_run_until(hass, freezer, offline_at)

    assert alerts.fired == [
        {
            "event_type": "sensor_offline",
            "apartment": APT,
            "reason": "sensor_silent",
            "since": utc_iso(offline_at),
            "late": False,
            "id": f"{APT}|sensor_offline|{utc_iso(offline_at)}|sensor_offline",
            "alert_id": f"{APT}|sensor_offline|{utc_iso(offline_at)}",
            "device_id": apartment_device(hass),
        }
    ]
    care_status = state(hass, "sensor", APT, "care_status")
    assert care_status.state == "sensor_offline"
    assert care_status.attributes["offline_sensors"] == [MOTION[APT]]
    assert attention(hass) == 1
    assert assert_attributes_translated(hass)

    # Past the morning deadline: still "cannot tell", neither "all well" nor a check alert.
    await async_run_until(hass, freezer, local(9, 40), STEP)
    assert seen == ["sensor_offline"]
    assert alerts.types() == ["sensor_offline"]
    assert [label for label in APARTMENTS if status(hass, label) != "ok"] == [APT]

    # Reporting again closes the offline alert.
    await set_scenario(hass, init_integration, "sensor_silent", MOTION[APT], active=False)
    await async_run_until(hass, freezer, local(9, 55), STEP)
    assert alerts.types()[:2] == ["sensor_offline", "resolved"]
    assert alerts.of("resolved")[0]["resolution"] == "sensors_back"
    assert status(hass) != "sensor_offline"


@NOT_UP
async def test_pause_until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    alerts: Alerts,
    hass_admin_user: MockUser,
) -> None:
    """Paused until a time (logged with who and until when), the checks resume by themselves."""
    switch = care_entity(hass, "switch", APT, "care_checks_paused")
    log = care_log(hass)
    await async_run_until(hass, freezer, local(9, 14))
    until = local(9, 45)
    # A local time without a zone is Home Assistant's time zone.
    await call(
        hass,
        SERVICE_PAUSE,
        hass_admin_user,
        apartment=apartment_device(hass),
        until=until.replace(tzinfo=None).isoformat(),
    )
    assert status(hass) == "paused"
    assert hass.states.get(switch).state == STATE_ON
    assert hass.states.get(switch).attributes["until"] == utc_iso(until)
    [entry] = log
    assert entry.data == {
        "apartment": APT,
        "building": "Solbacken",
        "action": "paused",
        "user": hass_admin_user.name,
        "until": utc_iso(until),
        "device_id": apartment_device(hass),
        "entity_id": care_entity(hass, "sensor", APT, "care_status"),
    }
    assert entry.context.user_id == hass_admin_user.id
    assert describe_log(hass, entry) == {
        "name": APT,
        "message": f"care checks paused by {hass_admin_user.name} until 2026-11-23 09:45",
        "icon": "mdi:pause-circle",
        "entity_id": care_entity(hass, "sensor", APT, "care_status"),
    }

    await async_run_until(hass, freezer, until - timedelta(seconds=1), STEP)
    assert status(hass) == "paused"
    assert alerts.fired == []  # 09:15 passed while paused

    await async_run_until(hass, freezer, until)
    assert status(hass) == "ok"
    assert hass.states.get(switch).state == STATE_OFF
    assert hass.states.get(switch).attributes["until"] is None
    assert alerts.fired == []

    # Resuming when not paused does nothing and logs nothing.
    await call(hass, SERVICE_RESUME, hass_admin_user, apartment=apartment_device(hass))
    assert len(log) == 1


async def test_pause_and_resume_services(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """Paused until resumed; the resume is logged too (in Swedish for a Swedish UI)."""
    log = care_log(hass)
    await call(hass, SERVICE_PAUSE, hass_admin_user, apartment=apartment_device(hass))
    assert status(hass) == "paused"
    await async_run_until(hass, freezer, local(12, 0), timedelta(minutes=5))
    assert status(hass) == "paused"
    await call(hass, SERVICE_RESUME, hass_admin_user, apartment=apartment_device(hass))
    assert status(hass) == "ok"
    assert [e.data["action"] for e in log] == ["paused", "resumed"]
    assert describe_log(hass, log[0])["message"] == (
        f"care checks paused by {hass_admin_user.name}"
    )
    await hass.config.async_update(language="sv")  # the instance's language: its texts load
    await hass.async_block_till_done()
    assert describe_log(hass, log[1]) == {
        "name": APT,
        "message": f"tillsyn återupptagen av {hass_admin_user.name}",
        "icon": "mdi:play-circle",
        "entity_id": care_entity(hass, "sensor", APT, "care_status"),
    }


async def test_pause_in_the_past(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry
) -> None:
    """A pause must end in the future."""
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            SERVICE_PAUSE,
            apartment=apartment_device(hass),
            until=utc_iso(WATCHING - timedelta(minutes=1)),
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "pause_in_past"
    assert err.value.translation_placeholders == {"until": "2026-11-23T06:30+00:00"}
    with pytest.raises(ServiceValidationError):  # now is not the future either
        await call(hass, SERVICE_PAUSE, apartment=apartment_device(hass), until=utc_iso(WATCHING))
    assert status(hass) == "ok"


@pytest.mark.parametrize(
    ("service", "data"),
    [
        (SERVICE_ACKNOWLEDGE, {}),
        (SERVICE_PAUSE, {}),
        (SERVICE_RESUME, {}),
        (SERVICE_ARM_ESCALATION, {"alert_id": ALERT_ID, "delay": {"minutes": 10}}),
    ],
)
async def test_unknown_apartment(
    hass: HomeAssistant,
    building: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    service: str,
    data: dict[str, Any],
) -> None:
    """Each care service refuses a device that is not an apartment of a loaded building."""
    building_device = building.runtime_data.building_device_id
    for device_id in ("no-such-device", building_device):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, service, apartment=device_id, **data)
        assert err.value.translation_key == "apartment_not_found"
        assert err.value.translation_placeholders == {"device_id": device_id}
    # Nor one of an unloaded building.
    device_id = apartment_device(hass)
    assert await hass.config_entries.async_unload(building.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, service, apartment=device_id, **data)
    assert err.value.translation_key == "apartment_not_found"


# -- restarts ---------------------------------------------------------------------------


async def reload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Reload an entry (as a restart would: changes are applied in place, not reloaded)."""
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


@NOT_UP
async def test_deadline_missed_while_stopped(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    alerts: Alerts,
    hass_storage: dict[str, Any],
) -> None:
    """A deadline that passed while the building was not running fires once, late.

    The building stops at 09:00, when the other residents have been up for a while: what
    they do while it is not running, it does not see.
    """
    await async_run_until(hass, freezer, local(9, 0), STEP)
    assert [label for label in APARTMENTS if status(hass, label) != "ok"] == []
    assert [
        label
        for label in APARTMENTS
        if building.runtime_data.apartments[sub_id(label)].state.last_activity is None
    ] == [APT]
    apartment = building.runtime_data.apartments[sub_id(APT)]
    assert await hass.config_entries.async_unload(building.entry_id)
    home_assistant_restarts(hass)
    await hass.async_block_till_done()
    stored = hass_storage[STORE_KEY]["data"]["apartments"][sub_id(APT)]
    assert stored == apartment.state.as_dict()  # written at unload
    assert stored["alerts"] == []
    assert stored["last_activity"] is None

    # The resident stays in bed; the building is not running at 09:15.
    await async_run_until(hass, freezer, local(9, 40), STEP)
    assert alerts.fired == []
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()

    assert alerts.fired == [
        {
            "event_type": "check_needed",
            "apartment": APT,
            "reason": "no_morning_activity",
            "since": utc_iso(MORNING_DUE),
            "late": True,
            "id": f"{ALERT_ID}|check_needed",
            "alert_id": ALERT_ID,
            "device_id": apartment_device(hass),
        }
    ]
    assert status(hass) == "check_needed"
    assert attention(hass) == 1

    # Another restart fires nothing again.
    await async_run_until(hass, freezer, local(9, 45), STEP)
    await reload(hass, building)
    await async_run_until(hass, freezer, local(9, 50), STEP)
    assert len(alerts.fired) == 1
    assert status(hass) == "check_needed"


async def test_restart_from_stored_state(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    alerts: Alerts,
    hass_storage: dict[str, Any],
) -> None:
    """The stored state alone tells the building what it missed: one late alert."""
    await set_scenario(hass, init_integration, "resident_not_up", APT)
    await async_run_until(hass, freezer, local(9, 40), STEP)
    # Written by a run that watched from 07:31 to 08:00 and saw nobody in Lgh 1102.
    hass_storage[STORE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORE_KEY,
        "data": {
            "apartments": {
                sub_id(APT): {
                    "started": utc_iso(WATCHING),
                    "evaluated": utc_iso(local(8, 0)),
                    "last_activity": None,
                    "pending": [],
                    "pause_from": None,
                    "pause_until": None,
                    "pause_applied": False,
                    "reset_at": utc_iso(WATCHING),
                    "disabled_since": None,
                    "ok_since": utc_iso(WATCHING),
                    "care": None,
                    "offline": None,
                    "deferred": None,
                    "fired": [],
                }
            }
        },
    }
    entry = building_entry()
    entry.add_to_hass(hass)
    home_assistant_restarts(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert [(e["event_type"], e["apartment"], e["late"]) for e in alerts.fired] == [
        ("check_needed", APT, True)
    ]
    assert alerts.fired[0]["since"] == utc_iso(MORNING_DUE)
    assert status(hass) == "check_needed"
    # The apartments without a stored state start watching now: nothing to judge yet.
    assert [label for label in APARTMENTS if status(hass, label) != "ok"] == [APT]
    await async_run_until(hass, freezer, local(9, 45), STEP)
    stored = hass_storage[STORE_KEY]["data"]["apartments"]
    assert set(stored) == {sub_id(label) for label in APARTMENTS}  # saved soon after
    assert f"{ALERT_ID}|check_needed" in stored[sub_id(APT)]["fired"]

    await reload(hass, entry)
    await async_run_until(hass, freezer, local(9, 50), STEP)
    assert len(alerts.fired) == 1


async def test_lost_care_store_is_never_all_well(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    alerts: Alerts,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
    hass_admin_user: MockUser,
) -> None:
    """The care store is unreadable at start: today is judged again, and we say so.

    (Defect: an apartment with an open, acknowledged morning alert showed "All well"; the
    alert, who acknowledged it and the missed deadline were gone, and nothing said so.)
    Lgh 1102's morning window starts at 08:00 here, after the demo's first reports.
    """
    await set_scenario(hass, init_integration, "resident_not_up", APT)
    await async_run_until(hass, freezer, WATCHING, STEP)
    building = building_entry({APT: {"morning_start": "08:00:00"}})
    building.add_to_hass(hass)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, MORNING_DUE + timedelta(minutes=5), STEP)
    await call(hass, SERVICE_ACKNOWLEDGE, hass_admin_user, apartment=apartment_device(hass))
    assert status(hass) == "acknowledged"
    await async_run_until(hass, freezer, local(9, 25), STEP)
    assert issue_registry.async_get_issue(DOMAIN, f"care_state_lost_{BUILDING_ID}") is None

    assert await hass.config_entries.async_unload(building.entry_id)
    home_assistant_restarts(hass)
    # Home Assistant found the file unreadable, renamed it away and starts without it.
    del hass_storage[STORE_KEY]
    await async_run_until(hass, freezer, local(9, 40), STEP)
    alerts.fired.clear()
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()

    # Nobody has been seen in Lgh 1102 since 08:00: the morning check fires again, late.
    assert status(hass) == "check_needed"
    assert [(e["event_type"], e["apartment"], e["late"]) for e in alerts.fired] == [
        ("check_needed", APT, True)
    ]
    # The others were seen this morning (the gateway's device store still knows when).
    assert [label for label in APARTMENTS if status(hass, label) != "ok"] == [APT]
    issue = issue_registry.async_get_issue(DOMAIN, f"care_state_lost_{BUILDING_ID}")
    assert issue is not None
    assert issue.translation_key == "care_state_lost"
    assert issue.translation_placeholders == {
        "building": "Solbacken",
        "apartments": ", ".join(APARTMENTS),
    }


async def test_reminders_until_acknowledged_and_across_a_restart(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    alerts: Alerts,
    hass_admin_user: MockUser,
) -> None:
    """Unacknowledged: a reminder every 15 min, stored; a restart neither loses nor doubles."""
    await set_scenario(hass, init_integration, "resident_not_up", APT)
    await async_run_until(hass, freezer, WATCHING, STEP)
    building = building_entry(options={"reminder_interval": {"minutes": 15}})
    building.add_to_hass(hass)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, local(9, 50), STEP)
    assert [(e["event_type"], e.get("count")) for e in alerts.fired] == [
        ("check_needed", None),
        ("reminder", 1),  # 09:30
        ("reminder", 2),  # 09:45
    ]
    assert alerts.fired[1]["id"] == f"{ALERT_ID}|reminder|1"
    assert alerts.fired[1]["since"] == utc_iso(MORNING_DUE)

    # Home Assistant is down 09:50-10:20: one late reminder at the restart, then on time.
    assert await hass.config_entries.async_unload(building.entry_id)
    home_assistant_restarts(hass)
    await async_run_until(hass, freezer, local(10, 20), STEP)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, local(10, 31), STEP)
    assert [(e["event_type"], e.get("count"), e["late"]) for e in alerts.fired[3:]] == [
        ("reminder", 4, True),  # 10:15, while Home Assistant was down: one, not two
        ("reminder", 5, False),  # 10:30
    ]
    # Acknowledged: no more reminders.
    await call(hass, SERVICE_ACKNOWLEDGE, hass_admin_user, apartment=apartment_device(hass))
    await async_run_until(hass, freezer, local(11, 0), STEP)
    assert [e["event_type"] for e in alerts.fired[5:]] == ["acknowledged"]


@NOT_UP
@pytest.mark.parametrize("building_platforms", [[Platform.BUTTON, Platform.EVENT, Platform.SENSOR]])
async def test_acknowledge_button_on_the_apartment(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    alerts: Alerts,
    hass_admin_user: MockUser,
) -> None:
    """Staff acknowledge from a dashboard: the apartment's button, recorded as the presser."""
    button = care_entity(hass, "button", APT, "acknowledge_care")
    assert hass.states.get(button).state != STATE_UNAVAILABLE
    with pytest.raises(ServiceValidationError) as error:
        await hass.services.async_call(
            "button", "press", {"entity_id": button}, blocking=True,
            context=Context(user_id=hass_admin_user.id),
        )  # fmt: skip
    assert error.value.translation_key == "nothing_to_acknowledge"
    await async_run_until(hass, freezer, MORNING_DUE + timedelta(minutes=2), STEP)
    assert status(hass) == "check_needed"
    await hass.services.async_call(
        "button", "press", {"entity_id": button}, blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )  # fmt: skip
    await hass.async_block_till_done()
    assert status(hass) == "acknowledged"
    assert state(hass, "sensor", APT, "care_status").attributes["acknowledged_by"] == (
        hass_admin_user.name
    )
    assert alerts.types()[-1] == "acknowledged"
    assert alerts.fired[-1]["user"] == hass_admin_user.name


@NOT_UP
async def test_follow_up_record_of_an_alert(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    hass_admin_user: MockUser,
    hass_storage: dict[str, Any],
) -> None:
    """Time to acknowledge and to resolve per alert, through an action; kept across restarts."""
    await async_run_until(hass, freezer, MORNING_DUE + timedelta(minutes=12), STEP)
    await call(hass, SERVICE_ACKNOWLEDGE, hass_admin_user, apartment=apartment_device(hass))
    median = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{BUILDING_ID}_median_time_to_acknowledge"
    )
    assert median is not None
    assert hass.states.get(median).state == "12.0"
    assert hass.states.get(median).attributes["alerts"] == 1

    assert await hass.config_entries.async_reload(building.entry_id)
    await hass.async_block_till_done()
    response = await hass.services.async_call(
        DOMAIN,
        "care_followup",
        {"building": building.entry_id},
        blocking=True,
        return_response=True,
    )
    assert response["building"] == "Solbacken"
    assert response["summary"]["median_minutes_to_acknowledge"] == 12.0
    (record,) = response["alerts"]
    assert record == record | {
        "alert_id": ALERT_ID,
        "apartment": APT,
        "kind": "check_needed",
        "reason": "no_morning_activity",
        "since": utc_iso(MORNING_DUE),
        "acknowledged_by": hass_admin_user.name,
        "minutes_to_acknowledge": 12.0,
        "resolved_at": None,
    }
    # No motion detail, no resident data: labels, reasons, times and staff names only.
    assert set(record) == {
        "alert_id", "apartment", "kind", "reason", "since", "acknowledged_at",
        "acknowledged_by", "resolved_at", "resolution", "escalated", "late",
        "minutes_to_acknowledge", "minutes_to_resolve",
    }  # fmt: skip
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "care_followup", {"building": "nope"}, blocking=True, return_response=True
        )


async def test_new_building_is_not_a_lost_one(
    hass: HomeAssistant, building: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    """A building that never stored anything starts without a repair notice."""
    assert issue_registry.async_get_issue(DOMAIN, f"care_state_lost_{BUILDING_ID}") is None
    assert [label for label in APARTMENTS if status(hass, label) != "ok"] == []


@NOT_UP
async def test_late_alert_at_boot_waits_for_started(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry, alerts: Alerts
) -> None:
    """At boot, a late alert fires once Home Assistant has started (automations listen)."""
    await async_run_until(hass, freezer, local(9, 0), STEP)
    assert await hass.config_entries.async_unload(building.entry_id)
    home_assistant_restarts(hass)
    await async_run_until(hass, freezer, local(9, 40), STEP)
    core_states: list[CoreState] = []

    @callback
    def _on_state(event: Event) -> None:
        if event.data["entity_id"] == ALERTS:
            core_states.append(hass.state)

    hass.bus.async_listen("state_changed", _on_state)

    hass.set_state(CoreState.not_running)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    assert alerts.fired == []
    assert status(hass) == STATE_UNKNOWN  # not evaluated before the start

    await hass.async_start()
    await hass.async_block_till_done()
    assert [(e["event_type"], e["late"]) for e in alerts.fired] == [("check_needed", True)]
    assert core_states[-1] is CoreState.running
    assert status(hass) == "check_needed"


@NOT_UP
async def test_activity_during_boot_counts_before_the_first_evaluation(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    building: MockConfigEntry,
    alerts: Alerts,
) -> None:
    """Activity arriving while HA starts (before the first evaluation) is not lost.

    The late morning alert still fires once (it was due at 09:15), and the activity seen
    during the start resolves it at once instead of leaving a stale "check needed".
    """
    await async_run_until(hass, freezer, local(9, 0), STEP)
    assert await hass.config_entries.async_unload(building.entry_id)
    home_assistant_restarts(hass)
    await async_run_until(hass, freezer, local(9, 40), STEP)

    hass.set_state(CoreState.not_running)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    sensor = next(d for d in DEMO_DEVICES if d.area == APT and d.role is Role.MOTION)
    event = chirpstack.build_up(
        dev_eui=sensor.dev_eui,
        fport=5,
        fcnt=60_000,
        payload=elsys.encode({"temperature": 21.0, "motion_count": 3}),
        time=dt_util.utcnow(),
        device_name=sensor.name,
        profile_name=sensor.profile_name,
        application_id="test",
        dedup_id="boot-activity",
        rssi=-80,
        snr=6.0,
    )
    init_integration.runtime_data.async_handle_chirpstack(json.dumps(event), source="test")
    await hass.async_block_till_done()
    assert alerts.fired == []  # nothing is judged before the start

    await hass.async_start()
    await hass.async_block_till_done()
    assert [(e["event_type"], e["late"]) for e in alerts.fired] == [
        ("check_needed", True),
        ("resolved", False),
    ]
    assert status(hass) == "ok"


@NOT_UP
async def test_services_for_alerts_fired_during_setup(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry, alerts: Alerts
) -> None:
    """An automation answering a late alert at once (the building still setting up) works."""
    await async_run_until(hass, freezer, local(9, 0), STEP)
    assert await hass.config_entries.async_unload(building.entry_id)
    await async_run_until(hass, freezer, local(9, 40), STEP)
    device_id = apartment_device(hass)
    entry_states: list[ConfigEntryState] = []

    @callback
    def _on_state(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == ALERTS and new.attributes.get("event_type") == (
            "check_needed"
        ):
            entry_states.append(building.state)
            hass.async_create_task(
                hass.services.async_call(
                    DOMAIN,
                    SERVICE_ARM_ESCALATION,
                    {"apartment": device_id, "alert_id": ALERT_ID, "delay": {"minutes": 10}},
                    blocking=True,
                )
            )

    hass.bus.async_listen("state_changed", _on_state)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    assert entry_states == [ConfigEntryState.SETUP_IN_PROGRESS]
    assert building.runtime_data.apartments[sub_id(APT)].escalations == {ALERT_ID: local(9, 50)}
    await async_run_until(hass, freezer, local(9, 50), STEP)
    assert alerts.types() == ["check_needed", "escalated"]


async def test_restart_before_the_gateway(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    building: MockConfigEntry,
    alerts: Alerts,
) -> None:
    """A building up before its gateway (MQTT not ready yet) does not cry "cannot tell".

    It knows when the sensors last reported; only if the gateway stays away past their
    silence limit can it no longer tell.
    """
    await async_run_until(hass, freezer, local(7, 45), STEP)
    assert await hass.config_entries.async_unload(building.entry_id)
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()

    await async_run_until(hass, freezer, local(7, 50))
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    assert alerts.fired == []
    assert [status(hass, label) for label in APARTMENTS] == ["ok"] * 6

    await async_run_until(hass, freezer, local(7, 55))
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, local(8, 30), STEP)
    assert alerts.fired == []
    assert [status(hass, label) for label in APARTMENTS] == ["ok"] * 6

    # A gateway that does not come back: "cannot tell" once the sensors' limits pass.
    last_seen = init_integration.runtime_data.device(MOTION[APT]).state.last_seen
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    await reload(hass, building)  # knows the last reports from its store
    offline_at = last_seen + timedelta(minutes=30)
    await async_run_until(hass, freezer, offline_at - timedelta(seconds=1), STEP)
    assert status(hass) == "ok"
    await async_run_until(hass, freezer, offline_at)
    assert status(hass) == "sensor_offline"
    assert alerts.of("sensor_offline", APT)[0]["since"] == utc_iso(offline_at)
    await async_run_until(hass, freezer, local(9, 10), STEP)
    assert [status(hass, label) for label in APARTMENTS] == ["sensor_offline"] * 6
    assert len(alerts.of("sensor_offline")) == 6


# -- escalation -------------------------------------------------------------------------


@NOT_UP
async def test_escalation(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry, alerts: Alerts
) -> None:
    """Nobody acknowledges: the armed escalation fires once, on time."""
    alert = await until_morning_alert(hass, freezer, alerts)
    await arm(hass, alert["alert_id"])  # at 09:15, due 09:25
    await async_run_until(hass, freezer, local(9, 25) - timedelta(seconds=1), STEP)
    assert alerts.types() == ["check_needed"]

    await async_run_until(hass, freezer, local(9, 25))
    assert alerts.fired[-1] == {
        "event_type": "escalated",
        "apartment": APT,
        "reason": "no_morning_activity",
        "since": utc_iso(MORNING_DUE),
        "late": False,
        "id": f"{ALERT_ID}:escalated",
        "alert_id": ALERT_ID,
        "device_id": apartment_device(hass),
    }
    assert dt_util.parse_datetime(hass.states.get(ALERTS).state) == local(9, 25)
    await async_run_until(hass, freezer, local(10, 0), STEP)
    assert alerts.types() == ["check_needed", "escalated"]
    assert status(hass) == "check_needed"  # an escalation closes nothing


@NOT_UP
async def test_escalation_rearmed_keeps_the_earlier(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry, alerts: Alerts
) -> None:
    """Arming again (a second notification) never postpones an escalation."""
    await until_morning_alert(hass, freezer, alerts)
    await arm(hass, minutes=10)
    await async_run_until(hass, freezer, local(9, 20))
    await arm(hass, minutes=30)
    await async_run_until(hass, freezer, local(10, 0), STEP)
    [escalated] = alerts.of("escalated")
    assert escalated["late"] is False
    assert [e["event_type"] for e in alerts.fired] == ["check_needed", "escalated"]


@NOT_UP
async def test_no_escalation_after_acknowledgement(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    alerts: Alerts,
    hass_storage: dict[str, Any],
) -> None:
    """Someone acknowledged in time: no escalation, and none stays armed."""
    await until_morning_alert(hass, freezer, alerts)
    await arm(hass)
    await async_run_until(hass, freezer, local(9, 20))
    await call(hass, SERVICE_ACKNOWLEDGE, apartment=apartment_device(hass))
    await async_run_until(hass, freezer, local(9, 40), STEP)
    assert alerts.types() == ["check_needed", "acknowledged"]
    assert building.runtime_data.apartments[sub_id(APT)].escalations == {}
    assert hass_storage[STORE_KEY]["data"]["escalations"] == {}


@NOT_UP
async def test_escalation_survives_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    alerts: Alerts,
    hass_storage: dict[str, Any],
) -> None:
    """An escalation armed before a restart still comes at its time (it is stored)."""
    await until_morning_alert(hass, freezer, alerts)
    await arm(hass)  # due 09:25
    await async_run_until(hass, freezer, local(9, 18))
    assert await hass.config_entries.async_unload(building.entry_id)
    await hass.async_block_till_done()
    assert hass_storage[STORE_KEY]["data"]["escalations"] == {
        sub_id(APT): {ALERT_ID: utc_iso(local(9, 25))}
    }
    await async_run_until(hass, freezer, local(9, 20), STEP)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    assert alerts.types() == ["check_needed"]

    await async_run_until(hass, freezer, local(9, 25) - timedelta(seconds=1), STEP)
    assert alerts.types() == ["check_needed"]
    await async_run_until(hass, freezer, local(9, 25))
    assert alerts.types() == ["check_needed", "escalated"]
    assert alerts.fired[-1]["late"] is False


@NOT_UP
async def test_escalation_due_while_stopped(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry, alerts: Alerts
) -> None:
    """An escalation that came due while the building was not running fires late, once."""
    await until_morning_alert(hass, freezer, alerts)
    await arm(hass)
    assert await hass.config_entries.async_unload(building.entry_id)
    home_assistant_restarts(hass)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, local(9, 40), STEP)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    assert alerts.types() == ["check_needed", "escalated"]
    assert alerts.fired[-1]["late"] is True

    await async_run_until(hass, freezer, local(9, 45), STEP)
    await reload(hass, building)
    await async_run_until(hass, freezer, local(9, 50), STEP)
    assert alerts.types() == ["check_needed", "escalated"]


@NOT_UP
async def test_escalation_of_a_closed_alert(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    building: MockConfigEntry,
    alerts: Alerts,
) -> None:
    """Arming for an alert that is not open (unknown, acknowledged, resolved) does nothing."""
    await arm(hass, alert_id="Lgh 1102|no_morning_activity|2026-11-22T08:15:00+00:00")
    await until_morning_alert(hass, freezer, alerts)
    await call(hass, SERVICE_ACKNOWLEDGE, apartment=apartment_device(hass))
    await arm(hass)  # acknowledged
    assert building.runtime_data.apartments[sub_id(APT)].escalations == {}

    await set_scenario(hass, init_integration, "resident_not_up", APT, active=False)
    await async_run_until(hass, freezer, local(10, 0), STEP)
    assert alerts.types() == ["check_needed", "acknowledged", "resolved"]
    await arm(hass)  # resolved
    assert building.runtime_data.apartments[sub_id(APT)].escalations == {}
    await async_run_until(hass, freezer, local(10, 30), STEP)
    assert alerts.types() == ["check_needed", "acknowledged", "resolved"]


# -- the gateway goes silent ------------------------------------------------------------


async def test_gateway_stopped(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    building: MockConfigEntry,
    alerts: Alerts,
) -> None:
    """No more messages: when the first sensor falls silent, the gateway is the cause.

    Nothing at all came through the gateway for as long as the first motion sensor's limit
    (its six sensors missed two reports each): every apartment cannot tell at once, one
    incident names them, long before the gateway's own silence limit.
    """
    hub = init_integration.runtime_data
    hub.gateway.async_stop()
    first_silent = min(
        hub.device(MOTION[label]).state.last_seen + timedelta(minutes=30) for label in APARTMENTS
    )
    await async_run_until(hass, freezer, first_silent - timedelta(seconds=1))
    assert alerts.fired == []
    assert attention(hass) == 0
    assert not hub.silent

    await async_run_until(hass, freezer, first_silent, timedelta(seconds=1))
    assert [status(hass, label) for label in APARTMENTS] == ["sensor_offline"] * 6
    assert attention(hass) == 6
    offline = alerts.of("sensor_offline")
    assert {(e["apartment"], e["since"], e["reason"]) for e in offline} == {
        (label, utc_iso(first_silent), "gateway_down") for label in APARTMENTS
    }
    (incident,) = alerts.of("incident")
    assert incident["apartments"] == list(APARTMENTS)
    assert {e["incident_id"] for e in offline} == {incident["incident_id"]}
    # Every sensor of the apartment is unheard: Lgh 1101's door sensor too (hourly reports,
    # not past its own limit, but nothing comes through its gateway).
    status_1101 = state(hass, "sensor", "Lgh 1101", "care_status")
    assert status_1101.attributes["offline_sensors"] == [DOOR_1101, MOTION["Lgh 1101"]]

    # Hours later nothing new: the morning deadline waits until the sensors are back, and
    # no reminders per apartment (the incident stands for them).
    door_silent_at = hub.device(DOOR_1101).state.last_seen + timedelta(hours=3)
    await async_run_until(hass, freezer, door_silent_at, timedelta(minutes=1))
    assert alerts.types() == ["sensor_offline"] * 6 + ["incident"]
    assert [status(hass, label) for label in APARTMENTS] == ["sensor_offline"] * 6


async def test_gateway_silence_issue(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    building: MockConfigEntry,
    alerts: Alerts,
) -> None:
    """A gateway with its "no messages" repair issue raised: "cannot tell" at once.

    The simulated gateway has no silence watchdog; this sets the hub's flag and sends the
    signals the watchdog sends when it raises the issue.
    """
    hub = init_integration.runtime_data
    hub.gateway.async_stop()
    hub.silent = True
    hub._signal_all_devices()
    await hass.async_block_till_done()
    assert [status(hass, label) for label in APARTMENTS] == ["sensor_offline"] * 6
    offline = alerts.of("sensor_offline")
    assert {(e["reason"], e["since"]) for e in offline} == {("gateway_down", utc_iso(WATCHING))}
    assert state(hass, "sensor", APT, "care_status").attributes["reason"] == "gateway_down"
    # Storms collapse by cause: one incident names the six apartments; each apartment's own
    # "cannot tell" event still fires (nothing hidden) and carries the incident's id.
    (incident,) = alerts.of("incident")
    assert incident["cause"] == "gateway_down"
    assert incident["apartments"] == list(APARTMENTS)
    assert incident["gateways"] == [init_integration.title]
    assert {e["incident_id"] for e in offline} == {incident["incident_id"]}
    assert alerts.types() == ["sensor_offline"] * 6 + ["incident"]

    # Messages again: every apartment can tell, and the incident ends once.
    hub.silent = False
    hub._signal_all_devices()
    await hass.async_block_till_done()
    assert [status(hass, label) for label in APARTMENTS] == ["ok"] * 6
    resolved = alerts.of("resolved")
    assert {e["incident_id"] for e in resolved} == {incident["incident_id"]}
    assert len(resolved) == 6
    (ended,) = alerts.of("incident_resolved")
    assert ended["incident_id"] == incident["incident_id"]
    assert building.runtime_data.incidents == {}


async def test_service_apartment_picker_offers_apartments_only(
    hass: HomeAssistant, building: MockConfigEntry
) -> None:
    """The actions' apartment picker: devices with an Ånge IoT switch, which only apartments
    have (their device model is no longer a filterable English word)."""
    services = yaml.safe_load(
        (Path(__file__).parents[1] / "custom_components" / DOMAIN / "services.yaml").read_text(
            "utf-8"
        )
    )
    pickers = [
        spec["fields"]["apartment"]["selector"]["device"]
        for spec in services.values()
        if "apartment" in spec.get("fields", {})
    ]
    assert len(pickers) == 4
    assert all(p == {"entity": [{"integration": DOMAIN, "domain": "switch"}]} for p in pickers)
    with_switch = {
        e.device_id
        for e in er.async_get(hass).entities.values()
        if e.platform == DOMAIN and e.domain == "switch"
    }
    apartments = {
        device.id
        for device in dr.async_get(hass).devices
        if any(i[0] == DOMAIN and i[1].startswith("apartment_") for i in device.identifiers)
    }
    assert apartments
    assert with_switch == apartments


async def test_start_tells_the_building_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    setup_building: SetupBuilding,
) -> None:
    """Starting evaluates every apartment but tells the building's entities once.

    Each telling recounts every apartment (attention count and its list): once per
    apartment would make start-up quadratic in the number of apartments.
    """
    await async_run_until(hass, freezer, WATCHING, STEP)
    told: list[None] = []
    async_dispatcher_connect(hass, BUILDING_UPDATED.format(BUILDING_ID), lambda: told.append(None))
    entry = await setup_building(building_entry())
    assert len(entry.runtime_data.apartments) == len(APARTMENTS) > 1
    # Once when started, once after the subentries are applied; not once per apartment.
    assert len(told) == 2
    assert attention(hass) == 0
