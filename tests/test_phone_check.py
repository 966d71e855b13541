"""Phone check at shift start, in a real hass: subentry flow, notifications, taps, misses.

Two Companion-app phones (mobile_app devices with mocked ``notify.mobile_app_*``) are on
shift at Solbacken; the check runs at 07:00 (Europe/Stockholm) with 10 minutes' grace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import Context, Event, HomeAssistant, ServiceCall
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ange_iot.const import DOMAIN, EVENT_CARE_LOG
from custom_components.ange_iot.logbook import async_describe_events

from .common import (
    BUILDING_OPTIONS,
    assert_attributes_translated,
    async_run_until,
    async_tick,
    fired_events,
    home_assistant_restarts,
    mobile_phone,
)

LOCAL = ZoneInfo("Europe/Stockholm")
ALERTS = "event.solbacken_care_alerts"
BEFORE = datetime(2026, 11, 23, 6, 50, tzinfo=LOCAL)
SHIFT = datetime(2026, 11, 23, 7, 0, tzinfo=LOCAL)
DUE = SHIFT + timedelta(minutes=10)
STEP = timedelta(minutes=1)


@dataclass
class Site:
    """The building, the phones (name -> device id, notify calls), the staff user, events."""

    building: MockConfigEntry
    subentry_id: str
    phones: dict[str, str]
    calls: dict[str, list[ServiceCall]]
    user: User
    events: list[dict[str, Any]]

    def failed(self) -> list[dict[str, Any]]:
        """The phone_check_failed events so far."""
        return [e for e in self.events if e.get("event_type") == "phone_check_failed"]

    def checks(self, name: str) -> list[dict[str, Any]]:
        """The check notifications a phone received (not the clearing ones)."""
        return [c.data for c in self.calls[name] if c.data["message"] != "clear_notification"]

    def action(self, name: str) -> str:
        """The action id of the button on the phone's latest check notification."""
        return str(self.checks(name)[-1]["data"]["actions"][0]["action"])


async def async_setup_site(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    *,
    start: datetime = BEFORE,
    shifts: tuple[str, ...] = ("07:00:00",),
) -> Site:
    """The building, two phones, and the phone check added through its subentry flow."""
    freezer.move_to(start)
    await hass.config.async_set_time_zone("Europe/Stockholm")
    phones, calls = {}, {}
    for name in ("Personal 1", "Personal 2"):
        phones[name], calls[name] = mobile_phone(hass, name)
    building = MockConfigEntry(
        domain=DOMAIN, title="Solbacken", data={"kind": "building"}, options=BUILDING_OPTIONS
    )
    building.add_to_hass(hass)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    events = fired_events(hass, ALERTS)

    result = await hass.config_entries.subentries.async_init(
        (building.entry_id, "phone_check"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"phones": list(phones.values()), "grace": 10}
    )
    assert result["errors"] == {"base": "shift_required"}
    form: dict[str, Any] = dict(zip(("shift_1", "shift_2", "shift_3"), shifts, strict=False))
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**form, "phones": [], "grace": 10}
    )
    assert result["errors"] == {"phones": "phones_required"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**form, "phones": list(phones.values()), "grace": 10}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] in ("Phone check at shift start", "Telefonkontroll vid passbyte")
    await hass.async_block_till_done()
    subentry_id = next(
        sid for sid, s in building.subentries.items() if s.subentry_type == "phone_check"
    )
    user = await hass.auth.async_create_user("Anna")
    return Site(building, subentry_id, phones, calls, user, events)


def tap(hass: HomeAssistant, site: Site, name: str) -> None:
    """The phone's user presses the button of its check notification."""
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": site.action(name)},
        context=Context(user_id=site.user.id),
    )


