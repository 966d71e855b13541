"""Helpers shared by the Ånge IoT entity tests."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from datetime import datetime, timedelta
import json
import logging
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant, ServiceCall, State, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.ange_iot.angelib.codecs import kamstrup_flowiq
from custom_components.ange_iot.angelib.lns import chirpstack
from custom_components.ange_iot.angelib.simulator import DEMO_BY_EUI
from custom_components.ange_iot.const import DOMAIN, LOGGER
from custom_components.ange_iot.uptime import DATA_ONLINE_SINCE

# Demo devices used throughout the entity tests.
MOTION_1101 = "a81758fffe0a1101"  # Elsys ERS in Lgh 1101, reports every 600 s
DOOR_1101 = "70b3d52c00010001"  # Sensative Strips Guard on Lgh 1101's front door
BUILDING_METER = "0004a30b00e10001"  # Axioma W1 main water meter
METER_1101 = "0001a8f000002101"  # Kamstrup flowIQ 2200 in Lgh 1101
SNOW_1 = "24e124126b000001"  # Milesight EM500-UDL on the parking lot

STEP = timedelta(seconds=5)
FIRST_REPORTS = timedelta(seconds=60)  # every demo device has reported once by then


def entity_id(registry: er.EntityRegistry, platform: str, dev_eui: str, key: str) -> str:
    """The entity id of one device's entity, found by its unique id."""
    found = registry.async_get_entity_id(platform, DOMAIN, f"{dev_eui}_{key}")
    assert found is not None, f"no {platform} entity {key} for {dev_eui}"
    return found


async def async_tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Move the frozen clock by ``delta`` and run every timer that became due."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def async_run_until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    target: datetime,
    step: timedelta = STEP,
) -> None:
    """Advance in ``step``s up to ``target``.

    The simulated gateway schedules one timer at a time (its next message), so a single
    big jump would deliver only the first message due; small steps deliver them all.
    """
    while (now := dt_util.utcnow()) < target:
        await async_tick(hass, freezer, min(step, target - now))


def meter_event(
    *,
    dev_eui: str = METER_1101,
    volume_l: int,
    fcnt: int,
    time: datetime | None = None,
    payload: bytes | None = None,
) -> bytes:
    """A ChirpStack ``up`` event of a demo flowIQ meter reporting ``volume_l`` litres."""
    demo = DEMO_BY_EUI[dev_eui]
    when = time or dt_util.utcnow()
    if payload is None:
        payload = kamstrup_flowiq.encode(
            meter_time=when.replace(minute=0, second=0, microsecond=0),
            volume_l=volume_l,
            info_code=0,
            profile_increments_l=[0] * 12,
        )
    event: dict[str, Any] = chirpstack.build_up(
        dev_eui=dev_eui,
        fport=kamstrup_flowiq.FPORT,
        fcnt=fcnt,
        payload=payload,
        time=when,
        device_name=demo.name,
        profile_name=demo.profile_name,
        application_id="test",
        dedup_id=f"test-{fcnt}",
        rssi=-90,
        snr=7.5,
    )
    return json.dumps(event).encode()


class LogRecords:
    """The log records pytest's ``caplog`` holds from here on (no handler of our own).

    The integration's records only, unless ``everything``; at DEBUG and up. Records of the
    test's setup (fixtures) and its call both count, in order.
    """

    def __init__(self, caplog: pytest.LogCaptureFixture, *, everything: bool = False) -> None:
        self._caplog = caplog
        self._everything = everything
        if everything:
            # aiohttp's access log cannot format a frozen clock's time (and logs no headers).
            caplog.set_level(logging.WARNING, logger="aiohttp.access")
            caplog.set_level(logging.DEBUG)  # last: set_level also sets caplog's handler
        else:
            caplog.set_level(logging.DEBUG, logger=LOGGER.name)
        self._start = len(self._all())
        self._end: int | None = None

    def _all(self) -> list[logging.LogRecord]:
        return self._caplog.get_records("setup") + self._caplog.get_records("call")

    def stop(self) -> None:
        """Take no records logged after now."""
        self._end = len(self._all())

    @property
    def records(self) -> list[logging.LogRecord]:
        """The records, oldest first."""
        return [
            r
            for r in self._all()[self._start : self._end]
            if self._everything or r.name == LOGGER.name or r.name.startswith(f"{LOGGER.name}.")
        ]

    def messages(self, level: int = logging.INFO, contains: str = "") -> list[str]:
        """Formatted messages logged exactly at ``level`` that contain ``contains``."""
        return [
            r.getMessage()
            for r in self.records
            if r.levelno == level and contains in r.getMessage()
        ]


@contextmanager
def capture_logs(
    caplog: pytest.LogCaptureFixture, *, everything: bool = False
) -> Generator[LogRecords]:
    """The records ``caplog`` gets while the block runs (the integration's, or all)."""
    records = LogRecords(caplog, everything=everything)
    try:
        yield records
    finally:
        records.stop()


BLUEPRINTS = Path(__file__).resolve().parents[1] / "blueprints" / "automation" / "ange_iot"


