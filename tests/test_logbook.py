"""The logbook and the recorder with Home Assistant's real ``logbook`` and ``recorder``.

The demo site runs from 07:30 to 09:16 on a Monday with a building watching two
apartments (Lgh 1102's resident does not get up) and Lgh 1101's water meter (a running
toilet). Hundreds of uplinks arrive meanwhile. The logbook must hold the care alert, the
acknowledgement, the pause and the meter alert — each naming its apartment or meter and in
that device's own logbook — and no line per uplink (no motion, door, last-seen or
last-activity lines: those are a resident's activity).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.logbook.helpers import async_determine_event_types
from homeassistant.components.logbook.processor import EventProcessor
from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, Event, HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er, translation
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components import ange_iot
from custom_components.ange_iot.angelib.meters import AlertType, MeterAlert
from custom_components.ange_iot.angelib.simulator import DEMO_DEVICES, Role
from custom_components.ange_iot.const import DOMAIN, EVENT_CARE_LOG, EVENT_METER_LOG
from custom_components.ange_iot.logbook import async_describe_events, async_load_texts

from .common import (
    BUILDING_OPTIONS,
    DOOR_1101,
    METER_1101,
    MOTION_1101,
    async_run_until,
    set_scenario,
)
from .conftest import START

LOCAL = ZoneInfo("Europe/Stockholm")
BUILDING_ID = "solbacken_log"
MOTION = {d.area: d.dev_eui for d in DEMO_DEVICES if d.role is Role.MOTION}
NOT_UP = "Lgh 1102"
STEP = timedelta(seconds=30)


def local(hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Ånge on the test's Monday."""
    return datetime(2026, 11, 23, hour, minute, tzinfo=LOCAL)


WATCHING = datetime(2026, 11, 23, 7, 31, tzinfo=LOCAL)  # every device has reported


def apartment(label: str, sensors: list[str]) -> ConfigSubentryDataWithId:
    """An apartment subentry as the form stores it (building defaults for the times)."""
    return ConfigSubentryDataWithId(
        subentry_id=f"apt_{label.removeprefix('Lgh ')}",
        subentry_type="apartment",
        title=label,
        unique_id=None,
        data={
            "label": label,
            "sensors": sensors,
            "enabled": True,
            "morning_check": True,
            "inactivity_check": True,
            "night_door": False,
        },
    )


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    disable_translations_once: None, recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Every test here runs with the recorder (set up before Home Assistant).

    And with a translation cache of its own (the harness shares one per session): which
    language's logbook texts are loaded when is what some tests here are about.
    """


@pytest.fixture
async def site(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> MockConfigEntry:
    """The demo site (default entities, as a user gets them) with a watching building."""
    assert await async_setup_component(hass, "logbook", {})
    await set_scenario(hass, init_integration, "resident_not_up", NOT_UP)
    await set_scenario(hass, init_integration, "leak", METER_1101)
    await async_run_until(hass, freezer, WATCHING, STEP)
    building = MockConfigEntry(
        domain=DOMAIN,
        entry_id=BUILDING_ID,
        title="Solbacken",
        data={"kind": "building"},
        options=BUILDING_OPTIONS,
        subentries_data=[
            apartment("Lgh 1101", [MOTION["Lgh 1101"], DOOR_1101]),
            apartment(NOT_UP, [MOTION[NOT_UP]]),
            ConfigSubentryDataWithId(
                subentry_id="meter_1101",
                subentry_type="water_meter",
                title="Lgh 1101 vattenmätare",
                unique_id=METER_1101,
                data={"dev_eui": METER_1101, "counted": False, "continuous_by_design": False},
            ),
        ],
    )
    building.add_to_hass(hass)
    assert await hass.config_entries.async_setup(building.entry_id)
    await hass.async_block_till_done()
    return building


def apartment_device(hass: HomeAssistant, label: str) -> str:
    """The device id of an apartment."""
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"apartment_apt_{label.removeprefix('Lgh ')}"), BUILDING_ID
    )
    assert device is not None
    return device.id


def care_entity(hass: HomeAssistant, platform: str, label: str, key: str) -> str:
    """An apartment's care entity id."""
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{BUILDING_ID}_apt_{label.removeprefix('Lgh ')}_{key}"
    )
    assert found is not None
    return found


async def logbook(
    hass: HomeAssistant,
    entity_ids: list[str] | None = None,
    device_ids: list[str] | None = None,
    since: datetime = WATCHING,
) -> list[dict[str, Any]]:
    """The logbook since every device reported once, as ``logbook/get_events`` builds it.

    Before that each entity goes from unknown to its first value once (one line each at
    start-up, not per uplink).
    """
    await async_wait_recording_done(hass)
    processor = EventProcessor(
        hass,
        async_determine_event_types(hass, entity_ids, device_ids),
        entity_ids,
        device_ids,
    )
    end = dt_util.utcnow() + timedelta(seconds=1)
    result: list[dict[str, Any]] = await get_instance(hass).async_add_executor_job(
        processor.get_events, since, end
    )
    return result


