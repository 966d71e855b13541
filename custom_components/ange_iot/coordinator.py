"""Runtime data of an Ånge IoT gateway entry: the uplink hub and its device states.

Push-based like HA's MQTT-fed integrations: no polling. Every transport hands messages
to ``AngeHub``; entities listen on a per-device dispatcher signal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .angelib.device import DeviceConfig, DeviceState
from .angelib.lns import chirpstack
from .angelib.pipeline import Outcome, Pipeline, Result, TrackedDevice
from .angelib.simulator import Scenario
from .angelib.uplink import MessageError, Uplink
from .const import (
    CONF_AREA,
    CONF_DEV_EUI,
    CONF_INVERT_DOOR,
    CONF_MISSED_REPORTS,
    CONF_MODEL,
    CONF_MOUNTING_HEIGHT,
    CONF_REPORT_INTERVAL,
    DOMAIN,
    LOGGER,
    SAVE_DELAY_S,
    STORAGE_VERSION,
    SUBENTRY_DEVICE,
)

if TYPE_CHECKING:
    from .gateway import SimulatedGateway

type AngeConfigEntry = ConfigEntry[AngeHub]

MAX_CLOCK_SKEW = timedelta(minutes=5)


def device_config_from_subentry(data: Any, title: str) -> DeviceConfig:
    """Build the pure device config from a device subentry's data."""
    height = data.get(CONF_MOUNTING_HEIGHT)
    return DeviceConfig(
        dev_eui=data[CONF_DEV_EUI],
        model_id=data[CONF_MODEL],
        name=title,
        report_interval_s=data.get(CONF_REPORT_INTERVAL),
        missed_reports=data.get(CONF_MISSED_REPORTS, 3),
        invert_door=data.get(CONF_INVERT_DOOR, False),
        mounting_height_mm=int(height) if height else None,
        area=data.get(CONF_AREA) or None,
    )


@dataclass(slots=True)
class GatewayStats:
    """Counters shown on the gateway device and in diagnostics."""

    messages: int = 0
    malformed: int = 0


