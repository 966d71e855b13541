"""The hub behind the entities: availability, persistence across restarts, bad input."""

from __future__ import annotations

from datetime import datetime, timedelta
import json
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ange_iot.angelib.device import DeviceState
from custom_components.ange_iot.angelib.pipeline import Outcome
from custom_components.ange_iot.const import DOMAIN

from .common import (
    FIRST_REPORTS,
    METER_1101,
    MOTION_1101,
    LogRecords,
    async_run_until,
    async_tick,
    entity_id,
    meter_event,
    set_scenario,
)
from .conftest import START

# Activity and per-uplink timestamp entities are off by default (privacy, logbook):
# these tests read them.
pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")

MOTION_1102 = "a81758fffe0a1102"
METER_1102 = "0001a8f000002102"
MOTION_LIMIT = timedelta(seconds=3 * 600)  # 3 missed reports of a 10-minute sensor
LONG_STEP = timedelta(seconds=30)


@pytest.fixture
def log_records(caplog: pytest.LogCaptureFixture) -> LogRecords:
    """The integration's log records (pytest's caplog, from the fixture's setup on)."""
    return LogRecords(caplog)


def _state(hass: HomeAssistant, eid: str) -> str:
    current = hass.states.get(eid)
    assert current is not None, eid
    return current.state


async def _set_silent(hass: HomeAssistant, entry: MockConfigEntry, dev_eui: str, on: bool) -> None:
    await hass.services.async_call(
        DOMAIN,
        "set_scenario",
        {
            "config_entry_id": entry.entry_id,
            "scenario": "sensor_silent",
            "target": dev_eui,
            "active": on,
        },
        blocking=True,
    )


# -- availability -----------------------------------------------------------------------


async def test_unavailable_after_three_missed_reports(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    log_records: LogRecords,
) -> None:
    """A sleeping sensor stays available until it has missed three reports, then logs once."""
    await async_run_until(hass, freezer, dt_util.utcnow() + FIRST_REPORTS)
    hub = init_integration.runtime_data
    last_seen = hub.device(MOTION_1101).state.last_seen
    assert last_seen == START + timedelta(seconds=1)
    temperature = entity_id(entity_registry, "sensor", MOTION_1101, "temperature")
    motion = entity_id(entity_registry, "binary_sensor", MOTION_1101, "motion")
    neighbour = entity_id(entity_registry, "sensor", MOTION_1102, "temperature")

    await _set_silent(hass, init_integration, MOTION_1101, True)

    # Two reports missed, the third almost: still available.
    await async_run_until(hass, freezer, last_seen + MOTION_LIMIT - timedelta(seconds=1), LONG_STEP)
    assert hub.device(MOTION_1101).state.last_seen == last_seen
    assert _state(hass, temperature) != STATE_UNAVAILABLE
    assert _state(hass, motion) != STATE_UNAVAILABLE
    assert hub.is_available(MOTION_1101)
    assert not log_records.messages(contains="is unavailable")

    await async_run_until(hass, freezer, last_seen + MOTION_LIMIT + timedelta(seconds=1))
    assert _state(hass, temperature) == STATE_UNAVAILABLE
    assert _state(hass, motion) == STATE_UNAVAILABLE
    assert not hub.is_available(MOTION_1101)
    assert _state(hass, neighbour) != STATE_UNAVAILABLE  # the others keep reporting

    # Staying silent logs nothing more.
    await async_run_until(hass, freezer, dt_util.utcnow() + timedelta(minutes=20), LONG_STEP)
    went = log_records.messages(contains="is unavailable")
    assert len(went) == 1
    assert MOTION_1101 in went[0]
    assert not log_records.messages(contains="is reporting again")

    # Back on the air: available at its next report, logged once.
    await _set_silent(hass, init_integration, MOTION_1101, False)
    await async_run_until(hass, freezer, dt_util.utcnow() + timedelta(minutes=11), LONG_STEP)
    assert hub.device(MOTION_1101).state.last_seen != last_seen
    assert _state(hass, temperature) != STATE_UNAVAILABLE
    assert _state(hass, motion) != STATE_UNAVAILABLE
    back = log_records.messages(contains="is reporting again")
    assert len(back) == 1
    assert MOTION_1101 in back[0]
    assert len(log_records.messages(contains="is unavailable")) == 1


