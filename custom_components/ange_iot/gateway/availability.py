"""Per-device availability of a gateway entry: one silence timer per device.

A device is unavailable once it missed its reports (``DeviceState.unavailable_at``).
The hub calls ``async_schedule`` after every applied uplink; when a timer fires the
device's entities and the domain-wide device signal are told.
"""

from __future__ import annotations

from datetime import datetime

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..angelib.pipeline import Pipeline
from ..const import LOGGER
from ..signals import SIGNAL_DEVICE_CHANGED, SIGNAL_DEVICE_UPDATED


class DeviceAvailability:
    """Which devices of one entry are available, and the timers that mark them silent."""

    def __init__(self, hass: HomeAssistant, entry_id: str, pipeline: Pipeline) -> None:
        """Follow the devices of ``pipeline`` (the hub's)."""
        self.hass = hass
        self.entry_id = entry_id
        self.pipeline = pipeline
        self._timers: dict[str, CALLBACK_TYPE] = {}
        self._timer_due: dict[str, datetime] = {}  # when each timer fires
        self._available: dict[str, bool] = {}

    def is_available(self, dev_eui: str) -> bool:
        """Has the device reported within its silence limit?"""
        return self._available.get(dev_eui, False)

    def restore(self, dev_eui: str, available: bool) -> None:
        """At setup: availability recomputed from the stored last-seen time, not reset."""
        self._available[dev_eui] = available

    def async_schedule(self, dev_eui: str) -> None:
        """Arm the device's silence timer for its current ``unavailable_at``.

        Called for every uplink: an armed timer that fires no later than the new deadline
        is kept (when it fires, a device that reported since is re-armed, not marked), so
        a busy device costs one timer per silence limit instead of one per uplink.
        """
        tracked = self.pipeline.devices.get(dev_eui)
        when = tracked.state.unavailable_at(tracked.config) if tracked is not None else None
        due = self._timer_due.get(dev_eui)
        if when is not None and due is not None and due <= when and dev_eui in self._timers:
            return
        self.cancel(dev_eui)
        if when is None:
            return

        @callback
        def _went_silent(_scheduled: datetime) -> None:
            self._timers.pop(dev_eui, None)
            self._timer_due.pop(dev_eui, None)
            now = dt_util.utcnow()
            current = self.pipeline.devices.get(dev_eui)
            if current is None:
                return
            available = current.state.available(current.config, now)
            if available and self._available.get(dev_eui):
                self.async_schedule(dev_eui)  # it reported since: the new deadline
                return
            self.set(dev_eui, available)
            async_dispatcher_send(self.hass, SIGNAL_DEVICE_UPDATED.format(self.entry_id, dev_eui))
            async_dispatcher_send(self.hass, SIGNAL_DEVICE_CHANGED.format(dev_eui), None, None)

        self._timer_due[dev_eui] = when
        self._timers[dev_eui] = async_track_point_in_utc_time(self.hass, _went_silent, when)

    def set(self, dev_eui: str, available: bool) -> None:
        """Record the device's availability; a change is logged."""
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

    def cancel(self, dev_eui: str) -> None:
        """Stop the device's timer (its availability stays)."""
        if unsub := self._timers.pop(dev_eui, None):
            unsub()
        self._timer_due.pop(dev_eui, None)

    def forget(self, dev_eui: str) -> None:
        """A removed device: no timer, no availability."""
        self.cancel(dev_eui)
        self._available.pop(dev_eui, None)

    def cancel_all(self) -> None:
        """Stop every timer (the entry unloads)."""
        for unsub in self._timers.values():
            unsub()
        self._timers.clear()
        self._timer_due.clear()
