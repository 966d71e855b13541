"""The demo building "Solbacken" for the building tests: entries, subentries, helpers.

One building entry watches the demo site of the simulated gateway. Care tests give it an
apartment per demo apartment (each with its motion sensor, Lgh 1101 also with its door
sensor); water tests the demo's meters; snow tests the parking lot as a clearing site. The
fixtures that set these up are in conftest.py (``building``, ``water``, ``site``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ange_iot.angelib.simulator import APARTMENTS, DEMO_DEVICES, Role
from custom_components.ange_iot.const import DOMAIN

from .common import BUILDING_METER, BUILDING_OPTIONS, DOOR_1101

# -- care: apartments ------------------------------------------------------------------

LOCAL = ZoneInfo("Europe/Stockholm")
BUILDING_ID = "solbacken"  # a fixed entry id: stable unique ids in the snapshot
STORE_KEY = f"{DOMAIN}.{BUILDING_ID}.care"
ALERTS = "event.solbacken_care_alerts"
ATTENTION = "sensor.solbacken_apartments_needing_attention"
APT = "Lgh 1102"  # the apartment whose resident does not get up in most tests
NOT_UP = pytest.mark.parametrize("not_up", [(APT,)], ids=["not_up"])  # the `not_up` fixture
MOTION = {d.area: d.dev_eui for d in DEMO_DEVICES if d.role is Role.MOTION}
STEP = timedelta(seconds=30)


# -- water meters ----------------------------------------------------------------------

WATER_BUILDING_ID = "solbacken_water"
APARTMENT_METERS = [d.dev_eui for d in DEMO_DEVICES if d.role is Role.APARTMENT_METER]
NAMES = {d.dev_eui: d.name for d in DEMO_DEVICES}
WATER_OPTIONS = {  # as the building's water form stores them (the care part left at defaults)
    "water_night_start": "00:00:00",
    "water_night_end": "06:00:00",
    "water_night_check": "07:00:00",
    "night_flow_lph": 5.0,
    "high_use_factor": 3.0,
    "silent_hours": 48,
}

# -- snow-clearing sites ---------------------------------------------------------------

SNOW_BUILDING_ID = "solbacken_snow"
SITE = "site_lot"
SNOW = [d.dev_eui for d in DEMO_DEVICES if d.role is Role.SNOW]


OPTIONS = BUILDING_OPTIONS | {  # as the building form stores them
    # Off for the rule tests; reminders have tests of their own.
    "reminder_interval": {"hours": 0, "minutes": 0, "seconds": 0},
}


def local(hour: int, minute: int = 0, second: int = 0, day: int = 23) -> datetime:
    """A wall-clock time in Ånge on the test's Monday (or another November day)."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=LOCAL)


WATCHING = local(7, 31)  # the building starts watching
MORNING_DUE = local(9, 15)  # morning deadline 09:00 + grace 15 min
ALERT_ID = f"{APT}|no_morning_activity|{MORNING_DUE.astimezone(dt_util.UTC).isoformat()}"


def sub_id(label: str) -> str:
    """The fixed subentry id of an apartment ("Lgh 1102" -> "apt_1102")."""
    return f"apt_{label.removeprefix('Lgh ')}"


def apartment_data(label: str) -> dict[str, Any]:
    """Subentry data as the apartment form stores it (building defaults for the times)."""
    sensors = [MOTION[label]] + ([DOOR_1101] if label == "Lgh 1101" else [])
    return {
        "label": label,
        "sensors": sensors,
        "enabled": True,
        "morning_check": True,
        "inactivity_check": True,
        "night_door": False,
    }


def apartment_sub(label: str, **data: Any) -> ConfigSubentryDataWithId:
    """An apartment subentry as the form stores it (``data`` over the demo's sensors)."""
    return ConfigSubentryDataWithId(
        subentry_id=sub_id(label),
        subentry_type="apartment",
        title=label,
        unique_id=None,
        data=apartment_data(label) | data,
    )


def meter_sub(dev_eui: str, **data: Any) -> ConfigSubentryDataWithId:
    """A water-meter subentry as the meter form stores it."""
    return ConfigSubentryDataWithId(
        subentry_id=f"meter_{dev_eui[-4:]}",
        subentry_type="water_meter",
        title=NAMES[dev_eui],
        unique_id=dev_eui,
        data={
            "dev_eui": dev_eui,
            "counted": dev_eui == BUILDING_METER,
            "continuous_by_design": False,
            **data,
        },
    )


def site_data(**overrides: Any) -> dict[str, Any]:
    """Snow-site subentry data as the site form stores it (the demo's parking lot)."""
    return {"name": "Parkering", "sensors": SNOW, "threshold_cm": 8, "min_rise_cm": 5} | overrides


