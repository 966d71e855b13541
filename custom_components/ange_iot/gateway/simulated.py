"""The simulated gateway: a demo site feeding real ChirpStack events to its sink.

The simulator runs on its own clock, mapped onto Home Assistant's: simulator time =
anchor + elapsed real time × speed. Each event's ``time`` is set to the real moment it
is delivered, so at any speed Home Assistant sees uplinks arriving "now".
"""

from __future__ import annotations

from datetime import datetime, timedelta
import json

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..angelib.simulator import DEMO_DEVICES, DEMO_GENERIC_DEVICES, Scenario, Simulator
from ..const import LOGGER
from .transport import MessageSink, Transport

SOURCE = "simulated"


class SimulatedGateway(Transport):
    """Runs the demo site's simulator on HA's event loop, one timer at a time."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        sink: MessageSink,
        *,
        seed: int,
        speed: float,
        epoch: datetime,
    ) -> None:
        """Prepare; ``async_start`` begins emitting. ``epoch``: when the site began."""
        super().__init__(hass, entry, sink)
        self.seed = seed
        self.epoch = epoch
        self.speed = speed
        self.simulator: Simulator | None = None
        self._real_anchor = dt_util.utcnow()
        self._sim_anchor = self._real_anchor
        self._unsub: CALLBACK_TYPE | None = None

    async def async_start(self) -> None:
        """Start the demo site now."""
        self._real_anchor = dt_util.utcnow()
        self._sim_anchor = self._real_anchor
        self.simulator = Simulator(
            seed=self.seed,
            start=self._sim_anchor,
            epoch=min(self.epoch, self._sim_anchor),
            # The demo's sensors outside the catalogue report once they were added.
            devices=[
                *DEMO_DEVICES,
                *(d for d in DEMO_GENERIC_DEVICES if self.sink.tracked(d.dev_eui) is not None),
            ],
        )
        self._schedule()

    @callback
    def async_stop(self) -> None:
        """Stop emitting."""
        if self._unsub:
            self._unsub()
            self._unsub = None

    @callback
    def async_device_added(self, dev_eui: str) -> None:
        """A demo sensor outside the catalogue starts reporting once it is added."""
        demo = next((d for d in DEMO_GENERIC_DEVICES if d.dev_eui == dev_eui), None)
        if demo is None or self.simulator is None:
            return
        self.simulator.now = max(self.simulator.now, self.sim_time(dt_util.utcnow()))
        self.simulator.add_device(demo)
        self._schedule()

    def sim_time(self, real: datetime) -> datetime:
        """Simulator time at a real instant."""
        return self._sim_anchor + (real - self._real_anchor) * self.speed

    def real_time(self, sim: datetime) -> datetime:
        """Real instant at which a simulator time is reached."""
        return self._real_anchor + (sim - self._sim_anchor) / self.speed

    @callback
    def async_set_speed(self, speed: float) -> None:
        """Change the speed-up factor from now on, keeping the simulator clock continuous."""
        now = dt_util.utcnow()
        self._sim_anchor = self.sim_time(now)
        self._real_anchor = now
        self.speed = speed
        self._schedule()

    @callback
    def async_set_scenario(self, scenario: Scenario, active: bool, target: str = "") -> None:
        """Switch a demo scenario (raises ValueError for an unknown target)."""
        assert self.simulator is not None
        self.simulator.now = max(self.simulator.now, self.sim_time(dt_util.utcnow()))
        self.simulator.set_scenario(scenario, active, target)
        LOGGER.info(
            "Simulated gateway: scenario %s %s %s", scenario, target, "on" if active else "off"
        )

    def _schedule(self) -> None:
        if self._unsub:
            self._unsub()
            self._unsub = None
        assert self.simulator is not None
        if (nxt := self.simulator.next_time()) is None:
            return
        self._unsub = async_track_point_in_utc_time(self.hass, self._deliver, self.real_time(nxt))

    @callback
    def _deliver(self, _scheduled: datetime) -> None:
        self._unsub = None
        assert self.simulator is not None
        now = dt_util.utcnow()
        for message in self.simulator.advance(self.sim_time(now) + timedelta(milliseconds=1)):
            event = dict(message.event)
            event["time"] = self.real_time(message.time).isoformat()
            # Through the same JSON parsing path as a real ChirpStack message.
            self.sink.async_handle_chirpstack(json.dumps(event).encode(), source=SOURCE)
        self._schedule()
