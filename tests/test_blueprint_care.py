"""The care-check notification blueprint, driven by the integration's real care events.

A building with one apartment (Lgh 1102) watches the demo motion sensor; the simulator's
"resident not up" scenario makes the morning check fail at 09:15 local. Three phones are
mobile_app devices with mocked ``notify.mobile_app_*`` actions: two staff, one escalation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import Context, CoreState, Event, HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ange_iot.angelib.simulator import DEMO_DEVICES, Role, Scenario
from custom_components.ange_iot.const import DOMAIN, EVENT_CARE_LOG

from .common import async_run_until, async_setup_blueprint, mobile_phone

BLUEPRINT = (
    Path(__file__).resolve().parents[1]
    / "blueprints"
    / "automation"
    / "ange_iot"
    / "care_check_notification.yaml"
)
LOCAL = ZoneInfo("Europe/Stockholm")
APARTMENT = "Lgh 1102"
MOTION_1102 = next(d for d in DEMO_DEVICES if d.role is Role.MOTION and d.area == APARTMENT)
ALERTS = "event.solbacken_care_alerts"
AUTOMATION = "automation.care_alerts"
WATCHING = datetime(2026, 11, 23, 7, 31, tzinfo=LOCAL)  # after every sensor's first report
ALERT_AT = datetime(2026, 11, 23, 9, 15, tzinfo=LOCAL)  # morning deadline 09:00 + 15 min
ALERT_ID = f"{APARTMENT}|no_morning_activity|2026-11-23T08:15:00+00:00"
TAG = "ange-care-solbacken-lgh_1102"
STAFF = ("Personal 1", "Personal 2")
ESCALATION = "Jour"
STEP = timedelta(seconds=30)


@dataclass
class Care:
    """The building, its apartment device, the phones' notify calls and the staff user."""

    building: MockConfigEntry
    subentry_id: str
    apartment_device: str
    status_entity: str
    phones: dict[str, str]  # name -> device id
    calls: dict[str, list[ServiceCall]]  # name -> notify calls
    user: User
    care_events: list[Event]

    def sent(self, name: str) -> list[dict[str, Any]]:
        """What one phone received, in order."""
        return [call.data for call in self.calls[name]]

    def clear(self) -> None:
        """Forget the calls so far."""
        for calls in self.calls.values():
            calls.clear()

    def action(self, kind: str, alert_id: str = ALERT_ID) -> str:
        """The action id of a button of an alert's notification."""
        return f"ANGE_CARE_{kind}|{self.apartment_device}|{alert_id}"