def site_sub(subentry_id: str = SITE, **overrides: Any) -> ConfigSubentryDataWithId:
    """The parking lot as a snow-clearing site subentry."""
    data = site_data(**overrides)
    return ConfigSubentryDataWithId(
        subentry_id=subentry_id,
        subentry_type="snow_site",
        title=data["name"],
        unique_id=None,
        data=data,
    )


def building_config_entry(
    entry_id: str, subentries: list[ConfigSubentryDataWithId], options: dict[str, Any]
) -> MockConfigEntry:
    """A building entry "Solbacken" with the given subentries (what every test builds)."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=entry_id,
        title="Solbacken",
        data={"kind": "building"},
        options=options,
        subentries_data=subentries,
    )


def building_entry(
    overrides: dict[str, dict[str, Any]] | None = None, options: dict[str, Any] | None = None
) -> MockConfigEntry:
    """The care building with one apartment per demo apartment (``overrides`` per label)."""
    return building_config_entry(
        BUILDING_ID,
        [apartment_sub(label, **(overrides or {}).get(label, {})) for label in APARTMENTS],
        OPTIONS | (options or {}),
    )


def water_building_entry(*meters: ConfigSubentryDataWithId) -> MockConfigEntry:
    """A building with the given meters (the main meter and every apartment meter)."""
    return building_config_entry(
        WATER_BUILDING_ID,
        list(meters) or [meter_sub(BUILDING_METER), *(meter_sub(m) for m in APARTMENT_METERS)],
        WATER_OPTIONS,
    )


def snow_building_entry() -> MockConfigEntry:
    """A building with the parking lot as its one snow-clearing site."""
    return building_config_entry(SNOW_BUILDING_ID, [site_sub()], {})


def utc_iso(when: datetime) -> str:
    """How the care events and attributes write a time."""
    return when.astimezone(dt_util.UTC).isoformat()


@dataclass
class Alerts:
    """The care events the building's event entity showed, in order."""

    fired: list[dict[str, Any]] = field(default_factory=list)

    def of(self, event_type: str, apartment: str | None = None) -> list[dict[str, Any]]:
        """The events of one type (for one apartment)."""
        return [
            e
            for e in self.fired
            if e["event_type"] == event_type and apartment in (None, e.get("apartment"))
        ]

    def types(self, apartment: str | None = None) -> list[str]:
        """The event types in order (for one apartment)."""
        return [e["event_type"] for e in self.fired if apartment in (None, e.get("apartment"))]


def care_entity(hass: HomeAssistant, platform: str, label: str, key: str) -> str:
    """The entity id of one apartment's care entity."""
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{BUILDING_ID}_{sub_id(label)}_{key}"
    )
    assert found is not None, f"no {platform} {key} for {label}"
    return found


def state(hass: HomeAssistant, platform: str, label: str, key: str) -> State:
    """The state of one apartment's care entity."""
    found = hass.states.get(care_entity(hass, platform, label, key))
    assert found is not None
    return found


def status(hass: HomeAssistant, label: str = APT) -> str:
    """The care status of an apartment."""
    return state(hass, "sensor", label, "care_status").state


def attention(hass: HomeAssistant) -> int:
    """Apartments needing attention, from the building's sensor."""
    found = hass.states.get(ATTENTION)
    assert found is not None
    return int(found.state)


def apartment_device(hass: HomeAssistant, label: str = APT) -> str:
    """The device id of an apartment (what the services take)."""
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"apartment_{sub_id(label)}"), BUILDING_ID
    )
    assert device is not None
    return device.id


async def open_care_defaults(hass: HomeAssistant, building: MockConfigEntry) -> Any:
    """Open the building's options and choose the care-check times from its menu."""
    result = await hass.config_entries.options.async_init(building.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["care", "water"]
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "care"}
    )


def form_values(result: dict[str, Any]) -> dict[str, Any]:
    """What a form shows: defaults, then suggested values over them (sections nested)."""

    def shown(schema: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for marker, validator in schema.schema.items():
            if isinstance(validator, section):
                values[str(marker)] = shown(validator.schema)
            elif (suggested := (marker.description or {}).get("suggested_value")) is not None:
                values[str(marker)] = suggested
            elif callable(marker.default):
                values[str(marker)] = marker.default()
        return values

    return shown(result["data_schema"])


OWN_TIMES = (
    "morning_start",
    "morning_deadline",
    "inactivity_limit",
    "active_start",
    "active_end",
    "night_start",
    "night_end",
    "grace",
)


def to_form(data: dict[str, Any]) -> dict[str, Any]:
    """Stored apartment data as the form holds it: own times in their folded section."""
    values = {k: v for k, v in data.items() if k not in OWN_TIMES}
    values["own_times"] = {k: v for k, v in data.items() if k in OWN_TIMES}
    return values
