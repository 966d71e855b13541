"""One apartment of a building, and how its care state is stored.

An apartment is an ``apartment`` subentry of its building: a label, care settings (the
building's defaults under its own), its sensors' DevEUIs. Its care state is kept in the
building's care store (``ange_iot.<entry>.care``); the care index store
(``ange_iot.<entry>.care_index``) says which apartments have stored state, so a lost care
store is noticed and judged again, not trusted as "all is well".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..angelib import care
from ..angelib.care import ApartmentState, CareSettings, Evaluation, SensorHealth
from ..const import DOMAIN, LOGGER
from ..router import get_router
from .part import part_store

MANUFACTURER = "Ånge IoT"
APARTMENT_DEVICE = "apartment"  # device translation key: the apartment's role, "Care"


@dataclass
class ApartmentRuntime:
    """One apartment: its settings, sensors (DevEUIs), engine state and last evaluation."""

    subentry_id: str
    label: str
    settings: CareSettings
    sensors: tuple[str, ...]
    state: ApartmentState
    evaluation: Evaluation | None = None
    # Escalations armed by a notification automation: alert id -> when to escalate.
    escalations: dict[str, datetime] = field(default_factory=dict)


def apartment_device_info(apartment: ApartmentRuntime, building_device_id: str) -> DeviceInfo:
    """An apartment's device: named by its role, "Care", in the apartment's own area.

    The area (from the label, created if needed, as HA does with ``suggested_area``) says
    which apartment, the device what it is: "Lgh 1101 ▸ Care", and new entity ids such as
    ``sensor.lgh_1101_care_status`` (not ``lgh_1101_lgh_1101_``).
    """
    return DeviceInfo(
        identifiers={(DOMAIN, apartment_identifier(apartment.subentry_id))},
        translation_key=APARTMENT_DEVICE,
        manufacturer=MANUFACTURER,
        via_device_id=building_device_id,
        suggested_area=apartment.label,
    )


def apartment_identifier(subentry_id: str) -> str:
    """An apartment device's identifier in the device registry."""
    return f"apartment_{subentry_id}"


def rejudge_today(hass: HomeAssistant, title: str, apartment: ApartmentRuntime) -> None:
    """Care state lost: judge today again from what the sensors' gateways still know.

    Never "all is well" from nothing: watching starts at the apartment's last known
    activity if that was today (deadlines before it were met or are moot: the resident
    has been seen since), else at midnight, so a check missed today fires again, late.
    A sensor whose gateway cannot say is "cannot tell". Acknowledgements, pauses and
    night-door openings are not in the device store: the repair issue says so.
    """
    zone = apartment.settings.zone
    midnight = datetime.combine(dt_util.utcnow().astimezone(zone).date(), time(), zone)
    router = get_router(hass)
    seen: list[datetime] = []
    for dev_eui in apartment.sensors:
        tracked = router.tracked(dev_eui)
        if tracked is not None and tracked.state.last_activity is not None:
            seen.append(tracked.state.last_activity)
    start = max([midnight.astimezone(UTC), *seen])
    state = apartment.state
    state.started = state.evaluated = state.reset_at = start
    if seen:
        care.record_activity(state, max(seen))
    LOGGER.warning(
        "%s: the care state of %s was lost; today's checks are judged again from %s",
        title,
        apartment.label,
        start.astimezone(zone).isoformat(timespec="minutes"),
    )


def raise_lost_issue(hass: HomeAssistant, entry_id: str, title: str, labels: list[str]) -> None:
    """A repair issue: the care state of these apartments was lost (judged again today)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"care_state_lost_{entry_id}",
        is_fixable=True,
        is_persistent=True,
        severity=ir.IssueSeverity.ERROR,
        translation_key="care_state_lost",
        translation_placeholders={"building": title, "apartments": ", ".join(labels)},
    )


def care_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where a building keeps its apartments' care state."""
    return part_store(hass, entry_id, "care")


def care_index_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Which apartments have stored care state: a lost care store is noticed, not trusted."""
    return part_store(hass, entry_id, "care_index")


def settings_from(data: Any, base: CareSettings | None) -> CareSettings:
    """Care settings from entry options / subentry data on top of ``base``.

    Invalid stored values fall back to ``base`` (logged), never to no checks at all.
    """
    keys = {f for f in CareSettings.__dataclass_fields__ if f != "timezone"}
    values = {k: data[k] for k in keys if k in data and data[k] is not None}
    try:
        return CareSettings.from_dict(values, base)
    except ValueError as err:
        LOGGER.error("Invalid care-check settings (%s); using the building's defaults", err)
        return base or CareSettings()


def parse_sensors(data: object) -> dict[str, SensorHealth]:
    """The stored last report and silence limit of each sensor (unreadable ones dropped)."""
    out: dict[str, SensorHealth] = {}
    if not isinstance(data, dict):
        return out
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, dict):
            continue
        limit = value.get("silence_limit")
        raw_seen = value.get("last_seen")
        seen = dt_util.parse_datetime(raw_seen) if isinstance(raw_seen, str) else None
        if not isinstance(limit, int | float) or isinstance(limit, bool) or limit < 0:
            continue
        if seen is not None and seen.tzinfo is None:
            seen = None
        out[key] = SensorHealth(key=key, last_seen=seen, silence_limit=timedelta(seconds=limit))
    return out


def parse_escalations(data: object) -> dict[str, datetime]:
    """An apartment's stored escalations: alert id -> when (unreadable ones dropped)."""
    out: dict[str, datetime] = {}
    if isinstance(data, dict):
        for alert_id, due in data.items():
            parsed = dt_util.parse_datetime(due) if isinstance(due, str) else None
            if isinstance(alert_id, str) and parsed is not None and parsed.tzinfo is not None:
                out[alert_id] = parsed
    return out
