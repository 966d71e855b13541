"""The care board: a dashboard for staff, one view per building, made of HA's own cards.

A dashboard the integration serves itself (like Home Assistant's auto-generated Overview):
its configuration is generated from the buildings that are loaded each time the board is
opened, so an apartment added or renamed shows at once, entity ids are those of this
instance (they follow its language), and nothing is stored that could go stale or that a
later version would have to overwrite. It is read-only in the dashboard editor; a facility
manager who wants another layout copies cards from it into a dashboard of their own.

Each building's view: one tile per apartment, coloured by its care status (red: check
needed, orange: cannot tell, blue: someone is on it, grey: paused, green: all well), which
acknowledges on tap while there is something to acknowledge (with a confirmation; the
Home Assistant user who tapped is recorded); what happened and since when (markdown);
the building's open meter alerts; each snow-clearing site's status and depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components import frontend
from homeassistant.components.lovelace.const import LOVELACE_DATA, MODE_YAML
from homeassistant.components.lovelace.dashboard import LovelaceConfig
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.json import json_dumps, json_fragment
from homeassistant.helpers.translation import async_get_translations

from ..const import DOMAIN, SERVICE_ACKNOWLEDGE
from .runtime import BuildingRuntime

URL_PATH = "ange-iot-care-board"
ICON = "mdi:account-heart"

# Tile colours by care status (HA's named colours, light and dark theme alike).
COLOURS = {
    "check_needed": "red",
    "sensor_offline": "deep-orange",
    "acknowledged": "blue",
    "paused": "grey",
}
OK_COLOUR = "green"
ALERTING = ("check_needed", "sensor_offline")


@dataclass(frozen=True, kw_only=True)
class BoardTexts:
    """The board's own words, from the translation files (``care_board`` section).

    Entity names and states on the board are translated by the frontend in each viewer's
    language; headings, tile names and markdown are not (a dashboard configuration is plain
    text), so these come in the instance's language (Settings › System › General).
    """

    text: dict[str, str]
    reasons: dict[str, str]  # why an apartment is not all well, by reason code
    meter_alerts: dict[str, str]  # meter alert names, by alert type


async def async_texts(hass: HomeAssistant) -> BoardTexts:
    """The board's texts in the instance's language (English where a string is missing)."""
    strings = await async_get_translations(hass, hass.config.language, "care_board", [DOMAIN])
    prefix = f"component.{DOMAIN}.care_board."
    text: dict[str, str] = {}
    reasons: dict[str, str] = {}
    alerts: dict[str, str] = {}
    for key, value in strings.items():
        if not key.startswith(prefix):
            continue
        group, _, name = key[len(prefix) :].rpartition(".")
        {"": text, "reason": reasons, "meter_alert": alerts}.get(group, {})[name] = value
    return BoardTexts(text=text, reasons=reasons, meter_alerts=alerts)


def _fill(text: str, placeholders: dict[str, str]) -> str:
    """A translation string with its ``{name}`` placeholders filled in."""
    for name, value in placeholders.items():
        text = text.replace(f"{{{name}}}", value)
    return text


def _entity(hass: HomeAssistant, platform: str, unique_id: str) -> str | None:
    return er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)


def _buildings(hass: HomeAssistant) -> list[BuildingRuntime]:
    """The loaded buildings' runtimes, by title."""
    runtimes = [
        entry.runtime_data
        for entry in hass.config_entries.async_loaded_entries(DOMAIN)
        if isinstance(getattr(entry, "runtime_data", None), BuildingRuntime)
    ]
    return sorted(runtimes, key=lambda r: r.entry.title.casefold())


