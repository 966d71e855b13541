"""Fourteen days of a six-apartment group home, through Home Assistant (issue 14).

The building "Solbacken" watches six apartments (Lgh 1101 … Lgh 1203) whose sensors talk
to a ChirpStack HTTP gateway: every uplink is POSTed to the webhook as a network server
posts it. Residents get up around 07:00, move every 10–30 minutes by day and sleep at
night; each motion sensor reports on motion and otherwise every 30 minutes. Reminders are
on (every 15 min). Inside the fortnight:

- day 2 12:00  a sensor for Lgh 1301 is added on the gateway during steady traffic;
- day 3 14:00  apartments Lgh 1301 and Lgh 1302 are added 100 ms apart; Lgh 1301's
               resident is still from 16:00 (inactivity 20:15), Lgh 1302's is not up on
               day 4 (09:15);
- day 4 02:00  Lgh 1203's door opens at night (night-door check on); nobody acknowledges;
- day 6 16:14  Lgh 1101 is reconfigured while Lgh 1102's inactivity window is open (due
               16:15);
- day 7 01:00  the gateway is silent for 2 h;
- day 8 10:25  Home Assistant restarts (down 10 minutes, over one reminder of Lgh 1203);
- day 10 01:30 Lgh 1203's door opens again at night;
- day 14       Lgh 1203's resident is not up by the deadline (09:15).

The care events the building's "Care alerts" entity fires are compared with a hand-written
table (kind, apartment, local time ±1 min, late); the reminders of every alert are counted
against the alert's own 15-minute rhythm.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
import json
import logging
import random
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_NAME, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    get_scheduled_timer_handles,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ange_iot.angelib.codecs import elsys, sensative_strips
from custom_components.ange_iot.angelib.device import ApplyResult
from custom_components.ange_iot.const import (
    CONF_DEV_EUI,
    CONF_MISSED_REPORTS,
    CONF_MODEL,
    CONF_REPORT_INTERVAL,
    CONF_SILENCE_LIMIT,
    DOMAIN,
    SECRET_HEADER,
    SUBENTRY_DEVICE,
)
from custom_components.ange_iot.signals import SIGNAL_DEVICE_CHANGED

from .building import (
    ALERTS,
    BUILDING_ID,
    LOCAL,
    MOTION,
    OPTIONS,
    apartment_sub,
    building_config_entry,
    sub_id,
)
from .common import home_assistant_restarts
from .conftest import CARE_PLATFORMS, SetupBuilding
from .test_gateway_chirpstack import HOOK, SECRET, _device, http_config_entry, up

DAY_1 = date(2026, 11, 23)  # a Monday; no daylight-saving change in the fortnight
DAYS = 14
END = datetime.combine(DAY_1 + timedelta(days=DAYS - 1), time(12, 0), LOCAL)
SIX = ("Lgh 1101", "Lgh 1102", "Lgh 1103", "Lgh 1201", "Lgh 1202", "Lgh 1203")
F = "Lgh 1203"  # the resident whose night-door check is on
ADDED = ("Lgh 1301", "Lgh 1302")
DOOR_F = "70b3d52c00011203"  # Strips Guard on Lgh 1203's front door
SENSOR_1301 = "a81758fffe0a1301"  # added on the gateway on day 2, during traffic
SENSOR_1302 = "a81758fffe0a1302"
MOTION_OF = {label: MOTION[label] for label in SIX} | {
    "Lgh 1301": SENSOR_1301,
    "Lgh 1302": SENSOR_1302,
}
HEARTBEAT = timedelta(minutes=30)  # a motion sensor's report interval without motion
DOOR_HEARTBEAT = timedelta(hours=1)
SILENCE_LIMIT_MIN = 20  # the gateway's "no messages" limit: before any sensor's own (90 min)
REMIND = timedelta(minutes=15)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """Local wall-clock time on day ``day`` (1…14) of the fortnight."""
    return datetime.combine(DAY_1 + timedelta(days=day - 1), time(hour, minute, second), LOCAL)


# -- the residents' fortnight ------------------------------------------------------------

type Spans = list[tuple[datetime, datetime]]

SILENT_FROM, SILENT_UNTIL = at(7, 1, 0), at(7, 3, 0)  # the gateway hears nothing
RESTART_DOWN, RESTART_UP = at(8, 10, 25), at(8, 10, 35)
RECONFIGURE_AT = at(6, 16, 14, 50)
SENSOR_ADDED_AT = at(2, 12, 0)
APARTMENTS_ADDED_AT = at(3, 14, 0)
DOOR_OPENINGS = (at(4, 2, 0), at(10, 1, 30))
DOOR_OPEN_FOR = timedelta(minutes=3)


def awake_spans(label: str, rng: random.Random) -> Spans:
    """When a resident moves about: up around 07:00, to bed around 22:00; the exceptions."""
    spans: Spans = []
    for day in range(1, DAYS + 1):
        up_at = at(day, 7) + timedelta(minutes=rng.randint(-20, 20))
        bed = at(day, 21, 30) + timedelta(minutes=rng.randint(0, 25))
        if label == "Lgh 1301" and day == 3:  # still from 16:00 until 20:40
            spans += [(up_at, at(3, 16)), (at(3, 20, 40), bed)]
        elif label == "Lgh 1302" and day == 4:  # not up until 09:52
            spans.append((at(4, 9, 52), bed))
        elif label == "Lgh 1102" and day == 6:  # still from 12:00 until 16:40
            spans += [(up_at, at(6, 12)), (at(6, 16, 40), bed)]
        elif label == F and day == DAYS:  # not up until 10:25
            spans.append((at(DAYS, 10, 25), bed))
        else:
            spans.append((up_at, bed))
    return spans


@dataclass(frozen=True, order=True)
class Uplink:
    """One uplink a sensor sends (motion: a motion count > 0; door: the door is open)."""

    when: datetime
    dev_eui: str
    active: bool


def motion_uplinks(dev_eui: str, spans: Spans, start: datetime, rng: random.Random) -> list[Uplink]:
    """On motion every 10–30 min while awake (and at each span's ends), else every 30 min."""
    out: list[Uplink] = []
    t = start
    while t < END:
        span = next(((s, e) for s, e in spans if s <= t <= e), None)
        out.append(Uplink(t, dev_eui, span is not None))
        if span is not None and t < span[1]:
            nxt = min(t + timedelta(minutes=rng.uniform(10, 30)), span[1])
        else:
            nxt = t + HEARTBEAT
            nxt = min([nxt, *(s for s, _ in spans if t < s < nxt)])
        t = nxt
    return out


def door_uplinks(start: datetime) -> list[Uplink]:
    """The door's hourly report (closed), and the two night openings (open, then closed)."""
    out = [Uplink(start + n * DOOR_HEARTBEAT, DOOR_F, False) for n in range(DAYS * 24)]
    for opened in DOOR_OPENINGS:
        out += [Uplink(opened, DOOR_F, True), Uplink(opened + DOOR_OPEN_FOR, DOOR_F, False)]
    return sorted(u for u in out if u.when < END)


def fortnight(start: datetime) -> list[Uplink]:
    """Every uplink of the fortnight, in time order; none while the gateway is silent."""
    rng = random.Random(14)
    uplinks = door_uplinks(start + timedelta(minutes=7))
    for n, (label, dev_eui) in enumerate(MOTION_OF.items()):
        first = SENSOR_ADDED_AT if dev_eui == SENSOR_1301 else start + timedelta(minutes=3 * n)
        uplinks += motion_uplinks(dev_eui, awake_spans(label, rng), first, rng)
    uplinks = [u for u in uplinks if not SILENT_FROM <= u.when < SILENT_UNTIL]
    # The network server is back: every sensor reports within the minute.
    uplinks += [
        Uplink(SILENT_UNTIL + timedelta(seconds=5 * n), dev_eui, False)
        for n, dev_eui in enumerate([*MOTION_OF.values(), DOOR_F])
    ]
    return sorted(uplinks)


# -- the network server and the clock ----------------------------------------------------


class NetworkServer:
    """POSTs ChirpStack `up` events to the webhook; counts them sent and applied."""

    def __init__(self, hass: HomeAssistant, client: Any) -> None:
        self.client = client
        self.sent: Counter[str] = Counter()
        self.applied: Counter[str] = Counter()
        self._fcnt: Counter[str] = Counter()
        self.door_open = False
        for dev_eui in [*MOTION_OF.values(), DOOR_F]:
            async_dispatcher_connect(
                hass, SIGNAL_DEVICE_CHANGED.format(dev_eui), self._counter(dev_eui)
            )

    def _counter(self, dev_eui: str) -> Callable[[ApplyResult | None, datetime | None], None]:
        @callback
        def _on_device(applied: ApplyResult | None, _at: datetime | None) -> None:
            if applied is not None:
                self.applied[dev_eui] += 1

        return _on_device

    async def post(self, uplink: Uplink) -> None:
        """One uplink, as the network server POSTs it."""
        self._fcnt[uplink.dev_eui] += 1
        fcnt = self._fcnt[uplink.dev_eui]
        if uplink.dev_eui == DOOR_F:
            fport, payload = 1, sensative_strips.encode({"door": uplink.active})
        else:
            fields = {"temperature": 21.5, "motion_count": 3 if uplink.active else 0}
            fport, payload = 5, elsys.encode(fields)
        event = up(
            uplink.dev_eui,
            fCnt=fcnt,
            fPort=fport,
            data=base64.b64encode(payload).decode(),
            deduplicationId=f"{uplink.dev_eui}-{fcnt}",
        )
        self.sent[uplink.dev_eui] += 1
        resp = await self.client.post(
            f"/api/webhook/{HOOK}?event=up",
            data=json.dumps(event).encode(),
            headers={SECRET_HEADER: SECRET},
        )
        assert resp.status == 200

    async def burst(self, *dev_euis: str) -> None:
        """One motion uplink per device, all POSTed at once (a busy network server)."""
        now = dt_util.utcnow()
        await asyncio.gather(*(self.post(Uplink(now, d, d != DOOR_F)) for d in dev_euis))


MIN_STEP = timedelta(seconds=30)


# Timers nothing in the scenario waits for: Home Assistant's delayed store writes and
# aiohttp's client housekeeping. They run at the next stop anyway.
HOUSEKEEPING = ("_async_schedule_callback_delayed_write", "_weakref_handle")


def _next_timer(hass: HomeAssistant) -> datetime | None:
    """When the event loop's next timer is due, on the frozen clock."""
    dues = [
        handle.when() - hass.loop.time()
        for handle in get_scheduled_timer_handles(hass.loop)
        if isinstance(handle, asyncio.TimerHandle)
        and not handle.cancelled()
        and not any(name in repr(handle._callback) for name in HOUSEKEEPING)
    ]
    return dt_util.utcnow() + timedelta(seconds=max(0.0, min(dues))) if dues else None


async def run_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, target: datetime) -> None:
    """Move the clock to ``target``, stopping at the timers due on the way.

    At each timer's time, or up to ``MIN_STEP`` after it (stores write a few seconds after
    a change: stopping at each of those would only slow the fortnight down).
    """
    while (now := dt_util.utcnow()) < target:
        due = _next_timer(hass)
        step = target if due is None or due >= target else max(due, now + MIN_STEP)
        freezer.move_to(min(step, target))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


