"""The meter-alert notification blueprint: alerts, reminders, escalation, "seen", cleared.

Reminders and escalation are timed by the integration (stored, so they survive a restart):
the blueprint only notifies on its events and waits for nothing.

The building's meter-alerts event entity is driven directly, in the shape of Home
Assistant's event entities (state = the event's time, ``event_type`` and the event data as
attributes). Two phones are mobile_app devices with mocked ``notify.mobile_app_*`` actions.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
import hashlib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
)

from .common import async_setup_blueprint, mobile_phone

BLUEPRINT = (
    Path(__file__).resolve().parents[1]
    / "blueprints"
    / "automation"
    / "ange_iot"
    / "meter_alert_notification.yaml"
)
LOCAL = ZoneInfo("Europe/Stockholm")
ALERTS = "event.solbacken_meter_alerts"
AUTOMATION = "automation.meter_alerts"
EVENT_TYPES = ["alert_started", "alert_cleared", "alert_acknowledged", "reminder", "escalated"]
START = datetime(2026, 11, 23, 9, 20, tzinfo=LOCAL)
PHONES = ("Pixel 7", "Iphone Vaktmastare")
LEAK_ID = "0001a8f000002101|leak|2026-11-23T08:15:00+00:00"
NIGHT_ID = "0004a30b00e10001|night_flow|2026-11-23T02:00:00+00:00"
LEAK = {
    "alert_id": LEAK_ID,
    "alert": "leak",
    "meter": "Vattenmätare Lgh 1101",
    "meter_device_id": "device-1101",
    "building": "Solbacken",
    "since": "2026-11-23T08:15:00+00:00",
    "leak_rate_lph": 12.0,
    "source": "meter",
}
NIGHT = {
    "alert_id": NIGHT_ID,
    "alert": "night_flow",
    "meter": "Huvudmätare",
    "meter_device_id": "device-main",
    "building": "Solbacken",
    "since": "2026-11-23T02:00:00+00:00",
    "leak_rate_lph": None,
    "source": "derived",
}


def tag(alert_id: str) -> str:
    return "ange-meter-" + hashlib.md5(alert_id.encode()).hexdigest()


def seen(alert_id: str) -> str:
    return f"ANGE_METER_SEEN|{alert_id}"


LEAK_SV = {
    "title": "Läcka: Solbacken",
    "message": "Mätare: Vattenmätare Lgh 1101. Sedan 2026-11-23 09:15. "
    "Uppskattat läckflöde ≈ 12.0 L/h.",
    "data": {
        "tag": tag(LEAK_ID),
        "group": "ange-meter",
        "actions": [{"action": seen(LEAK_ID), "title": "Sett"}],
    },
}
NIGHT_SV = {
    "title": "Förbrukning nattetid: Solbacken",
    "message": "Mätare: Huvudmätare. Sedan 2026-11-23 03:00.",
    "data": {
        "tag": tag(NIGHT_ID),
        "group": "ange-meter",
        "actions": [{"action": seen(NIGHT_ID), "title": "Sett"}],
    },
}


def clear(alert_id: str) -> dict[str, Any]:
    return {"message": "clear_notification", "data": {"tag": tag(alert_id)}}


@dataclass
class Meters:
    """The phones' notify calls."""

    calls: dict[str, list[ServiceCall]]  # phone name -> notify calls

    def sent(self, name: str = PHONES[0]) -> list[dict[str, Any]]:
        """What one phone received, in order."""
        return [call.data for call in self.calls[name]]

    def everywhere(self) -> list[dict[str, Any]]:
        """What every phone received: the same, in order (asserted)."""
        first = self.sent(PHONES[0])
        for name in PHONES[1:]:
            assert self.sent(name) == first, name
        return first

    def clear(self) -> None:
        """Forget the calls so far."""
        for calls in self.calls.values():
            calls.clear()


