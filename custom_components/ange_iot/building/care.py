"""Runtime of a building entry: care checks for its apartments, on HA's clock.

A building is its own config entry (apartments are its subentries), so a building may hold
sensors heard by any gateway: sensor state comes from whichever gateway entry owns the
DevEUI (the domain-wide router). The rules are the pure ``angelib.care`` engine; this
layer feeds it activity from uplinks, calls it again at the exact ``next_wakeup`` with
``async_track_point_in_utc_time`` (no polling), persists each apartment's state with
``Store`` after every change, and turns its events into the building's event entity.
After a restart the stored state is evaluated at once: a deadline that passed while Home
Assistant was down fires once, marked late; nothing fires twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.dispatcher import async_dispatcher_connect, async_dispatcher_send
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ..angelib import care
from ..angelib.care import ApartmentState, CareEvent, CareSettings, Evaluation, SensorHealth
from ..angelib.device import ApplyResult
from ..angelib.followup import FollowUp
from ..const import (
    CONF_LABEL,
    CONF_SENSORS,
    DOMAIN,
    LOGGER,
    STORAGE_VERSION,
    SUBENTRY_APARTMENT,
    SUBENTRY_SNOW_SITE,
    SUBENTRY_WATER_METER,
)
from ..router import get_router
from ..signals import SIGNAL_DEVICE_CHANGED
from ..storage import DelayedSave

if TYPE_CHECKING:
    from .snow import SnowRuntime
    from .water import WaterRuntime

type PartAdder = Callable[[str, str], None]  # (subentry type, subentry id)
type BuildingConfigEntry = ConfigEntry[BuildingRuntime]

CARE_SAVE_DELAY_S = 2  # short: care state must survive a crash, not only a clean stop
DATA_ONLINE_SINCE: HassKey[datetime] = HassKey(f"{DOMAIN}_online_since")
ESCALATED = "escalated"  # event type: an armed escalation came due unacknowledged
# Storms collapse by cause: many apartments that cannot tell for one reason get one event.
INCIDENT = "incident"  # several apartments cannot tell: one silent gateway, or downtime
INCIDENT_RESOLVED = "incident_resolved"  # every apartment of the incident can tell again
CAUSE_GATEWAY = "gateway_down"
CAUSE_DOWNTIME = "downtime"


@dataclass
class ApartmentRuntime:
    """One apartment: its settings, sensors (DevEUIs), engine state and last evaluation."""

    subentry_id: str
    label: str
    settings: CareSettings
    sensors: tuple[str, ...]
    state: ApartmentState
    evaluation: Evaluation | None = None
    timer: CALLBACK_TYPE | None = None
    # Escalations armed by a notification automation: alert id -> when to escalate.
    escalations: dict[str, datetime] = field(default_factory=dict)


@dataclass
class BuildingRuntime:
    """Everything a building entry runs."""

    hass: HomeAssistant
    entry: BuildingConfigEntry
    apartments: dict[str, ApartmentRuntime] = field(default_factory=dict)
    building_device_id: str = ""
    # The last report time and silence limit of each sensor, as last seen through its
    # gateway: used while that gateway is not loaded (not yet at startup, or reloading).
    known_sensors: dict[str, SensorHealth] = field(default_factory=dict)
    water: WaterRuntime = field(init=False)  # the building's water meters (set up beside)
    snow: SnowRuntime = field(init=False)  # the building's snow-clearing sites
    _saver: DelayedSave | None = None
    _unsubs: list[Callable[[], None]] = field(default_factory=list)
    _started: bool = False
    # Apartments whose stored care state was lost (unreadable store): re-judged at start.
    lost: set[str] = field(default_factory=set)
    _index: Store[dict[str, Any]] | None = None
    _indexed: frozenset[str] = frozenset()
    # Each alert's course for follow-up (time to acknowledge, to resolve), kept 90 days.
    followup: FollowUp = field(default_factory=FollowUp)
    # Open incidents: id -> cause, since, and the alert ids grouped in it (stored).
    incidents: dict[str, Incident] = field(default_factory=dict)
    _incident_batch: dict[str, list[tuple[ApartmentRuntime, CareEvent]]] = field(
        default_factory=dict
    )
    _incident_flush: asyncio.Handle | None = None
    # Per entity platform: adds the entities of one part (subentry type, subentry id).
    part_adders: list[PartAdder] = field(default_factory=list)
    _sensor_unsubs: dict[str, list[CALLBACK_TYPE]] = field(default_factory=dict)

    @property
    def event_signal(self) -> str:
        """Dispatcher signal carrying care events to the building's event entity."""
        return f"{DOMAIN}_{self.entry.entry_id}_care_event"

    def apartment_signal(self, subentry_id: str) -> str:
        """Dispatcher signal telling an apartment's entities to refresh."""
        return f"{DOMAIN}_{self.entry.entry_id}_{subentry_id}_care"

    @property
    def defaults(self) -> CareSettings:
        """The building's default settings (its options), in Home Assistant's time zone."""
        return settings_from(
            self.entry.options, CareSettings(timezone=str(self.hass.config.time_zone))
        )

    async def async_setup(self) -> None:
        """Load stored states and build the apartments (evaluation starts later)."""
        store = care_store(self.hass, self.entry.entry_id)
        self._saver = DelayedSave(store, self._snapshot, CARE_SAVE_DELAY_S)
        self._index = care_index_store(self.hass, self.entry.entry_id)
        stored = await store.async_load()
        index = await self._index.async_load()
        states = stored.get("apartments") if isinstance(stored, dict) else None
        if not isinstance(states, dict):
            states = {}
        escalations = stored.get("escalations") if isinstance(stored, dict) else None
        if not isinstance(escalations, dict):
            escalations = {}
        sensors = stored.get("sensors") if isinstance(stored, dict) else None
        self.known_sensors = _parse_sensors(sensors)
        self.incidents = _parse_incidents(
            stored.get("incidents") if isinstance(stored, dict) else None
        )
        self.followup = FollowUp.from_list(
            stored.get("followup") if isinstance(stored, dict) else None
        )
        defaults = self.defaults
        for subentry in self.entry.subentries.values():
            if subentry.subentry_type != SUBENTRY_APARTMENT:
                continue
            self.apartments[subentry.subentry_id] = ApartmentRuntime(
                subentry_id=subentry.subentry_id,
                label=subentry.data.get(CONF_LABEL) or subentry.title,
                settings=settings_from(subentry.data, defaults),
                sensors=tuple(subentry.data.get(CONF_SENSORS) or ()),
                state=ApartmentState.from_dict(states.get(subentry.subentry_id)),
                escalations=_parse_escalations(escalations.get(subentry.subentry_id)),
            )
        # The index says which apartments had stored state. One that had and has none now
        # lost it (Home Assistant renames an unreadable store away and starts without it).
        had = index.get("apartments") if isinstance(index, dict) else None
        self._indexed = (
            frozenset(a for a in had if isinstance(a, str))
            if isinstance(had, list)
            else frozenset()
        )
        self.lost = {sid for sid in self.apartments if sid in self._indexed and sid not in states}

        if self.lost:
            self._raise_lost_issue()

    @callback
    def async_follow_sensors(self) -> None:
        """Record activity from the sensors from setup on, before evaluation starts.

        At boot the first evaluation waits until Home Assistant has started, but a resident
        seen meanwhile must count: activity is recorded now and judged then.
        """
        for apartment in self.apartments.values():
            self._follow(apartment)

    @callback
    def async_start(self) -> None:
        """Evaluate every apartment now (entities exist and automations listen by now)."""
        self._started = True
        for subentry_id in sorted(self.lost):
            if (apartment := self.apartments.get(subentry_id)) is not None:
                self._rejudge_today(apartment)
        self.lost.clear()
        for apartment in self.apartments.values():
            self.async_evaluate(apartment.subentry_id)

    def _rejudge_today(self, apartment: ApartmentRuntime) -> None:
        """Care state lost: judge today again from what the sensors' gateways still know.

        Never "all is well" from nothing: watching starts at the apartment's last known
        activity if that was today (deadlines before it were met or are moot: the resident
        has been seen since), else at midnight, so a check missed today fires again, late.
        A sensor whose gateway cannot say is "cannot tell". Acknowledgements, pauses and
        night-door openings are not in the device store: the repair issue says so.
        """
        zone = apartment.settings.zone
        midnight = datetime.combine(dt_util.utcnow().astimezone(zone).date(), time(), zone)
        router = get_router(self.hass)
        seen: list[datetime] = []
        for dev_eui in apartment.sensors:
            tracked = router.tracked(dev_eui)
            if tracked is not None and tracked.state.last_activity is not None:
                seen.append(tracked.state.last_activity)
        start = max([midnight.astimezone(UTC), *seen])
        state = apartment.state
        state.started = state.evaluated = state.reset_at = start
        if seen:
            care.record_activity(state, max(seen))
        LOGGER.warning(
            "%s: the care state of %s was lost; today's checks are judged again from %s",
            self.entry.title,
            apartment.label,
            start.astimezone(zone).isoformat(timespec="minutes"),
        )

    def _raise_lost_issue(self) -> None:
        labels = sorted(self.apartments[sid].label for sid in self.lost)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"care_state_lost_{self.entry.entry_id}",
            is_fixable=True,
            is_persistent=True,
            severity=ir.IssueSeverity.ERROR,
            translation_key="care_state_lost",
            translation_placeholders={
                "building": self.entry.title,
                "apartments": ", ".join(labels),
            },
        )

    @property
    def running(self) -> bool:
        """Evaluating (from ``async_start`` until ``async_shutdown``)."""
        return self._started

    async def async_shutdown(self) -> None:
        """Cancel timers and write the states before the entry finishes unloading."""
        if self._incident_flush is not None:  # events of this loop turn still go out
            self._incident_flush.cancel()
            self._flush_incidents()
        self._started = False
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        for subentry_id in list(self._sensor_unsubs):
            self._unfollow(subentry_id)
        for apartment in self.apartments.values():
            if apartment.timer is not None:
                apartment.timer()
                apartment.timer = None
        if self._saver is not None:
            await self._saver.async_save_now()

    def _follow(self, apartment: ApartmentRuntime) -> None:
        """Take the activity of the apartment's sensors (and only of those)."""
        self._unfollow(apartment.subentry_id)
        self._sensor_unsubs[apartment.subentry_id] = [
            async_dispatcher_connect(
                self.hass,
                SIGNAL_DEVICE_CHANGED.format(dev_eui),
                self._device_callback(apartment.subentry_id),
            )
            for dev_eui in apartment.sensors
        ]

    def _unfollow(self, subentry_id: str) -> None:
        for unsub in self._sensor_unsubs.pop(subentry_id, ()):
            unsub()

    # -- apartments, meters and sites added, changed or removed: applied in place -------

    @callback
    def async_register_part_adder(self, adder: PartAdder) -> None:
        """An entity platform set up: add its entities of every part, and of later ones."""
        self.part_adders.append(adder)
        for subentry_id in self.apartments:
            adder(SUBENTRY_APARTMENT, subentry_id)
        for meter in self.water.meters.values():
            adder(SUBENTRY_WATER_METER, meter.subentry_id)
        for subentry_id in self.snow.sites:
            adder(SUBENTRY_SNOW_SITE, subentry_id)

    @callback
    def async_apply_changes(self) -> None:
        """Make the running building match its subentries and defaults, in place.

        A changed apartment, meter or site (or changed building defaults) is updated where
        it runs and judged again; an added one starts, a removed one stops. The others
        are not touched: a settings change is not downtime, and nothing is reported late.
        Synchronous, so two changes in a row cannot interleave.
        """
        added = self._apply_apartments()
        added += self.water.async_apply_subentries()
        added += self.snow.async_apply_subentries()
        for subentry_type, subentry_id in added:
            for adder in self.part_adders:
                adder(subentry_type, subentry_id)
        async_dispatcher_send(self.hass, self.building_signal)

    def _apply_apartments(self) -> list[tuple[str, str]]:
        defaults = self.defaults
        wanted = {
            sid: subentry
            for sid, subentry in self.entry.subentries.items()
            if subentry.subentry_type == SUBENTRY_APARTMENT
        }
        for subentry_id in [sid for sid in self.apartments if sid not in wanted]:
            self._remove_apartment(subentry_id)
        added: list[tuple[str, str]] = []
        for subentry_id, subentry in wanted.items():
            label = subentry.data.get(CONF_LABEL) or subentry.title
            settings = settings_from(subentry.data, defaults)
            sensors = tuple(subentry.data.get(CONF_SENSORS) or ())
            apartment = self.apartments.get(subentry_id)
            if apartment is None:
                apartment = self.apartments[subentry_id] = ApartmentRuntime(
                    subentry_id=subentry_id,
                    label=label,
                    settings=settings,
                    sensors=sensors,
                    state=ApartmentState.from_dict(None),
                )
                self._apartment_device(apartment)
                self._follow(apartment)
                added.append((SUBENTRY_APARTMENT, subentry_id))
            elif (apartment.label, apartment.settings, apartment.sensors) != (
                label,
                settings,
                sensors,
            ):
                renamed = apartment.label != label
                apartment.label, apartment.settings = label, settings
                if apartment.sensors != sensors:
                    apartment.sensors = sensors
                    self._follow(apartment)
                if renamed:
                    self._apartment_device(apartment)
            else:
                continue
            if self.running:
                self.async_evaluate(subentry_id)  # its stored state is kept
            else:
                self._save()
        return added

    def _apartment_device(self, apartment: ApartmentRuntime) -> None:
        """Create or rename the apartment's device (before any alert names it)."""
        devices = dr.async_get(self.hass)
        identifier = (DOMAIN, f"apartment_{apartment.subentry_id}")
        if device := devices.async_get_device_by_identifier(identifier, self.entry.entry_id):
            devices.async_update_device(device.id, name=apartment.label)
            return
        devices.async_get_or_create(
            config_entry_id=self.entry.entry_id,
            config_subentry_id=apartment.subentry_id,
            identifiers={identifier},
            name=apartment.label,
            manufacturer="Ånge IoT",
            via_device_id=self.building_device_id,
            suggested_area=apartment.label,
        )

    def _remove_apartment(self, subentry_id: str) -> None:
        apartment = self.apartments.pop(subentry_id)
        self._unfollow(subentry_id)
        if apartment.timer is not None:
            apartment.timer()
            apartment.timer = None
        # As Home Assistant does when it removes the subentry (a second clear is a no-op).
        er.async_get(self.hass).async_clear_config_subentry(self.entry.entry_id, subentry_id)
        dr.async_get(self.hass).async_clear_config_subentry(
            self.entry.entry_id, subentry_id, DOMAIN
        )
        self._save()  # its state leaves the store

    # -- inputs ------------------------------------------------------------------------

    def _device_callback(
        self, subentry_id: str
    ) -> Callable[[ApplyResult | None, datetime | None], None]:
        @callback
        def _on_device(applied: ApplyResult | None, received_at: datetime | None) -> None:
            apartment = self.apartments.get(subentry_id)
            if apartment is None:
                return
            if applied is not None and applied.activity and received_at is not None:
                care.record_activity(
                    apartment.state, received_at, care.activity_kind(applied.fields)
                )
            if self.running:
                self.async_evaluate(subentry_id)
            else:
                self._save()  # recorded before the first evaluation: keep it

        return _on_device

    @callback
    def async_acknowledge(self, subentry_id: str, user: str, alert_id: str | None = None) -> bool:
        """Someone is on it; returns False when there was nothing to acknowledge."""
        apartment = self.apartments[subentry_id]
        done = care.acknowledge(apartment.state, user, dt_util.utcnow(), alert_id=alert_id)
        self.async_evaluate(subentry_id)
        return done

    @callback
    def async_pause(self, subentry_id: str, until: datetime | None) -> None:
        """Pause the checks (resident away or visited) until ``until`` or a resume."""
        apartment = self.apartments[subentry_id]
        care.pause(apartment.state, until, dt_util.utcnow())
        self.async_evaluate(subentry_id)

    @callback
    def async_resume(self, subentry_id: str) -> bool:
        """Resume paused checks; False if they were not paused."""
        apartment = self.apartments[subentry_id]
        done = care.resume(apartment.state, dt_util.utcnow())
        self.async_evaluate(subentry_id)
        return done

    @callback
    def async_arm_escalation(self, subentry_id: str, alert_id: str, delay: timedelta) -> bool:
        """Escalate ``alert_id`` after ``delay`` unless acknowledged or resolved first.

        Kept in the integration (and stored), not in a waiting automation run, so the
        escalation still happens if Home Assistant restarts meanwhile. Returns False when
        the alert is not open (already acknowledged, resolved, or unknown).
        """
        apartment = self.apartments[subentry_id]
        if not self._open_unacknowledged(apartment, alert_id):
            return False
        due = dt_util.utcnow() + delay
        current = apartment.escalations.get(alert_id)
        apartment.escalations[alert_id] = min(current, due) if current else due
        self.async_evaluate(subentry_id)
        return True

    @staticmethod
    def _open_unacknowledged(apartment: ApartmentRuntime, alert_id: str) -> bool:
        evaluation = apartment.evaluation
        return evaluation is not None and any(
            alert.id == alert_id and alert.waiting for alert in evaluation.open_alerts
        )

    def _escalate_due(self, apartment: ApartmentRuntime, now: datetime) -> datetime | None:
        """Fire due escalations of the open alert; drop those of closed alerts."""
        evaluation = apartment.evaluation
        next_due: datetime | None = None
        for alert_id, due in list(apartment.escalations.items()):
            if not self._open_unacknowledged(apartment, alert_id):
                del apartment.escalations[alert_id]
                continue
            if due > now:
                next_due = due if next_due is None else min(next_due, due)
                continue
            del apartment.escalations[alert_id]
            assert evaluation is not None
            alert = next(a for a in evaluation.open_alerts if a.id == alert_id)
            self._send(
                apartment,
                ESCALATED,
                {
                    "apartment": apartment.label,
                    "reason": alert.reason,
                    "since": alert.since.isoformat(),
                    "late": due < online_since(self.hass),
                    "id": f"{alert_id}:escalated",
                    "alert_id": alert_id,
                },
            )
        return next_due

    # -- evaluation --------------------------------------------------------------------

    @callback
    def async_evaluate(self, subentry_id: str) -> Evaluation | None:
        """Run the engine for one apartment now; fire its events; re-arm its timer."""
        apartment = self.apartments.get(subentry_id)
        if apartment is None or not self._started:
            return None
        now = dt_util.utcnow()
        evaluation = care.evaluate(
            apartment.label,
            apartment.settings,
            apartment.state,
            self._health(apartment),
            now,
            online_since=online_since(self.hass),
        )
        apartment.evaluation = evaluation
        for event in evaluation.events:
            self._fire(apartment, event)
        escalation = self._escalate_due(apartment, now)
        wakeups = [t for t in (evaluation.next_wakeup, escalation) if t is not None]
        self._arm(apartment, min(wakeups) if wakeups else None)
        self._save()
        async_dispatcher_send(self.hass, self.apartment_signal(subentry_id))
        async_dispatcher_send(self.hass, self.building_signal)
        return evaluation

    @property
    def building_signal(self) -> str:
        """Dispatcher signal for building-wide entities (the attention counter)."""
        return f"{DOMAIN}_{self.entry.entry_id}_building"

    def _health(self, apartment: ApartmentRuntime) -> list[SensorHealth]:
        router = get_router(self.hass)
        health: list[SensorHealth] = []
        for dev_eui in apartment.sensors:
            owner = router.owners.get(dev_eui)
            tracked = owner.tracked(dev_eui) if owner is not None else None
            if owner is None or tracked is None:
                # Its gateway is not loaded (not yet after a restart, or reloading), or the
                # sensor was removed: judged by its last known report, so "cannot tell"
                # once that is older than its silence limit (at once if never known).
                known = self.known_sensors.get(dev_eui)
                health.append(
                    known or SensorHealth(key=dev_eui, last_seen=None, silence_limit=timedelta(0))
                )
                continue
            live = care.sensor_health(tracked.config, tracked.state, gateway_down=owner.silent)
            self.known_sensors[dev_eui] = replace(live, gateway_down=False)
            health.append(live)
        return health

    def _arm(self, apartment: ApartmentRuntime, when: datetime | None) -> None:
        if apartment.timer is not None:
            apartment.timer()
            apartment.timer = None
        if when is None:
            return
        subentry_id = apartment.subentry_id

        @callback
        def _due(_scheduled: datetime) -> None:
            current = self.apartments.get(subentry_id)
            if current is not None:
                current.timer = None
                self.async_evaluate(subentry_id)

        apartment.timer = async_track_point_in_utc_time(self.hass, _due, when)

    def _fire(self, apartment: ApartmentRuntime, event: CareEvent) -> None:
        cause = _incident_cause(event)
        if cause is not None:
            # Held to the end of this loop turn: the other apartments of the same cause are
            # evaluated in the same turn (one gateway signal, one start-up pass).
            self._incident_batch.setdefault(cause, []).append((apartment, event))
            if self._incident_flush is None:
                self._incident_flush = self.hass.loop.call_soon(self._flush_incidents)
            return
        if event.type is care.EventType.RESOLVED and (
            incident_id := self._incident_of(event.alert_id)
        ):
            self._send(apartment, str(event.type), _data(event) | {"incident_id": incident_id})
            self._incident_alert_closed(incident_id, event.alert_id, event.since)
            return
        if event.late:
            LOGGER.warning(
                "%s: %s for %s came due while Home Assistant was not running (since %s)",
                self.entry.title,
                event.type,
                event.apartment,
                event.since.isoformat(timespec="minutes"),
            )
        data = event.as_dict()
        self._send(apartment, data.pop("type"), data)

    def _send(self, apartment: ApartmentRuntime, event_type: str, data: dict[str, Any]) -> None:
        """Hand one care event to the building's event entity, with the apartment's device."""
        device = dr.async_get(self.hass).async_get_device_by_identifier(
            (DOMAIN, f"apartment_{apartment.subentry_id}"), self.entry.entry_id
        )
        data["device_id"] = device.id if device else None
        if self.followup.on_event(event_type, data, dt_util.utcnow()):
            self._save()
        async_dispatcher_send(self.hass, self.event_signal, event_type, data)

    @callback
    def _flush_incidents(self) -> None:
        """One incident per cause for the "cannot tell" alerts of this loop turn.

        The per-apartment events still fire, each carrying ``incident_id``, so every
        apartment shows "cannot tell" and nothing is hidden; a notification blueprint
        rings once, for the incident. A single apartment is no storm: its alert fires alone.
        """
        self._incident_flush = None
        batch, self._incident_batch = self._incident_batch, {}
        for cause, items in batch.items():
            if len(items) == 1:
                apartment, event = items[0]
                self._send(apartment, str(event.type), _data(event))
                continue
            since = min(event.since for _, event in items)
            incident_id = f"incident|{cause}|{since.isoformat()}"
            incident = self.incidents.setdefault(
                incident_id, Incident(cause=cause, since=since, alerts={})
            )
            for apartment, event in items:
                incident.alerts[event.alert_id] = apartment.label
                self._send(apartment, str(event.type), _data(event) | {"incident_id": incident_id})
            labels = sorted(set(incident.alerts.values()))
            LOGGER.warning(
                "%s: cannot tell for %s apartments (%s) since %s",
                self.entry.title,
                len(labels),
                cause,
                since.isoformat(timespec="minutes"),
            )
            async_dispatcher_send(
                self.hass,
                self.event_signal,
                INCIDENT,
                {
                    "cause": cause,
                    "apartments": labels,
                    "gateways": self._silent_gateways(),
                    "since": since.isoformat(),
                    "late": any(event.late for _, event in items),
                    "id": incident_id,
                    "incident_id": incident_id,
                    "device_id": self.building_device_id or None,
                },
            )
        self._save()

    def _silent_gateways(self) -> list[str]:
        router = get_router(self.hass)
        return sorted(
            {
                owner.entry.title
                for apartment in self.apartments.values()
                for dev_eui in apartment.sensors
                if (owner := router.owners.get(dev_eui)) is not None and owner.silent
            }
        )

    def _incident_of(self, alert_id: str) -> str | None:
        return next((i for i, inc in self.incidents.items() if alert_id in inc.alerts), None)

    def _incident_alert_closed(self, incident_id: str, alert_id: str, at: datetime) -> None:
        incident = self.incidents[incident_id]
        incident.alerts.pop(alert_id, None)
        if incident.alerts:
            return
        del self.incidents[incident_id]
        async_dispatcher_send(
            self.hass,
            self.event_signal,
            INCIDENT_RESOLVED,
            {
                "cause": incident.cause,
                "since": at.isoformat(),
                "late": False,
                "id": f"{incident_id}|resolved",
                "incident_id": incident_id,
                "device_id": self.building_device_id or None,
            },
        )

    def attention_count(self) -> int:
        """Apartments that need a person: a check needed, or we cannot tell."""
        return sum(
            1
            for apartment in self.apartments.values()
            if apartment.evaluation is not None
            and apartment.evaluation.status
            in (care.Status.CHECK_NEEDED, care.Status.SENSOR_OFFLINE)
        )

    def _save(self) -> None:
        if self._saver is not None:
            self._saver.schedule()
        if self._index is not None and self._indexed != (current := frozenset(self.apartments)):
            # Which apartments have stored state: how a lost store is told from a new one.
            self._indexed = current
            self._index.async_delay_save(lambda: {"apartments": sorted(current)}, 1)

    def _snapshot(self) -> dict[str, Any]:
        watched = {key for apartment in self.apartments.values() for key in apartment.sensors}
        return {
            "followup": self.followup.as_list(),
            "incidents": {
                incident_id: {
                    "cause": incident.cause,
                    "since": incident.since.isoformat(),
                    "alerts": incident.alerts,
                }
                for incident_id, incident in self.incidents.items()
            },
            "apartments": {
                sid: apartment.state.as_dict() for sid, apartment in self.apartments.items()
            },
            "escalations": {
                sid: {alert: due.isoformat() for alert, due in apartment.escalations.items()}
                for sid, apartment in self.apartments.items()
                if apartment.escalations
            },
            "sensors": {
                key: {
                    "last_seen": known.last_seen.isoformat() if known.last_seen else None,
                    "silence_limit": round(known.silence_limit.total_seconds()),
                }
                for key, known in self.known_sensors.items()
                if key in watched
            },
        }


