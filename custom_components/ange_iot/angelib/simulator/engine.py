"""The simulated gateway's world: a demo LSS group home that emits real uplinks.

Everything is a pure function of the seed, the start time and the scenario switches,
so the same inputs give byte-identical messages (tests rely on it). The simulator runs
on its own clock; the Home Assistant layer maps real time onto it (speed-up).

Each message is a ChirpStack v4 ``up`` event with real encoded payload bytes, so the
demo goes through the same parsing and decoding as a real network server's traffic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import heapq
import math
import random
import struct
from typing import Any
import uuid
from zoneinfo import ZoneInfo

from ..codecs import axioma_w1, elsys, kamstrup_flowiq, milesight, sensative_strips
from ..lns import chirpstack
from .demo import (
    APARTMENTS,
    DEMO_APPLICATION_ID,
    DEMO_DEVICES,
    MOUNTING_HEIGHT_MM,
    DemoDevice,
    Role,
)

LOCAL_TZ = ZoneInfo("Europe/Stockholm")
LEAK_FLOW_L_PER_H = 12.0  # a running toilet
SNOWFALL_MM_PER_H = 15.0
HOUR = timedelta(hours=1)


class Scenario(StrEnum):
    """Situations a demo or a test can switch on."""

    RESIDENT_NOT_UP = "resident_not_up"  # target: apartment label
    SENSOR_SILENT = "sensor_silent"  # target: DevEUI
    LEAK = "leak"  # target: DevEUI of a water meter (continuous flow)
    SNOWFALL = "snowfall"  # target: none (the whole lot)


# Share of a day's water use per local hour (sums to 1): morning and evening peaks.
_WATER_PROFILE = (
    0.0, 0.0, 0.0, 0.0, 0.0, 0.01, 0.05, 0.12, 0.10, 0.06, 0.04, 0.04,
    0.06, 0.05, 0.03, 0.03, 0.04, 0.07, 0.08, 0.07, 0.06, 0.05, 0.03, 0.01,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One uplink as the network server would publish it."""

    time: datetime
    dev_eui: str
    topic: str
    event: dict[str, Any]
    fields: dict[str, Any]  # the values the payload was built to carry (for tests)


@dataclass(slots=True)
class _Switch:
    """When a scenario was on, as half-open intervals of simulator time."""

    intervals: list[tuple[datetime, datetime | None]] = field(default_factory=list)

    def set(self, on: bool, at: datetime) -> None:
        active = bool(self.intervals) and self.intervals[-1][1] is None
        if on and not active:
            self.intervals.append((at, None))
        elif not on and active:
            self.intervals[-1] = (self.intervals[-1][0], at)

    def active(self, at: datetime) -> bool:
        return any(s <= at and (e is None or at < e) for s, e in self.intervals)

    def overlap_s(self, t0: datetime, t1: datetime) -> float:
        total = 0.0
        for s, e in self.intervals:
            lo, hi = max(s, t0), min(e or t1, t1)
            if hi > lo:
                total += (hi - lo).total_seconds()
        return total


def _whole(moment: datetime) -> datetime:
    """UTC, rounded down to the second (frames carry whole seconds)."""
    return moment.astimezone(UTC).replace(microsecond=0)