async def test_one_taps_the_other_is_reported_at_the_due_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    site = await async_setup_site(hass, freezer)
    log = []
    hass.bus.async_listen(EVENT_CARE_LOG, log.append)
    await async_run_until(hass, freezer, SHIFT - STEP, STEP)
    assert site.checks("Personal 1") == []
    await async_run_until(hass, freezer, SHIFT, STEP)
    for name in site.phones:
        [sent] = site.checks(name)
        assert sent["title"] == "Phone check: Solbacken"
        assert "07:00" in sent["message"]
        assert "10 min" in sent["message"]
        assert sent["data"]["tag"].startswith("ange-phone-check-")
        assert sent["data"]["actions"][0]["title"] == "Confirm"
    assert site.action("Personal 1") != site.action("Personal 2")

    # A second building's press, or junk, changes nothing.
    hass.bus.async_fire("mobile_app_notification_action", {"action": "ANGE_PHONE_CHECK_x_0"})
    tap(hass, site, "Personal 1")
    await hass.async_block_till_done()
    cleared = [
        c.data for c in site.calls["Personal 1"] if c.data["message"] == "clear_notification"
    ]
    assert cleared == [
        {
            "message": "clear_notification",
            "data": {"tag": site.checks("Personal 1")[0]["data"]["tag"]},
        }
    ]
    confirmed = [e.data for e in log if e.data["action"] == "phone_check_confirmed"]
    assert [(c["phone"], c["user"], c["shift"]) for c in confirmed] == [
        ("Personal 1", "Anna", "07:00")
    ]

    await async_run_until(hass, freezer, DUE - STEP, STEP)
    assert site.failed() == []
    await async_run_until(hass, freezer, DUE + 5 * STEP, STEP)
    [failed] = site.failed()
    assert failed["phone"] == "Personal 2"
    assert failed["phone_device_id"] == site.phones["Personal 2"]
    assert failed["shift"] == "07:00"
    assert failed["reason"] == "not_confirmed"
    assert failed["late"] is False
    assert "apartment" not in failed
    assert assert_attributes_translated(hass) > 0  # phone, shift, reason ... in en and sv
    issues = ir.async_get(hass).issues
    [issue] = [i for (domain, _id), i in issues.items() if domain == DOMAIN]
    assert issue.translation_key == "phone_check_failed"
    assert issue.translation_placeholders == {
        "phone": "Personal 2",
        "building": "Solbacken",
        "shift": "07:00",
    }
    assert [e.data["action"] for e in log if e.data["action"] == "phone_check_failed"] == [
        "phone_check_failed"
    ]

    # The next day Personal 2 confirms: its chain works again, the issue goes.
    await async_run_until(hass, freezer, SHIFT + timedelta(days=1), timedelta(hours=1))
    tap(hass, site, "Personal 2")
    await hass.async_block_till_done()
    assert not [key for key in ir.async_get(hass).issues if key[0] == DOMAIN]

    # The logbook: who confirmed, whose chain broke, in the building's care-alerts logbook.
    described: dict[str, Callable[[Event], dict[str, str]]] = {}
    async_describe_events(hass, lambda _domain, kind, describe: described.update({kind: describe}))
    lines = [described[EVENT_CARE_LOG](event) for event in log]
    assert [(line["name"], line["message"]) for line in lines] == [
        ("Personal 1", "phone check at 07:00 confirmed by Anna"),
        (
            "Personal 2",
            "did not confirm the phone check at 07:00: the alert chain to this phone is broken",
        ),
        ("Personal 2", "phone check at 07:00 confirmed by Anna"),
    ]
    assert {line["entity_id"] for line in lines} == {ALERTS}