def apartment_tiles(
    hass: HomeAssistant, runtime: BuildingRuntime, texts: dict[str, str]
) -> list[dict[str, Any]]:
    """One tile per apartment (one conditional card per colour), in label order."""
    cards: list[dict[str, Any]] = []
    devices = dr.async_get(hass)
    entry_id = runtime.entry.entry_id
    for subentry_id, apartment in sorted(
        runtime.care.apartments.items(), key=lambda item: item[1].label.casefold()
    ):
        status = _entity(hass, "sensor", f"{entry_id}_{subentry_id}_care_status")
        device = devices.async_get_device_by_identifier(
            (DOMAIN, f"apartment_{subentry_id}"), entry_id
        )
        if status is None or device is None:
            continue
        tile: dict[str, Any] = {
            "type": "tile",
            "entity": status,
            "name": apartment.label,
            "state_content": ["state", "last_changed"],
        }
        confirm_placeholders = {"label": apartment.label}
        acknowledge = {
            "action": "perform-action",
            "perform_action": f"{DOMAIN}.{SERVICE_ACKNOWLEDGE}",
            "data": {"apartment": device.id},
            "confirmation": {"text": _fill(texts["confirm"], confirm_placeholders)},
        }
        for state, colour in COLOURS.items():
            card = {**tile, "color": colour}
            if state in ALERTING:
                card["tap_action"] = acknowledge
                card["icon_tap_action"] = {"action": "more-info"}
            cards.append(
                {
                    "type": "conditional",
                    "conditions": [{"condition": "state", "entity": status, "state": state}],
                    "card": card,
                }
            )
        cards.append(
            {
                "type": "conditional",
                "conditions": [
                    {"condition": "state", "entity": status, "state_not": list(COLOURS)}
                ],
                "card": {**tile, "color": OK_COLOUR},
            }
        )
    return cards


def _happened(hass: HomeAssistant, runtime: BuildingRuntime, board: BoardTexts) -> dict[str, Any]:
    """A markdown card: each apartment that is not all well, why, since when, who is on it."""
    texts = board.text
    entry_id = runtime.entry.entry_id
    rows = [
        (
            apartment.label,
            entity,
            _entity(hass, "switch", f"{entry_id}_{subentry_id}_care_checks_paused") or "",
        )
        for subentry_id, apartment in sorted(
            runtime.care.apartments.items(), key=lambda item: item[1].label.casefold()
        )
        if (entity := _entity(hass, "sensor", f"{entry_id}_{subentry_id}_care_status"))
    ]
    content = (
        "{% set reasons = " + json_dumps(board.reasons) + " %}\n"
        "{% set rows = " + json_dumps(rows) + " %}\n"
        "{% for label, e, pause in rows if states(e) not in ['ok', 'unknown', 'unavailable'] %}"
        "\n{% set since = state_attr(e, 'since') %}"
        "{% set reason = state_attr(e, 'reason') %}"
        "{% set until = state_attr(pause, 'until') if pause else none %}"
        "- **{{ label }}**: {{ state_translated(e) }}"
        "{% if reason and reason != states(e) %} — {{ reasons.get(reason, reason) }}{% endif %}"
        "{% if since %}, " + texts["since"] + " "
        "{{ as_timestamp(since) | timestamp_custom('%H:%M %d/%m') }}{% endif %}"
        "{% if states(e) == 'paused' and until %}, " + texts["until"] + " "
        "{{ as_timestamp(until) | timestamp_custom('%H:%M %d/%m') }}{% endif %}"
        "{% if state_attr(e, 'acknowledged_by') %}, " + texts["taken_by"] + " "
        "{{ state_attr(e, 'acknowledged_by') }}{% endif %}\n"
        "{% else %}\n" + texts["all_well"] + "\n{% endfor %}"
    )
    return {"type": "markdown", "content": content}


def _meters(
    hass: HomeAssistant, runtime: BuildingRuntime, board: BoardTexts
) -> list[dict[str, Any]]:
    texts = board.text
    entry_id = runtime.entry.entry_id
    in_alert = _entity(hass, "sensor", f"{entry_id}_meters_in_alert")
    if in_alert is None:
        return []
    content = (
        "{% set names = " + json_dumps(board.meter_alerts) + " %}\n"
        "{% for a in state_attr('" + in_alert + "', 'alerts') or [] %}\n"
        "- **{{ a.meter }}**: {{ names.get(a.alert, a.alert) }}, " + texts["since"] + " "
        "{{ as_timestamp(a.since) | timestamp_custom('%H:%M %d/%m') }}"
        "{% if a.leak_rate_lph %} ({{ a.leak_rate_lph | round(0) }} l/h){% endif %}\n"
        "{% else %}\n" + texts["no_meter_alerts"] + "\n{% endfor %}"
    )
    return [
        {"type": "heading", "heading": texts["meters"], "icon": "mdi:water"},
        {"type": "tile", "entity": in_alert, "name": texts["meters_in_alert"], "color": "red"},
        {"type": "markdown", "content": content},
    ]