async def async_setup_care(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    gateway: MockConfigEntry,
    tmp_path: Path,
    *,
    scenario: Scenario | None = Scenario.RESIDENT_NOT_UP,
    escalation_phones: bool = True,
    **inputs: Any,
) -> Care:
    """Building + apartment + phones + an automation from the blueprint (``inputs`` added)."""
    if scenario is Scenario.RESIDENT_NOT_UP:
        gateway.runtime_data.gateway.async_set_scenario(scenario, True, APARTMENT)
    elif scenario is Scenario.SENSOR_SILENT:
        gateway.runtime_data.gateway.async_set_scenario(scenario, True, MOTION_1102.dev_eui)
    # The building starts watching once the first reports (with their motion from before
    # the scenario began) are in: from here on the resident of Lgh 1102 does not move.
    await async_run_until(hass, freezer, WATCHING)
    building = MockConfigEntry(
        domain=DOMAIN,
        title="Solbacken",
        data={"kind": "building"},
        subentries_data=[
            ConfigSubentryData(
                subentry_type="apartment",
                title=APARTMENT,
                unique_id=None,
                data={"label": APARTMENT, "sensors": [MOTION_1102.dev_eui]},
            )
        ],
    )
    building.add_to_hass(hass)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    subentry_id = next(iter(building.subentries))
    apartment = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"apartment_{subentry_id}"), building.entry_id
    )
    assert apartment is not None
    status = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{building.entry_id}_{subentry_id}_care_status"
    )
    assert status is not None
    assert hass.states.get(ALERTS) is not None

    phones: dict[str, str] = {}
    calls: dict[str, list[ServiceCall]] = {}
    for name in (*STAFF, ESCALATION):
        phones[name], calls[name] = mobile_phone(hass, name)

    await async_setup_blueprint(
        hass,
        tmp_path,
        "care_check_notification.yaml",
        "care_alerts",
        {
            "care_alerts": ALERTS,
            "staff_phones": [phones[name] for name in STAFF],
            **({"escalation_phones": [phones[ESCALATION]]} if escalation_phones else {}),
            **inputs,
        },
    )

    care_events: list[Event] = []
    seen: set[str] = set()

    def _on_state(event: Event) -> None:
        """Keep each care event once (not the state changes of an unload or a restore)."""
        new = event.data["new_state"]
        event_id = new.attributes.get("id") if new is not None else None
        if event.data["entity_id"] == ALERTS and event_id is not None and event_id not in seen:
            seen.add(event_id)
            care_events.append(event)

    hass.bus.async_listen("state_changed", _on_state)
    user = await hass.auth.async_create_user("Anna")
    return Care(
        building=building,
        subentry_id=subentry_id,
        apartment_device=apartment.id,
        status_entity=status,
        phones=phones,
        calls=calls,
        user=user,
        care_events=care_events,
    )


async def _press(hass: HomeAssistant, action: str, user: User | None) -> None:
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": action},
        context=Context(user_id=user.id if user else None),
    )
    await hass.async_block_till_done()


def _event_types(care: Care) -> list[str]:
    return [e.data["new_state"].attributes["event_type"] for e in care.care_events]


def _alert(
    care: Care,
    *,
    title: str = f"Tillsyn behövs: {APARTMENT}",
    message: str = "Ingen aktivitet i morse. Sedan 09:15.",
    buttons: Iterable[str] = ("Jag går dit", "Kvittera"),
    tag: str = TAG,
    alert_id: str = ALERT_ID,
    **urgency: Any,
) -> dict[str, Any]:
    going, ack = buttons
    return {
        "title": title,
        "message": message,
        "data": {
            "tag": tag,
            "group": "ange-care",
            "actions": [
                {"action": care.action("GOING", alert_id), "title": going},
                {"action": care.action("ACK", alert_id), "title": ack},
            ],
            **urgency,
        },
    }


TIME_SENSITIVE = {"priority": "high", "ttl": 0, "push": {"interruption-level": "time-sensitive"}}
CRITICAL = {
    "priority": "high",
    "ttl": 0,
    "channel": "alarm_stream",
    "push": {"sound": {"name": "default", "critical": 1, "volume": 1.0}},
}
CLEAR = {"message": "clear_notification", "data": {"tag": TAG}}


def test_blueprint_passes_validation() -> None:
    """HA's own blueprint schema accepts it; no waiting step anywhere (restart-proof)."""
    blueprint = Blueprint(
        load_yaml_dict(BLUEPRINT), expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )
    assert blueprint.metadata["source_url"] == (
        "https://github.com/ange-kommun/ange-iot/blob/main/"
        "blueprints/automation/ange_iot/care_check_notification.yaml"
    )
    assert blueprint.data["mode"] == "parallel"
    assert not list(_waiting_steps([blueprint.data["triggers"], blueprint.data["actions"]]))


def _waiting_steps(node: Any) -> Iterable[str]:
    """Steps that wait (lost on a restart); service data (``data:``) is not a step."""
    if isinstance(node, dict):
        yield from {"delay", "wait_for_trigger", "wait_template", "for"} & node.keys()
        for key, value in node.items():
            if key != "data":
                yield from _waiting_steps(value)
    elif isinstance(node, list):
        for item in node:
            yield from _waiting_steps(item)