def online_since(hass: HomeAssistant) -> datetime:
    """Since when Home Assistant has been running and evaluating (this process).

    Alerts that came due before it came due while Home Assistant was not running: they are
    ``late``, whatever the delay. A reload of the integration is not downtime: the time is
    kept for the whole run (set when Home Assistant has started, or at the first use).
    """
    if (since := hass.data.get(DATA_ONLINE_SINCE)) is None:
        since = hass.data[DATA_ONLINE_SINCE] = dt_util.utcnow()
    return since


@dataclass
class Incident:
    """Apartments that cannot tell for one cause, notified once (storms collapse by cause)."""

    cause: str
    since: datetime
    alerts: dict[str, str]  # open "cannot tell" alert id -> apartment label


def _data(event: CareEvent) -> dict[str, Any]:
    """An event's data for the bus (its type is the event type)."""
    data = event.as_dict()
    del data["type"]
    return data


def _incident_cause(event: CareEvent) -> str | None:
    """The cause a "cannot tell" alert is grouped under, if it is part of a storm."""
    if event.type is not care.EventType.SENSOR_OFFLINE:
        return None
    if event.reason == care.Reason.GATEWAY_DOWN:
        return CAUSE_GATEWAY
    return CAUSE_DOWNTIME if event.late else None


def _parse_incidents(data: object) -> dict[str, Incident]:
    out: dict[str, Incident] = {}
    if not isinstance(data, dict):
        return out
    for incident_id, raw in data.items():
        if not isinstance(raw, dict) or not isinstance(incident_id, str):
            continue
        since = dt_util.parse_datetime(raw["since"]) if isinstance(raw.get("since"), str) else None
        alerts = raw.get("alerts")
        if since is None or since.tzinfo is None or not isinstance(alerts, dict):
            continue
        out[incident_id] = Incident(
            cause=str(raw.get("cause")),
            since=since,
            alerts={str(k): str(v) for k, v in alerts.items()},
        )
    return out


