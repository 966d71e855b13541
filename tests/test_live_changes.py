"""Devices, apartments, meters and sites added, changed or removed while traffic flows.

A subentry change is applied in place (no reload of the gateway or building): no other
device's uplink is dropped, no other apartment's entity changes state, and nothing is
reported as downtime ("late").
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Generator
from datetime import datetime, timedelta
import itertools
import json
from types import MappingProxyType
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntryState,
    ConfigSubentry,
)
from homeassistant.const import CONF_NAME, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClientGenerator,
)

from custom_components.ange_iot.angelib.device import ApplyResult
from custom_components.ange_iot.angelib.lns import chirpstack
from custom_components.ange_iot.angelib.pipeline import Outcome
from custom_components.ange_iot.const import (
    CONF_DEV_EUI,
    CONF_MISSED_REPORTS,
    CONF_MODEL,
    CONF_REPORT_INTERVAL,
    DOMAIN,
    SECRET_HEADER,
    SUBENTRY_DEVICE,
)
from custom_components.ange_iot.signals import SIGNAL_DEVICE_CHANGED

from .building import (
    APARTMENTS,
    APT,
    BUILDING_ID,
    MORNING_DUE,
    MOTION,
    NOT_UP,
    OPTIONS,
    STEP,
    Alerts,
    apartment_data,
    local,
    open_care_defaults,
    status,
    sub_id,
)
from .common import BUILDING_METER, METER_1101, SNOW_1, async_run_until
from .conftest import START
from .test_care import platforms  # noqa: F401  (the gateway without entity platforms)
from .test_gateway_chirpstack import (
    APP,
    ERS,
    HOOK,
    LITE,
    SECRET,
    elsys_up,
    http_config_entry,
    mqtt_config_entry,
)

NEW = "a81758fffe0a7777"
NEW_DEVICE = {
    CONF_DEV_EUI: NEW,
    CONF_NAME: "Lgh 1103 hall",
    CONF_MODEL: "elsys_ers",
    CONF_REPORT_INTERVAL: 10,
    CONF_MISSED_REPORTS: 3,
}


DISK_TURNS = 5  # event-loop turns a store load takes (a real disk read runs in a thread)


@pytest.fixture
def disk_like_storage(hass: HomeAssistant) -> Generator[None]:
    """Stores load over a few event-loop turns, as from a real disk.

    The harness answers from memory at once, which hides what a reload does to traffic
    on a real installation. The turns are counted, not timed: the same every run.
    """
    real = Store.async_load

    async def _async_load(self: Store[Any]) -> Any:
        await _loop_turns(hass, DISK_TURNS)
        return await real(self)

    with patch.object(Store, "async_load", _async_load):
        yield


async def _loop_turns(hass: HomeAssistant, turns: int) -> None:
    """Let the event loop turn ``turns`` times (counted, not timed)."""
    for _ in range(turns):
        turn = hass.loop.create_future()
        hass.loop.call_soon(turn.set_result, None)
        await turn


class Traffic:
    """ChirpStack uplinks over the HTTP webhook, counted as sent and as applied."""

    def __init__(self, hass: HomeAssistant, client: Any) -> None:
        self.hass = hass
        self.client = client
        self.sent: Counter[str] = Counter()
        self.applied: Counter[str] = Counter()
        self._fcnt = itertools.count(1)
        for dev_eui in (ERS, LITE, NEW):
            async_dispatcher_connect(
                hass, SIGNAL_DEVICE_CHANGED.format(dev_eui), self._counter(dev_eui)
            )

    def _counter(self, dev_eui: str) -> Callable[[ApplyResult | None, datetime | None], None]:
        @callback
        def _on_device(applied: ApplyResult | None, _at: datetime | None) -> None:
            if applied is not None:
                self.applied[dev_eui] += 1

        return _on_device

    async def send(self, *dev_euis: str) -> None:
        """One uplink per device, each POSTed (the event loop runs in between)."""
        for dev_eui in dev_euis:
            await self._post(dev_eui)

    async def burst(self, *dev_euis: str) -> None:
        """One uplink per device, all POSTed at once (as a busy network server does)."""
        await asyncio.gather(*(self._post(dev_eui) for dev_eui in dev_euis))

    async def _post(self, dev_eui: str) -> None:
        fcnt = next(self._fcnt)
        self.sent[dev_eui] += 1
        resp = await self.client.post(
            f"/api/webhook/{HOOK}?event=up",
            data=json.dumps(elsys_up(fcnt, 20 + fcnt % 5, dev_eui)).encode(),
            headers={SECRET_HEADER: SECRET},
        )
        assert resp.status == 200


async def _gateway(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, client_factory: ClientSessionGenerator
) -> tuple[MockConfigEntry, Traffic]:
    freezer.move_to(START)
    entry = http_config_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry, Traffic(hass, await client_factory())


def _unavailable_recorder(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    """Entity ids of the entry that go unavailable or away from now on."""
    seen: list[str] = []
    registry = er.async_get(hass)

    @callback
    def _on_state(event: Event) -> None:
        new, old = event.data["new_state"], event.data["old_state"]
        entity = registry.async_get(event.data["entity_id"])
        if entity is not None and entity.config_entry_id != entry.entry_id:
            return
        if (old is not None and old.state != STATE_UNAVAILABLE) and (
            new is None or new.state == STATE_UNAVAILABLE
        ):
            seen.append(event.data["entity_id"])

    hass.bus.async_listen("state_changed", _on_state)
    return seen


async def test_adding_a_sensor_loses_no_uplink(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Uplinks before, while and after a sensor is added: every one of them is applied.

    The new sensor's uplinks count from the moment its subentry exists (the first one
    right after the flow finished, before anything else ran).
    """
    entry, traffic = await _gateway(hass, freezer, hass_client_no_auth)
    hub = entry.runtime_data
    went_away = _unavailable_recorder(hass, entry)
    await traffic.send(ERS, LITE, ERS, LITE)

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_DEVICE), context={"source": SOURCE_USER}
    )
    await traffic.send(ERS, LITE)  # while the form is open
    # Steady traffic of the existing sensors while the flow finishes.
    configure = hass.async_create_task(
        hass.config_entries.subentries.async_configure(result["flow_id"], NEW_DEVICE)
    )
    await traffic.burst(*[ERS, LITE] * 4)
    result = await configure
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # No block_till_done: the uplinks race whatever the change set off.
    before_new = traffic.sent[NEW]
    for _ in range(8):
        await traffic.burst(NEW, ERS, LITE)
    await hass.async_block_till_done()
    await traffic.send(ERS, NEW, LITE)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert traffic.applied[ERS] == traffic.sent[ERS] == 16
    assert traffic.applied[LITE] == traffic.sent[LITE] == 16
    assert traffic.applied[NEW] == traffic.sent[NEW] - before_new == 9
    assert went_away == []  # no entity of the gateway went unavailable meanwhile
    assert entry.runtime_data is hub  # applied in place, not reloaded
    new_temperature = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{NEW}_temperature")
    assert new_temperature is not None
    assert hass.states.get(new_temperature).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