# -- what the building fired --------------------------------------------------------------


@dataclass(frozen=True)
class Fired:
    """One care event: its type and data, and the local time it fired."""

    at: datetime
    data: dict[str, Any]

    @property
    def type(self) -> str:
        return self.data["event_type"]


def care_events(hass: HomeAssistant) -> list[Fired]:
    """Every event the building's care-alerts entity fires from now on (not restored ones)."""
    fired: list[Fired] = []

    @callback
    def _on_state(event: Event) -> None:
        new: State | None = event.data["new_state"]
        if event.data["entity_id"] != ALERTS or new is None:
            return
        if new.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            return
        stamp = dt_util.parse_datetime(new.state)
        now = dt_util.utcnow()
        if stamp is None or abs(stamp - now) >= timedelta(seconds=1):
            return
        data = {
            k: v for k, v in new.attributes.items() if k not in ("event_types", "friendly_name")
        }
        fired.append(Fired(dt_util.as_local(now), data))

    hass.bus.async_listen("state_changed", _on_state)
    return fired


# -- the building and its changes ------------------------------------------------------


def care_status(hass: HomeAssistant, building: MockConfigEntry, label: str) -> str | None:
    """An apartment's care status, found by its subentry's title (added ones too)."""
    [subentry_id] = [s.subentry_id for s in building.subentries.values() if s.title == label]
    found = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{BUILDING_ID}_{subentry_id}_care_status"
    )
    state = hass.states.get(found) if found else None
    return state.state if state else None


