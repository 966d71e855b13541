"""The care board: a dashboard for staff, one view per building, served by the integration.

Home Assistant's real ``lovelace`` and ``frontend`` serve it; the frontend asks for it with
``lovelace/config`` as it would when a care worker opens it on the wall tablet.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.frontend import DATA_PANELS
from homeassistant.components.lovelace.const import LOVELACE_DATA
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.json import json_dumps
from homeassistant.helpers.template import Template
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components import ange_iot
from custom_components.ange_iot.angelib.simulator import APARTMENTS, DEMO_DEVICES, Role
from custom_components.ange_iot.building.care_board import URL_PATH
from custom_components.ange_iot.const import DOMAIN

from .common import DOOR_1101, METER_1101, async_run_until, set_scenario

LOCAL = ZoneInfo("Europe/Stockholm")
BUILDING_ID = "solbacken_board"
MOTION = {d.area: d.dev_eui for d in DEMO_DEVICES if d.role is Role.MOTION}
SNOW = [d.dev_eui for d in DEMO_DEVICES if d.role is Role.SNOW]
NOT_UP = "Lgh 1102"
STEP = timedelta(seconds=30)


def local(hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Ånge on the test's Monday."""
    return datetime(2026, 11, 23, hour, minute, tzinfo=LOCAL)


def sub(label: str) -> str:
    """An apartment's subentry id."""
    return f"apt_{label.removeprefix('Lgh ')}"


@pytest.fixture
def platforms() -> list[Platform]:
    """The gateway without entity platforms: the building's board is under test."""
    return []