async def async_setup_meters(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path, **inputs: Any
) -> Meters:
    """The event entity (no event yet), two phones and an automation from the blueprint."""
    await hass.config.async_set_time_zone("Europe/Stockholm")
    freezer.move_to(START)
    hass.states.async_set(ALERTS, "unknown", {"event_types": EVENT_TYPES})
    phones: dict[str, str] = {}
    calls: dict[str, list[ServiceCall]] = {}
    for name in PHONES:
        phones[name], calls[name] = mobile_phone(hass, name)

    await async_setup_blueprint(
        hass,
        tmp_path,
        "meter_alert_notification.yaml",
        "meter_alerts",
        {"meter_alerts": ALERTS, "phones": [phones[name] for name in PHONES], **inputs},
    )
    return Meters(calls=calls)


async def _event(hass: HomeAssistant, event_type: str, data: dict[str, Any]) -> None:
    """The entity fires an event now (an event entity's state is the event's time)."""
    hass.states.async_set(
        ALERTS,
        dt_util.utcnow().isoformat(timespec="milliseconds"),
        {"event_type": event_type, "event_types": EVENT_TYPES, **data},
    )
    await _settle(hass)


async def _press(hass: HomeAssistant, action: str) -> None:
    hass.bus.async_fire("mobile_app_notification_action", {"action": action})
    await _settle(hass)


async def _settle(hass: HomeAssistant) -> None:
    """Let every run go as far as it can: until the event loop has nothing ready to run.

    ``hass.async_block_till_done`` would wait for every run in flight (tasks) too.
    """
    loop = asyncio.get_running_loop()
    for _ in range(1000):
        await asyncio.sleep(0)
        if not loop._ready:  # type: ignore[attr-defined]  # CPython's queue of ready callbacks
            return
    pytest.fail("the event loop never settled")