def care_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where a building keeps its apartments' care state."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.care")


def care_index_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Which apartments have stored care state: a lost care store is noticed, not trusted."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.care_index")


def settings_from(data: Any, base: CareSettings | None) -> CareSettings:
    """Care settings from entry options / subentry data on top of ``base``.

    Invalid stored values fall back to ``base`` (logged), never to no checks at all.
    """
    keys = {f for f in CareSettings.__dataclass_fields__ if f != "timezone"}
    values = {k: data[k] for k in keys if k in data and data[k] is not None}
    try:
        return CareSettings.from_dict(values, base)
    except ValueError as err:
        LOGGER.error("Invalid care-check settings (%s); using the building's defaults", err)
        return base or CareSettings()


def _parse_sensors(data: object) -> dict[str, SensorHealth]:
    out: dict[str, SensorHealth] = {}
    if not isinstance(data, dict):
        return out
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, dict):
            continue
        limit = value.get("silence_limit")
        raw_seen = value.get("last_seen")
        seen = dt_util.parse_datetime(raw_seen) if isinstance(raw_seen, str) else None
        if not isinstance(limit, int | float) or isinstance(limit, bool) or limit < 0:
            continue
        if seen is not None and seen.tzinfo is None:
            seen = None
        out[key] = SensorHealth(key=key, last_seen=seen, silence_limit=timedelta(seconds=limit))
    return out


def _parse_escalations(data: object) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    if isinstance(data, dict):
        for alert_id, due in data.items():
            parsed = dt_util.parse_datetime(due) if isinstance(due, str) else None
            if isinstance(alert_id, str) and parsed is not None and parsed.tzinfo is not None:
                out[alert_id] = parsed
    return out
