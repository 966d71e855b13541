"""Helpers shared by the Ånge IoT entity tests."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from datetime import datetime, timedelta
import json
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ange_iot.angelib.codecs import kamstrup_flowiq
from custom_components.ange_iot.angelib.lns import chirpstack
from custom_components.ange_iot.angelib.simulator import DEMO_BY_EUI
from custom_components.ange_iot.const import DOMAIN, LOGGER

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


class LogRecords(logging.Handler):
    """Collects the integration's log records (works with ``-p no:logging``, unlike caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.INFO, contains: str = "") -> list[str]:
        """Formatted messages logged exactly at ``level`` that contain ``contains``."""
        return [
            r.getMessage()
            for r in self.records
            if r.levelno == level and contains in r.getMessage()
        ]


@contextmanager
def capture_logs() -> Generator[LogRecords]:
    """Collect the integration's log records while the block runs."""
    handler = LogRecords()
    level = LOGGER.level
    LOGGER.setLevel(logging.DEBUG)
    LOGGER.addHandler(handler)
    try:
        yield handler
    finally:
        LOGGER.removeHandler(handler)
        LOGGER.setLevel(level)
