"""One part of a building's runtime: care, water or snow share one lifecycle.

A part keeps its state in its own ``Store`` (``ange_iot.<entry>.<store_key>``), written
with a ``DelayedSave`` after every change; follows the uplinks of its sensors (the
domain-wide device signal, so any gateway may hear them); judges each of its items now
and again at a timer (``async_track_point_in_utc_time``, no polling); applies its
subentries in place; and on shutdown stops following, cancels its timers and writes.

Lifecycle: ``async_setup`` (load) → ``async_follow_sensors`` (activity is recorded from
setup on) → ``async_start`` (judge every item, once Home Assistant has started) →
``async_shutdown``. Items are keyed by a string (a subentry id, or a meter's DevEUI).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store

from ..angelib.device import ApplyResult
from ..const import DOMAIN, STORAGE_VERSION
from ..signals import SIGNAL_DEVICE_CHANGED
from ..storage import DelayedSave

type PartAdder = Callable[[str, str], None]  # (subentry type, subentry id)


class RuntimePart:
    """Store, followed sensors, timers and shutdown of one part of a building."""

    store_key: ClassVar[str]  # the store is ange_iot.<entry id>.<store_key>
    save_delay: ClassVar[float]  # seconds from a change to its write, at most
    subentry_type: ClassVar[str]  # the subentries this part runs

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """A part of ``entry``'s building; nothing runs before ``async_setup``."""
        self.hass = hass
        self.entry = entry
        self._saver: DelayedSave | None = None
        self._started = False
        self._follows: dict[str, list[CALLBACK_TYPE]] = {}  # item -> its sensors' unsubs
        self._timers: dict[str, CALLBACK_TYPE] = {}  # item -> its pending wake-up

    # -- to implement ----------------------------------------------------------------

    async def _async_load(self, stored: dict[str, Any]) -> None:
        """Build the items from the subentries and the stored state ({} when none)."""
        raise NotImplementedError

    def _snapshot(self) -> dict[str, Any]:
        """What the store keeps (the stored format: never change it lightly)."""
        raise NotImplementedError

    def _watched(self) -> Mapping[str, Iterable[str]]:
        """Each item and the DevEUIs it follows."""
        raise NotImplementedError

    def _on_device(
        self, key: str, applied: ApplyResult | None, received_at: datetime | None
    ) -> None:
        """A followed sensor of item ``key`` changed (an uplink, or a state change)."""
        raise NotImplementedError

    @callback
    def async_evaluate(self, key: str) -> object:
        """Judge item ``key`` now (nothing before ``async_start``)."""
        raise NotImplementedError

    @callback
    def async_apply_subentries(self) -> list[tuple[str, str]]:
        """Match the subentries in place; the items added, as (subentry type, id)."""
        raise NotImplementedError

    def subentry_ids(self) -> list[str]:
        """The subentries of the running items (their entities are added per subentry)."""
        raise NotImplementedError

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Evaluating (from ``async_start`` until ``async_shutdown``)."""
        return self._started

    async def async_setup(self) -> None:
        """Load the stored state and build the items (evaluation starts later)."""
        store = part_store(self.hass, self.entry.entry_id, self.store_key)
        self._saver = DelayedSave(store, self._snapshot, self.save_delay)
        stored = await store.async_load()
        await self._async_load(stored if isinstance(stored, dict) else {})

    @callback
    def async_follow_sensors(self) -> None:
        """Take the uplinks of every item's sensors from setup on, before evaluation."""
        for key, sensors in self._watched().items():
            self._follow(key, sensors)

    @callback
    def async_start(self) -> None:
        """Judge every item now (entities exist and automations listen by now)."""
        self._started = True
        for key in list(self._watched()):
            self.async_evaluate(key)

    async def async_shutdown(self) -> None:
        """Stop following, cancel the timers and write the state."""
        self._started = False
        for key in list(self._follows):
            self._unfollow(key)
        for key in list(self._timers):
            self._disarm(key)
        if self._saver is not None:
            await self._saver.async_save_now()

    # -- helpers for the parts ---------------------------------------------------------

    def _subentries(self) -> dict[str, ConfigSubentry]:
        """The building's subentries this part runs, by subentry id."""
        return {
            subentry_id: subentry
            for subentry_id, subentry in self.entry.subentries.items()
            if subentry.subentry_type == self.subentry_type
        }

    def _follow(self, key: str, sensors: Iterable[str]) -> None:
        """Take the uplinks of ``sensors`` (and only of those) for item ``key``."""
        self._unfollow(key)
        self._follows[key] = [
            async_dispatcher_connect(
                self.hass, SIGNAL_DEVICE_CHANGED.format(dev_eui), self._device_callback(key)
            )
            for dev_eui in sensors
        ]

    def _unfollow(self, key: str) -> None:
        for unsub in self._follows.pop(key, ()):
            unsub()

    def _device_callback(self, key: str) -> Callable[[ApplyResult | None, datetime | None], None]:
        @callback
        def _on_device(applied: ApplyResult | None, received_at: datetime | None) -> None:
            self._on_device(key, applied, received_at)

        return _on_device

    def _arm(self, key: str, when: datetime | None) -> None:
        """Judge item ``key`` again at ``when`` (replaces its pending wake-up)."""
        self._disarm(key)
        if when is None:
            return

        @callback
        def _due(_scheduled: datetime) -> None:
            self._timers.pop(key, None)
            self.async_evaluate(key)

        self._timers[key] = async_track_point_in_utc_time(self.hass, _due, when)

    def _disarm(self, key: str) -> None:
        if (cancel := self._timers.pop(key, None)) is not None:
            cancel()

    def _stop(self, key: str) -> None:
        """Item ``key`` leaves: no more uplinks, no more wake-ups."""
        self._unfollow(key)
        self._disarm(key)

    def _clear_subentry(self, subentry_id: str) -> None:
        """As Home Assistant does when it removes the subentry (a second clear is a no-op)."""
        entry_id = self.entry.entry_id
        er.async_get(self.hass).async_clear_config_subentry(entry_id, subentry_id)
        dr.async_get(self.hass).async_clear_config_subentry(entry_id, subentry_id, DOMAIN)

    def _save(self) -> None:
        if self._saver is not None:
            self._saver.schedule()


def part_store(hass: HomeAssistant, entry_id: str, key: str) -> Store[dict[str, Any]]:
    """The store of one part of a building: ``ange_iot.<entry id>.<key>``."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.{key}")
