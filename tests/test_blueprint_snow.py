"""The snow-clearing notification blueprint: phones and any notify action (an SMS).

The site's snow-clearing event entity is driven directly, in the shape of Home Assistant's
event entities (state = the event's time, ``event_type`` and the event data as attributes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
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
from pytest_homeassistant_custom_component.common import async_mock_service

from .common import async_setup_blueprint, mobile_phone

BLUEPRINT = (
    Path(__file__).resolve().parents[1]
    / "blueprints"
    / "automation"
    / "ange_iot"
    / "snow_clearing_notification.yaml"
)
LOCAL = ZoneInfo("Europe/Stockholm")
SNOW = "event.parkering_solbacken_snow_clearing"
AUTOMATION = "automation.snow_clearing"
EVENT_TYPES = ["clearing_needed", "cleared"]
START = datetime(2026, 12, 1, 5, 40, tzinfo=LOCAL)
PHONE = "Pixel 7"
SITE = "Parkering Solbacken"
TAG = "ange-snow-parkering_solbacken"
NEEDED = {
    "site": SITE,
    "depth_cm": 9.5,
    "threshold_cm": 8.0,
    "baseline_cm": 0.0,
    "peak_cm": 9.5,
    "since": "2026-12-01T04:40:00+00:00",
}
CLEARED = NEEDED | {"depth_cm": 1.0, "baseline_cm": 1.0, "peak_cm": 14.2}
NEEDED_SV = "Snöröjning behövs: Parkering Solbacken, 9.5 cm snö (gräns 8 cm)"
SMS_ENTITY = "notify.entreprenor_sms_konto"
CLEARED_SV = "Snöröjning behövs inte längre: Parkering Solbacken, 1 cm snö"


@dataclass
class Snow:
    """The notify calls: the phone's and the generic actions'."""

    phone: list[ServiceCall]
    sms: list[ServiceCall]
    email: list[ServiceCall]

    def clear(self) -> None:
        """Forget the calls so far."""
        for calls in (self.phone, self.sms, self.email):
            calls.clear()


def _sent(calls: list[ServiceCall]) -> list[dict[str, Any]]:
    return [call.data for call in calls]


async def async_setup_snow(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    *,
    phone: bool = True,
    **inputs: Any,
) -> Snow:
    """The event entity, a phone, two generic notify actions and the automation."""
    await hass.config.async_set_time_zone("Europe/Stockholm")
    freezer.move_to(START)
    hass.states.async_set(SNOW, "unknown", {"event_types": EVENT_TYPES})
    device_id, phone_calls = mobile_phone(hass, PHONE)
    snow = Snow(
        phone=phone_calls,
        sms=async_mock_service(hass, "notify", "entreprenor_sms"),
        email=async_mock_service(hass, "notify", "fastighet_epost"),
    )

    await async_setup_blueprint(
        hass,
        tmp_path,
        "snow_clearing_notification.yaml",
        "snow_clearing",
        {"snow_clearing": SNOW, **({"phones": [device_id]} if phone else {}), **inputs},
    )
    return snow


async def _event(hass: HomeAssistant, event_type: str, data: dict[str, Any]) -> None:
    """The entity fires an event now (an event entity's state is the event's time)."""
    hass.states.async_set(
        SNOW,
        dt_util.utcnow().isoformat(timespec="milliseconds"),
        {"event_type": event_type, "event_types": EVENT_TYPES, **data},
    )
    await hass.async_block_till_done()


def _mobile(message: str, title: str = "Snöröjning") -> dict[str, Any]:
    return {"title": title, "message": message, "data": {"tag": TAG, "group": "ange-snow"}}


def test_blueprint_passes_validation() -> None:
    """HA's own blueprint schema; its inputs."""
    blueprint = Blueprint(
        load_yaml_dict(BLUEPRINT), expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )
    assert blueprint.metadata["source_url"] == (
        "https://github.com/ange-kommun/ange-iot/blob/main/"
        "blueprints/automation/ange_iot/snow_clearing_notification.yaml"
    )
    assert set(blueprint.inputs) == {
        "snow_clearing",
        "phones",
        "notify_entities",
        "notify_actions",
        "notify_cleared",
        "language",
    }