async def test_changing_and_removing_a_sensor_loses_no_uplink(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Reconfiguring one sensor and removing another: the rest keeps every uplink."""
    entry, traffic = await _gateway(hass, freezer, hass_client_no_auth)
    hub = entry.runtime_data
    await traffic.send(ERS, LITE)
    [ers_id] = [s.subentry_id for s in entry.subentries.values() if s.unique_id == ERS]
    [lite_id] = [s.subentry_id for s in entry.subentries.values() if s.unique_id == LITE]

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_DEVICE),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": lite_id},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "Lgh 1102 vardagsrum", CONF_MODEL: "elsys_ers_lite",
         CONF_REPORT_INTERVAL: 5, CONF_MISSED_REPORTS: 2},
    )  # fmt: skip
    assert result["reason"] == "reconfigure_successful"
    for _ in range(5):
        await traffic.send(ERS, LITE)
    await hass.async_block_till_done()
    assert traffic.applied[ERS] == traffic.sent[ERS] == 6
    assert traffic.applied[LITE] == traffic.sent[LITE] == 6
    hub = entry.runtime_data
    assert hub.device(LITE).config.report_interval_s == 300
    assert hub.device(LITE).config.name == "Lgh 1102 vardagsrum"

    assert hass.config_entries.async_remove_subentry(entry, ers_id)
    for _ in range(5):
        await traffic.send(LITE)
    await hass.async_block_till_done()

    assert entry.runtime_data is hub
    assert traffic.applied[LITE] == traffic.sent[LITE] == 11
    assert traffic.applied[ERS] == 6  # all of them until it was removed
    assert ERS not in hub.pipeline.devices
    assert device_registry.async_get_device_by_identifier((DOMAIN, ERS), entry.entry_id) is None
    assert [
        e for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.unique_id.startswith(ERS)
    ] == []  # fmt: skip
    lite = device_registry.async_get_device_by_identifier((DOMAIN, LITE), entry.entry_id)
    assert lite is not None
    assert lite.name == "Lgh 1102 vardagsrum"


async def test_uplinks_in_every_loop_turn_while_a_sensor_is_added(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_hass_config: None,
    mqtt_mock_entry: MqttMockHAClientGenerator,
    disk_like_storage: None,
) -> None:
    """ChirpStack over MQTT delivers an uplink in every turn of the event loop while the
    sensor is added: none is dropped, and the new sensor's first uplink after its
    subentry exists is applied.
    """
    freezer.move_to(START)
    await mqtt_mock_entry()
    entry = mqtt_config_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    traffic = Traffic(hass, None)
    fcnt = itertools.count(1)

    def deliver(dev_eui: str) -> None:
        n = next(fcnt)
        traffic.sent[dev_eui] += 1
        async_fire_mqtt_message(
            hass,
            chirpstack.topic_for(APP, dev_eui, "up"),
            json.dumps(elsys_up(n, 20 + n % 5, dev_eui)).encode(),
        )

    done = hass.loop.create_future()
    turns = iter(range(60))

    def _turn() -> None:  # one uplink of each existing sensor per loop turn
        if next(turns, None) is None:
            done.set_result(None)
            return
        deliver(ERS)
        deliver(LITE)
        hass.loop.call_soon(_turn)

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_DEVICE), context={"source": SOURCE_USER}
    )
    hass.loop.call_soon(_turn)
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], NEW_DEVICE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    deliver(NEW)  # right after the subentry exists, before anything else ran
    await done
    deliver(NEW)
    await hass.async_block_till_done()

    assert traffic.applied[ERS] == traffic.sent[ERS] == 60
    assert traffic.applied[LITE] == traffic.sent[LITE] == 60
    assert traffic.applied[NEW] == traffic.sent[NEW] == 2
    # MQTT's one-shot misc timer (a mocked client never reschedules it) must not linger.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done()


# -- buildings: apartments changed, added and removed while the checks run --------------


def _building_entities(hass: HomeAssistant, *, except_subentry: str | None = None) -> set[str]:
    return {
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), BUILDING_ID)
        if except_subentry is None or e.config_subentry_id != except_subentry
    }


def _state_recorder(hass: HomeAssistant, watched: set[str]) -> list[tuple[str, str | None]]:
    """(entity id, new state) of every state change of ``watched`` from now on."""
    changes: list[tuple[str, str | None]] = []

    @callback
    def _on_state(event: Event) -> None:
        if event.data["entity_id"] in watched:
            new = event.data["new_state"]
            changes.append((event.data["entity_id"], new.state if new else None))

    hass.bus.async_listen("state_changed", _on_state)
    return changes


async def _reconfigure_apartment(hass: HomeAssistant, label: str, **changes: Any) -> None:
    result = await hass.config_entries.subentries.async_init(
        (BUILDING_ID, "apartment"),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": sub_id(label)},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**apartment_data(label), "own_times": changes}
    )
    assert result["reason"] == "reconfigure_successful"


@NOT_UP
async def test_reconfiguring_one_apartment_disturbs_no_other(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    alerts: Alerts,
) -> None:
    """During the open morning alert of Lgh 1102, Lgh 1101 is reconfigured and so is the
    building's defaults: no other entity changes state, no event fires, nothing is late.
    """
    await async_run_until(hass, freezer, MORNING_DUE, STEP)
    assert alerts.types() == ["check_needed"]
    assert alerts.fired[0]["late"] is False
    runtime = building.runtime_data
    others = _building_entities(hass, except_subentry=sub_id("Lgh 1101"))
    changes = _state_recorder(hass, others)

    await _reconfigure_apartment(hass, "Lgh 1101", grace={"minutes": 20})
    await hass.async_block_till_done()

    assert changes == []  # not even unavailable for a moment
    assert alerts.types() == ["check_needed"]  # no event for anyone
    assert building.runtime_data is runtime  # applied in place
    assert runtime.apartments[sub_id("Lgh 1101")].settings.grace == timedelta(minutes=20)
    assert status(hass) == "check_needed"

    # The apartment with the open alert itself: its alert stays open, nothing fires again.
    await _reconfigure_apartment(hass, APT, inactivity_limit={"hours": 3})
    await hass.async_block_till_done()
    assert alerts.types() == ["check_needed"]
    assert status(hass) == "check_needed"

    # The building's defaults: applied to every apartment, in place, nothing late.
    went_away = _state_recorder(hass, _building_entities(hass))
    result = await open_care_defaults(hass, building)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, "morning_deadline": "10:00:00"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert [c for c in went_away if c[1] in (STATE_UNAVAILABLE, None)] == []
    assert alerts.types() == ["check_needed"]
    assert building.runtime_data is runtime
    assert all(
        a.settings.morning_deadline.isoformat() == "10:00:00" for a in runtime.apartments.values()
    )
    await async_run_until(hass, freezer, local(10, 30), STEP)
    assert all(not e["late"] for e in alerts.fired)
    assert building.runtime_data is runtime  # applied in place, never reloaded


def _new_apartment(label: str, sensor: str) -> dict[str, Any]:
    return {**apartment_data("Lgh 1102"), "label": label, "sensors": [sensor]}


async def _add_apartment(hass: HomeAssistant, data: dict[str, Any]) -> None:
    result = await hass.config_entries.subentries.async_init(
        (BUILDING_ID, "apartment"), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], data)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@NOT_UP
@pytest.mark.usefixtures("disk_like_storage")
async def test_apartments_added_and_removed_in_quick_succession(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    alerts: Alerts,
    *,
    device_registry: dr.DeviceRegistry,
    hass_storage: dict[str, Any],
) -> None:
    """Adds in the same loop turn, 100 ms apart, an add removed at once, and a
    reconfigure during an add: each is applied completely, and each apartment gets its
    care checks (the ones watching the resident who stays in bed get the 09:15 alert).
    """
    still = MOTION[APT]
    # Two adds in the same event-loop turn, and a reconfigure during them.
    await asyncio.gather(
        _add_apartment(hass, _new_apartment("Lgh 1301", still)),
        _add_apartment(hass, _new_apartment("Lgh 1302", still)),
        _reconfigure_apartment(hass, "Lgh 1101", grace={"minutes": 10}),
    )
    # Two adds about 100 ms apart.
    await _add_apartment(hass, _new_apartment("Lgh 1303", still))
    freezer.tick(timedelta(milliseconds=100))
    await _add_apartment(hass, _new_apartment("Lgh 1304", still))
    # Pairs of adds 0 to 19 event-loop turns apart: wherever the first change might still
    # be busy when the second comes, the second is running once things settle.
    for turns in range(20):
        await _add_apartment(hass, _new_apartment(f"Lgh 14{turns:02}", still))
        await _loop_turns(hass, turns)
        await _add_apartment(hass, _new_apartment(f"Lgh 15{turns:02}", still))
        await hass.async_block_till_done()
        running = {a.label for a in building.runtime_data.apartments.values()}
        assert {f"Lgh 14{turns:02}", f"Lgh 15{turns:02}"} <= running, turns
    # Added and removed again at once.
    await _add_apartment(hass, _new_apartment("Lgh 1305", still))
    [gone] = [s.subentry_id for s in building.subentries.values() if s.title == "Lgh 1305"]
    assert hass.config_entries.async_remove_subentry(building, gone)
    await hass.async_block_till_done()

    added = {s.title: s.subentry_id for s in building.subentries.values() if s.title > "Lgh 13"}
    assert len(added) == 4 + 40
    assert "Lgh 1305" not in added
    runtime = building.runtime_data
    assert set(runtime.apartments) == {sub_id(label) for label in APARTMENTS} | set(added.values())
    assert runtime.apartments[sub_id("Lgh 1101")].settings.grace == timedelta(minutes=10)
    registry = er.async_get(hass)
    for label, subentry_id in added.items():
        assert device_registry.async_get_device_by_identifier(
            (DOMAIN, f"apartment_{subentry_id}"), BUILDING_ID
        ), label
        care_status = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{BUILDING_ID}_{subentry_id}_care_status"
        )
        assert care_status is not None, label
        assert hass.states.get(care_status).state == "ok", label
    assert gone not in runtime.apartments
    for subentry_id in added.values():  # each new apartment in an area of its own name
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, f"apartment_{subentry_id}"), BUILDING_ID
        )
        assert device is not None
        assert device.area_id is not None
    assert [e for e in _building_entities(hass) if gone in str(registry.async_get(e))] == []
    assert (
        device_registry.async_get_device_by_identifier((DOMAIN, f"apartment_{gone}"), BUILDING_ID)
        is None
    )

    await async_run_until(hass, freezer, MORNING_DUE + timedelta(seconds=30), STEP)
    assert sorted(e["apartment"] for e in alerts.of("check_needed")) == sorted([APT, *added])
    assert all(not e["late"] for e in alerts.fired)
    assert building.runtime_data is runtime  # applied in place, never reloaded
    stored = hass_storage[f"{DOMAIN}.{BUILDING_ID}.care"]["data"]["apartments"]
    assert set(stored) == set(runtime.apartments)  # the removed one left the store


async def _add_part(hass: HomeAssistant, subentry_type: str, data: dict[str, Any]) -> None:
    result = await hass.config_entries.subentries.async_init(
        (BUILDING_ID, subentry_type), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], data)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result


@pytest.mark.usefixtures("disk_like_storage")
async def test_meters_and_sites_added_changed_and_removed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    building: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Two meters and a site added in one loop turn; then a meter reconfigured and
    removed, and the site removed: each applied completely, in place.
    """
    runtime = building.runtime_data
    meter = {"counted": True, "continuous_by_design": False}
    await asyncio.gather(
        _add_part(hass, "water_meter", {"dev_eui": BUILDING_METER, **meter}),
        _add_part(hass, "snow_site", {"name": "Parkering", "sensors": [SNOW_1],
                                      "threshold_cm": 8, "min_rise_cm": 5}),
        _add_part(hass, "water_meter", {"dev_eui": METER_1101, **meter}),
    )  # fmt: skip
    await hass.async_block_till_done()
    await async_run_until(hass, freezer, dt_util.utcnow() + timedelta(minutes=1), STEP)

    assert building.runtime_data is runtime
    assert set(runtime.water.meters) == {BUILDING_METER, METER_1101}
    [site_id] = [s.subentry_id for s in building.subentries.values() if s.title == "Parkering"]
    assert set(runtime.snow.sites) == {site_id}
    registry = er.async_get(hass)
    for platform, unique_id in (
        ("sensor", f"{BUILDING_ID}_water_consumption"),
        ("sensor", f"{BUILDING_ID}_meters_in_alert"),
        ("event", f"{BUILDING_ID}_meter_alerts"),
        ("sensor", f"{BUILDING_ID}_{site_id}_site_snow_depth"),
        ("event", f"{BUILDING_ID}_{site_id}_snow_clearing"),
    ):
        found = registry.async_get_entity_id(platform, DOMAIN, unique_id)
        assert found is not None, unique_id
        assert hass.states.get(found).state != STATE_UNAVAILABLE, unique_id
    assert device_registry.async_get_device_by_identifier((DOMAIN, f"site_{site_id}"), BUILDING_ID)

    # The building's water thresholds: every meter takes them at once, in place.
    hass.config_entries.async_update_entry(
        building, options={**building.options, "high_use_factor": 4}
    )
    assert runtime.water.meters[BUILDING_METER].settings.high_use_factor == 4

    [meter_1101] = [s for s in building.subentries.values() if s.unique_id == METER_1101]
    hass.config_entries.async_update_subentry(
        building, meter_1101, data={**meter_1101.data, "counted": False, "silent_hours": 2}
    )
    assert runtime.water.meters[METER_1101].counted is False
    assert runtime.water.meters[METER_1101].settings.silent_after == timedelta(hours=2)
    assert hass.config_entries.async_remove_subentry(building, meter_1101.subentry_id)
    assert hass.config_entries.async_remove_subentry(building, site_id)
    await hass.async_block_till_done()

    assert set(runtime.water.meters) == {BUILDING_METER}
    assert runtime.snow.sites == {}
    assert device_registry.async_get_device_by_identifier(
        (DOMAIN, f"site_{site_id}"), BUILDING_ID
    ) is None  # fmt: skip
    assert registry.async_get_entity_id(
        "sensor", DOMAIN, f"{BUILDING_ID}_{site_id}_site_snow_depth"
    ) is None  # fmt: skip
    assert building.runtime_data is runtime


async def test_first_uplink_applied_before_the_listener_ran(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A device whose subentry exists but whose update listener has not run yet (it is
    a task): its uplink is not dropped as unknown, nor offered for discovery.
    """
    entry, traffic = await _gateway(hass, freezer, hass_client_no_auth)
    hub = entry.runtime_data
    with patch.object(entry, "update_listeners", []):  # the listener's task not run yet
        hass.config_entries.async_add_subentry(
            entry,
            ConfigSubentry(
                data=MappingProxyType(
                    {CONF_DEV_EUI: NEW, CONF_MODEL: "elsys_ers", CONF_REPORT_INTERVAL: 600}
                ),
                subentry_type=SUBENTRY_DEVICE,
                title="Lgh 1103 hall",
                unique_id=NEW,
            ),
        )
        assert NEW not in hub.pipeline.devices
        result = hub.async_handle_chirpstack(
            json.dumps(elsys_up(1, 21.0, NEW)).encode(), source="test"
        )
    assert result is not None
    assert result.outcome is Outcome.APPLIED
    assert traffic.applied[NEW] == 1
    await hass.async_block_till_done()
    assert hass.config_entries.flow.async_progress() == []  # no discovery offered
    temperature = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{NEW}_temperature")
    assert temperature is not None
    assert hass.states.get(temperature).state == "21.0"