async def test_logbook_shows_care_and_meter_alerts_not_uplinks(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    site: MockConfigEntry,
    init_integration: MockConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """No per-uplink line; alerts, the acknowledgement and the pause in the apartment's log."""
    await async_run_until(hass, freezer, local(9, 16), STEP)
    device = apartment_device(hass, NOT_UP)
    care_status = care_entity(hass, "sensor", NOT_UP, "care_status")
    assert hass.states.get(care_status).state == "check_needed"

    await hass.services.async_call(
        DOMAIN,
        "acknowledge_care_check",
        {"apartment": device},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    switch = care_entity(hass, "switch", NOT_UP, "care_checks_paused")
    await hass.services.async_call(
        "switch",
        "turn_on",
        {ATTR_ENTITY_ID: switch},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.services.async_call(
        DOMAIN,
        "pause_care_checks",
        {"apartment": device, "until": (dt_util.now() + timedelta(hours=2)).isoformat()},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    # A meter alert as the building's water runtime sends it (its rules need a day of
    # readings: see test_water.py); the event entity writes the line.
    meter_device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, METER_1101), init_integration.entry_id
    )
    assert meter_device is not None
    alert = MeterAlert(
        dev_eui=METER_1101,
        type=AlertType.CONTINUOUS_FLOW,
        since=dt_util.utcnow(),
        leak_rate_lph=12.0,
    )
    meter_data = {
        **alert.as_dict(),
        "meter": "Lgh 1101 vattenmätare",
        "meter_device_id": meter_device.id,
        "building": "Solbacken",
    }
    signal = site.runtime_data.water.event_signal
    async_dispatcher_send(hass, signal, "alert_started", meter_data)
    # Reminders are no lines (one every 15 minutes would bury the rest); escalation is.
    for count in (1, 2):
        async_dispatcher_send(hass, signal, "reminder", meter_data | {"count": count})
    async_dispatcher_send(hass, signal, "escalated", meter_data | {"late": True})
    await hass.async_block_till_done()
    entries = await logbook(hass)

    # Hundreds of uplinks arrived; none of them is a line. What is left: care status
    # changes, the building's alert events, the pause switch, and our own lines.
    registry = er.async_get(hass)
    allowed = {
        care_status,
        switch,
        registry.async_get_entity_id("event", DOMAIN, f"{BUILDING_ID}_care_alerts"),
        registry.async_get_entity_id("event", DOMAIN, f"{BUILDING_ID}_meter_alerts"),
    }
    ours = {
        e["entity_id"]
        for e in entries
        if "state" in e  # a state-change line (our own lines have a message instead)
        and (entity := registry.async_get(e["entity_id"])) is not None
        and entity.platform == DOMAIN
    }
    assert ours <= allowed, sorted(ours - allowed)
    per_device = [
        e for e in entries for eui in (MOTION_1101, DOOR_1101, METER_1101) if eui in str(e)
    ]
    assert per_device == []
    described = [e for e in entries if e.get("domain") == DOMAIN]
    messages = [(e["name"], e["message"]) for e in described]
    assert messages == [
        (NOT_UP, "check needed: no activity in the morning window"),
        (NOT_UP, f"care check acknowledged by {hass_admin_user.name}"),
        (NOT_UP, "care alert closed: checks paused"),  # the pause switch, turned on
        (NOT_UP, f"care checks paused by {hass_admin_user.name} until 2026-11-23 11:16"),
        ("Lgh 1101 vattenmätare", "meter alert: continuous flow, about 12 L/h"),
        (
            "Lgh 1101 vattenmätare",
            "meter alert not acknowledged in time: escalated (continuous flow)"
            " (came due while Home Assistant was not running)",
        ),
    ]
    for entry in described:
        assert entry["icon"].startswith("mdi:")
    assert all(e["entity_id"] == care_status for e in described if e["name"] == NOT_UP)
    volume = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{METER_1101}_volume")
    assert described[-1]["entity_id"] == volume  # in the meter's own logbook
    # Who turned the pause switch on: its own line, with the user's context.
    [paused] = [e for e in entries if e.get("entity_id") == switch]
    assert paused["state"] == "on"
    assert paused["context_user_id"] == hass_admin_user.id

    # The apartment's own logbook (its device page): its status, alert, acknowledgement
    # and pauses, nothing of the other apartment or the meter.
    # The device page asks for the device and its entities.
    entities = [e.entity_id for e in er.async_entries_for_device(er.async_get(hass), device)]
    own = await logbook(hass, entities, [device])
    own_messages = [e["message"] for e in own if e.get("domain") == DOMAIN]
    assert own_messages == [m for name, m in messages if name == NOT_UP]
    assert {e["entity_id"] for e in own} <= {care_status, switch}
    statuses = [e["state"] for e in own if e["entity_id"] == care_status and "state" in e]
    assert statuses == ["check_needed", "acknowledged", "paused"]
    assert all(e.get("name", NOT_UP) == NOT_UP for e in own if e.get("domain") == DOMAIN)

    # The instance switched to Swedish (Settings › System › General): the same lines, in
    # Swedish, from sv.json (loaded when the language changes).
    await hass.config.async_update(language="sv")
    await hass.async_block_till_done()
    swedish = [(e["name"], e["message"]) for e in await logbook(hass) if e.get("domain") == DOMAIN]
    assert swedish == [
        (NOT_UP, "tillsyn behövs: ingen aktivitet i morgonfönstret"),
        (NOT_UP, f"tillsyn kvitterad av {hass_admin_user.name}"),
        (NOT_UP, "tillsynslarmet avslutat: tillsynen pausad"),
        (NOT_UP, f"tillsyn pausad av {hass_admin_user.name} till 2026-11-23 11:16"),
        ("Lgh 1101 vattenmätare", "mätarlarm: ständigt flöde, cirka 12 l/h"),
        (
            "Lgh 1101 vattenmätare",
            "mätarlarmet inte kvitterat i tid: eskalerat (ständigt flöde)"
            " (förföll medan Home Assistant inte var igång)",
        ),
    ]


async def test_recorder_keeps_no_activity(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    """Activity entities are off by default (nothing recorded); no alert ids in history."""
    await async_run_until(hass, freezer, local(9, 16), STEP)
    await async_wait_recording_done(hass)
    registry = er.async_get(hass)
    off = [
        ("binary_sensor", f"{MOTION_1101}_motion"),
        ("binary_sensor", f"{DOOR_1101}_door"),
        ("sensor", f"{MOTION_1101}_motion_count"),
        ("sensor", f"{MOTION_1101}_last_activity"),
        ("sensor", f"{MOTION_1101}_last_seen"),
        ("sensor", f"{BUILDING_ID}_apt_1101_apartment_last_activity"),
        ("sensor", f"{BUILDING_ID}_apt_1101_next_check"),
    ]
    for platform, unique_id in off:
        entity_id = registry.async_get_entity_id(platform, DOMAIN, unique_id)
        assert entity_id is not None, unique_id
        assert registry.async_get(entity_id).disabled, entity_id
        assert hass.states.get(entity_id) is None
    care_status = care_entity(hass, "sensor", NOT_UP, "care_status")
    history = await get_instance(hass).async_add_executor_job(
        get_significant_states, hass, START, None, [care_status]
    )
    states = history[care_status]
    assert [s.state for s in states][-1] == "check_needed"
    assert all("alert_id" not in s.attributes for s in states)
    assert "alert_id" in hass.states.get(care_status).attributes  # live, for the board


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_motion_count_enabled_is_continuous(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    """Enabled by hand, the motion count has a unit: the logbook leaves it out."""
    await async_run_until(hass, freezer, local(7, 45), STEP)
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{MOTION_1101}_motion_count"
    )
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "detections"


# -- the words: the "logbook" section of translations/<lang>.json ------------------------


def words(language: str) -> dict[str, dict[str, str]]:
    """The logbook section of a translation file."""
    path = Path(ange_iot.__file__).parent / "translations" / f"{language}.json"
    section: dict[str, dict[str, str]] = json.loads(path.read_text("utf-8"))["logbook"]
    return section


def describers(hass: HomeAssistant) -> dict[str, Callable[[Event], dict[str, str]]]:
    """The integration's describe callbacks, by event type (as the logbook gets them)."""
    found: dict[str, Callable[[Event], dict[str, str]]] = {}
    async_describe_events(hass, lambda _domain, kind, describe: found.update({kind: describe}))
    return found


def message(hass: HomeAssistant, event_type: str, data: dict[str, Any]) -> str:
    """The logbook message of one event."""
    return describers(hass)[event_type](Event(event_type, data))["message"]


CHECK_NEEDED = {"action": "check_needed", "apartment": NOT_UP, "reason": "night_door"}


@pytest.mark.parametrize("language", ["en", "sv"])
async def test_lines_are_the_translation_files_words(
    hass: HomeAssistant, enable_custom_integrations: None, language: str
) -> None:
    """An English and a Swedish instance each get their file's words in the logbook.

    Care and meter lines of each kind, through Home Assistant's logbook: each is the
    file's line with the file's reason or meter alert name filled in.
    """
    hass.config.language = language
    assert await async_setup_component(hass, "logbook", {})
    assert await async_setup_component(hass, DOMAIN, {})  # loads the texts
    since = dt_util.utcnow() - timedelta(seconds=1)
    care = [
        CHECK_NEEDED | {"late": True},
        {"action": "resolved", "apartment": NOT_UP, "resolution": "sensors_back"},
        {"action": "phone_check_confirmed", "phone": "Telefon 1", "shift": "07:00", "user": "Anna"},
    ]
    meter = [
        {"action": "alert_acknowledged", "meter": "Mätare", "alert": "burst", "user": "Anna"},
        {"action": "alert_cleared", "meter": "Mätare", "alert": "backwards"},
    ]
    for data in care:
        hass.bus.async_fire(EVENT_CARE_LOG, data)
    for data in meter:
        hass.bus.async_fire(EVENT_METER_LOG, data)
    await hass.async_block_till_done()
    lines = [(e["name"], e["message"]) for e in await logbook(hass, since=since)]

    w = words(language)
    assert lines == [
        (NOT_UP, w["care"]["check_needed_late"].replace("{reason}", w["reason"]["night_door"])),
        (NOT_UP, w["care"]["resolved"].replace("{resolution}", w["reason"]["sensors_back"])),
        (
            "Telefon 1",
            w["care"]["phone_check_confirmed"]
            .replace("{shift}", "07:00")
            .replace("{user}", "Anna"),
        ),
        (
            "Mätare",
            w["meter"]["alert_acknowledged"]
            .replace("{user}", "Anna")
            .replace("{alert}", w["meter_alert"]["burst"]),
        ),
        ("Mätare", w["meter"]["alert_cleared"].replace("{alert}", w["meter_alert"]["backwards"])),
    ]
    assert all("{" not in line for _name, line in lines)


async def test_a_string_missing_in_swedish_is_english(
    hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """A Swedish file without a line (a partial translation) shows that line in English."""
    load = translation._load_translations_files_by_language

    def without_swedish_check_needed(*args: Any) -> dict[str, dict[str, Any]]:
        loaded: dict[str, dict[str, Any]] = load(*args)
        if sv := loaded.get("sv", {}).get(DOMAIN):
            del sv["logbook"]["care"]["check_needed"]
        return loaded

    hass.config.language = "sv"
    with patch.object(
        translation, "_load_translations_files_by_language", without_swedish_check_needed
    ):
        assert await async_setup_component(hass, DOMAIN, {})
    en, sv = words("en"), words("sv")
    assert message(hass, EVENT_CARE_LOG, CHECK_NEEDED) == en["care"]["check_needed"].replace(
        "{reason}", sv["reason"]["night_door"]
    )
    resumed = {"action": "resumed", "apartment": NOT_UP, "user": "Anna"}
    assert message(hass, EVENT_CARE_LOG, resumed) == "tillsyn återupptagen av Anna"


async def test_lines_without_their_texts_do_not_fail(
    hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """Texts not loaded (yet), a language not loaded yet, a code without a name: a line.

    Never an exception (Home Assistant's logbook would drop the line's message).
    """
    # Not loaded: the codes.
    assert message(hass, EVENT_CARE_LOG, CHECK_NEEDED) == "check_needed: night_door"
    assert message(hass, EVENT_METER_LOG, {"action": "escalated", "alert": "leak"}) == (
        "escalated: leak"
    )
    await async_load_texts(hass)  # what setting up the integration does
    english = "check needed: door opened at night"
    assert message(hass, EVENT_CARE_LOG, CHECK_NEEDED) == english

    # The language changed and its texts are not loaded yet: English meanwhile.
    hass.config.language = "sv"
    assert message(hass, EVENT_CARE_LOG, CHECK_NEEDED) == english
    await async_load_texts(hass)
    assert message(hass, EVENT_CARE_LOG, CHECK_NEEDED) == (
        "tillsyn behövs: dörren öppnades på natten"
    )

    # A user called like a placeholder is written as called.
    acknowledged = {"action": "acknowledged", "user": "{reason}", "reason": "night_door"}
    assert message(hass, EVENT_CARE_LOG, acknowledged) == "tillsyn kvitterad av {reason}"

    # Codes a newer version might log: the code stands in for its name.
    assert message(hass, EVENT_CARE_LOG, CHECK_NEEDED | {"reason": "smoke"}) == (
        "tillsyn behövs: smoke"
    )
    assert message(hass, EVENT_CARE_LOG, {"action": "visited", "reason": "smoke"}) == (
        "visited: smoke"
    )
    assert message(hass, EVENT_METER_LOG, {"action": "alert_started", "alert": "hail"}) == (
        "mätarlarm: hail"
    )
