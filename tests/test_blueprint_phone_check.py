"""The care blueprint forwards a failed phone check to the other staff and escalation phones.

Solbacken's phone check runs at 07:00 (Europe/Stockholm, 10 minutes' grace) on the two
staff phones; the blueprint has both as staff phones and "Jour" as the escalation phone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ange_iot.const import DOMAIN

from .common import (
    BUILDING_OPTIONS,
    async_run_until,
    async_setup_blueprint,
    home_assistant_restarts,
    mobile_phone,
)

LOCAL = ZoneInfo("Europe/Stockholm")
ALERTS = "event.solbacken_care_alerts"
SHIFT = datetime(2026, 11, 23, 7, 0, tzinfo=LOCAL)
DUE = SHIFT + timedelta(minutes=10)
STEP = timedelta(minutes=1)
STAFF = ("Personal 1", "Personal 2")
ESCALATION = "Jour"


async def _setup(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path, language: str
) -> tuple[dict[str, str], dict[str, list[ServiceCall]], MockConfigEntry]:
    freezer.move_to(SHIFT - timedelta(minutes=10))
    await hass.config.async_set_time_zone("Europe/Stockholm")
    phones: dict[str, str] = {}
    calls: dict[str, list[ServiceCall]] = {}
    for name in (*STAFF, ESCALATION):
        phones[name], calls[name] = mobile_phone(hass, name)
    building = MockConfigEntry(
        domain=DOMAIN,
        title="Solbacken",
        data={"kind": "building"},
        options=BUILDING_OPTIONS,
        subentries_data=[
            ConfigSubentryData(
                subentry_type="phone_check",
                title="Telefonkontroll vid passbyte",
                unique_id=None,
                data={
                    "shift_1": "07:00:00",
                    "phones": [phones[name] for name in STAFF],
                    "grace": 10,
                },
            )
        ],
    )
    building.add_to_hass(hass)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    await async_setup_blueprint(
        hass,
        tmp_path,
        "care_check_notification.yaml",
        "care_alerts",
        {
            "care_alerts": ALERTS,
            "staff_phones": [phones[name] for name in STAFF],
            "escalation_phones": [phones[ESCALATION]],
            "language": language,
        },
    )
    return phones, calls, building


def _chain(calls: list[ServiceCall]) -> list[dict[str, Any]]:
    """The "alert chain broken" notifications among a phone's calls."""
    return [
        c.data
        for c in calls
        if str(c.data.get("data", {}).get("tag", "")).startswith("ange-phone-check-failed-")
    ]


def _check_action(calls: list[ServiceCall]) -> str:
    return str(
        next(c.data for c in calls if c.data.get("data", {}).get("actions"))["data"]["actions"][0][
            "action"
        ]
    )


CASES = {
    "sv": (
        "Larmkedjan bruten: Personal 2",
        "Larmkedjan till telefonen Personal 2 är bruten: den bekräftade inte kontrollen 07:00.",
    ),
    "en": (
        "Alert chain broken: Personal 2",
        "The alert chain to the phone Personal 2 is broken: it did not confirm the check at 07:00.",
    ),
}


@pytest.mark.parametrize("language", list(CASES))
async def test_the_others_learn_the_chain_is_broken(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path, language: str
) -> None:
    title, message = CASES[language]
    phones, calls, _building = await _setup(hass, freezer, tmp_path, language)
    await async_run_until(hass, freezer, SHIFT, STEP)
    user = await hass.auth.async_create_user("Anna")
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": _check_action(calls["Personal 1"])},
        context=Context(user_id=user.id),
    )
    await async_run_until(hass, freezer, DUE + STEP, STEP)
    for name in ("Personal 1", ESCALATION):
        [sent] = _chain(calls[name])
        assert sent["title"] == title
        assert sent["message"] == message
        assert sent["data"]["tag"].endswith(phones["Personal 2"])
    assert _chain(calls["Personal 2"]) == []  # not to the broken phone itself


async def test_unreachable_and_late_say_so(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    phones, calls, building = await _setup(hass, freezer, tmp_path, "en")

    async def _offline(call: ServiceCall) -> None:
        raise HomeAssistantError("no push channel")

    hass.services.async_register("notify", "mobile_app_personal_2", _offline)
    await async_run_until(hass, freezer, SHIFT, STEP)
    await hass.async_block_till_done()
    [sent] = _chain(calls["Personal 1"])
    assert "could not be reached for the check at 07:00" in sent["message"]
    assert "Late" not in sent["message"]

    # Personal 1 never confirms; Home Assistant is down over the due time.
    assert await hass.config_entries.async_unload(building.entry_id)
    home_assistant_restarts(hass)
    freezer.move_to(DUE + timedelta(minutes=20))
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    [late] = [s for s in _chain(calls[ESCALATION]) if s["title"].endswith("Personal 1")]
    assert late["message"] == (
        "The alert chain to the phone Personal 1 is broken: it did not confirm the check at "
        "07:00. Late alert: Home Assistant was not running when it came due."
    )
    assert late["data"]["tag"].endswith(phones["Personal 1"])