@pytest.fixture
async def building(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> MockConfigEntry:
    """Dashboards loaded; the demo group home as a building with a meter and a snow site."""
    assert await async_setup_component(hass, "lovelace", {})
    await set_scenario(hass, init_integration, "resident_not_up", NOT_UP)
    await async_run_until(hass, freezer, local(7, 31), STEP)
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=BUILDING_ID,
        title="Solbacken",
        data={"kind": "building"},
        options={},
        subentries_data=[
            *(
                ConfigSubentryDataWithId(
                    subentry_id=sub(label),
                    subentry_type="apartment",
                    title=label,
                    unique_id=None,
                    data={
                        "label": label,
                        "sensors": [MOTION[label]] + ([DOOR_1101] if label == "Lgh 1101" else []),
                        "enabled": True,
                        "morning_check": True,
                        "inactivity_check": True,
                        "night_door": False,
                    },
                )
                for label in reversed(APARTMENTS)  # the board sorts them
            ),
            ConfigSubentryDataWithId(
                subentry_id="meter_1101",
                subentry_type="water_meter",
                title="Lgh 1101 vattenmätare",
                unique_id=METER_1101,
                data={"dev_eui": METER_1101, "counted": False, "continuous_by_design": False},
            ),
            ConfigSubentryDataWithId(
                subentry_id="parking",
                subentry_type="snow_site",
                title="Parkering",
                unique_id=None,
                data={"name": "Parkering", "sensors": SNOW, "threshold_cm": 8, "min_rise_cm": 5},
            ),
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def care_status(hass: HomeAssistant, label: str) -> str:
    """An apartment's care-status entity id."""
    found = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{BUILDING_ID}_{sub(label)}_care_status"
    )
    assert found is not None
    return found


def cards(view: dict[str, Any]) -> list[dict[str, Any]]:
    """Every card of a sections view, in order."""
    return [card for section in view["sections"] for card in section["cards"]]


async def test_board_is_served_with_one_tile_per_apartment(
    hass: HomeAssistant, building: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """In the sidebar for every user; one view for the building, a tile per apartment."""
    panel = hass.data[DATA_PANELS][URL_PATH]
    assert panel.to_response()["component_name"] == "lovelace"
    assert panel.to_response()["title"] == "Care board"
    assert panel.to_response()["require_admin"] is False

    client = await hass_ws_client(hass)
    await client.send_json({"id": 2, "type": "lovelace/config", "url_path": URL_PATH})
    response = await client.receive_json()
    assert response["success"], response
    [view] = response["result"]["views"]
    assert view["title"] == "Solbacken"
    assert view["type"] == "sections"

    tiles = [c["card"] for c in cards(view) if c["type"] == "conditional"]
    # One tile per apartment, in label order, drawn in the colour of its status.
    names = list(dict.fromkeys(t["name"] for t in tiles))
    assert names == sorted(APARTMENTS)
    devices = dr.async_get(hass)
    for label in APARTMENTS:
        entity_id = care_status(hass, label)
        mine = [c for c in cards(view) if c.get("card", {}).get("entity") == entity_id]
        colours = {c["conditions"][0].get("state", "otherwise"): c["card"]["color"] for c in mine}
        assert colours == {
            "check_needed": "red",
            "sensor_offline": "deep-orange",
            "acknowledged": "blue",
            "paused": "grey",
            "otherwise": "green",
        }
        device = devices.async_get_device_by_identifier(
            (DOMAIN, f"apartment_{sub(label)}"), BUILDING_ID
        )
        alerting = [c["card"] for c in mine if c["card"]["color"] in ("red", "deep-orange")]
        for tile in alerting:  # a tap acknowledges (after a confirmation), as the tapper
            assert tile["tap_action"]["perform_action"] == "ange_iot.acknowledge_care_check"
            assert tile["tap_action"]["data"] == {"apartment": device.id}
            assert label in tile["tap_action"]["confirmation"]["text"]
    # Every entity the board names exists.
    named = {c.get("entity") or c.get("card", {}).get("entity") for c in cards(view)} - {None}
    assert all(hass.states.get(e) is not None for e in named), named
    assert any("clearing_needed" in e for e in named)
    assert any("meters_in_alert" in e for e in named)

    # Unloading the only building takes the board away.
    assert await hass.config_entries.async_unload(building.entry_id)
    assert URL_PATH not in hass.data[LOVELACE_DATA].dashboards
    assert URL_PATH not in hass.data[DATA_PANELS]


async def test_board_says_what_happened_since_when(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, building: MockConfigEntry
) -> None:
    """The markdown card names the apartment, what happened and since when, in Swedish too."""
    board = hass.data[LOVELACE_DATA].dashboards[URL_PATH]

    async def happened() -> str:
        view = (await board.async_load(False))["views"][0]
        [card] = [c for c in cards(view) if c["type"] == "markdown" and "reasons" in c["content"]]
        return str(Template(card["content"], hass).async_render(parse_result=False)).strip()

    assert await happened() == "All apartments: all well."

    await async_run_until(hass, freezer, local(9, 16), STEP)
    assert hass.states.get(care_status(hass, NOT_UP)).state == "check_needed"
    assert await happened() == (
        "- **Lgh 1102**: Check needed — no activity in the morning window, since 09:15 23/11"
    )
    attention = hass.states.get("sensor.solbacken_apartments_needing_attention")
    assert attention.state == "1"
    assert attention.attributes["apartments"] == [NOT_UP]  # which one

    # A paused apartment says so, and until when.
    switch = er.async_get(hass).async_get_entity_id(
        "switch", DOMAIN, f"{BUILDING_ID}_{sub('Lgh 1203')}_care_checks_paused"
    )
    await hass.services.async_call(
        DOMAIN,
        "pause_care_checks",
        {
            "apartment": dr.async_get(hass)
            .async_get_device_by_identifier((DOMAIN, f"apartment_{sub('Lgh 1203')}"), BUILDING_ID)
            .id,
            "until": local(12, 0).isoformat(),
        },
        blocking=True,
    )
    assert hass.states.get(switch).state == "on"
    assert (await happened()).splitlines()[-1] == (
        "- **Lgh 1203**: Paused, since 09:16 23/11, until 12:00 23/11"
    )

    meters = [
        c
        for c in cards((await board.async_load(False))["views"][0])
        if c["type"] == "markdown" and "meters_in_alert" in c["content"]
    ]
    assert Template(meters[0]["content"], hass).async_render().strip() == ("No open meter alerts.")

    hass.config.language = "sv"
    await async_get_translations(hass, "sv", "entity", [DOMAIN])  # a Swedish instance has them
    config = await board.async_load(False)
    assert config["title"] == "Tillsyn"
    assert "Lägenheter" in [c.get("heading") for c in cards(config["views"][0])]
    assert await happened() == (
        "- **Lgh 1102**: Tillsyn behövs — ingen aktivitet i morgonfönstret, sedan 09:15 23/11"
        "\n\n- **Lgh 1203**: Pausad, sedan 09:16 23/11, till 12:00 23/11"
    )


async def test_one_view_per_building(hass: HomeAssistant, building: MockConfigEntry) -> None:
    """A second building gets its own view; reloading one keeps the board (no duplicate)."""
    other = MockConfigEntry(
        domain=DOMAIN, entry_id="annexet", title="Annexet", data={"kind": "building"}
    )
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(other.entry_id)
    await hass.async_block_till_done()
    board = hass.data[LOVELACE_DATA].dashboards[URL_PATH]

    views = (await board.async_load(False))["views"]
    assert [v["title"] for v in views] == ["Annexet", "Solbacken"]
    assert "No apartments yet" in cards(views[0])[1]["content"]

    assert await hass.config_entries.async_reload(building.entry_id)
    await hass.async_block_till_done()
    assert hass.data[LOVELACE_DATA].dashboards[URL_PATH] is board  # kept: Annexet is loaded
    assert [v["title"] for v in (await board.async_load(False))["views"]] == [
        "Annexet",
        "Solbacken",
    ]


@pytest.mark.parametrize("language", ["en", "sv"])
async def test_board_texts_come_from_the_translation_files(
    hass: HomeAssistant, building: MockConfigEntry, language: str
) -> None:
    """A Swedish and an English instance each get their language's board texts.

    The words are those of ``translations/<lang>.json`` (``care_board``), not of the code:
    headings, tile names, the sidebar title, reasons and meter alert names.
    """
    translations = json.loads(
        (Path(ange_iot.__file__).parent / "translations" / f"{language}.json").read_text("utf-8")
    )
    words = translations["care_board"]
    # Every reason and meter alert the logbook knows has the board's wording too.
    assert set(words["reason"]) >= set(translations["logbook"]["reason"])
    assert set(words["meter_alert"]) >= set(translations["logbook"]["meter_alert"])

    hass.config.language = language
    config = await hass.data[LOVELACE_DATA].dashboards[URL_PATH].async_load(False)
    assert config["title"] == words["title"]
    [view] = config["views"]
    assert [c["heading"] for c in cards(view) if c["type"] == "heading"] == [
        words["apartments"],
        words["happened"],
        words["building"],
        words["meters"],
        words["snow"],
    ]
    names = {c.get("name") for c in cards(view)}
    assert {words["attention"], words["meters_in_alert"]} <= names
    assert f"Parkering: {words['clearing']}" in names
    markdown = "\n".join(c["content"] for c in cards(view) if c["type"] == "markdown")
    assert words["all_well"] in markdown
    assert words["no_meter_alerts"] in markdown
    assert json_dumps(words["reason"]) in markdown  # the reasons the template picks from
    assert json_dumps(words["meter_alert"]) in markdown
    confirm = next(
        c["card"]["tap_action"]["confirmation"]["text"]
        for c in cards(view)
        if c["type"] == "conditional" and "tap_action" in c["card"]
    )
    assert confirm in {words["confirm"].replace("{label}", label) for label in APARTMENTS}
