"""Logbook lines of Ånge IoT: care alerts, acknowledgements, pauses and meter alerts.

Nothing here is per uplink: motion, presence and door changes and the per-report
timestamps are not logbook lines (those entities are off by default, see the README's
Privacy section). Each line names the apartment (or meter), carries an icon and the
apartment's (meter's) device id and entity id, so it shows in that device's own logbook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_ICON,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .const import DOMAIN, EVENT_CARE_LOG, EVENT_METER_LOG

_MESSAGES = {
    "en": {
        "acknowledged": "care check acknowledged by {user}",
        "paused": "care checks paused by {user}{until}",
        "resumed": "care checks resumed by {user}",
        "check_needed": "check needed: {reason}{late}",
        "sensor_offline": "cannot tell, check the apartment and the sensor: {reason}{late}",
        "escalated": "not acknowledged in time: escalated ({reason})",
        "resolved": "care alert closed: {resolution}",
        "alert_started": "meter alert: {alert}{rate}",
        "alert_cleared": "meter alert over: {alert}",
        "alert_acknowledged": "meter alert acknowledged by {user}: {alert}",
        "meter_escalated": "meter alert not acknowledged in time: escalated ({alert}){late}",
        "until": " until {until}",
        "late": " (came due while Home Assistant was not running)",
        "rate": ", about {rate} L/h",
        "phone_check_failed": "did not confirm the phone check at {shift}: the alert chain "
        "to this phone is broken{late}",
        "phone_check_unreachable": "could not be reached for the phone check at {shift}: the "
        "alert chain to this phone is broken",
        "phone_check_confirmed": "phone check at {shift} confirmed by {user}",
    },
    "sv": {
        "acknowledged": "tillsyn kvitterad av {user}",
        "paused": "tillsyn pausad av {user}{until}",
        "resumed": "tillsyn återupptagen av {user}",
        "check_needed": "tillsyn behövs: {reason}{late}",
        "sensor_offline": "kan inte avgöra, titta till lägenheten och sensorn: {reason}{late}",
        "escalated": "inte kvitterat i tid: eskalerat ({reason})",
        "resolved": "tillsynslarmet avslutat: {resolution}",
        "alert_started": "mätarlarm: {alert}{rate}",
        "alert_cleared": "mätarlarmet upphörde: {alert}",
        "alert_acknowledged": "mätarlarm kvitterat av {user}: {alert}",
        "meter_escalated": "mätarlarmet inte kvitterat i tid: eskalerat ({alert}){late}",
        "until": " till {until}",
        "late": " (förföll medan Home Assistant inte var igång)",
        "rate": ", cirka {rate} l/h",
        "phone_check_failed": "bekräftade inte telefonkontrollen {shift}: larmkedjan till "
        "telefonen är bruten{late}",
        "phone_check_unreachable": "gick inte att nå för telefonkontrollen {shift}: larmkedjan "
        "till telefonen är bruten",
        "phone_check_confirmed": "telefonkontrollen {shift} bekräftad av {user}",
    },
}

# Why an alert came or ended, in the logbook and on the care board.
REASONS: dict[str, dict[str, str]] = {
    "en": {
        "no_morning_activity": "no activity in the morning window",
        "inactive": "no activity for longer than the limit",
        "night_door": "door opened at night",
        "sensor_silent": "a sensor stopped reporting",
        "gateway_down": "the gateway is silent",
        "no_sensors": "no sensors",
        "activity": "activity seen",
        "sensors_back": "the sensors report again",
        "paused": "checks paused",
        "disabled": "checks turned off",
    },
    "sv": {
        "no_morning_activity": "ingen aktivitet i morgonfönstret",
        "inactive": "ingen aktivitet på längre tid än gränsen",
        "night_door": "dörren öppnades på natten",
        "sensor_silent": "en sensor har slutat rapportera",
        "gateway_down": "gatewayen är tyst",
        "no_sensors": "inga sensorer",
        "activity": "aktivitet sedd",
        "sensors_back": "sensorerna rapporterar igen",
        "paused": "tillsynen pausad",
        "disabled": "tillsynen avstängd",
    },
}

# Meter alert names in the logbook and on the care board.
METER_ALERTS: dict[str, dict[str, str]] = {
    "en": {
        "leak": "leak",
        "burst": "burst pipe",
        "reverse_flow": "reverse flow",
        "dry": "dry pipe",
        "tamper": "tampering",
        "freeze": "freezing",
        "continuous_flow": "continuous flow",
        "night_flow": "flow at night",
        "high_use": "high use",
        "silent": "meter silent",
        "backwards": "reading went backwards",
    },
    "sv": {
        "leak": "läcka",
        "burst": "rörbrott",
        "reverse_flow": "bakåtflöde",
        "dry": "torrt rör",
        "tamper": "manipulering",
        "freeze": "frysrisk",
        "continuous_flow": "ständigt flöde",
        "night_flow": "flöde på natten",
        "high_use": "hög förbrukning",
        "silent": "mätaren tyst",
        "backwards": "mätarställningen gick bakåt",
    },
}

ICONS = {
    "acknowledged": "mdi:account-check",
    "paused": "mdi:pause-circle",
    "resumed": "mdi:play-circle",
    "check_needed": "mdi:account-alert",
    "sensor_offline": "mdi:account-question",
    "escalated": "mdi:bell-ring",
    "resolved": "mdi:account-heart",
    "alert_started": "mdi:water-alert",
    "alert_cleared": "mdi:water-check",
    "alert_acknowledged": "mdi:account-check",
    "meter_escalated": "mdi:bell-ring",
    "phone_check_failed": "mdi:cellphone-remove",
    "phone_check_unreachable": "mdi:cellphone-off",
    "phone_check_confirmed": "mdi:cellphone-check",
}


def _texts(hass: HomeAssistant, table: dict[str, dict[str, str]]) -> dict[str, str]:
    language = (hass.config.language or "en").split("-")[0]
    return table.get(language, table["en"])


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe the care-check and meter log events."""

    @callback
    def describe_care(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        texts = _texts(hass, _MESSAGES)
        reasons = _texts(hass, REASONS)
        action = str(data.get("action", ""))
        until = texts["until"].format(until=_local(data["until"])) if data.get("until") else ""
        template = texts.get(action, "{user}")
        reason = str(data.get("reason") or "")
        resolution = str(data.get("resolution") or "")
        described = {
            LOGBOOK_ENTRY_NAME: str(data.get("apartment") or data.get("phone") or ""),
            LOGBOOK_ENTRY_MESSAGE: template.format(
                user=data.get("user", "?"),
                until=until,
                reason=reasons.get(reason, reason),
                resolution=reasons.get(resolution, resolution),
                late=texts["late"] if data.get("late") else "",
                shift=data.get("shift", ""),  # phone check (building/phone_check.py)
            ),
            LOGBOOK_ENTRY_ICON: ICONS.get(action, "mdi:account-heart"),
        }
        if entity_id := data.get("entity_id"):
            described[LOGBOOK_ENTRY_ENTITY_ID] = str(entity_id)
        return described

    @callback
    def describe_meter(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        texts = _texts(hass, _MESSAGES)
        alerts = _texts(hass, METER_ALERTS)
        action = str(data.get("action", ""))
        if action == "escalated":  # the care checks' escalation has its own text
            action = "meter_escalated"
        alert = str(data.get("alert", ""))
        rate = data.get("leak_rate_lph")
        described = {
            LOGBOOK_ENTRY_NAME: str(data.get("meter", "")),
            LOGBOOK_ENTRY_MESSAGE: texts.get(action, "{alert}").format(
                alert=alerts.get(alert, alert),
                user=data.get("user") or "?",
                rate=texts["rate"].format(rate=round(rate)) if rate else "",
                late=texts["late"] if data.get("late") else "",
            ),
            LOGBOOK_ENTRY_ICON: ICONS.get(action, "mdi:water-alert"),
        }
        if entity_id := data.get("entity_id"):
            described[LOGBOOK_ENTRY_ENTITY_ID] = str(entity_id)
        return described

    async_describe_event(DOMAIN, EVENT_CARE_LOG, describe_care)
    async_describe_event(DOMAIN, EVENT_METER_LOG, describe_meter)


def _local(value: object) -> str:
    """A stored UTC time as Home Assistant's local wall-clock time ("2026-11-23 09:45")."""
    parsed = dt_util.parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return str(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.UTC)
    return dt_util.as_local(parsed).strftime("%Y-%m-%d %H:%M")