def _apartment(label: str, **data: Any) -> dict[str, Any]:
    """An apartment as its form stores it: its motion sensor (Lgh 1203 also its door)."""
    sensors = [MOTION_OF[label]] + ([DOOR_F] if label == F else [])
    return {
        "sensors": sensors,
        "enabled": True,
        "morning_check": True,
        "inactivity_check": True,
        "night_door": label == F,
    } | data


def _gateway_entry() -> MockConfigEntry:
    devices = [_device(MOTION_OF[label], f"{label} hall") for label in (*SIX, "Lgh 1302")] + [
        _device(DOOR_F, f"{F} ytterdörr", "sensative_strips_guard")
    ]
    for device in devices:  # as the device form stores them
        interval = DOOR_HEARTBEAT if device["unique_id"] == DOOR_F else HEARTBEAT
        device["data"] = {**device["data"], CONF_REPORT_INTERVAL: interval.seconds}
    return http_config_entry(subentries=devices)


async def _add_sensor_during_traffic(hass: HomeAssistant, ns: NetworkServer, gateway: Any) -> None:
    """The device flow for Lgh 1301's sensor while every other sensor keeps sending."""
    others = [*(MOTION_OF[label] for label in (*SIX, "Lgh 1302")), DOOR_F]
    result = await hass.config_entries.subentries.async_init(
        (gateway.entry_id, SUBENTRY_DEVICE), context={"source": SOURCE_USER}
    )
    await ns.burst(*others)  # while the form is open
    configure = hass.async_create_task(
        hass.config_entries.subentries.async_configure(
            result["flow_id"],
            {
                CONF_DEV_EUI: SENSOR_1301,
                CONF_NAME: "Lgh 1301 hall",
                CONF_MODEL: "elsys_ers",
                CONF_REPORT_INTERVAL: 30,
                CONF_MISSED_REPORTS: 3,
            },
        )
    )
    await ns.burst(*others, *others)
    result = await configure
    assert result["type"] is FlowResultType.CREATE_ENTRY
    for _ in range(3):  # no block_till_done: the uplinks race whatever the change set off
        await ns.burst(SENSOR_1301, *others)