@dataclass
class AngeHub:
    """Everything one gateway entry runs: pipeline, device states, timers, store."""

    hass: HomeAssistant
    entry: AngeConfigEntry
    pipeline: Pipeline = field(default_factory=Pipeline)
    stats: GatewayStats = field(default_factory=GatewayStats)
    subentry_ids: dict[str, str] = field(default_factory=dict)  # dev_eui -> subentry id
    gateway: SimulatedGateway | None = None
    gateway_device_id: str = ""
    applied_subentries: dict[str, tuple[str, dict[str, object]]] = field(default_factory=dict)
    option_scenarios: set[tuple[Scenario, str]] = field(default_factory=set)
    _store: Store[dict[str, Any]] | None = None
    _timers: dict[str, CALLBACK_TYPE] = field(default_factory=dict)
    _available: dict[str, bool] = field(default_factory=dict)
    _logged: set[tuple[str, str]] = field(default_factory=set)
    _listeners: list[Callable[[], None]] = field(default_factory=list)

    @property
    def gateway_id(self) -> str:
        """Identifier of the gateway device in the device registry."""
        return f"gateway_{self.entry.entry_id}"

    async def async_setup(self) -> None:
        """Load stored device states and start tracking the configured devices."""
        self._store = Store(self.hass, STORAGE_VERSION, f"{DOMAIN}.{self.entry.entry_id}.devices")
        stored = await self._store.async_load() or {}
        states = stored.get("devices") if isinstance(stored, dict) else None
        if not isinstance(states, dict):
            states = {}
        now = dt_util.utcnow()
        for subentry in self.entry.subentries.values():
            if subentry.subentry_type != SUBENTRY_DEVICE:
                continue
            config = device_config_from_subentry(subentry.data, subentry.title)
            raw = states.get(config.dev_eui)
            state = DeviceState.from_dict(raw) if isinstance(raw, dict) else DeviceState()
            self.pipeline.add_device(config, state)
            self.subentry_ids[config.dev_eui] = subentry.subentry_id
            # Availability is recomputed from the stored last-seen time, not reset.
            if state.last_seen is not None:
                self._available[config.dev_eui] = state.available(config, now)
            self._schedule_unavailable(config.dev_eui)

    async def async_shutdown(self) -> None:
        """Cancel timers and write the device states before the entry finishes unloading.

        Awaited (not a delayed save), so a reload right after reads what was just written.
        """
        for unsub in self._timers.values():
            unsub()
        self._timers.clear()
        if self._store is not None:
            await self._store.async_save(self._snapshot())

    def device(self, dev_eui: str) -> TrackedDevice:
        """The tracked device (KeyError if not configured)."""
        return self.pipeline.devices[dev_eui]

    def is_available(self, dev_eui: str) -> bool:
        """Has the device reported within its silence limit?"""
        return self._available.get(dev_eui, False)

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Listen to hub-wide changes (counters); returns the unsubscribe callback."""
        self._listeners.append(listener)

        def remove() -> None:
            self._listeners.remove(listener)

        return remove

    # -- ingest ---------------------------------------------------------------------

    @callback
    def async_handle_chirpstack(self, body: bytes | str, *, source: str) -> Result | None:
        """Handle one ChirpStack v4 ``up`` event body; bad input is logged and counted."""
        self.stats.messages += 1
        try:
            uplink = chirpstack.parse_up(chirpstack.loads(body), source=source)
        except MessageError as err:
            self.stats.malformed += 1
            self._log_once(
                source, "malformed", "Ignored a malformed message from %s: %s", source, err
            )
            self._notify()
            return None
        return self.async_handle_uplink(uplink)

    @callback
    def async_handle_uplink(self, uplink: Uplink) -> Result:
        """Run one uplink through the pipeline and tell the device's entities."""
        now = dt_util.utcnow()
        if uplink.received_at > now + MAX_CLOCK_SKEW:
            # A network server with a wrong clock must not keep a device "seen" for hours.
            self._log_once(
                uplink.source,
                "future",
                "Uplink from %s is stamped %s, in the future; using the time it arrived",
                uplink.dev_eui,
                uplink.received_at.isoformat(),
            )
            uplink = replace(uplink, received_at=now)
        result = self.pipeline.handle(uplink)
        if result.outcome is Outcome.APPLIED:
            dev_eui = uplink.dev_eui
            tracked = self.pipeline.devices[dev_eui]
            if result.applied and result.applied.volume_rejected is not None:
                self._log_once(
                    dev_eui,
                    "volume_decreased",
                    "Meter %s reported %.3f m³, below its last reading %.3f m³; "
                    "the lower value is not counted as consumption",
                    tracked.config.name,
                    result.applied.volume_rejected,
                    tracked.state.values.get("volume"),
                )
            elif not tracked.state.volume_decreased:
                # Resolved by a normal reading: a later decrease is news again.
                self._logged.discard((dev_eui, "volume_decreased"))
            self._set_available(dev_eui, tracked.state.available(tracked.config, dt_util.utcnow()))
            self._schedule_unavailable(dev_eui)
            self._save()
            async_dispatcher_send(self.hass, self.signal(dev_eui))
        elif result.outcome is Outcome.DECODE_ERROR:
            self._log_once(
                uplink.dev_eui,
                "decode",
                "Rejected a frame from %s (fPort %s): %s",
                self.pipeline.devices[uplink.dev_eui].config.name,
                uplink.fport,
                result.error,
            )
            self._save()
            async_dispatcher_send(self.hass, self.signal(uplink.dev_eui))
        elif result.outcome is Outcome.UNKNOWN_DEVICE:
            self._log_once(
                uplink.dev_eui,
                "unknown",
                "Uplink from DevEUI %s, which is not added to %s; ignored",
                uplink.dev_eui,
                self.entry.title,
                level="debug",
            )
        self._notify()
        return result

    @callback
    def async_accept_volume(self, dev_eui: str) -> None:
        """Take a meter's lower reading as its new baseline (the meter was replaced)."""
        tracked = self.pipeline.devices[dev_eui]
        if not tracked.state.volume_decreased:
            return
        tracked.state.accept_volume()
        # A later decrease (the next swap) is news again.
        self._logged.discard((dev_eui, "volume_decreased"))
        LOGGER.info(
            "Meter %s: accepted %s m³ as its new reading",
            tracked.config.name,
            tracked.state.values.get("volume"),
        )
        self._save()
        async_dispatcher_send(self.hass, self.signal(dev_eui))

    # -- availability ---------------------------------------------------------------

    def _schedule_unavailable(self, dev_eui: str) -> None:
        if unsub := self._timers.pop(dev_eui, None):
            unsub()
        tracked = self.pipeline.devices.get(dev_eui)
        if tracked is None or (when := tracked.state.unavailable_at(tracked.config)) is None:
            return

        @callback
        def _went_silent(_scheduled: datetime) -> None:
            self._timers.pop(dev_eui, None)
            now = dt_util.utcnow()
            current = self.pipeline.devices.get(dev_eui)
            if current is None:
                return
            self._set_available(dev_eui, current.state.available(current.config, now))
            async_dispatcher_send(self.hass, self.signal(dev_eui))

        self._timers[dev_eui] = async_track_point_in_utc_time(self.hass, _went_silent, when)

    def _set_available(self, dev_eui: str, available: bool) -> None:
        was = self._available.get(dev_eui)
        self._available[dev_eui] = available
        if was is None or was == available:
            return
        tracked = self.pipeline.devices[dev_eui]
        if available:
            LOGGER.info("%s (%s) is reporting again", tracked.config.name, dev_eui)
        else:
            LOGGER.info(
                "%s (%s) is unavailable: no report since %s (limit %s)",
                tracked.config.name,
                dev_eui,
                tracked.state.last_seen,
                tracked.config.silence_limit,
            )

    # -- helpers --------------------------------------------------------------------

    def signal(self, dev_eui: str) -> str:
        """Dispatcher signal for one device of this entry."""
        return f"{DOMAIN}_{self.entry.entry_id}_{dev_eui}"

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    def _save(self) -> None:
        if self._store is not None:
            self._store.async_delay_save(self._snapshot, SAVE_DELAY_S)

    def _snapshot(self) -> dict[str, Any]:
        return {
            "devices": {
                eui: tracked.state.as_dict() for eui, tracked in self.pipeline.devices.items()
            }
        }

    def _log_once(self, key: str, kind: str, msg: str, *args: Any, level: str = "warning") -> None:
        """Log the first occurrence per (key, kind) at ``level``, later ones at debug."""
        if (key, kind) in self._logged:
            LOGGER.debug(msg, *args)
            return
        self._logged.add((key, kind))
        getattr(LOGGER, level)(msg, *args)
