"""A generic device as a building's water meter: hourly statistics and its leak alarm.

Its own module: the recorder must start before Home Assistant here.
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.ange_iot.const import DOMAIN

from .common import async_run_until, fired_events
from .test_generic import (
    METER,
    START,
    field_state,
    gateway_entry,
    generic_subentry,
    meter_message,
    send_tts,
    setup,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Every test here runs with the recorder (set up before Home Assistant)."""


async def test_generic_water_meter_statistics_and_leak(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The CubicMeter's normalized register feeds hourly statistics; its leak an alert."""
    freezer.move_to(START)
    await hass.config.async_set_time_zone("Europe/Stockholm")
    fields = {
        "metering.water.total": {"role": "water_volume"},
        "water.leak": {"role": "water_leak"},
    }
    await setup(hass, gateway_entry(generic_subentry(METER, "Huvudmätare", fields)))
    litres = 5342
    await send_tts(hass, meter_message(START, 1, litres))
    building = MockConfigEntry(
        domain=DOMAIN,
        entry_id="water_building",
        title="Solbacken",
        data={"kind": "building"},
        options={"water_night_start": "00:00:00", "water_night_end": "06:00:00",
                 "water_night_check": "07:00:00", "night_flow_lph": 5.0,
                 "high_use_factor": 3.0, "silent_hours": 48},
        subentries_data=[
            ConfigSubentryDataWithId(
                subentry_id="meter_1234",
                subentry_type="water_meter",
                title="Huvudmätare",
                unique_id=METER,
                data={"dev_eui": METER, "counted": True, "continuous_by_design": False},
            )
        ],
    )  # fmt: skip
    await setup(hass, building)
    alerts = fired_events(hass, "event.solbacken_meter_alerts")
    for fcnt in range(2, 6):
        freezer.tick(timedelta(hours=1))
        litres += 40
        await send_tts(hass, meter_message(dt_util.utcnow(), fcnt, litres))
    await async_run_until(hass, freezer, dt_util.utcnow() + timedelta(minutes=5))
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        START - timedelta(hours=1),
        dt_util.utcnow(),
        {f"{DOMAIN}:water_{METER}"},
        "hour",
        None,
        {"state", "sum"},
    )
    series = rows[f"{DOMAIN}:water_{METER}"]
    assert series
    assert series[-1]["state"] == pytest.approx(litres / 1000)
    # Counted from the first reading the building saw (5382 L): three hours of 40 L since.
    assert hass.states.get("sensor.solbacken_water_consumption").state == "0.12"

    freezer.tick(timedelta(minutes=30))
    await send_tts(hass, meter_message(dt_util.utcnow(), 9, litres, leak="heavy"))
    started = [e for e in alerts if e["event_type"] == "alert_started"]
    assert [(e["alert"], e["source"]) for e in started] == [("leak", "meter")]
    assert field_state(hass, "binary_sensor", METER, "water.leak").state == STATE_ON