async def _add_apartment(hass: HomeAssistant, label: str) -> None:
    result = await hass.config_entries.subentries.async_init(
        (BUILDING_ID, "apartment"), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"label": label, **_apartment(label)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def _add_two_apartments(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Two apartment flows, the second started 100 ms after the first (neither awaited)."""

    async def _second() -> None:
        await asyncio.sleep(0)
        freezer.tick(timedelta(milliseconds=100))
        await _add_apartment(hass, ADDED[1])

    await asyncio.gather(_add_apartment(hass, ADDED[0]), _second())


async def _reconfigure(hass: HomeAssistant, label: str, **own_times: Any) -> None:
    result = await hass.config_entries.subentries.async_init(
        (BUILDING_ID, "apartment"),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": sub_id(label)},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"label": label, **_apartment(label), "own_times": own_times}
    )
    assert result["reason"] == "reconfigure_successful"


# -- the fortnight -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """One expected care event (not a reminder): local time ±1 min."""

    type: str
    apartment: str | None
    when: datetime
    reason: str | None = None
    late: bool = False


def _matches(expected: Expected, fired: Fired) -> bool:
    return (
        fired.type == expected.type
        and fired.data.get("apartment") == expected.apartment
        and abs(fired.at - expected.when) <= timedelta(minutes=1)
        and (expected.reason is None or fired.data.get("reason") == expected.reason)
        and fired.data.get("late") is expected.late
    )


def expected_reminders(alert: Fired, closed: datetime | None) -> list[tuple[int, datetime, bool]]:
    """(count, local time, late) of an alert's reminders: every 15 min from its time until it
    closes; the one due while Home Assistant was down comes once, late, at the restart.
    """
    out: list[tuple[int, datetime, bool]] = []
    since = alert.at
    count = 1
    while (due := since + count * REMIND) < (closed or END + REMIND) and due <= END:
        if RESTART_DOWN <= due < RESTART_UP:
            out.append((count, RESTART_UP, True))
        else:
            out.append((count, due, False))
        count += 1
    return out


async def test_a_fortnight_in_the_group_home(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    setup_building: SetupBuilding,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Fourteen days, every care event as expected, every uplink applied."""
    # aiohttp's access log cannot format a frozen clock's time.
    caplog.set_level(logging.WARNING, logger="aiohttp.access")
    # asyncio's debug mode records a stack for every handle and task: a third of the run
    # time over a fortnight's ~7000 uplinks. The shorter tests keep it on.
    hass.loop.set_debug(False)
    start = at(1, 4, 30)
    freezer.move_to(start)
    await hass.config.async_set_time_zone("Europe/Stockholm")
    uplinks = fortnight(start)
    with patch("custom_components.ange_iot.gateway.PLATFORMS", []):
        gateway = _gateway_entry()
        gateway.add_to_hass(hass)
        hass.config_entries.async_update_entry(
            gateway, options={CONF_SILENCE_LIMIT: SILENCE_LIMIT_MIN}
        )
        assert await hass.config_entries.async_setup(gateway.entry_id)
        await hass.async_block_till_done()
        ns = NetworkServer(hass, await hass_client_no_auth())
        fired = care_events(hass)
        building = building_config_entry(
            BUILDING_ID,
            [apartment_sub(label, **_apartment(label)) for label in SIX],
            OPTIONS | {"reminder_interval": {"hours": 0, "minutes": 15, "seconds": 0}},
        )
        checks: dict[str, list[str]] = {}

        async def start_watching() -> None:
            await setup_building(building, CARE_PLATFORMS)
            assert [care_status(hass, building, label) for label in SIX] == ["ok"] * 6

        async def add_sensor() -> None:
            await _add_sensor_during_traffic(hass, ns, gateway)
            await hass.async_block_till_done()

        async def add_apartments() -> None:
            await _add_two_apartments(hass, freezer)
            await hass.async_block_till_done()
            checks["added"] = [care_status(hass, building, label) for label in ADDED]

        async def reconfigure() -> None:
            runtime = building.runtime_data
            await _reconfigure(hass, "Lgh 1101", grace={"minutes": 20})
            await hass.async_block_till_done()
            assert building.runtime_data is runtime  # applied in place

        async def while_silent() -> None:
            checks["silent"] = [care_status(hass, building, label) for label in (*SIX, *ADDED)]

        async def stop() -> None:
            assert await hass.config_entries.async_unload(building.entry_id)
            home_assistant_restarts(hass)

        async def restart() -> None:
            assert await hass.config_entries.async_setup(building.entry_id)
            await hass.async_block_till_done()
            assert building.state is ConfigEntryState.LOADED

        actions: list[tuple[datetime, int, Any]] = [
            (at(1, 5), 0, start_watching),
            (SENSOR_ADDED_AT, 0, add_sensor),
            (APARTMENTS_ADDED_AT, 0, add_apartments),
            (RECONFIGURE_AT, 0, reconfigure),
            (at(7, 2), 0, while_silent),
            (RESTART_DOWN, 0, stop),
            (RESTART_UP, 0, restart),
        ]
        plan = sorted([*actions, *((u.when, 1, u) for u in uplinks)], key=lambda a: a[:2])
        for when, _, action in plan:
            await run_to(hass, freezer, when)
            if isinstance(action, Uplink):
                await ns.post(action)
            else:
                await action()
        await run_to(hass, freezer, END)
        await hass.async_block_till_done()

    # 0 uplinks lost: every uplink sent was applied, also while the sensor was added.
    assert ns.sent == ns.applied
    assert ns.sent[SENSOR_1301] > 0
    assert checks["added"] == ["ok", "ok"]
    assert checks["silent"] == ["sensor_offline"] * 8

    silent_at = max(u.when for u in uplinks if u.when < SILENT_FROM) + timedelta(
        minutes=SILENCE_LIMIT_MIN
    )
    cannot_tell = (*SIX, *ADDED)
    expected = [
        Expected("check_needed", "Lgh 1301", at(3, 20, 15), "inactive"),
        Expected("resolved", "Lgh 1301", at(3, 20, 40)),
        Expected("check_needed", F, at(4, 2, 0), "night_door"),
        Expected("check_needed", "Lgh 1302", at(4, 9, 15), "no_morning_activity"),
        Expected("resolved", "Lgh 1302", at(4, 9, 52)),
        Expected("check_needed", "Lgh 1102", at(6, 16, 15), "inactive"),
        Expected("resolved", "Lgh 1102", at(6, 16, 40)),
        *(Expected("sensor_offline", label, silent_at, "gateway_down") for label in cannot_tell),
        Expected("incident", None, silent_at),
        *(Expected("resolved", label, SILENT_UNTIL) for label in cannot_tell),
        Expected("incident_resolved", None, SILENT_UNTIL),
        Expected("check_needed", F, at(10, 1, 30), "night_door"),
        Expected("check_needed", F, at(14, 9, 15), "no_morning_activity"),
        Expected("resolved", F, at(14, 10, 25)),
    ]
    others = [f for f in fired if f.type != "reminder"]
    table = [(f.type, f.data.get("apartment"), f.at.strftime("%d %H:%M:%S"), f.data.get("late"),
              f.data.get("reason")) for f in others]  # fmt: skip
    unmatched = list(others)
    missing = []
    for exp in expected:
        found = next((f for f in unmatched if _matches(exp, f)), None)
        if found is None:
            missing.append(exp)
        else:
            unmatched.remove(found)
    assert (missing, unmatched) == ([], []), table
    assert all(f.data["late"] is False for f in others)  # nothing here was late

    # The silent gateway: one incident naming every apartment, which each event carries.
    (incident,) = [f for f in others if f.type == "incident"]
    assert incident.data["cause"] == "gateway_down"
    assert incident.data["apartments"] == sorted(cannot_tell)
    assert incident.data["gateways"] == ["ChirpStack HTTP"]
    assert {f.data.get("incident_id") for f in others if f.type == "sensor_offline"} == {
        incident.data["incident_id"]
    }

    # The reminders: each open alert's own rhythm, none lost, none doubled.
    alerts = [f for f in others if f.type == "check_needed"]
    resolved = {f.data["alert_id"]: f.at for f in others if f.type == "resolved"}
    reminders = [f for f in fired if f.type == "reminder"]
    for alert in alerts:
        mine = [
            (f.data["count"], f.at, f.data["late"])
            for f in reminders
            if f.data["alert_id"] == alert.data["alert_id"]
        ]
        want = expected_reminders(alert, resolved.get(alert.data["alert_id"]))
        assert [(c, late) for c, _, late in mine] == [(c, late) for c, _, late in want], alert
        assert all(abs(a - b) <= timedelta(minutes=1) for (_, a, _), (_, b, _) in zip(
            mine, want, strict=True)), alert  # fmt: skip
    assert len(reminders) == sum(
        len(expected_reminders(a, resolved.get(a.data["alert_id"]))) for a in alerts
    )
    assert {f.data["alert_id"] for f in reminders} <= {a.data["alert_id"] for a in alerts}
    # The restart: the one reminder due while Home Assistant was down came once, late, and
    # the count went on (Lgh 1203's night-door alert of day 4, due 10:30 on day 8).
    late = [(f.data["count"], f.at) for f in reminders if f.data["late"]]
    assert [(c, abs(t - RESTART_UP) < timedelta(minutes=1)) for c, t in late] == [(418, True)]
    day_4 = next(a for a in alerts if a.data["reason"] == "night_door")
    counts = [f.data["count"] for f in reminders if f.data["alert_id"] == day_4.data["alert_id"]]
    assert counts == list(range(1, 1001))  # day 4 02:15 to day 14 12:00, every 15 min


@pytest.mark.parametrize(
    "stagger", [timedelta(0), timedelta(minutes=1)], ids=["together", "staggered"]
)
async def test_gateway_silent_with_its_default_limits(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    setup_building: SetupBuilding,
    *,
    caplog: pytest.LogCaptureFixture,
    stagger: timedelta,
) -> None:
    """The gateway silent 2 h with the options a new gateway gets (silence limit 60 min)
    and the sensors' usual 10-minute reports: still one incident for the building.

    Staggered, each sensor reports a minute after the one before (as real ones do), so
    their own silence limits run out one by one: the first one to fall silent finds the
    whole gateway quiet and takes the building's other apartments with it, at once.
    """
    caplog.set_level(logging.WARNING, logger="aiohttp.access")
    start = at(2, 0, 0)
    freezer.move_to(start)
    await hass.config.async_set_time_zone("Europe/Stockholm")
    building, fired = await _six_on_one_gateway(hass, hass_client_no_auth, setup_building)
    ns = NetworkServer(hass, await hass_client_no_auth())
    with patch("custom_components.ange_iot.gateway.PLATFORMS", []):
        await _night_reports(hass, freezer, ns, start, stagger)  # an hour of them
        silent_from = dt_util.utcnow()
        await run_to(hass, freezer, silent_from + timedelta(hours=2))  # nothing at all
        statuses = [care_status(hass, building, label) for label in SIX]
        await _all_report_again(hass, freezer, ns)

    assert statuses == ["sensor_offline"] * 6
    summary = [(f.type, f.data.get("apartment"), f.at.strftime("%H:%M"), f.data.get("reason"))
               for f in fired]  # fmt: skip
    (incident,) = [f for f in fired if f.type == "incident"]
    assert incident.data["gateways"] == ["ChirpStack HTTP"], summary
    assert incident.data["apartments"] == sorted(SIX), summary
    # Found when the first sensor's own limit (3 reports, 30 min) ran out, not at the
    # gateway's 60 min: the incident comes as early as a single sensor's alert would.
    first_silent = start + timedelta(minutes=50 + 30)
    assert abs(incident.at - first_silent) < timedelta(minutes=1), summary
    assert [f.type for f in fired].count("incident_resolved") == 1, summary
    offline = [f for f in fired if f.type == "sensor_offline"]
    assert len(offline) == 6, summary
    assert {f.data.get("incident_id") for f in offline} == {incident.data["incident_id"]}
    assert {f.data["reason"] for f in offline} == {"gateway_down"}
    assert [f for f in fired if f.type == "reminder"] == []  # not one storm of reminders


async def test_one_sensor_silent_on_a_working_gateway(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    setup_building: SetupBuilding,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One dead sensor while the others report (one of them losing a report now and then)
    is that sensor's own alert, with reminders; nobody else's status changes."""
    caplog.set_level(logging.WARNING, logger="aiohttp.access")
    start = at(2, 0, 0)
    freezer.move_to(start)
    await hass.config.async_set_time_zone("Europe/Stockholm")
    building, fired = await _six_on_one_gateway(hass, hass_client_no_auth, setup_building)
    ns = NetworkServer(hass, await hass_client_no_auth())
    dead, lossy = SIX[0], SIX[1]
    with patch("custom_components.ange_iot.gateway.PLATFORMS", []):
        for minutes in range(10, 180, 10):
            for n, label in enumerate(SIX):
                await run_to(hass, freezer, start + timedelta(minutes=minutes, seconds=30 * n))
                if label == dead and minutes > 20:
                    continue  # its battery died after 00:20
                if label == lossy and minutes % 30 == 0:
                    continue  # one report in three lost on the air
                await ns.post(Uplink(dt_util.utcnow(), MOTION_OF[label], False))
        statuses = {label: care_status(hass, building, label) for label in SIX}

    summary = [(f.type, f.data.get("apartment"), f.at.strftime("%H:%M"), f.data.get("reason"))
               for f in fired]  # fmt: skip
    assert statuses == {label: "sensor_offline" if label == dead else "ok" for label in SIX}
    (offline,) = [f for f in fired if f.type == "sensor_offline"]
    assert (offline.data["apartment"], offline.data["reason"]) == (dead, "sensor_silent")
    assert "incident_id" not in offline.data
    assert [f.type for f in fired if f.type.startswith("incident")] == [], summary
    reminders = [f for f in fired if f.type == "reminder"]
    assert reminders, summary
    assert {f.data["alert_id"] for f in reminders} == {offline.data["alert_id"]}


async def test_gateway_back_without_one_sensor(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    setup_building: SetupBuilding,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The gateway comes back after 2 h, one sensor does not (its battery died meanwhile).

    The other five report and end their part of the incident. The dead one keeps "cannot
    tell" (never "all well"); its own silence limit after the gateway's return, it becomes
    its own alert, which reminds; the incident ends with it.
    """
    caplog.set_level(logging.WARNING, logger="aiohttp.access")
    start = at(2, 0, 0)
    freezer.move_to(start)
    await hass.config.async_set_time_zone("Europe/Stockholm")
    building, fired = await _six_on_one_gateway(hass, hass_client_no_auth, setup_building)
    ns = NetworkServer(hass, await hass_client_no_auth())
    dead = SIX[2]
    with patch("custom_components.ange_iot.gateway.PLATFORMS", []):
        await _night_reports(hass, freezer, ns, start, timedelta(seconds=30))
        await run_to(hass, freezer, dt_util.utcnow() + timedelta(hours=2))
        back = dt_util.utcnow()
        for minutes in range(0, 60, 10):  # the gateway delivers again: all but one
            for n, label in enumerate(SIX):
                await run_to(hass, freezer, back + timedelta(minutes=minutes, seconds=30 * n))
                if label != dead:
                    await ns.post(Uplink(dt_util.utcnow(), MOTION_OF[label], False))
            if minutes == 20:
                statuses = {label: care_status(hass, building, label) for label in SIX}

    assert statuses == {label: "sensor_offline" if label == dead else "ok" for label in SIX}
    summary = [(f.type, f.data.get("apartment"), f.at.strftime("%H:%M"), f.data.get("reason"),
                f.data.get("resolution")) for f in fired]  # fmt: skip
    (incident,) = [f for f in fired if f.type == "incident"]
    (ended,) = [f for f in fired if f.type == "incident_resolved"]
    handed_over = [f for f in fired if f.data.get("resolution") == "gateway_back"]
    assert [(f.data["apartment"], f.data["incident_id"]) for f in handed_over] == [
        (dead, incident.data["incident_id"])
    ], summary
    (own,) = [f for f in fired if f.type == "sensor_offline" and "incident_id" not in f.data]
    assert (own.data["apartment"], own.data["reason"]) == (dead, "sensor_silent"), summary
    # Its whole limit (30 min) after the gateway's first message back, not before.
    assert back + timedelta(minutes=30) <= own.at <= back + timedelta(minutes=31), summary
    assert ended.at == own.at, summary
    reminders = [f for f in fired if f.type == "reminder"]
    assert reminders, summary
    assert {f.data["alert_id"] for f in reminders} == {own.data["alert_id"]}
    assert all(f.at >= own.at + timedelta(minutes=15) for f in reminders), summary


async def test_home_assistant_down_longer_than_the_sensors_limits(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    setup_building: SetupBuilding,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Home Assistant down 2 h: one late summary for the building, by cause "downtime".

    The gateway's silence while Home Assistant was not listening is no evidence against it:
    the apartments' alerts say their sensors were silent, late, grouped as downtime.
    """
    caplog.set_level(logging.WARNING, logger="aiohttp.access")
    start = at(2, 0, 0)
    freezer.move_to(start)
    await hass.config.async_set_time_zone("Europe/Stockholm")
    building, fired = await _six_on_one_gateway(hass, hass_client_no_auth, setup_building)
    ns = NetworkServer(hass, await hass_client_no_auth())
    [gateway] = [e for e in hass.config_entries.async_entries(DOMAIN) if e is not building]
    with patch("custom_components.ange_iot.gateway.PLATFORMS", []):
        await _night_reports(hass, freezer, ns, start, timedelta(0))
        for entry in (building, gateway):
            assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        home_assistant_restarts(hass)
        freezer.tick(timedelta(hours=2))
        for entry in (gateway, building):
            assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        await run_to(hass, freezer, dt_util.utcnow() + timedelta(minutes=40))  # still quiet
        statuses = [care_status(hass, building, label) for label in SIX]
        await _all_report_again(hass, freezer, ns)

    assert statuses == ["sensor_offline"] * 6
    summary = [(f.type, f.data.get("apartment"), f.at.strftime("%H:%M"), f.data.get("reason"))
               for f in fired]  # fmt: skip
    (incident,) = [f for f in fired if f.type == "incident"]
    assert (incident.data["cause"], incident.data["late"]) == ("downtime", True), summary
    offline = [f for f in fired if f.type == "sensor_offline"]
    assert {(f.data["reason"], f.data["late"]) for f in offline} == {("sensor_silent", True)}
    assert len(offline) == 6, summary
    assert [f.type for f in fired].count("incident_resolved") == 1, summary


async def _night_reports(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    ns: NetworkServer,
    start: datetime,
    spacing: timedelta,
) -> None:
    """The six sensors' reports every 10 minutes for the hour from ``start``, each
    ``spacing`` after the one before."""
    for minutes in range(10, 60, 10):
        for n, label in enumerate(SIX):
            await run_to(hass, freezer, start + timedelta(minutes=minutes) + n * spacing)
            await ns.post(Uplink(dt_util.utcnow(), MOTION_OF[label], False))


async def _all_report_again(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, ns: NetworkServer
) -> None:
    """Every sensor reports now; five minutes pass."""
    for label in SIX:
        await ns.post(Uplink(dt_util.utcnow(), MOTION_OF[label], False))
    await run_to(hass, freezer, dt_util.utcnow() + timedelta(minutes=5))


async def _six_on_one_gateway(
    hass: HomeAssistant, client: ClientSessionGenerator, setup_building: SetupBuilding
) -> tuple[MockConfigEntry, list[Fired]]:
    """Six apartments, each with a 10-minute motion sensor on one new ChirpStack gateway."""
    start = dt_util.utcnow()
    devices = [_device(MOTION_OF[label], f"{label} hall") for label in SIX]  # every 10 min
    gateway = http_config_entry(subentries=devices)  # silence limit 60 min, as created
    with patch("custom_components.ange_iot.gateway.PLATFORMS", []):
        gateway.add_to_hass(hass)
        assert await hass.config_entries.async_setup(gateway.entry_id)
        await hass.async_block_till_done()
        ns = NetworkServer(hass, await client())
        fired = care_events(hass)
        for label in SIX:
            await ns.post(Uplink(start, MOTION_OF[label], False))
        building = building_config_entry(
            BUILDING_ID,
            [apartment_sub(label, **_apartment(label)) for label in SIX if label != F]
            + [apartment_sub(F, **_apartment(F) | {"sensors": [MOTION_OF[F]]})],
            OPTIONS | {"reminder_interval": {"hours": 0, "minutes": 15, "seconds": 0}},
        )
        await setup_building(building, CARE_PLATFORMS)
    return building, fired
