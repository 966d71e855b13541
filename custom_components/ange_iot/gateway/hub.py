"""Runtime data of an Ånge IoT gateway entry: the hub that ingests uplinks, and its state.

Push-based like HA's MQTT-fed integrations: no polling. The entry's transport hands
every message to ``GatewayHub`` (its ``MessageSink``), which counts and parses it,
rejects bad input, routes each event to the entry that owns its device and runs an
owned device's uplinks through the pipeline. The hub owns the helpers of its other jobs:

- ``availability.py``: per-device silence timers (``DeviceAvailability``);
- ``silence.py``: the gateway silence watchdog and its repair issue (``SilenceWatchdog``);
- ``discovery.py``: offering to add a device no entry runs;
- ``device_changes.py``: device subentries added, changed or removed, applied in place;
- ``stats.py``: the message counters the gateway's sensors and diagnostics show.

What changed is told through the typed dispatcher signals of ``signals.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..angelib import generic
from ..angelib.device import AppliedFrames, DeviceConfig, DeviceState
from ..angelib.lns import chirpstack
from ..angelib.lns.chirpstack import JoinEvent, StatusEvent
from ..angelib.pipeline import Outcome, Pipeline, Result, TrackedDevice
from ..angelib.simulator import Scenario
from ..angelib.uplink import MessageError, Uplink
from ..const import DOMAIN, LOGGER, SAVE_DELAY_S, STORAGE_VERSION, SUBENTRY_DEVICE
from ..router import get_router
from ..signals import (
    SIGNAL_DEVICE_CHANGED,
    SIGNAL_DEVICE_UPDATED,
    SIGNAL_GATEWAY_UPDATED,
    SIGNAL_NEW_FIELDS,
)
from ..storage import DelayedSave
from .availability import DeviceAvailability
from .device_changes import (
    DeviceChanges,
    async_apply_pending,
    device_config_from_subentry,
    seed_generic_state,
)
from .discovery import async_offer_unknown_device
from .reading_backwards import (
    async_clear_reading_backwards,
    async_raise_reading_backwards,
)
from .silence import SilenceWatchdog
from .stats import GatewayStats
from .transport import LnsEvent, Reject, Transport

type GatewayConfigEntry = ConfigEntry[GatewayHub]

MAX_CLOCK_SKEW = timedelta(minutes=5)
LOG_EVERY = timedelta(hours=1)  # each kind of bad input is logged at most hourly per key
COUNTER_UPDATE_S = 1.0  # gateway counters are written to HA at most once a second


class GatewayHub:
    """Everything one gateway entry runs: pipeline, device states, timers, store."""

    def __init__(self, hass: HomeAssistant, entry: GatewayConfigEntry) -> None:
        """Prepare; ``async_setup`` loads the stored states."""
        self.hass = hass
        self.entry = entry
        self.pipeline = Pipeline()
        self.stats = GatewayStats()
        self.subentry_ids: dict[str, str] = {}  # dev_eui -> subentry id
        self.gateway: Transport | None = None  # the entry's transport; the hub is its sink
        self.option_scenarios: set[tuple[Scenario, str]] = set()
        # The Things Stack backfill: newest uplink this gateway received (persisted).
        self.backfill_position: datetime | None = None
        self.availability = DeviceAvailability(hass, entry.entry_id, self.pipeline)
        self.watchdog = SilenceWatchdog(
            hass,
            entry,
            lambda: self.stats.last_message,
            on_silent=self._signal_all_devices,  # care checks: silent means "cannot tell"
            on_resumed=self._traffic_resumed,
        )
        self.changes = DeviceChanges(
            hass,
            entry,
            self,
            pipeline=self.pipeline,
            subentry_ids=self.subentry_ids,
            availability=self.availability,
            device_added=self._device_added,
            save=self._save,
        )
        self._saver: DelayedSave | None = None
        self._logged: dict[tuple[str, str], datetime] = {}
        self._decoded_seen: set[str] = set()  # generic devices decoded this run
        self._notify_pending: CALLBACK_TYPE | None = None

    @property
    def gateway_device_id(self) -> str:
        """The gateway's device in the device registry (every device is "via" it)."""
        return self.changes.gateway_device_id

    @property
    def gateway_id(self) -> str:
        """Identifier of the gateway device in the device registry."""
        return f"gateway_{self.entry.entry_id}"

    async def async_setup(self) -> None:
        """Load stored device states and start tracking the configured devices."""
        store: Store[dict[str, Any]] = Store(
            self.hass, STORAGE_VERSION, f"{DOMAIN}.{self.entry.entry_id}.devices"
        )
        self._saver = DelayedSave(store, self._snapshot, SAVE_DELAY_S)
        stored = await store.async_load() or {}
        states = stored.get("devices") if isinstance(stored, dict) else None
        if not isinstance(states, dict):
            states = {}
        now = dt_util.utcnow()
        self.changes.applied = self.entry.subentries  # what the pipeline is built from
        for subentry in self.entry.subentries.values():
            if subentry.subentry_type != SUBENTRY_DEVICE:
                continue
            config = device_config_from_subentry(subentry.data, subentry.title)
            raw = states.get(config.dev_eui)
            state = DeviceState.from_dict(raw) if isinstance(raw, dict) else DeviceState()
            if config.is_generic:
                seed_generic_state(state, subentry.data)
                assert state.generic is not None
                config.learned_interval_s = state.generic.learned_interval_s
            self.pipeline.add_device(config, state)
            self.subentry_ids[config.dev_eui] = subentry.subentry_id
            # Availability is recomputed from the stored last-seen time, not reset.
            if state.last_seen is not None:
                self.availability.restore(config.dev_eui, state.available(config, now))
            self.availability.async_schedule(config.dev_eui)
        router = get_router(self.hass)
        for dev_eui in self.pipeline.devices:
            if (other := router.owners.get(dev_eui)) is not None and other is not self:
                LOGGER.warning(
                    "DevEUI %s is added to both %s and %s; uplinks go to %s",
                    dev_eui,
                    other.entry.title,
                    self.entry.title,
                    other.entry.title,
                )
                continue
            router.owners[dev_eui] = self
        gateway_state = stored.get("gateway") if isinstance(stored, dict) else None
        if isinstance(gateway_state, dict) and isinstance(gateway_state.get("last_message"), str):
            self.stats.last_message = dt_util.parse_datetime(gateway_state["last_message"])
        backfill = stored.get("backfill") if isinstance(stored, dict) else None
        if isinstance(backfill, dict) and isinstance(backfill.get("last_received_at"), str):
            position = dt_util.parse_datetime(backfill["last_received_at"])
            self.backfill_position = position if position and position.tzinfo else None
        self.watchdog.async_start()

    async def async_shutdown(self) -> None:
        """Cancel timers and write the device states before the entry finishes unloading.

        Awaited (not a delayed save), so a reload right after reads what was just written.
        """
        self.availability.cancel_all()
        self.watchdog.async_stop()
        if self._notify_pending is not None:
            self._notify_pending()
        self._notify_pending = None
        router = get_router(self.hass)
        for dev_eui in self.pipeline.devices:
            if router.owners.get(dev_eui) is self:
                del router.owners[dev_eui]
        if self._saver is not None:
            await self._saver.async_save_now()

    def device(self, dev_eui: str) -> TrackedDevice:
        """The tracked device (KeyError if not configured)."""
        return self.pipeline.devices[dev_eui]

    def tracked(self, dev_eui: str) -> TrackedDevice | None:
        """The tracked device, if this entry runs it."""
        return self.pipeline.devices.get(dev_eui)

    def is_available(self, dev_eui: str) -> bool:
        """Has the device reported within its silence limit?"""
        return self.availability.is_available(dev_eui)

    @property
    def silent(self) -> bool:
        """The gateway delivered nothing for longer than its silence limit (issue raised)."""
        return self.watchdog.silent

    @silent.setter
    def silent(self, silent: bool) -> None:
        self.watchdog.silent = silent

    @property
    def last_message(self) -> datetime | None:
        """When the gateway last delivered a message from any device (stored)."""
        return self.stats.last_message

    @property
    def silence_limit(self) -> timedelta:
        """How long the gateway may be quiet before a repair issue is raised."""
        return self.watchdog.limit

    # -- ingest ---------------------------------------------------------------------

    @callback
    def async_handle_chirpstack(self, body: bytes | str, *, source: str) -> Result | None:
        """Handle one ChirpStack v4 ``up`` event body; bad input is logged and counted."""
        return self.async_handle_message(
            lambda: chirpstack.parse_up(chirpstack.loads(body), source=source), source=source
        )

    @callback
    def async_handle_message(
        self,
        parse: Callable[[], LnsEvent | None],
        *,
        source: str,
        key: str | Callable[[], str] | None = None,
    ) -> Result | None:
        """Parse one transport message and hand it on; a ``MessageError`` is a rejection.

        ``parse`` returns None for events that are ignored on purpose (ack, log, ...).
        ``key`` groups log lines (e.g. the DevEUI from an MQTT topic); default: ``source``.
        A callable ``key`` is only called for a rejected message (it is per message).
        """
        self._count_message()
        try:
            event = parse()
        except MessageError as err:
            label = key() if callable(key) else key
            self.async_reject(Reject.MALFORMED, label or source, f"from {source}: {err}")
            return None
        if event is None:
            return None
        return self.async_receive(event)

    @callback
    def async_reject(self, kind: str, key: str, detail: str) -> None:
        """Count a rejected message and log it (each kind at most hourly per key)."""
        self.stats.rejected[kind] += 1
        self._log_once(key, kind, "%s: rejected a message (%s) %s", self.entry.title, kind, detail)
        self._schedule_notify()

    @callback
    def async_receive(self, event: LnsEvent) -> Result | None:
        """Route a parsed event to the entry that owns its device (or raise discovery)."""
        if isinstance(event, Uplink):
            self.stats.uplinks += 1
        owner = self._owner(event.dev_eui)
        if owner is None and async_apply_pending(self.hass):
            owner = self._owner(event.dev_eui)  # a device just added
        self._schedule_notify()
        if owner is None:
            if isinstance(event, Uplink):
                self.pipeline.counters[Outcome.UNKNOWN_DEVICE] += 1
                self._log_once(
                    event.dev_eui,
                    "unknown",
                    "Uplink from DevEUI %s, which is not added to any Ånge IoT gateway; ignored",
                    event.dev_eui,
                    level="debug",
                )
                async_offer_unknown_device(self.hass, self.entry, event)
            return None
        if isinstance(event, StatusEvent):
            owner.async_apply_status(event)
            return None
        if isinstance(event, JoinEvent):
            owner.async_apply_join(event)
            return None
        return owner.async_handle_uplink(event)

    def _owner(self, dev_eui: str) -> GatewayHub | None:
        """The gateway entry that runs the device (this one or another)."""
        owner = get_router(self.hass).owners.get(dev_eui)
        return owner if isinstance(owner, GatewayHub) else None

    @callback
    def async_apply_status(self, event: StatusEvent) -> None:
        """A ChirpStack status event: the battery level as the network server sees it."""
        tracked = self.pipeline.devices[event.dev_eui]
        if event.battery_level is not None:
            tracked.state.values["lns_battery"] = round(event.battery_level)
            self._save()
            self._update_entities(event.dev_eui)

    @callback
    def async_apply_join(self, event: JoinEvent) -> None:
        """A (re)join: the frame counter starts over in a new epoch from the join on."""
        tracked = self.pipeline.devices[event.dev_eui]
        tracked.state.recent.clear()
        tracked.state.frames = AppliedFrames(since=event.time)
        self._save()
        self._log_once(
            event.dev_eui, "join", "%s (%s) joined the network", tracked.config.name,
            event.dev_eui, level="info",
        )  # fmt: skip

    @callback
    def async_handle_uplink(self, uplink: Uplink) -> Result:
        """Run one uplink of an owned device through the pipeline; tell its entities."""
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
            if result.generic is not None:
                self._generic_outcome(tracked.config, result.generic)
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
                async_raise_reading_backwards(
                    self.hass, self.entry.entry_id, tracked, result.applied.volume_rejected
                )
            elif (
                not tracked.state.volume_decreased
                and self._logged.pop((dev_eui, "volume_decreased"), None) is not None
            ):
                # Resolved by a normal reading after an episode (its warning is remembered,
                # so not on every uplink): a later decrease is news again.
                async_clear_reading_backwards(self.hass, dev_eui)
            self.availability.set(
                dev_eui, tracked.state.available(tracked.config, dt_util.utcnow())
            )
            self.availability.async_schedule(dev_eui)
            self._save()
            self._update_entities(dev_eui)
            async_dispatcher_send(
                self.hass, SIGNAL_DEVICE_CHANGED.format(dev_eui), result.applied, uplink.received_at
            )
        elif result.outcome is Outcome.STALE:
            self._log_once(
                uplink.dev_eui,
                Outcome.STALE,
                "Ignored an uplink from %s received %s (fCnt %s): older than the frames it "
                "remembers, so it may have been applied already",
                self.pipeline.devices[uplink.dev_eui].config.name,
                uplink.received_at.isoformat(),
                uplink.fcnt,
                level="info",
            )
        elif result.outcome is Outcome.DECODE_ERROR:
            self.stats.rejected[Reject.DECODE] += 1
            self._log_once(
                uplink.dev_eui,
                Reject.DECODE,
                "Rejected a frame from %s (fPort %s): %s",
                self.pipeline.devices[uplink.dev_eui].config.name,
                uplink.fport,
                result.error,
            )
            self._save()
            self._update_entities(uplink.dev_eui)
        self._schedule_notify()
        return result

    @callback
    def _generic_outcome(self, config: DeviceConfig, outcome: generic.GenericResult) -> None:
        """Say once what went wrong with a generic device; announce its new fields."""
        dev_eui = config.dev_eui
        if outcome.new_fields:
            async_dispatcher_send(self.hass, SIGNAL_NEW_FIELDS.format(self.entry.entry_id), dev_eui)
        for key in outcome.type_changed:
            self._log_once(
                dev_eui, f"type:{key}",
                "%s (%s): field %s changed its type; shown as unknown while it does",
                config.name, dev_eui, key,
            )  # fmt: skip
        if outcome.capped:
            self._log_once(
                dev_eui, "capped",
                "%s (%s) sends more than %s fields; the others are ignored",
                config.name, dev_eui, generic.MAX_FIELDS,
            )  # fmt: skip
        issue_id = f"no_codec_{dev_eui}"
        if outcome.no_object:
            self._decoded_seen.discard(dev_eui)
            if (dev_eui, "no_codec") not in self._logged:
                self._log_once(
                    dev_eui, "no_codec",
                    "%s (%s): the network server sent no decoded object; add a payload "
                    "formatter (TTS) or codec (ChirpStack device profile) for it",
                    config.name, dev_eui,
                )  # fmt: skip
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key="generic_no_codec",
                    translation_placeholders={"device": config.name, "dev_eui": dev_eui},
                )
        elif dev_eui not in self._decoded_seen:
            # Decoded again (a codec was added): the issue goes, once per run and device.
            self._decoded_seen.add(dev_eui)
            self._logged.pop((dev_eui, "no_codec"), None)
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    @callback
    def async_accept_volume(self, dev_eui: str) -> None:
        """Take a meter's lower reading as its new baseline (the meter was replaced)."""
        tracked = self.pipeline.devices[dev_eui]
        if not tracked.state.volume_decreased:
            return
        tracked.state.accept_volume()
        # A later decrease (the next swap) is news again.
        self._logged.pop((dev_eui, "volume_decreased"), None)
        async_clear_reading_backwards(self.hass, dev_eui)
        LOGGER.info(
            "Meter %s: accepted %s m³ as its new reading",
            tracked.config.name,
            tracked.state.values.get("volume"),
        )
        self._save()
        self._update_entities(dev_eui)
        async_dispatcher_send(self.hass, SIGNAL_DEVICE_CHANGED.format(dev_eui), None, None)

    @callback
    def async_set_backfill_position(self, received_at: datetime) -> None:
        """Remember the newest uplink received so far (never moves back); saved with states."""
        if self.backfill_position is None or received_at > self.backfill_position:
            self.backfill_position = received_at
            self._save()

    # -- helpers --------------------------------------------------------------------

    def _update_entities(self, dev_eui: str) -> None:
        """Tell the entities of one device of this entry to re-read it."""
        async_dispatcher_send(self.hass, SIGNAL_DEVICE_UPDATED.format(self.entry.entry_id, dev_eui))

    def _schedule_notify(self) -> None:
        """Tell the gateway's counter entities at most once a second."""
        if self._notify_pending is not None:
            return

        @callback
        def _run(_now: datetime) -> None:
            self._notify_pending = None
            async_dispatcher_send(self.hass, SIGNAL_GATEWAY_UPDATED.format(self.entry.entry_id))

        self._notify_pending = async_call_later(self.hass, COUNTER_UPDATE_S, _run)

    def _count_message(self) -> None:
        """Book one message from the transport; traffic clears a silence issue."""
        self.stats.messages += 1
        self.stats.last_message = dt_util.utcnow()
        self.watchdog.async_message_arrived()

    def _traffic_resumed(self) -> None:
        """Messages arrive again: the transport may backfill; care checks re-evaluate."""
        if self.gateway is not None:
            self.gateway.async_traffic_resumed()
        self._signal_all_devices()

    def _device_added(self, dev_eui: str) -> None:
        if self.gateway is not None:
            self.gateway.async_device_added(dev_eui)

    def _signal_all_devices(self) -> None:
        for dev_eui in self.pipeline.devices:
            async_dispatcher_send(self.hass, SIGNAL_DEVICE_CHANGED.format(dev_eui), None, None)

    def _save(self) -> None:
        """Save the device states within ``SAVE_DELAY_S``, however busy the traffic."""
        if self._saver is not None:
            self._saver.schedule()

    def _snapshot(self) -> dict[str, Any]:
        last = self.stats.last_message
        return {
            "devices": {
                eui: tracked.state.as_dict() for eui, tracked in self.pipeline.devices.items()
            },
            "gateway": {"last_message": last.isoformat() if last else None},
            "backfill": {
                "last_received_at": (
                    self.backfill_position.isoformat() if self.backfill_position else None
                )
            },
        }

    def _log_once(self, key: str, kind: str, msg: str, *args: Any, level: str = "warning") -> None:
        """Log at ``level`` at most once an hour per (key, kind); in between at debug."""
        now = dt_util.utcnow()
        last = self._logged.get((key, kind))
        if last is not None and now - last < LOG_EVERY:
            LOGGER.debug(msg, *args)
            return
        self._logged[(key, kind)] = now
        getattr(LOGGER, level)(msg, *args)