async def test_check_needed_reaches_every_staff_phone(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """09:15: one actionable, time-sensitive alert per staff phone; escalation armed."""
    care = await async_setup_care(hass, freezer, init_integration, tmp_path)
    await async_run_until(hass, freezer, ALERT_AT - STEP, STEP)
    assert all(not calls for calls in care.calls.values())
    await async_run_until(hass, freezer, ALERT_AT, STEP)

    assert _event_types(care) == ["check_needed"]
    for name in STAFF:
        assert care.sent(name) == [_alert(care, **TIME_SENSITIVE)]
    assert care.sent(ESCALATION) == []
    assert hass.states.get(care.status_entity).state == "check_needed"
    escalations = care.building.runtime_data.apartments[care.subentry_id].escalations
    assert escalations == {ALERT_ID: ALERT_AT + timedelta(minutes=10)}


async def test_press_acknowledges_clears_and_tells_who(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """A press acknowledges in the integration as the presser; phones clear, staff learn who."""
    care = await async_setup_care(hass, freezer, init_integration, tmp_path)
    log: list[Event] = []
    hass.bus.async_listen(EVENT_CARE_LOG, log.append)
    await async_run_until(hass, freezer, ALERT_AT + timedelta(minutes=2), STEP)
    care.clear()

    await _press(hass, care.action("GOING"), care.user)

    status = hass.states.get(care.status_entity)
    assert status.state == "acknowledged"
    assert status.attributes["acknowledged_by"] == "Anna"
    assert _event_types(care) == ["check_needed", "acknowledged"]
    acknowledged = care.care_events[-1].data["new_state"].attributes
    assert acknowledged["user"] == "Anna"
    assert acknowledged["alert_id"] == ALERT_ID
    assert [e.data.get("user") for e in log if e.data["action"] == "acknowledged"] == ["Anna"]
    taken = {
        "title": f"Kvitterat: {APARTMENT}",
        "message": f"Anna tar {APARTMENT}",
        "data": {"tag": TAG, "group": "ange-care"},
    }
    for name in STAFF:
        assert care.sent(name) == [CLEAR, taken]
    assert care.sent(ESCALATION) == [CLEAR]

    # A second press (a colleague, the other button) changes nothing; nor does the delay.
    care.clear()
    await _press(hass, care.action("ACK"), care.user)
    await async_run_until(hass, freezer, ALERT_AT + timedelta(minutes=15), STEP)
    assert _event_types(care) == ["check_needed", "acknowledged"]
    assert all(not calls for calls in care.calls.values())


async def test_foreign_and_stale_presses_are_ignored(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """Other apps' actions and an old alert's buttons acknowledge nothing."""
    care = await async_setup_care(hass, freezer, init_integration, tmp_path)
    await async_run_until(hass, freezer, ALERT_AT + timedelta(minutes=1), STEP)

    await _press(hass, "OPEN_GARAGE", care.user)
    await _press(hass, care.action("ACK", f"{APARTMENT}|inactive|2026-11-22T12:00:00+00:00"), None)
    await _press(hass, f"ANGE_CARE_ACK|{care.phones['Jour']}|{ALERT_ID}", care.user)

    assert hass.states.get(care.status_entity).state == "check_needed"
    assert _event_types(care) == ["check_needed"]


async def test_escalation_when_nobody_acknowledges(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """No press within 10 minutes: the integration escalates; the escalation phone rings."""
    care = await async_setup_care(hass, freezer, init_integration, tmp_path)
    await async_run_until(hass, freezer, ALERT_AT + timedelta(minutes=9, seconds=30), STEP)
    assert care.sent(ESCALATION) == []
    await async_run_until(hass, freezer, ALERT_AT + timedelta(minutes=10), STEP)

    assert _event_types(care) == ["check_needed", "escalated"]
    assert care.sent(ESCALATION) == [
        _alert(
            care,
            title=f"Ej kvitterat: {APARTMENT}",
            message="Ingen har kvitterat på 10 min. Ingen aktivitet i morse. Sedan 09:15.",
            **CRITICAL,
        )
    ]
    for name in STAFF:
        assert len(care.sent(name)) == 1  # only the first alert

    # The escalation phone's button acknowledges the same alert.
    care.clear()
    await _press(hass, care.action("ACK"), care.user)
    assert hass.states.get(care.status_entity).state == "acknowledged"
    assert care.sent(ESCALATION) == [CLEAR]


async def test_resolved_clears_every_phone(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """The resident moves: the alert is resolved and cleared everywhere, nothing else sent."""
    care = await async_setup_care(hass, freezer, init_integration, tmp_path)
    await async_run_until(hass, freezer, ALERT_AT + timedelta(minutes=1), STEP)
    care.clear()

    init_integration.runtime_data.gateway.async_set_scenario(
        Scenario.RESIDENT_NOT_UP, False, APARTMENT
    )
    await async_run_until(hass, freezer, ALERT_AT + timedelta(minutes=9), STEP)  # next report

    assert _event_types(care) == ["check_needed", "resolved"]
    assert hass.states.get(care.status_entity).state == "ok"
    for name in (*STAFF, ESCALATION):
        assert care.sent(name) == [CLEAR]
    # The escalation armed at 09:15 was dropped with the alert.
    await async_run_until(hass, freezer, ALERT_AT + timedelta(minutes=15), STEP)
    assert _event_types(care) == ["check_needed", "resolved"]
    assert care.sent(ESCALATION) == [CLEAR]


async def test_english_critical_without_escalation(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """English texts and the alarm stream; no escalation phones: nothing armed."""
    care = await async_setup_care(
        hass,
        freezer,
        init_integration,
        tmp_path,
        escalation_phones=False,
        language="en",
        urgency="critical",
    )
    await async_run_until(hass, freezer, ALERT_AT, STEP)

    english = _alert(
        care,
        title=f"Check needed: {APARTMENT}",
        message="No activity this morning. Since 09:15.",
        buttons=("I'm going", "Acknowledge"),
        **CRITICAL,
    )
    for name in STAFF:
        assert care.sent(name) == [english]
    assert care.building.runtime_data.apartments[care.subentry_id].escalations == {}

    care.clear()
    await _press(hass, care.action("GOING"), care.user)
    taken = {
        "title": f"Acknowledged: {APARTMENT}",
        "message": f"Anna is on {APARTMENT}",
        "data": {"tag": TAG, "group": "ange-care"},
    }
    for name in STAFF:
        assert care.sent(name) == [CLEAR, taken]
    assert care.sent(ESCALATION) == []  # not one of this automation's phones


async def test_no_escalation_with_zero_delay(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """A delay of 0 means no escalation, even with escalation phones."""
    care = await async_setup_care(
        hass,
        freezer,
        init_integration,
        tmp_path,
        escalation_delay={"hours": 0, "minutes": 0, "seconds": 0},
        urgency="normal",
    )
    await async_run_until(hass, freezer, ALERT_AT + timedelta(minutes=20), STEP)

    assert _event_types(care) == ["check_needed"]
    for name in STAFF:
        assert care.sent(name) == [_alert(care)]  # normal: no urgency fields
    assert care.sent(ESCALATION) == []


@pytest.mark.parametrize("notify_offline", [True, False])
async def test_sensor_offline_can_be_switched_off(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    notify_offline: bool,
) -> None:
    """A silent sensor: "cannot tell" with its own tag and escalation, or nothing at all."""
    care = await async_setup_care(
        hass,
        freezer,
        init_integration,
        tmp_path,
        scenario=Scenario.SENSOR_SILENT,
        notify_offline=notify_offline,
    )
    # Never heard from since watching began at 07:31: 30 minutes (3 reports) later we
    # cannot tell; unacknowledged, it escalates 10 minutes after that.
    await async_run_until(hass, freezer, datetime(2026, 11, 23, 8, 30, tzinfo=LOCAL), STEP)

    offline = care.care_events[0].data["new_state"].attributes
    assert offline["event_type"] == "sensor_offline"
    assert offline["reason"] == "sensor_silent"
    assert offline["since"] == "2026-11-23T07:01:00+00:00"  # 08:01 local
    if not notify_offline:
        assert _event_types(care) == ["sensor_offline"]  # nothing armed, nothing escalated
        assert all(not calls for calls in care.calls.values())
        return
    assert _event_types(care) == ["sensor_offline", "escalated"]
    alert = {
        "title": f"Kan inte avgöra: {APARTMENT}",
        "message": "En sensor är tyst, tillsynen kan inte göras. Sedan 08:01.",
        "tag": f"{TAG}-offline",
        "alert_id": offline["alert_id"],
    }
    for name in STAFF:
        assert care.sent(name) == [_alert(care, **alert, **TIME_SENSITIVE)]
    escalated = alert | {
        "title": f"Ej kvitterat: {APARTMENT}",
        "message": "Ingen har kvitterat på 10 min. " + alert["message"],
    }
    assert care.sent(ESCALATION) == [_alert(care, **escalated, **CRITICAL)]


async def test_restart_late_alert_and_reload_send_nothing_twice(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """Down over 09:15: one late alert that says so; a reload repeats nothing."""
    care = await async_setup_care(hass, freezer, init_integration, tmp_path)
    entry_id = care.building.entry_id
    await async_run_until(hass, freezer, ALERT_AT - timedelta(minutes=15), STEP)
    assert await hass.config_entries.async_unload(entry_id)
    await async_run_until(hass, freezer, ALERT_AT + timedelta(minutes=5), STEP)
    assert all(not calls for calls in care.calls.values())

    assert await hass.config_entries.async_setup(entry_id)
    await hass.async_block_till_done()
    assert _event_types(care) == ["check_needed"]
    assert care.care_events[-1].data["new_state"].attributes["late"] is True
    late = _alert(
        care,
        message="Ingen aktivitet i morse. Sedan 09:15. "
        "Försenat larm: Home Assistant var inte igång när det kom.",
        **TIME_SENSITIVE,
    )
    for name in STAFF:
        assert care.sent(name) == [late]
    escalations = care.building.runtime_data.apartments[care.subentry_id].escalations
    assert escalations == {ALERT_ID: ALERT_AT + timedelta(minutes=15)}  # armed at 09:20

    care.clear()
    assert await hass.config_entries.async_reload(entry_id)
    await hass.async_block_till_done()
    assert all(not calls for calls in care.calls.values())

    await _press(hass, care.action("GOING"), care.user)
    assert hass.states.get(care.status_entity).state == "acknowledged"
    assert care.sent(ESCALATION) == [CLEAR]


async def test_late_alert_at_boot_reaches_the_phones(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """At boot, automations arm their triggers just before "started": a late alert waits."""
    care = await async_setup_care(hass, freezer, init_integration, tmp_path)
    entry_id = care.building.entry_id
    await async_run_until(hass, freezer, ALERT_AT - timedelta(minutes=15), STEP)
    assert await hass.config_entries.async_unload(entry_id)
    await async_run_until(hass, freezer, ALERT_AT + timedelta(minutes=5), STEP)

    # Booting: the automation's triggers wait for a startup job, as after a restart.
    await hass.services.async_call("automation", "turn_off", {"entity_id": AUTOMATION}, True)
    hass.set_state(CoreState.not_running)
    await hass.services.async_call("automation", "turn_on", {"entity_id": AUTOMATION}, True)
    assert await hass.config_entries.async_setup(entry_id)
    await hass.async_block_till_done()
    await hass.async_start()
    await hass.async_block_till_done()

    assert _event_types(care) == ["check_needed"]
    for name in STAFF:
        assert [call["title"] for call in care.sent(name)] == [f"Tillsyn behövs: {APARTMENT}"]