async def test_never_reported_is_unavailable(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Before its first report a device has nothing to show: unavailable, not stale."""
    assert _state(hass, entity_id(entity_registry, "sensor", METER_1101, "volume")) == (
        STATE_UNAVAILABLE
    )


# -- persistence ------------------------------------------------------------------------


def _stored(entry: MockConfigEntry, devices: dict[str, DeviceState]) -> tuple[str, dict[str, Any]]:
    key = f"{DOMAIN}.{entry.entry_id}.devices"
    return key, {
        "version": 1,
        "minor_version": 1,
        "key": key,
        "data": {"devices": {eui: state.as_dict() for eui, state in devices.items()}},
    }


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    with patch(
        "custom_components.ange_iot.gateway.PLATFORMS",
        [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR],
    ):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()


async def test_restore_from_store(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    mock_config_entry: MockConfigEntry,
    log_records: LogRecords,
) -> None:
    """After a restart the last known values show at once; availability is recomputed."""
    entity_registry = er.async_get(hass)
    freezer.move_to(START)
    await hass.config.async_set_time_zone("Europe/Stockholm")
    now = dt_util.utcnow()
    key, data = _stored(
        mock_config_entry,
        {
            # Seen 2 h ago, limit 3 h: available with its stored reading.
            METER_1101: DeviceState(
                last_seen=now - timedelta(hours=2),
                values={"volume": 50.0, "leak": False},
                rssi=-80.0,
                snr=5.0,
                fcnt=41,
                rejected_frames=2,
            ),
            # Seen 1 h ago, limit 30 min: unavailable right away.
            MOTION_1101: DeviceState(
                last_seen=now - timedelta(hours=1),
                values={"temperature": 19.5, "motion_count": 3},
                fcnt=7,
            ),
            # Seen 5 min ago: available until 25 min from now unless it reports.
            MOTION_1102: DeviceState(
                last_seen=now - timedelta(minutes=5),
                values={"temperature": 22.0, "motion_count": 0},
                last_activity=now - timedelta(hours=8),
                fcnt=9,
            ),
            # The volume guard's baseline survives a restart.
            METER_1102: DeviceState(
                last_seen=now - timedelta(minutes=30), values={"volume": 999.0}, fcnt=3
            ),
        },
    )
    hass_storage[key] = data
    await _setup(hass, mock_config_entry)
    hub = mock_config_entry.runtime_data
    assert hub.pipeline.counters[Outcome.APPLIED] == 0  # nothing received yet

    volume = entity_id(entity_registry, "sensor", METER_1101, "volume")
    assert float(_state(hass, volume)) == pytest.approx(50.0)
    assert _state(hass, entity_id(entity_registry, "sensor", METER_1101, "rejected_frames")) == (
        "2"
    )
    last_seen = _state(hass, entity_id(entity_registry, "sensor", METER_1101, "last_seen"))
    assert datetime.fromisoformat(last_seen) == now - timedelta(hours=2)
    assert float(
        _state(hass, entity_id(entity_registry, "sensor", MOTION_1102, "temperature"))
    ) == pytest.approx(22.0)
    assert _state(hass, entity_id(entity_registry, "binary_sensor", MOTION_1102, "motion")) == (
        STATE_OFF
    )
    activity = _state(hass, entity_id(entity_registry, "sensor", MOTION_1102, "last_activity"))
    assert datetime.fromisoformat(activity) == now - timedelta(hours=8)
    stale = entity_id(entity_registry, "sensor", MOTION_1101, "temperature")
    assert _state(hass, stale) == STATE_UNAVAILABLE
    # Never seen at all: unavailable.
    assert _state(hass, entity_id(entity_registry, "sensor", METER_1101[:-1] + "3", "volume")) == (
        STATE_UNAVAILABLE
    )
    assert not log_records.messages(contains="is unavailable")  # no news at startup

    # MOTION_1102 goes silent: its restored last-seen still drives the timer.
    await _set_silent(hass, mock_config_entry, MOTION_1102, True)
    restored_limit = now - timedelta(minutes=5) + MOTION_LIMIT
    fresh = entity_id(entity_registry, "sensor", MOTION_1102, "temperature")
    await async_run_until(hass, freezer, restored_limit - timedelta(seconds=1), LONG_STEP)
    assert _state(hass, fresh) != STATE_UNAVAILABLE
    await async_run_until(hass, freezer, restored_limit + timedelta(seconds=1))
    assert _state(hass, fresh) == STATE_UNAVAILABLE

    # The stale one reported at START + 1 s and is back with a new value.
    assert _state(hass, stale) != STATE_UNAVAILABLE
    assert float(_state(hass, stale)) != pytest.approx(19.5)
    assert len(log_records.messages(contains="is reporting again")) == 1
    # The meter's first report is higher than its stored reading: counted.
    assert float(_state(hass, volume)) == pytest.approx(53.217)
    # The other meter's demo reading is below its stored 999 m³: held back and flagged.
    assert _state(hass, entity_id(entity_registry, "sensor", METER_1102, "volume")) == "999.0"
    assert (
        _state(hass, entity_id(entity_registry, "binary_sensor", METER_1102, "volume_decreased"))
        == STATE_ON
    )


async def test_unload_writes_store_and_reload_restores(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
    entity_registry: er.EntityRegistry,
) -> None:
    """Unloading writes the states at once; the reloaded entry shows them before any uplink."""
    await async_run_until(hass, freezer, dt_util.utcnow() + FIRST_REPORTS)
    hub = init_integration.runtime_data
    hub.async_handle_chirpstack(meter_event(volume_l=53_300, fcnt=100), source="test")
    await hass.async_block_till_done()
    watched = [
        entity_id(entity_registry, "sensor", METER_1101, "volume"),
        entity_id(entity_registry, "sensor", METER_1101, "last_seen"),
        entity_id(entity_registry, "sensor", MOTION_1101, "temperature"),
        entity_id(entity_registry, "sensor", MOTION_1101, "motion_count"),
        entity_id(entity_registry, "sensor", MOTION_1101, "last_activity"),
        entity_id(entity_registry, "binary_sensor", MOTION_1101, "motion"),
    ]
    before = {eid: _state(hass, eid) for eid in watched}
    assert before[watched[0]] == "53.3"

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    # Written by the unload itself, not by a delayed save still pending.
    stored = hass_storage[f"{DOMAIN}.{init_integration.entry_id}.devices"]["data"]["devices"]
    assert stored[METER_1101]["values"]["volume"] == pytest.approx(53.3)
    assert stored[METER_1101]["fcnt"] == 100
    assert "volume_log_m3" not in stored[METER_1101]["values"]  # history is not state
    assert set(stored) == set(hub.pipeline.devices)

    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    reloaded = init_integration.runtime_data
    assert reloaded is not hub
    assert reloaded.pipeline.counters[Outcome.APPLIED] == 0
    assert {eid: _state(hass, eid) for eid in watched} == before


# -- bad input --------------------------------------------------------------------------


async def test_bad_input_is_counted_not_raised(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    log_records: LogRecords,
) -> None:
    """Every kind of bad message is counted; none raises; good ones still get through."""
    await async_run_until(hass, freezer, dt_util.utcnow() + FIRST_REPORTS)
    hub = init_integration.runtime_data
    messages, applied = hub.stats.messages, hub.pipeline.counters[Outcome.APPLIED]
    assert hub.stats.malformed == 0
    good = json.loads(meter_event(volume_l=53_300, fcnt=100))

    def variant(**changes: Any) -> bytes:
        event = json.loads(json.dumps(good))
        for name, value in changes.items():
            if value is None:
                event.pop(name, None)
            else:
                event[name] = value
        return json.dumps(event).encode()

    malformed: list[bytes | str] = [
        b"{not json",
        b"[1, 2, 3]",
        "null",
        b"\xff\xfe\x00",  # not UTF-8 (a protobuf body)
        b" " * (64 * 1024 + 1),  # oversized
        variant(data="not base64!"),
        variant(data=12),
        variant(deviceInfo=None),
        variant(deviceInfo={"devEui": "nothex"}),
        variant(time=None),
        variant(time="yesterday"),
        variant(fCnt="7"),
        variant(fPort=300),
        variant(rxInfo="gateway"),
    ]
    for body in malformed:
        assert hub.async_handle_chirpstack(body, source="test") is None, body
    await hass.async_block_till_done()
    assert hub.stats.malformed == len(malformed)
    # One warning per source for malformed input, then debug.
    assert len(log_records.messages(logging.WARNING, "malformed")) == 1

    unknown = hub.async_handle_chirpstack(
        meter_event(dev_eui=METER_1101, volume_l=1, fcnt=5).replace(
            METER_1101.encode(), b"ffffffffffffffff"
        ),
        source="test",
    )
    assert unknown is None  # no entry owns it: counted, nothing applied
    assert hub.pipeline.counters[Outcome.UNKNOWN_DEVICE] == 1

    first = hub.async_handle_chirpstack(json.dumps(good).encode(), source="test")
    again = hub.async_handle_chirpstack(json.dumps(good).encode(), source="test")
    assert first is not None
    assert first.outcome is Outcome.APPLIED
    assert again is not None
    assert again.outcome is Outcome.DUPLICATE
    assert hub.pipeline.counters[Outcome.DUPLICATE] == 1

    # A frame the codec refuses counts against the device (and is no proof of life).
    rejected_id = entity_id(entity_registry, "sensor", METER_1101, "rejected_frames")
    assert _state(hass, rejected_id) == "0"
    seen = hub.device(METER_1101).state.last_seen
    garbled = hub.async_handle_chirpstack(
        meter_event(volume_l=0, fcnt=101, payload=b"\x00\x01\x02"), source="test"
    )
    assert garbled is not None
    assert garbled.outcome is Outcome.DECODE_ERROR
    await hass.async_block_till_done()
    assert _state(hass, rejected_id) == "1"
    assert hub.pipeline.counters[Outcome.DECODE_ERROR] == 1
    assert hub.device(METER_1101).state.last_seen == seen

    # A good message after all that is applied.
    later = hub.async_handle_chirpstack(meter_event(volume_l=53_400, fcnt=102), source="test")
    await hass.async_block_till_done()
    assert later is not None
    assert later.outcome is Outcome.APPLIED
    assert _state(hass, entity_id(entity_registry, "sensor", METER_1101, "volume")) == "53.4"
    assert hub.pipeline.counters[Outcome.APPLIED] == applied + 2
    assert hub.stats.messages == messages + len(malformed) + 5
    assert hub.stats.malformed == len(malformed)


async def test_future_timestamp_is_replaced_by_arrival_time(
    hass: HomeAssistant, init_integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A network server clock a day ahead cannot keep a device 'seen' for a day."""
    await async_tick(hass, freezer, FIRST_REPORTS)
    hub = init_integration.runtime_data
    now = dt_util.utcnow()
    hub.async_handle_chirpstack(
        meter_event(volume_l=60_000_000, fcnt=900, time=now + timedelta(days=1)), source="test"
    )
    assert hub.device(METER_1101).state.last_seen == now


# -- applied once, saved soon ------------------------------------------------------------


async def test_redelivered_uplinks_after_a_restart_are_not_applied_again(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, init_integration: MockConfigEntry
) -> None:
    """A ChirpStack re-delivery or TTS backfill overlap after a restart is a duplicate.

    The duplicate memory used to be 32 entries and not stored: after a restart every
    re-delivered uplink was applied (and passed to care and meter logic) a second time.
    """
    await async_run_until(hass, freezer, dt_util.utcnow() + FIRST_REPORTS)
    # The simulated meter stops sending; the network server's messages stand in for it.
    await set_scenario(hass, init_integration, "sensor_silent", METER_1101)
    await async_run_until(hass, freezer, dt_util.utcnow() + timedelta(minutes=45))
    start = dt_util.utcnow() - timedelta(minutes=44)
    events = [
        meter_event(volume_l=53_300 + n, fcnt=100 + n, time=start + timedelta(minutes=n))
        for n in range(40)
    ]
    hub = init_integration.runtime_data
    applied = hub.pipeline.counters[Outcome.APPLIED]
    for body in events:
        hub.async_handle_chirpstack(body, source="test")
    await hass.async_block_till_done()
    assert hub.pipeline.counters[Outcome.APPLIED] == applied + 40
    # The first one again, after 39 newer ones (beyond the old 32-entry memory).
    hub.async_handle_chirpstack(events[0], source="test")
    assert hub.pipeline.counters[Outcome.APPLIED] == applied + 40

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    hub = init_integration.runtime_data
    applied = hub.pipeline.counters[Outcome.APPLIED]
    for body in events:
        hub.async_handle_chirpstack(body, source="test")
    await hass.async_block_till_done()
    assert hub.pipeline.counters[Outcome.APPLIED] == applied
    assert hub.pipeline.counters[Outcome.DUPLICATE] == 40
    later = dt_util.utcnow()
    hub.async_handle_chirpstack(meter_event(volume_l=53_400, fcnt=141, time=later), source="test")
    assert hub.pipeline.counters[Outcome.APPLIED] == applied + 1


async def test_applied_state_is_on_disk_within_five_seconds(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A crash loses at most 5 s of applied device state, without a write per uplink."""
    await async_run_until(hass, freezer, dt_util.utcnow() + FIRST_REPORTS)
    await set_scenario(hass, init_integration, "sensor_silent", METER_1101)
    await async_tick(hass, freezer, timedelta(seconds=30))  # the first reports are saved
    key = f"{DOMAIN}.{init_integration.entry_id}.devices"
    hub = init_integration.runtime_data
    writes: list[int] = []
    for n in range(20):  # an uplink every half second for ten seconds
        hub.async_handle_chirpstack(meter_event(volume_l=60_000 + n, fcnt=200 + n), source="test")
        await async_tick(hass, freezer, timedelta(seconds=0.5))
        stored = hass_storage[key]["data"]["devices"][METER_1101]["fcnt"]
        if not writes or writes[-1] != stored:
            writes.append(stored)
        # What is on disk is never more than 5 s (ten uplinks here) behind what was applied.
        if n >= 10:
            assert stored >= 200 + n - 10
    assert 2 <= len(writes) <= 4  # one write per 5 s, not one per uplink