def mobile_phone(hass: HomeAssistant, name: str) -> tuple[str, list[ServiceCall]]:
    """A Companion-app phone: its device id and its mocked ``notify.mobile_app_*`` calls."""
    entry = MockConfigEntry(domain="mobile_app", title=name)
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("mobile_app", name.lower().replace(" ", "-"))},
        name=name,
    )
    slug = name.lower().replace(" ", "_")
    return device.id, async_mock_service(hass, "notify", f"mobile_app_{slug}")


async def async_setup_blueprint(
    hass: HomeAssistant, tmp_path: Path, blueprint: str, automation_id: str, inputs: dict[str, Any]
) -> str:
    """An automation from one of our blueprints (copied into a fresh config dir).

    Returns the automation's entity id, asserted "on": a blueprint that fails validation
    gives an unavailable automation.
    """
    hass.config.config_dir = str(tmp_path)
    target = tmp_path / "blueprints" / "automation" / "ange_iot"
    target.mkdir(parents=True)
    shutil.copy(BLUEPRINTS / blueprint, target)
    alias = automation_id.replace("_", " ").capitalize()
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": automation_id,
                "alias": alias,
                "use_blueprint": {"path": f"ange_iot/{blueprint}", "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    entity_id = f"automation.{automation_id}"
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == "on"
    return entity_id


def fired_events(hass: HomeAssistant, entity_id: str) -> list[dict[str, Any]]:
    """Every event an event entity fires from now on, as its attributes (in order).

    A fired event is stamped now; a state restored after a reload is older, and is not an
    event.
    """
    fired: list[dict[str, Any]] = []

    @callback
    def _on_state(event: Event) -> None:
        new: State | None = event.data["new_state"]
        if event.data["entity_id"] != entity_id or new is None:
            return
        stamp = dt_util.parse_datetime(new.state)
        if stamp is None or abs(stamp - dt_util.utcnow()) >= timedelta(seconds=1):
            return
        fired.append(
            {k: v for k, v in new.attributes.items() if k not in ("friendly_name", "event_types")}
        )

    hass.bus.async_listen("state_changed", _on_state)
    return fired


async def set_scenario(
    hass: HomeAssistant,
    gateway: MockConfigEntry,
    scenario: str,
    target: str = "",
    active: bool = True,
) -> None:
    """Switch a scenario of the simulated gateway with the integration's service."""
    await hass.services.async_call(
        DOMAIN,
        "set_scenario",
        {
            "config_entry_id": gateway.entry_id,
            "scenario": scenario,
            "target": target,
            "active": active,
        },
        blocking=True,
    )


def home_assistant_restarts(hass: HomeAssistant) -> None:
    """Call between an unload and a setup that stand for a restart of Home Assistant.

    A reload is not downtime: alerts are "late" only when they came due before Home
    Assistant (this process) was running, so a test that plays a restart says so.
    """
    hass.data.pop(DATA_ONLINE_SINCE, None)


TRANSLATIONS = Path(__file__).parents[1] / "custom_components" / "ange_iot" / "translations"
# Attributes Home Assistant itself names (and translates) for every entity.
HA_ATTRIBUTES = frozenset(
    {
        "friendly_name",
        "device_class",
        "unit_of_measurement",
        "state_class",
        "icon",
        "options",
        "event_types",
        "event_type",
        "restored",
        "supported_features",
    }
)
# Attributes whose values are codes a user reads: each value needs a translation.
ENUM_ATTRIBUTES = frozenset({"reason", "rechecking", "resolution", "alert", "source", "type"})


def assert_attributes_translated(hass: HomeAssistant) -> int:
    """Every attribute of every Ånge IoT entity has a name (and enum values) in en and sv.

    Returns how many attributes were checked, so a test can assert it saw some.
    """
    registry = er.async_get(hass)
    languages = {
        language: json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))["entity"]
        for language in ("en", "sv")
    }
    checked = 0
    for entry in list(registry.entities.values()):
        if entry.platform != DOMAIN or (state := hass.states.get(entry.entity_id)) is None:
            continue
        for name, value in state.attributes.items():
            if name in HA_ATTRIBUTES:
                continue
            for language, entities in languages.items():
                where = (language, entry.entity_id, name)
                translated = entities[entry.domain][entry.translation_key]
                attribute = translated.get("state_attributes", {}).get(name)
                assert attribute is not None, where
                assert attribute["name"], where
                if name in ENUM_ATTRIBUTES:
                    assert "state" in attribute, where
                    if value is not None:
                        assert value in attribute["state"], (*where, value)
            checked += 1
    return checked


# A building's care-check times as its form stores them (the engine's defaults).
BUILDING_OPTIONS: dict[str, Any] = {
    "morning_start": "06:00:00",
    "morning_deadline": "09:00:00",
    "active_start": "07:00:00",
    "active_end": "22:00:00",
    "inactivity_limit": {"hours": 4, "minutes": 0, "seconds": 0},
    "grace": {"hours": 0, "minutes": 15, "seconds": 0},
    "night_door": False,
    "night_start": "23:00:00",
    "night_end": "05:00:00",
}