async def test_needed_reaches_the_phone_and_the_sms(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """A phone and a contractor's SMS (named with or without "notify.") get the message."""
    snow = await async_setup_snow(
        hass,
        freezer,
        tmp_path,
        notify_actions=["notify.entreprenor_sms", " fastighet_epost ", "", "entreprenor_sms"],
    )
    await _event(hass, "clearing_needed", NEEDED)
    assert _sent(snow.phone) == [_mobile(NEEDED_SV)]
    assert _sent(snow.sms) == [{"title": "Snöröjning", "message": NEEDED_SV}]  # once
    assert _sent(snow.email) == [{"title": "Snöröjning", "message": NEEDED_SV}]


async def test_needed_reaches_a_notify_entity(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """A contractor's SMS account picked as an entity (no id typed) gets the message once."""
    snow = await async_setup_snow(hass, freezer, tmp_path, notify_entities=[SMS_ENTITY])
    send = async_mock_service(hass, "notify", "send_message")
    await _event(hass, "clearing_needed", NEEDED)
    assert [
        (call.data["entity_id"], call.data["title"], call.data["message"]) for call in send
    ] == [([SMS_ENTITY], "Snöröjning", NEEDED_SV)]
    assert _sent(snow.phone) == [_mobile(NEEDED_SV)]
    assert snow.sms == []
    send.clear()
    await _event(hass, "cleared", CLEARED)  # not asked to tell: nothing to the SMS account
    assert send == []


async def test_english(hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path) -> None:
    snow = await async_setup_snow(
        hass,
        freezer,
        tmp_path,
        language="en",
        notify_cleared=True,
        notify_actions=["notify.entreprenor_sms"],
    )
    await _event(hass, "clearing_needed", NEEDED | {"depth_cm": 12.25, "threshold_cm": 10})
    needed = "Snow clearing needed: Parkering Solbacken, 12.2 cm of snow (limit 10 cm)"
    assert _sent(snow.phone) == [_mobile(needed, "Snow clearing")]
    assert _sent(snow.sms) == [{"title": "Snow clearing", "message": needed}]
    snow.clear()
    await _event(hass, "cleared", CLEARED)
    cleared = "Snow clearing no longer needed: Parkering Solbacken, 1 cm of snow"
    assert _sent(snow.phone) == [_mobile(cleared, "Snow clearing")]
    assert _sent(snow.sms) == [{"title": "Snow clearing", "message": cleared}]


async def test_cleared_is_told_when_asked(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """Cleared, told: the phone's message is replaced (same tag); the SMS gets it too."""
    snow = await async_setup_snow(
        hass, freezer, tmp_path, notify_cleared=True, notify_actions=["notify.entreprenor_sms"]
    )
    await _event(hass, "clearing_needed", NEEDED)
    snow.clear()
    await _event(hass, "cleared", CLEARED)
    assert _sent(snow.phone) == [_mobile(CLEARED_SV)]
    assert _sent(snow.sms) == [{"title": "Snöröjning", "message": CLEARED_SV}]


async def test_cleared_not_told_by_default(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """Cleared, not told: the phone silently drops the notification; no SMS."""
    snow = await async_setup_snow(hass, freezer, tmp_path, notify_actions=["entreprenor_sms"])
    await _event(hass, "clearing_needed", NEEDED)
    snow.clear()
    await _event(hass, "cleared", CLEARED)
    assert _sent(snow.phone) == [{"message": "clear_notification", "data": {"tag": TAG}}]
    assert snow.sms == []


async def test_only_a_notify_action(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """No phones at all: the contractor's SMS alone."""
    snow = await async_setup_snow(
        hass, freezer, tmp_path, phone=False, notify_actions=["notify.entreprenor_sms"]
    )
    await _event(hass, "clearing_needed", NEEDED)
    await _event(hass, "cleared", CLEARED)
    assert snow.phone == []
    assert _sent(snow.sms) == [{"title": "Snöröjning", "message": NEEDED_SV}]


@pytest.mark.parametrize(
    "change",
    [
        "restored",  # start-up: unavailable, then the restored last event
        "attribute",  # a rename
        "old",  # an event an hour old
        "unknown_type",
    ],
)
async def test_no_message_without_a_new_event(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path, change: str
) -> None:
    snow = await async_setup_snow(hass, freezer, tmp_path, notify_actions=["entreprenor_sms"])
    attributes = {"event_type": "clearing_needed", "event_types": EVENT_TYPES, **NEEDED}
    earlier = (dt_util.utcnow() - timedelta(minutes=2)).isoformat(timespec="milliseconds")
    if change == "restored":
        hass.states.async_set(SNOW, STATE_UNAVAILABLE, {"restored": True})
        await hass.async_block_till_done()
        hass.states.async_set(SNOW, earlier, attributes)
    elif change == "attribute":
        await _event(hass, "clearing_needed", NEEDED)
        assert len(snow.sms) == 1
        snow.clear()
        freezer.tick(timedelta(seconds=10))
        state = hass.states.get(SNOW)
        assert state is not None
        hass.states.async_set(SNOW, state.state, {**state.attributes, "friendly_name": "Snö"})
    elif change == "old":
        hass.states.async_set(SNOW, (dt_util.utcnow() - timedelta(hours=1)).isoformat(), attributes)
    else:
        await _event(hass, "snowing", NEEDED)
    await hass.async_block_till_done()
    assert snow.phone == []
    assert snow.sms == []