def _snow(
    hass: HomeAssistant, runtime: BuildingRuntime, texts: dict[str, str]
) -> list[dict[str, Any]]:
    entry_id = runtime.entry.entry_id
    cards: list[dict[str, Any]] = []
    for subentry_id, site in sorted(runtime.snow.sites.items(), key=lambda i: i[1].name):
        needed = _entity(hass, "binary_sensor", f"{entry_id}_{subentry_id}_clearing_needed")
        depth = _entity(hass, "sensor", f"{entry_id}_{subentry_id}_site_snow_depth")
        if needed:
            cards.append(
                {
                    "type": "tile",
                    "entity": needed,
                    "name": f"{site.name}: {texts['clearing']}",
                    "icon": "mdi:snowplow",
                    "color": "light-blue",
                    "state_content": ["state", "last_changed"],
                }
            )
        if depth:
            cards.append({"type": "tile", "entity": depth, "name": site.name})
    if cards:
        cards.insert(0, {"type": "heading", "heading": texts["snow"], "icon": "mdi:snowflake"})
    return cards


def building_view(
    hass: HomeAssistant, runtime: BuildingRuntime, board: BoardTexts
) -> dict[str, Any]:
    """The care board's view of one building (HA's sections view: phone and wall tablet)."""
    texts = board.text
    entry_id = runtime.entry.entry_id
    tiles = apartment_tiles(hass, runtime, texts)
    apartments: list[dict[str, Any]] = [
        {"type": "heading", "heading": texts["apartments"], "icon": "mdi:home-heart"},
        *(tiles or [{"type": "markdown", "content": texts["no_apartments"]}]),
    ]
    happened: list[dict[str, Any]] = [
        {"type": "heading", "heading": texts["happened"], "icon": "mdi:clipboard-text-clock"},
        _happened(hass, runtime, board),
    ]
    building: list[dict[str, Any]] = []
    if attention := _entity(hass, "sensor", f"{entry_id}_apartments_needing_attention"):
        building = [
            {"type": "heading", "heading": texts["building"], "icon": "mdi:home-city"},
            {"type": "tile", "entity": attention, "name": texts["attention"], "color": "red"},
        ]
    building += _meters(hass, runtime, board) + _snow(hass, runtime, texts)
    return {
        "title": runtime.entry.title,
        "path": f"building-{entry_id}".lower(),
        "icon": ICON,
        "type": "sections",
        "max_columns": 3,
        "sections": [
            {"type": "grid", "cards": cards} for cards in (apartments, happened, building) if cards
        ],
    }


async def async_board_config(hass: HomeAssistant) -> dict[str, Any]:
    """The whole care board: one view per loaded building, in the instance's language."""
    board = await async_texts(hass)
    return {
        "title": board.text["title"],
        "views": [building_view(hass, runtime, board) for runtime in _buildings(hass)],
    }


class CareBoard(LovelaceConfig):
    """The care board's dashboard: generated on each load, never stored."""

    @property
    def mode(self) -> str:
        """Managed outside the dashboard editor (read-only there)."""
        return MODE_YAML

    async def async_get_info(self) -> dict[str, Any]:
        """What the dashboards list shows about it."""
        return {"mode": self.mode, "views": len(_buildings(self.hass))}

    async def async_load(self, force: bool) -> dict[str, Any]:
        """The board as it is now."""
        return await async_board_config(self.hass)

    async def async_json(self, force: bool) -> json_fragment:
        """The board as JSON for the frontend."""
        return json_fragment(json_dumps(await async_board_config(self.hass)))


async def async_register(hass: HomeAssistant) -> None:
    """Offer the care board in the sidebar (once; all staff, not only administrators)."""
    if LOVELACE_DATA not in hass.data:
        return  # no dashboards on this instance (lovelace not loaded)
    title = (await async_texts(hass)).text["title"]
    dashboards = hass.data[LOVELACE_DATA].dashboards
    if URL_PATH in dashboards:  # checked and set with no await between: registered once
        return
    dashboards[URL_PATH] = CareBoard(
        hass,
        URL_PATH,
        {"mode": MODE_YAML, "title": title, "icon": ICON, "show_in_sidebar": True},
    )
    frontend.async_register_built_in_panel(
        hass,
        "lovelace",
        sidebar_title=title,
        sidebar_icon=ICON,
        frontend_url_path=URL_PATH,
        config={"mode": MODE_YAML},
        require_admin=False,
    )


@callback
def async_unregister_if_unused(hass: HomeAssistant, unloading_entry_id: str) -> None:
    """Take the board away with the last building."""
    if LOVELACE_DATA not in hass.data:
        return
    if any(r.entry.entry_id != unloading_entry_id for r in _buildings(hass)):
        return
    if hass.data[LOVELACE_DATA].dashboards.pop(URL_PATH, None) is not None:
        frontend.async_remove_panel(hass, URL_PATH, warn_if_unknown=False)