class Simulator:
    """Deterministic demo site. Call ``advance(until)`` to get the messages due."""

    def __init__(
        self,
        *,
        seed: int,
        start: datetime,
        epoch: datetime | None = None,
        devices: Iterable[DemoDevice] = DEMO_DEVICES,
    ):
        """Schedule every device's first report a few seconds after ``start``.

        ``epoch`` is when this simulated site began (meter registers count from it); it
        defaults to ``start``. The HA layer passes the time the gateway was added.
        """
        if start.tzinfo is None or (epoch is not None and epoch.tzinfo is None):
            raise ValueError("start and epoch must be timezone-aware")
        self.seed = seed
        self.start = start.astimezone(UTC).replace(microsecond=0)
        self.now = self.start
        self.devices = {d.dev_eui: d for d in devices}
        self._fcnt: dict[str, int] = dict.fromkeys(self.devices, 0)
        self._last_report: dict[str, datetime] = {}
        self._door_open: dict[str, bool] = {}
        self._door_pending: dict[str, int] = {}
        self._switches: dict[tuple[Scenario, str], _Switch] = {}
        self._hourly_cache: dict[tuple[str, datetime], float] = {}
        self._cumulative: dict[str, dict[datetime, float]] = {}
        self.origin = (
            (epoch or self.start).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        )
        self._queue: list[tuple[datetime, int, str, str]] = []
        self._seq = 0
        for index, dev in enumerate(self.devices.values()):
            self._push(self.start + timedelta(seconds=1 + 2 * index), dev.dev_eui, "report")
        for dev in self.devices.values():
            if dev.role is Role.DOOR:
                self._door_open[dev.dev_eui] = False
                self._schedule_door_day(dev, self.start)

    # -- scenarios -------------------------------------------------------------------

    def set_scenario(self, scenario: Scenario, on: bool, target: str = "") -> None:
        """Switch a scenario on or off from the current simulator time."""
        if scenario is Scenario.RESIDENT_NOT_UP and target not in APARTMENTS:
            raise ValueError(f"unknown apartment {target!r}; one of {', '.join(APARTMENTS)}")
        if scenario is Scenario.SENSOR_SILENT and target not in self.devices:
            raise ValueError(f"unknown device {target!r}")
        if scenario is Scenario.LEAK and (
            target not in self.devices
            or self.devices[target].role not in (Role.APARTMENT_METER, Role.BUILDING_METER)
        ):
            raise ValueError(f"{target!r} is not a demo water meter")
        if scenario is Scenario.SNOWFALL:
            target = ""
        self._switches.setdefault((scenario, target), _Switch()).set(on, self.now)
        if scenario is Scenario.LEAK:
            # Only hours from now on change; drop them (and the building's sums).
            current = self.now.replace(minute=0, second=0, microsecond=0)
            self._hourly_cache = {k: v for k, v in self._hourly_cache.items() if k[1] < current}
            for cache in self._cumulative.values():
                for hour in [h for h in cache if h > current]:
                    del cache[hour]

    def add_device(self, dev: DemoDevice) -> None:
        """Start a demo device that was not running (a sensor added while the demo runs)."""
        if dev.dev_eui in self.devices:
            return
        self.devices[dev.dev_eui] = dev
        self._fcnt[dev.dev_eui] = 0
        self._push(self.now + timedelta(seconds=1), dev.dev_eui, "report")

    def open_door(
        self, dev_eui: str, at: datetime, open_for: timedelta = timedelta(seconds=40)
    ) -> None:
        """An extra opening of a door at ``at`` (someone leaves at night), closed again after.

        Outside the door's daily pattern, which goes on as before.
        """
        if dev_eui not in self.devices or self.devices[dev_eui].role is not Role.DOOR:
            raise ValueError(f"{dev_eui!r} is not a demo door sensor")
        self._seq += 1
        heapq.heappush(self._queue, (at, self._seq, dev_eui, "extra_open"))
        self._seq += 1
        heapq.heappush(self._queue, (at + open_for, self._seq, dev_eui, "extra_close"))

    def scenario_active(
        self, scenario: Scenario, target: str = "", at: datetime | None = None
    ) -> bool:
        """Is the scenario on for ``target`` at ``at`` (default: now)?"""
        switch = self._switches.get((scenario, target))
        return switch is not None and switch.active(at or self.now)

    def active_scenarios(self) -> list[tuple[str, str]]:
        """The scenarios switched on now, as (scenario, target)."""
        return sorted((str(s), t) for (s, t), sw in self._switches.items() if sw.active(self.now))

    # -- time ------------------------------------------------------------------------

    def next_time(self) -> datetime | None:
        """Simulator time of the next scheduled message."""
        return self._queue[0][0] if self._queue else None

    def advance(self, until: datetime) -> list[SimMessage]:
        """Move the clock to ``until`` and return every message due by then, in order."""
        out: list[SimMessage] = []
        while self._queue and self._queue[0][0] <= until:
            at, _, dev_eui, what = heapq.heappop(self._queue)
            self.now = max(self.now, at)
            dev = self.devices[dev_eui]
            if what == "report":
                self._push(at + self._next_interval(dev, at), dev_eui, "report")
            elif what in ("door_open", "door_close"):
                self._door_pending[dev_eui] -= 1
                if not self._door_pending[dev_eui]:
                    self._schedule_door_day(dev, at + timedelta(hours=6))
                if self.scenario_active(Scenario.RESIDENT_NOT_UP, dev.area, at):
                    continue  # the resident stays in: the door is not used, nothing sent
                self._door_open[dev_eui] = what == "door_open"
            elif what in ("extra_open", "extra_close"):
                self._door_open[dev_eui] = what == "extra_open"
            message = self._message(dev, at)
            if message is not None:
                out.append(message)
        self.now = max(self.now, until)
        return out

    def _push(self, at: datetime, dev_eui: str, what: str) -> None:
        if what != "report":
            self._door_pending[dev_eui] = self._door_pending.get(dev_eui, 0) + 1
        self._seq += 1
        heapq.heappush(self._queue, (at, self._seq, dev_eui, what))

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def _next_interval(self, dev: DemoDevice, at: datetime) -> timedelta:
        if dev.role in (Role.APARTMENT_METER, Role.BUILDING_METER):
            # Meters report just after the full hour, the hour's log complete.
            nxt = at.replace(minute=0, second=0, microsecond=0) + HOUR
            return nxt - at + timedelta(seconds=self._rng(dev.dev_eui, nxt).randint(2, 40))
        jitter = self._rng(dev.dev_eui, at, "jitter").uniform(-0.02, 0.02)
        return timedelta(seconds=round(dev.interval_s * (1 + jitter)))

    # -- the residents ---------------------------------------------------------------

    def _day_plan(
        self, apartment: str, day: datetime
    ) -> tuple[datetime, datetime, tuple[datetime, datetime] | None]:
        """Wake-up, bedtime and (on weekdays, for some) the daily-activity outing."""
        local_day = day.astimezone(LOCAL_TZ).date()
        rng = self._rng("plan", apartment, local_day)
        midnight = datetime(local_day.year, local_day.month, local_day.day, tzinfo=LOCAL_TZ)
        wake = midnight + timedelta(minutes=rng.gauss(7 * 60 + 15, 35))
        bed = midnight + timedelta(minutes=rng.gauss(22 * 60 + 15, 40))
        outing = None
        if local_day.weekday() < 5 and rng.random() < 0.6:
            leave = midnight + timedelta(minutes=rng.gauss(9 * 60 + 30, 10))
            outing = (leave, leave + timedelta(minutes=rng.gauss(300, 20)))
        return (
            _whole(wake),
            _whole(bed),
            None if outing is None else (_whole(outing[0]), _whole(outing[1])),
        )

    def _motion_rate(self, apartment: str, at: datetime) -> float:
        """Expected PIR triggers per minute in the apartment at ``at``."""
        if self.scenario_active(Scenario.RESIDENT_NOT_UP, apartment, at):
            return 0.0
        wake, bed, outing = self._day_plan(apartment, at)
        if outing and outing[0] <= at < outing[1]:
            return 0.0
        if wake <= at < bed:
            return 0.9
        # Asleep; the occasional night-time bathroom visit.
        rng = self._rng("night", apartment, at.replace(minute=0, second=0, microsecond=0))
        return 0.4 if rng.random() < 0.04 else 0.0

    def _motion_count(self, dev: DemoDevice, t0: datetime, t1: datetime) -> int:
        minutes = max(1, round((t1 - t0).total_seconds() / 60))
        rate = (
            sum(self._motion_rate(dev.area, t0 + timedelta(minutes=m)) for m in range(minutes))
            / minutes
        )
        if rate <= 0:
            return 0
        rng = self._rng(dev.dev_eui, t1, "motion")
        # Poisson by inversion; small means only.
        mean, k, p = rate * minutes, 0, 1.0
        limit = math.exp(-mean)
        while True:
            p *= rng.random()
            if p <= limit or k >= 255:
                return k
            k += 1

    def _schedule_door_day(self, dev: DemoDevice, around: datetime) -> None:
        """Door openings of apartment 1's day: out to daily activity and back."""
        for offset in (0, 1):
            day = around + timedelta(days=offset)
            _, _, outing = self._day_plan(dev.area, day)
            if outing and outing[0] > self.now:
                self._push(outing[0], dev.dev_eui, "door_open")
                self._push(outing[0] + timedelta(seconds=40), dev.dev_eui, "door_close")
                self._push(outing[1], dev.dev_eui, "door_open")
                self._push(outing[1] + timedelta(seconds=25), dev.dev_eui, "door_close")
                break
        else:
            # No outing within two days: an evening visit keeps the door alive.
            local = around.astimezone(LOCAL_TZ)
            visit = _whole(local.replace(hour=20, minute=30, second=0))
            if visit <= self.now:
                visit += timedelta(days=1)
            self._push(visit, dev.dev_eui, "door_open")
            self._push(visit + timedelta(seconds=30), dev.dev_eui, "door_close")

    # -- water -----------------------------------------------------------------------

    def _hour_use_l(self, dev: DemoDevice, hour: datetime) -> float:
        """Litres used in the hour starting at ``hour`` (UTC, on the hour)."""
        key = (dev.dev_eui, hour)
        if key in self._hourly_cache:
            return self._hourly_cache[key]
        if dev.role is Role.BUILDING_METER:
            use = sum(
                self._hour_use_l(d, hour)
                for d in self.devices.values()
                if d.role is Role.APARTMENT_METER
            )
            local_hour = hour.astimezone(LOCAL_TZ).hour
            rng = self._rng(dev.dev_eui, hour, "common")
            use += rng.uniform(10, 30) if 8 <= local_hour < 18 else 0.0  # laundry, cleaning
        else:
            local = hour.astimezone(LOCAL_TZ)
            rng = self._rng(dev.dev_eui, local.date(), "day")
            daily = rng.uniform(90, 180)
            share = _WATER_PROFILE[local.hour] * self._rng(dev.dev_eui, hour).uniform(0.5, 1.5)
            use = daily * share
        switch = self._switches.get((Scenario.LEAK, dev.dev_eui))
        if switch is not None:
            use += LEAK_FLOW_L_PER_H * switch.overlap_s(hour, hour + HOUR) / 3600
        use = round(use, 1)
        self._hourly_cache[key] = use
        return use

    def _volume_l(self, dev: DemoDevice, at: datetime) -> float:
        """Meter register in litres at ``at``.

        Counted from the simulation's epoch, not from this run's start, so a reload or a
        restart of Home Assistant continues the registers instead of winding them back.
        """
        base = (
            1_234_567.0
            if dev.role is Role.BUILDING_METER
            else 50_000.0 + 3_217.0 * int(dev.dev_eui[-2:], 16)
        )
        hour = at.replace(minute=0, second=0, microsecond=0)
        within = self._hour_use_l(dev, hour) * (at - hour).total_seconds() / 3600
        return base + self._cumulative_l(dev, hour) + within

    def _cumulative_l(self, dev: DemoDevice, hour: datetime) -> float:
        """Litres used from the epoch hour up to ``hour`` (negative before the epoch)."""
        cache = self._cumulative.setdefault(dev.dev_eui, {self.origin: 0.0})
        if hour in cache:
            return cache[hour]
        step = HOUR if hour > self.origin else -HOUR
        known = max(cache) if step == HOUR else min(cache)
        if (step == HOUR and known > hour) or (step == -HOUR and known < hour):
            known = self.origin  # within the cached range but not cached: walk again
        total = cache[known]
        while known != hour:
            if step == HOUR:
                total += self._hour_use_l(dev, known)
            else:
                total -= self._hour_use_l(dev, known + step)
            known += step
            cache[known] = total
        return total

    def _meter_leaking(self, dev: DemoDevice, at: datetime) -> bool:
        """The meter's own LEAK rule: no hour of standstill in the last 24 hours."""
        hour = at.replace(minute=0, second=0, microsecond=0)
        return all(self._hour_use_l(dev, hour - k * HOUR) > 0 for k in range(1, 25))

    # -- snow ------------------------------------------------------------------------

    def snow_depth_mm(self, at: datetime) -> float:
        """Snow depth on the lot: a thin base plus what has fallen while it snowed."""
        switch = self._switches.get((Scenario.SNOWFALL, ""))
        fallen = (
            0.0 if switch is None else SNOWFALL_MM_PER_H * switch.overlap_s(self.start, at) / 3600
        )
        return 20.0 + fallen

    # -- payloads --------------------------------------------------------------------

    def payload_fields(self, dev: DemoDevice, at: datetime) -> tuple[int, bytes, dict[str, Any]]:
        """fPort, payload bytes and the canonical values the payload is meant to carry."""
        rng = self._rng(dev.dev_eui, at, "payload")
        local = at.astimezone(LOCAL_TZ)
        day_phase = math.sin((local.hour + local.minute / 60 - 9) / 24 * 2 * math.pi)
        if dev.role is Role.MOTION:
            last = self._last_report.get(dev.dev_eui, at - timedelta(seconds=dev.interval_s))
            fields: dict[str, Any] = {
                "temperature": round(21.5 + 0.8 * day_phase + rng.uniform(-0.2, 0.2), 1),
                "humidity": round(38 + 4 * day_phase + rng.uniform(-2, 2)),
                "illuminance": max(0, round(150 + 140 * day_phase + rng.uniform(-10, 10))),
                "motion_count": self._motion_count(dev, last, at),
                "battery_voltage": round(3.62 - (at - self.start).days * 0.0005, 3),
            }
            return 5, elsys.encode(fields), fields
        if dev.role is Role.DOOR:
            fields = {
                "battery": 97,
                "temperature": round(20.5 + 0.5 * day_phase + rng.uniform(-0.2, 0.2), 1),
                "door": self._door_open.get(dev.dev_eui, False),
            }
            return 1, sensative_strips.encode(fields), fields
        if dev.role is Role.AIR:
            # What the network server's codec (MClimate's) returns: the generic device's object.
            occupied = 1.0 if 8 <= local.hour < 21 else 0.15
            fields = {
                "battery": 3.5,
                "co2": round(450 + 550 * occupied * max(0.0, day_phase) + rng.uniform(-20, 20)),
                "humidity": round(36 + 5 * day_phase + rng.uniform(-1, 1), 2),
                "temperature": round(21.8 + 0.7 * day_phase + rng.uniform(-0.2, 0.2), 1),
            }
            # The frame itself is the simulator's own (CO₂, °C x 10, %, V x 10): only the
            # network server reads it; Ånge IoT uses the decoded object.
            frame = struct.pack(
                ">BHhBB", 1, fields["co2"], round(fields["temperature"] * 10),
                round(fields["humidity"]), round(fields["battery"] * 10),
            )  # fmt: skip
            return 2, frame, fields
        if dev.role is Role.SNOW:
            depth = self.snow_depth_mm(at) + rng.uniform(-3, 3)
            fields = {
                "battery": 100 - min(99, (at - self.start).days // 30),
                "distance": round((dev.mounting_height_mm or MOUNTING_HEIGHT_MM) - depth),
            }
            return 85, milesight.encode(fields, model="EM500-UDL"), fields
        # Water meters report the register at the full hour with hourly history.
        meter_time = at.replace(minute=0, second=0, microsecond=0)
        volume_l = math.floor(self._volume_l(dev, meter_time))
        if dev.role is Role.APARTMENT_METER:
            history = [math.floor(self._volume_l(dev, meter_time - k * HOUR)) for k in range(13)]
            increments = [history[k] - history[k + 1] for k in range(12)]  # newest first
            leak = self._meter_leaking(dev, meter_time)
            payload = kamstrup_flowiq.encode(
                meter_time=meter_time,
                volume_l=volume_l,
                info_code=0x04 if leak else 0,
                profile_increments_l=increments,
            )
            fields = {
                "volume": volume_l / 1000,
                "leak": leak,
                "meter_time": meter_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            return 1, payload, fields
        log_time = meter_time - 15 * HOUR
        history = [math.floor(self._volume_l(dev, log_time + k * HOUR)) for k in range(16)]
        deltas = [history[k + 1] - history[k] for k in range(15)]
        leak = self._meter_leaking(dev, meter_time)
        payload = axioma_w1.encode_extended(
            meter_time=at,
            volume_l=math.floor(self._volume_l(dev, at)),
            log_time=log_time,
            log_volume_l=history[0],
            deltas_l=deltas,
            status=0x30 if leak else 0,
        )
        fields = {"volume": math.floor(self._volume_l(dev, at)) / 1000, "leak": leak}
        return 100, payload, fields

    def _message(self, dev: DemoDevice, at: datetime) -> SimMessage | None:
        if self.scenario_active(Scenario.SENSOR_SILENT, dev.dev_eui, at):
            self._last_report[dev.dev_eui] = at
            return None
        fport, payload, fields = self.payload_fields(dev, at)
        self._last_report[dev.dev_eui] = at
        self._fcnt[dev.dev_eui] += 1
        rng = self._rng(dev.dev_eui, at, "radio")
        event = chirpstack.build_up(
            dev_eui=dev.dev_eui,
            fport=fport,
            fcnt=self._fcnt[dev.dev_eui],
            payload=payload,
            time=at,
            device_name=dev.name,
            profile_name=dev.profile_name,
            application_id=DEMO_APPLICATION_ID,
            dedup_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            rssi=rng.randint(-112, -70),
            snr=round(rng.uniform(-4, 10), 1),
        )
        if dev.model_id == "generic":
            event["object"] = dict(fields)  # decoded by the network server's device profile
        return SimMessage(
            time=at,
            dev_eui=dev.dev_eui,
            topic=chirpstack.topic_for(DEMO_APPLICATION_ID, dev.dev_eui),
            event=event,
            fields=fields,
        )
