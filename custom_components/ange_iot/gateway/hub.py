"""Runtime data of an Ånge IoT gateway entry: the uplink hub and its device states.

Push-based like HA's MQTT-fed integrations: no polling. Every transport hands messages
to ``GatewayHub``; entities listen on a per-device dispatcher signal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    ConfigEntry,
    ConfigSubentry,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    discovery_flow,
    entity_platform,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later, async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..angelib import generic
from ..angelib.catalog import guess_model
from ..angelib.device import AppliedFrames, DeviceConfig, DeviceState
from ..angelib.lns import chirpstack
from ..angelib.lns.chirpstack import JoinEvent, StatusEvent
from ..angelib.names import device_name
from ..angelib.pipeline import Outcome, Pipeline, Result, TrackedDevice
from ..angelib.simulator import Scenario
from ..angelib.uplink import MessageError, Uplink
from ..const import (
    CONF_AREA,
    CONF_DEV_EUI,
    CONF_FIELDS,
    CONF_GATEWAY,
    CONF_INVERT_DOOR,
    CONF_MISSED_REPORTS,
    CONF_MODEL,
    CONF_MODEL_TEXT,
    CONF_MOUNTING_HEIGHT,
    CONF_REPORT_INTERVAL,
    CONF_SEEN_FIELDS,
    CONF_SILENCE_LIMIT,
    DEFAULT_SILENCE_LIMIT_MIN,
    DOMAIN,
    GATEWAY_SIMULATED,
    LOGGER,
    SAVE_DELAY_S,
    STORAGE_VERSION,
    SUBENTRY_DEVICE,
    device_signal,
    new_fields_signal,
)
from ..router import get_router
from ..storage import DelayedSave
from .capacity import async_check_capacity

if TYPE_CHECKING:
    from .transport import Gateway

type GatewayConfigEntry = ConfigEntry[GatewayHub]
type LnsEvent = Uplink | StatusEvent | JoinEvent
# How an entity platform makes the entities of one device (by DevEUI).
type DeviceEntityFactory = Callable[[str], list[Entity]]

MAX_CLOCK_SKEW = timedelta(minutes=5)
LOG_EVERY = timedelta(hours=1)  # each kind of bad input is logged at most hourly per key
COUNTER_UPDATE_S = 1.0  # gateway counters are written to HA at most once a second


class Reject:
    """Kinds of bad input a gateway counts in its "rejected messages" sensor."""

    MALFORMED = "malformed"  # not JSON, wrong shape, bad base64, missing DevEUI, ...
    OVERSIZED = "oversized"
    UNAUTHORIZED = "unauthorized"  # webhook call without or with a wrong secret
    DECODE = "decode"  # the device's codec refused the payload


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
        field_overrides=generic.parse_overrides(data.get(CONF_FIELDS)),
        model_text=data.get(CONF_MODEL_TEXT) or None,
    )


def seed_generic_state(state: DeviceState, data: Any) -> None:
    """A new generic device starts with the fields its discovering uplink showed."""
    if state.generic is not None:
        return
    state.generic = generic.GenericState()
    seen = data.get(CONF_SEEN_FIELDS)
    if isinstance(seen, list):
        state.generic = generic.GenericState.from_dict({"fields": seen})


@dataclass(slots=True)
class GatewayStats:
    """Counters shown on the gateway device and in diagnostics."""

    messages: int = 0  # everything the transport delivered, good or bad
    uplinks: int = 0  # parsed uplinks handed on (to this or another entry)
    rejected: Counter[str] = field(default_factory=Counter)
    last_message: datetime | None = None

    @property
    def malformed(self) -> int:
        """Messages that could not be parsed (one kind of rejection)."""
        return self.rejected[Reject.MALFORMED]

    @property
    def rejected_total(self) -> int:
        """All rejected messages, whatever the reason."""
        return sum(self.rejected.values())


@dataclass
class GatewayHub:
    """Everything one gateway entry runs: pipeline, device states, timers, store."""

    hass: HomeAssistant
    entry: GatewayConfigEntry
    pipeline: Pipeline = field(default_factory=Pipeline)
    stats: GatewayStats = field(default_factory=GatewayStats)
    subentry_ids: dict[str, str] = field(default_factory=dict)  # dev_eui -> subentry id
    gateway: Gateway | None = None
    gateway_device_id: str = ""
    # The entry's subentries mapping last applied (HA replaces it when one is added or
    # removed; a changed subentry is updated in place, so this only tells of those two).
    applied_subentries: Mapping[str, ConfigSubentry] | None = None
    # Per entity platform: how it makes a device's entities, and its add callback.
    entity_factories: dict[str, tuple[DeviceEntityFactory, AddConfigEntryEntitiesCallback]] = field(
        default_factory=dict
    )
    option_scenarios: set[tuple[Scenario, str]] = field(default_factory=set)
    _saver: DelayedSave | None = None
    _timers: dict[str, CALLBACK_TYPE] = field(default_factory=dict)
    _timer_due: dict[str, datetime] = field(default_factory=dict)  # when each timer fires
    _available: dict[str, bool] = field(default_factory=dict)
    _logged: dict[tuple[str, str], datetime] = field(default_factory=dict)
    _decoded_seen: set[str] = field(default_factory=set)  # generic devices decoded this run
    _listeners: list[Callable[[], None]] = field(default_factory=list)
    _notify_pending: CALLBACK_TYPE | None = None
    _silence_timer: CALLBACK_TYPE | None = None
    silent: bool = False  # the gateway's "no traffic" repair issue is raised
    # The Things Stack backfill: newest uplink this gateway received (persisted).
    backfill_position: datetime | None = None

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
        self.applied_subentries = self.entry.subentries  # what the pipeline is built from
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
                self._available[config.dev_eui] = state.available(config, now)
            self._schedule_unavailable(config.dev_eui)
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
        self._start_silence_watchdog()

    async def async_shutdown(self) -> None:
        """Cancel timers and write the device states before the entry finishes unloading.

        Awaited (not a delayed save), so a reload right after reads what was just written.
        """
        for unsub in self._timers.values():
            unsub()
        self._timers.clear()
        self._timer_due.clear()
        for pending in (self._silence_timer, self._notify_pending):
            if pending is not None:
                pending()
        self._silence_timer = self._notify_pending = None
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
        if owner is None and _async_apply_pending_subentries(self.hass):
            owner = self._owner(event.dev_eui)  # a device just added
        self._schedule_notify()
        if owner is None:
            if isinstance(event, Uplink):
                self.pipeline.counters[Outcome.UNKNOWN_DEVICE] += 1
                self._async_unknown_device(event)
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
            async_dispatcher_send(self.hass, self.signal(event.dev_eui))

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
    def _async_unknown_device(self, uplink: Uplink) -> None:
        """Offer to add a device this site has not added (once per DevEUI and run)."""
        self._log_once(
            uplink.dev_eui,
            "unknown",
            "Uplink from DevEUI %s, which is not added to any Ånge IoT gateway; ignored",
            uplink.dev_eui,
            level="debug",
        )
        if self.entry.data.get(CONF_GATEWAY) == GATEWAY_SIMULATED:
            return  # a demo device the user removed: not worth a notice each restart
        router = get_router(self.hass)
        if uplink.dev_eui in router.discovered:
            return
        router.discovered.add(uplink.dev_eui)
        model = guess_model(uplink.profile_hint)
        seen = generic.preview(uplink.lns_object, uplink.lns_normalized)
        model_id = model.id if model else (generic.GENERIC_MODEL_ID if seen else None)
        discovery_flow.async_create_flow(
            self.hass,
            DOMAIN,
            context={"source": SOURCE_INTEGRATION_DISCOVERY},
            data={
                "dev_eui": uplink.dev_eui,
                "gateway_entry_id": self.entry.entry_id,
                "gateway": self.entry.title,
                "profile": uplink.profile_hint or "",
                "model": model_id,
                # What the network server decoded: shown, and the generic device's first map.
                "fields": [spec.as_dict() for spec, _value in seen],
                "values": {spec.key: value for spec, value in seen},
            },
        )

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
            elif not tracked.state.volume_decreased:
                # Resolved by a normal reading: a later decrease is news again.
                self._logged.pop((dev_eui, "volume_decreased"), None)
            self._set_available(dev_eui, tracked.state.available(tracked.config, dt_util.utcnow()))
            self._schedule_unavailable(dev_eui)
            self._save()
            async_dispatcher_send(self.hass, self.signal(dev_eui))
            async_dispatcher_send(
                self.hass, device_signal(dev_eui), result.applied, uplink.received_at
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
            async_dispatcher_send(self.hass, self.signal(uplink.dev_eui))
        self._schedule_notify()
        return result

    @callback
    def _generic_outcome(self, config: DeviceConfig, outcome: generic.GenericResult) -> None:
        """Say once what went wrong with a generic device; announce its new fields."""
        dev_eui = config.dev_eui
        if outcome.new_fields:
            async_dispatcher_send(self.hass, new_fields_signal(self.entry.entry_id), dev_eui)
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
        LOGGER.info(
            "Meter %s: accepted %s m³ as its new reading",
            tracked.config.name,
            tracked.state.values.get("volume"),
        )
        self._save()
        async_dispatcher_send(self.hass, self.signal(dev_eui))
        async_dispatcher_send(self.hass, device_signal(dev_eui), None, None)

    @callback
    def async_set_backfill_position(self, received_at: datetime) -> None:
        """Remember the newest uplink received so far (never moves back); saved with states."""
        if self.backfill_position is None or received_at > self.backfill_position:
            self.backfill_position = received_at
            self._save()

    # -- devices added, changed or removed (subentries), applied in place ------------

    @callback
    def async_register_entity_factory(
        self,
        platform: str,
        factory: DeviceEntityFactory,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        """An entity platform set up: add its entities of every device, and later ones."""
        self.entity_factories[platform] = (factory, async_add_entities)
        for dev_eui, subentry_id in self.subentry_ids.items():
            async_add_entities(factory(dev_eui), config_subentry_id=subentry_id)

    @property
    def subentries_pending(self) -> bool:
        """Was a subentry added or removed since the subentries were last applied?"""
        return self.entry.subentries is not self.applied_subentries

    @callback
    def async_apply_subentries(self) -> None:
        """Make the running devices match the entry's device subentries, in place.

        Synchronous, so two changes in a row cannot interleave; compares what runs (the
        pipeline's device configs) with the subentries, so nothing is applied twice or
        missed. Other devices are not touched: their uplinks keep flowing.
        """
        subentries = self.entry.subentries
        self.applied_subentries = subentries
        wanted = {
            sid: device_config_from_subentry(s.data, s.title)
            for sid, s in subentries.items()
            if s.subentry_type == SUBENTRY_DEVICE
        }
        running = {sid: dev_eui for dev_eui, sid in self.subentry_ids.items()}
        for sid, dev_eui in running.items():
            config = wanted.get(sid)
            if config is None or config.dev_eui != dev_eui:
                self._async_remove_device(sid, dev_eui)
        for sid, config in wanted.items():
            tracked = self.pipeline.devices.get(config.dev_eui)
            if tracked is not None:  # learned at run time, not configured
                config.learned_interval_s = tracked.config.learned_interval_s
            if self.subentry_ids.get(config.dev_eui) != sid:
                self._async_add_device(sid, config)
            elif tracked is not None and tracked.config != config:
                self._async_update_device(sid, config)
        async_check_capacity(self)  # HA's entity cap per entry: warn before it (capacity.py)

    def _async_add_device(self, subentry_id: str, config: DeviceConfig) -> None:
        """A new device: tracked, owned, timed, its device and entities created."""
        dev_eui = config.dev_eui
        state = DeviceState()
        if config.is_generic:
            seed_generic_state(state, self.entry.subentries[subentry_id].data)
        self.pipeline.add_device(config, state)
        self.subentry_ids[dev_eui] = subentry_id
        router = get_router(self.hass)
        if (other := router.owners.get(dev_eui)) is not None and other is not self:
            LOGGER.warning(
                "DevEUI %s is added to both %s and %s; uplinks go to %s",
                dev_eui, other.entry.title, self.entry.title, other.entry.title,
            )  # fmt: skip
        else:
            router.owners[dev_eui] = self
        self._schedule_unavailable(dev_eui)
        for factory, add_entities in self.entity_factories.values():
            add_entities(factory(dev_eui), config_subentry_id=subentry_id)
        if self.gateway is not None:
            self.gateway.async_device_added(dev_eui)
        self._save()
        async_dispatcher_send(self.hass, device_signal(dev_eui), None, None)

    def _async_update_device(self, subentry_id: str, config: DeviceConfig) -> None:
        """A changed device: new config, same state; only entities it gains or loses change."""
        dev_eui = config.dev_eui
        tracked = self.pipeline.add_device(config)  # keeps the device's state
        if config.is_generic:
            seed_generic_state(tracked.state, self.entry.subentries[subentry_id].data)
        if unsub := self._timers.pop(dev_eui, None):
            unsub()
        self._timer_due.pop(dev_eui, None)
        if tracked.state.last_seen is not None:
            self._set_available(dev_eui, tracked.state.available(config, dt_util.utcnow()))
        self._schedule_unavailable(dev_eui)
        registry = er.async_get(self.hass)
        wanted: set[tuple[str, str]] = set()
        for platform, (factory, _add) in self.entity_factories.items():
            wanted.update((platform, str(entity.unique_id)) for entity in factory(dev_eui))
        # Its entities are built anew from the new config (a corrected unit or meaning, a
        # new name); their ids stay. The other devices' entities are not touched.
        self.hass.async_create_task(
            self._async_rebuild_entities(subentry_id, dev_eui),
            f"{DOMAIN} rebuild entities of {dev_eui}",
            eager_start=True,
        )
        for entry in er.async_entries_for_config_entry(registry, self.entry.entry_id):
            if (
                entry.config_subentry_id == subentry_id
                and entry.domain in self.entity_factories
                and (entry.domain, entry.unique_id) not in wanted
            ):
                registry.async_remove(entry.entity_id)  # e.g. another model, no mounting height
        devices = dr.async_get(self.hass)
        if device := devices.async_get_device_by_identifier((DOMAIN, dev_eui), self.entry.entry_id):
            devices.async_update_device(  # what a reload would write (the area stays)
                device.id,
                name=device_name(config.name, config.area),
                manufacturer=config.model.manufacturer,
                model=config.model.name,
                model_id=config.model.id,
            )
        async_dispatcher_send(self.hass, self.signal(dev_eui))
        async_dispatcher_send(self.hass, device_signal(dev_eui), None, None)

    async def _async_rebuild_entities(self, subentry_id: str, dev_eui: str) -> None:
        """Replace the live entities of one changed device with ones from its new config."""
        live = [
            entity
            for platform in entity_platform.async_get_platforms(self.hass, DOMAIN)
            if platform.config_entry is not None
            and platform.config_entry.entry_id == self.entry.entry_id
            and platform.domain in self.entity_factories
            for entity in list(platform.entities.values())
            if entity.registry_entry is not None
            and entity.registry_entry.config_subentry_id == subentry_id
        ]
        for entity in live:
            await entity.async_remove()
        if self.subentry_ids.get(dev_eui) != subentry_id:
            return  # removed meanwhile
        for factory, add_entities in self.entity_factories.values():
            add_entities(factory(dev_eui), config_subentry_id=subentry_id)

    def _async_remove_device(self, subentry_id: str, dev_eui: str) -> None:
        """A removed device: untracked, its timer, ownership, entities and device gone."""
        if unsub := self._timers.pop(dev_eui, None):
            unsub()
        self._timer_due.pop(dev_eui, None)
        self._available.pop(dev_eui, None)
        self.pipeline.remove_device(dev_eui)
        self.subentry_ids.pop(dev_eui, None)
        router = get_router(self.hass)
        if router.owners.get(dev_eui) is self:
            del router.owners[dev_eui]
        # As Home Assistant does when it removes the subentry (a second clear is a no-op).
        entry_id = self.entry.entry_id
        er.async_get(self.hass).async_clear_config_subentry(entry_id, subentry_id)
        dr.async_get(self.hass).async_clear_config_subentry(entry_id, subentry_id, DOMAIN)
        self._save()
        async_dispatcher_send(self.hass, device_signal(dev_eui), None, None)

    # -- availability ---------------------------------------------------------------

    def _schedule_unavailable(self, dev_eui: str) -> None:
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
        if unsub := self._timers.pop(dev_eui, None):
            unsub()
        self._timer_due.pop(dev_eui, None)
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
                self._schedule_unavailable(dev_eui)  # it reported since: the new deadline
                return
            self._set_available(dev_eui, available)
            async_dispatcher_send(self.hass, self.signal(dev_eui))
            async_dispatcher_send(self.hass, device_signal(dev_eui), None, None)

        self._timer_due[dev_eui] = when
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

    def _schedule_notify(self) -> None:
        """Tell hub listeners (gateway counters) at most once a second."""
        if self._notify_pending is not None:
            return

        @callback
        def _run(_now: datetime) -> None:
            self._notify_pending = None
            for listener in list(self._listeners):
                listener()

        self._notify_pending = async_call_later(self.hass, COUNTER_UPDATE_S, _run)

    def _count_message(self) -> None:
        """Book one message from the transport; traffic clears a silence issue."""
        self.stats.messages += 1
        self.stats.last_message = dt_util.utcnow()
        if self.silent:
            self.silent = False
            ir.async_delete_issue(self.hass, DOMAIN, self.silence_issue_id)
            LOGGER.info("%s: messages arrive again", self.entry.title)
            if self.gateway is not None:
                self.gateway.async_traffic_resumed()
            self._signal_all_devices()
        if self._silence_timer is None:
            self._start_silence_watchdog()

    def _signal_all_devices(self) -> None:
        for dev_eui in self.pipeline.devices:
            async_dispatcher_send(self.hass, device_signal(dev_eui), None, None)

    @property
    def silence_issue_id(self) -> str:
        """Repair issue id for this gateway going silent."""
        return f"gateway_silent_{self.entry.entry_id}"

    @property
    def silence_limit(self) -> timedelta:
        """How long the gateway may be quiet before a repair issue is raised."""
        minutes = self.entry.options.get(CONF_SILENCE_LIMIT, DEFAULT_SILENCE_LIMIT_MIN)
        return timedelta(minutes=float(minutes))

    @callback
    def async_silence_limit_changed(self) -> None:
        """Re-arm a running silence watchdog for a changed ``silence_limit`` option."""
        if self._silence_timer is not None:
            self._silence_timer()
            self._silence_timer = None
            self._start_silence_watchdog()

    def _start_silence_watchdog(self) -> None:
        """One timer per silence period (not per message): cheap at any message rate."""
        if self.stats.last_message is None or self.entry.data.get(CONF_GATEWAY) == (
            GATEWAY_SIMULATED
        ):
            return  # never delivered yet: nothing went silent
        due = max(self.stats.last_message + self.silence_limit, dt_util.utcnow())

        @callback
        def _check(_scheduled: datetime) -> None:
            self._silence_timer = None
            last = self.stats.last_message
            now = dt_util.utcnow()
            if last is not None and now - last < self.silence_limit:
                self._start_silence_watchdog()
                return
            self.silent = True
            self._signal_all_devices()  # care checks: a silent gateway means "cannot tell"
            LOGGER.warning(
                "%s: no messages since %s (limit %s)", self.entry.title, last, self.silence_limit
            )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self.silence_issue_id,
                is_fixable=False,
                is_persistent=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="gateway_silent",
                translation_placeholders={
                    "gateway": self.entry.title,
                    "since": last.isoformat(timespec="minutes") if last else "-",
                    "minutes": str(round(self.silence_limit.total_seconds() / 60)),
                },
            )

        self._silence_timer = async_track_point_in_utc_time(self.hass, _check, due)

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


@callback
def _async_apply_pending_subentries(hass: HomeAssistant) -> bool:
    """Apply devices added moments ago whose update listener has not run yet.

    For an uplink of a DevEUI no entry owns: the first uplink after its subentry exists
    is applied, not dropped. Returns whether anything was pending.
    """
    pending = False
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        hub = getattr(entry, "runtime_data", None)
        if isinstance(hub, GatewayHub) and hub.subentries_pending:
            hub.async_apply_subentries()
            pending = True
    return pending