async def test_a_phone_that_cannot_be_reached_is_reported_at_once(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    site = await async_setup_site(hass, freezer)

    async def _offline(call: ServiceCall) -> None:
        raise HomeAssistantError("no push channel")

    hass.services.async_register("notify", "mobile_app_personal_2", _offline)
    await async_run_until(hass, freezer, SHIFT, STEP)
    await hass.async_block_till_done()
    [failed] = site.failed()
    assert (failed["phone"], failed["reason"]) == ("Personal 2", "not_reachable")
    tap(hass, site, "Personal 1")
    await async_run_until(hass, freezer, DUE + STEP, STEP)
    assert len(site.failed()) == 1  # not again at the due time


async def test_restart_before_due_keeps_the_check(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    site = await async_setup_site(hass, freezer)
    await async_run_until(hass, freezer, SHIFT, STEP)
    action = site.action("Personal 1")
    assert await hass.config_entries.async_unload(site.building.entry_id)
    home_assistant_restarts(hass)
    freezer.tick(timedelta(minutes=3))
    assert await hass.config_entries.async_setup(site.building.entry_id)
    await hass.async_block_till_done()
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": action}, context=Context(user_id=None)
    )
    await async_run_until(hass, freezer, DUE + STEP, STEP)
    assert [(e["phone"], e["late"]) for e in site.failed()] == [("Personal 2", False)]
    assert len(site.checks("Personal 1")) == 1  # the check was not sent again


async def test_restart_after_due_reports_once_late(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    site = await async_setup_site(hass, freezer)
    await async_run_until(hass, freezer, SHIFT + STEP, STEP)
    assert await hass.config_entries.async_unload(site.building.entry_id)
    home_assistant_restarts(hass)
    freezer.move_to(DUE + timedelta(minutes=30))
    assert await hass.config_entries.async_setup(site.building.entry_id)
    await hass.async_block_till_done()
    failed = site.failed()
    assert sorted((e["phone"], e["late"]) for e in failed) == [
        ("Personal 1", True),
        ("Personal 2", True),
    ]
    # A reload is not downtime, and nothing fires twice (the restored state is no event).
    freezer.tick(timedelta(seconds=10))
    assert await hass.config_entries.async_reload(site.building.entry_id)
    await async_tick(hass, freezer, timedelta(minutes=5))
    assert len(site.failed()) == 2


async def test_dst_day_keeps_the_local_shift_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """On the spring change the 07:00 check comes at 07:00 summer time (05:00 UTC)."""
    start = datetime(2026, 3, 28, 22, 0, tzinfo=LOCAL)
    site = await async_setup_site(hass, freezer, start=start)
    await async_run_until(
        hass, freezer, datetime(2026, 3, 29, 4, 59, tzinfo=dt_util.UTC), timedelta(minutes=30)
    )
    assert site.checks("Personal 1") == []
    await async_run_until(
        hass, freezer, datetime(2026, 3, 29, 5, 0, tzinfo=dt_util.UTC), timedelta(minutes=1)
    )
    assert len(site.checks("Personal 1")) == 1


async def test_removing_the_subentry_stops_it(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    site = await async_setup_site(hass, freezer)
    await async_run_until(hass, freezer, SHIFT, STEP)
    assert hass.config_entries.async_remove_subentry(site.building, site.subentry_id)
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, SHIFT + timedelta(days=1, minutes=15), timedelta(hours=1))
    assert site.failed() == []
    assert len(site.checks("Personal 1")) == 1


async def test_one_per_building_and_reconfigure(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    site = await async_setup_site(hass, freezer)
    result = await hass.config_entries.subentries.async_init(
        (site.building.entry_id, "phone_check"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    result = await site.building.start_subentry_reconfigure_flow(hass, site.subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"shift_1": "06:55:00", "phones": [site.phones["Personal 1"]], "grace": 5},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, SHIFT, STEP)
    assert len(site.checks("Personal 1")) == 1
    assert site.checks("Personal 2") == []


@pytest.mark.parametrize("language", ["sv"])
async def test_swedish_instance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, language: str
) -> None:
    hass.config.language = language
    site = await async_setup_site(hass, freezer)
    await async_run_until(hass, freezer, SHIFT, STEP)
    [sent] = site.checks("Personal 1")
    assert sent["title"] == "Telefonkontroll: Solbacken"
    assert sent["data"]["actions"][0]["title"] == "Bekräfta"