async def _later(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Move the clock in minute steps, running every timer that comes due."""
    end = dt_util.utcnow() + delta
    while dt_util.utcnow() < end:
        freezer.tick(min(timedelta(minutes=1), end - dt_util.utcnow()))
        async_fire_time_changed(hass)
        await _settle(hass)


def _running(hass: HomeAssistant) -> int:
    """Runs of the automation in flight (none may wait: the integration does the timing)."""
    state = hass.states.get(AUTOMATION)
    assert state is not None
    return int(state.attributes["current"])


def test_blueprint_passes_validation() -> None:
    """HA's own blueprint schema; parallel runs, one per alert."""
    blueprint = Blueprint(
        load_yaml_dict(BLUEPRINT), expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )
    assert blueprint.metadata["source_url"] == (
        "https://github.com/ange-kommun/ange-iot/blob/main/"
        "blueprints/automation/ange_iot/meter_alert_notification.yaml"
    )
    assert set(blueprint.inputs) == {"meter_alerts", "phones", "language"}
    assert blueprint.data["mode"] == "parallel"
    assert blueprint.data["max"] >= 50
    assert "restart" in blueprint.metadata["description"]
    # No waits of its own: they would die on a restart (the integration keeps the time).
    text = BLUEPRINT.read_text(encoding="utf-8")
    for waiting in ("wait_for_trigger", "wait_template", "delay:", "until:"):
        assert waiting not in text, waiting


async def test_alert_reaches_every_phone(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """A leak: title, meter, local time, leak rate, tag per alert, a "Sett" button."""
    meters = await async_setup_meters(hass, freezer, tmp_path)
    await _event(hass, "alert_started", LEAK)
    assert meters.everywhere() == [LEAK_SV]
    assert _running(hass) == 0  # no repeat: nothing waits


async def test_english_without_leak_rate(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """English texts; no leak-rate sentence when the rate is unknown."""
    meters = await async_setup_meters(hass, freezer, tmp_path, language="en")
    await _event(hass, "alert_started", NIGHT)
    assert meters.everywhere() == [
        {
            "title": "Night-time use: Solbacken",
            "message": "Meter: Huvudmätare. Since 2026-11-23 03:00.",
            "data": {
                "tag": tag(NIGHT_ID),
                "group": "ange-meter",
                "actions": [{"action": seen(NIGHT_ID), "title": "Seen"}],
            },
        }
    ]
    meters.clear()
    await _event(hass, "alert_cleared", NIGHT)
    assert meters.everywhere() == [
        clear(NIGHT_ID),
        {
            "title": "Cleared: Solbacken",
            "message": "The alert is over: Night-time use. Meter: Huvudmätare.",
            "data": {"tag": tag(NIGHT_ID), "group": "ange-meter"},
        },
    ]


NAMES = {
    "leak": ("Läcka", "Leak"),
    "burst": ("Rörbrott", "Burst pipe"),
    "reverse_flow": ("Bakåtflöde", "Reverse flow"),
    "dry": ("Torr mätare (luft i röret)", "Dry meter (air in the pipe)"),
    "tamper": ("Manipulering av mätaren", "Meter tampering"),
    "freeze": ("Frysrisk", "Risk of freezing"),
    "continuous_flow": ("Flöde utan uppehåll", "Continuous flow"),
    "night_flow": ("Förbrukning nattetid", "Night-time use"),
    "high_use": ("Hög förbrukning", "High use"),
    "silent": ("Mätaren rapporterar inte", "Meter not reporting"),
    "backwards": ("Mätarställningen går bakåt", "Meter reading going backwards"),
}


@pytest.mark.parametrize("language", ["sv", "en"])
async def test_every_alert_has_a_name(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path, language: str
) -> None:
    """All eleven alert kinds read as words in both languages; an unknown one as is."""
    meters = await async_setup_meters(hass, freezer, tmp_path, language=language)
    for i, alert in enumerate([*NAMES, "new_kind"]):
        await _event(hass, "alert_started", LEAK | {"alert": alert, "alert_id": f"a{i}"})
    expected = [NAMES[a][language == "en"] for a in NAMES] + ["new_kind"]
    assert [call["title"] for call in meters.everywhere()] == [f"{n}: Solbacken" for n in expected]


def reminder_sv(title: str, late: bool = False) -> dict[str, Any]:
    """The leak notification again, with another title (same tag: it replaces)."""
    message = LEAK_SV["message"] + (" Försenad: Home Assistant var inte igång." if late else "")
    return LEAK_SV | {"title": title, "message": message}


async def test_reminders_and_escalation_replace_the_notification_until_cleared(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """The integration's reminder and escalated events: the same notification (same tag,
    same "Sett") with their own title; nothing repeats or waits in the automation."""
    meters = await async_setup_meters(hass, freezer, tmp_path)
    await _event(hass, "alert_started", LEAK)
    assert meters.everywhere() == [LEAK_SV]
    assert _running(hass) == 0
    await _later(hass, freezer, timedelta(hours=5))
    assert meters.everywhere() == [LEAK_SV]  # no repeats of its own

    meters.clear()
    await _event(hass, "reminder", LEAK | {"count": 1, "late": False})
    await _event(hass, "escalated", LEAK | {"late": True})
    await _event(hass, "reminder", LEAK | {"count": 2, "late": True})
    assert meters.everywhere() == [
        reminder_sv("Påminnelse: Läcka: Solbacken"),
        reminder_sv("Ingen har kvitterat: Läcka: Solbacken", late=True),
        reminder_sv("Påminnelse: Läcka: Solbacken", late=True),
    ]
    assert _running(hass) == 0

    meters.clear()
    await _event(hass, "alert_cleared", LEAK | {"leak_rate_lph": None})
    assert meters.everywhere() == [
        clear(LEAK_ID),
        {
            "title": "Åtgärdat: Solbacken",
            "message": "Larmet är över: Läcka. Mätare: Vattenmätare Lgh 1101.",
            "data": {"tag": tag(LEAK_ID), "group": "ange-meter"},
        },
    ]
    assert _running(hass) == 0


async def test_english_reminder_and_escalation(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    meters = await async_setup_meters(hass, freezer, tmp_path, language="en")
    await _event(hass, "reminder", NIGHT | {"count": 3, "late": False})
    await _event(hass, "escalated", NIGHT | {"late": True})
    assert [(c["title"], c["message"]) for c in meters.everywhere()] == [
        ("Reminder: Night-time use: Solbacken", "Meter: Huvudmätare. Since 2026-11-23 03:00."),
        (
            "Not acknowledged: Night-time use: Solbacken",
            "Meter: Huvudmätare. Since 2026-11-23 03:00. Late: Home Assistant was not running.",
        ),
    ]
    assert {c["data"]["tag"] for c in meters.everywhere()} == {tag(NIGHT_ID)}


async def test_acknowledged_replaces_that_alert_only(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """The integration's acknowledgement (after "Sett" on a phone: see test_water.py, which
    needs the real entity) replaces that alert's notification only; others remind on."""
    meters = await async_setup_meters(hass, freezer, tmp_path)
    await _event(hass, "alert_started", LEAK)
    await _event(hass, "alert_started", NIGHT)
    meters.clear()

    await _press(hass, seen(LEAK_ID))
    await _press(hass, "OPEN_GARAGE")  # another app's
    assert meters.everywhere() == []  # a press sends nothing, clears nothing

    await _event(hass, "alert_acknowledged", LEAK | {"user": "Vaktmästaren"})
    await _event(hass, "reminder", NIGHT | {"count": 1, "late": False})
    assert meters.everywhere() == [
        {
            "title": "Kvitterat: Läcka",
            "message": "Vaktmästaren tar det. Mätare: Vattenmätare Lgh 1101.",
            "data": {"tag": tag(LEAK_ID), "group": "ange-meter"},
        },
        NIGHT_SV | {"title": "Påminnelse: Förbrukning nattetid: Solbacken"},
    ]
    assert _running(hass) == 0


async def test_an_automation_that_still_sets_repeat_hours_keeps_working(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """Automations made before the building option keep their "repeat_hours" input: Home
    Assistant ignores an input the blueprint no longer has (it only asks for missing ones),
    so they load, notify, and repeat nothing themselves."""
    meters = await async_setup_meters(hass, freezer, tmp_path, repeat_hours=2)
    await _event(hass, "alert_started", LEAK)
    await _later(hass, freezer, timedelta(hours=3))
    assert meters.everywhere() == [LEAK_SV]
    assert _running(hass) == 0


async def test_two_events_in_one_millisecond(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """Two alerts with the same event time (one uplink) are both sent."""
    meters = await async_setup_meters(hass, freezer, tmp_path)
    await _event(hass, "alert_started", LEAK)
    await _event(hass, "alert_started", NIGHT)  # the clock is frozen: same state
    assert meters.everywhere() == [LEAK_SV, NIGHT_SV]


@pytest.mark.parametrize(
    "change",
    [
        "restored",  # start-up: unavailable, then the restored last event
        "readded",  # removed and added again (a reload): no previous state
        "attribute",  # a rename changes an attribute only
        "old",  # an event an hour old
        "no_alert_id",
        "unknown_type",
    ],
)
async def test_no_message_without_a_new_event(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path, change: str
) -> None:
    meters = await async_setup_meters(hass, freezer, tmp_path)
    attributes = {"event_type": "alert_started", "event_types": EVENT_TYPES, **LEAK}
    if change == "restored":
        hass.states.async_set(ALERTS, STATE_UNAVAILABLE, {"restored": True})
        await hass.async_block_till_done()
        restored = (dt_util.utcnow() - timedelta(minutes=2)).isoformat(timespec="milliseconds")
        hass.states.async_set(ALERTS, restored, attributes)
    elif change == "readded":
        hass.states.async_remove(ALERTS)
        hass.states.async_set(ALERTS, dt_util.utcnow().isoformat(), attributes)
    elif change == "attribute":
        await _event(hass, "alert_started", LEAK)
        await _event(hass, "alert_cleared", LEAK)
        meters.clear()
        freezer.tick(timedelta(seconds=10))
        state = hass.states.get(ALERTS)
        assert state is not None
        hass.states.async_set(ALERTS, state.state, {**state.attributes, "friendly_name": "Larm"})
    elif change == "old":
        hass.states.async_set(
            ALERTS, (dt_util.utcnow() - timedelta(hours=1)).isoformat(), attributes
        )
    elif change == "no_alert_id":
        await _event(hass, "alert_started", LEAK | {"alert_id": None})
    else:
        await _event(hass, "alert_paused", LEAK)
    await _settle(hass)
    assert meters.everywhere() == []
    assert _running(hass) == 0


async def test_a_new_event_as_the_entity_comes_back(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """An event fired in the same write that makes the entity available again is sent."""
    meters = await async_setup_meters(hass, freezer, tmp_path)
    hass.states.async_set(ALERTS, STATE_UNAVAILABLE)
    await _later(hass, freezer, timedelta(minutes=3))
    await _event(hass, "alert_started", LEAK)
    assert meters.everywhere() == [LEAK_SV]
